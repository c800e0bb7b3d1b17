#!/usr/bin/env bash
# Import benchmark: generates N documents with `archivist demo data` (CDA + transfer frame, each
# with an RSA-SHA256 XMLDSig system signature), imports them into a fresh database with
# `archivist import` (signatures verified, one transaction per document) and reports documents/s
# and the importer's peak memory (maximum resident set size).
#
#   bash server/benches/import.sh 10000
#   bash server/benches/import.sh 1000000
#
# Uses DATABASE_URL when set, else a private PostgreSQL cluster (as the test command does).
# Results are recorded in server/benches/RESULTS.md.
set -euo pipefail
source "$(dirname "$0")/../../.ci/lib.sh"
cd "$ROOT"

documents="${1:-10000}"
jobs="${BENCH_JOBS:-8}"
work="${BENCH_DIR:-$ROOT/target/bench}"

apt_install time
ensure_system_packages
ensure_database
trap 'stop_private_postgres' EXIT

step "building the release binary"
SQLX_OFFLINE=true cargo build --release --locked -p server --bin archivist
bin="${CARGO_TARGET_DIR:-$ROOT/target}/release/archivist"

data="$work/documents-$documents"
if [ ! -f "$data.complete" ]; then
  step "generating $documents documents into $data"
  rm -rf "$data"
  "$bin" demo data --out "$data" --documents "$documents" --controllers 3 --clients "$(( documents / 10 + 10 ))"
  touch "$data.complete"
fi
signing_ca="$work/signing-ca.pem"
"$bin" demo --dir "$work/demo" --documents 1 >/dev/null
cp "$work/demo/pki/signing-ca.pem" "$signing_ca"

db=archivist_bench
drop_database "$db"
create_database "$db"
step "importing $documents documents ($jobs at a time)"
DATABASE_URL="$(database_url_for "$db")" "$bin" migrate 2>/dev/null
report="$work/import-$documents.txt"
DATABASE_URL="$(database_url_for "$db")" \
ARCHIVIST_ARCHIVE__SIGNATURE_CA="[$signing_ca]" \
  /usr/bin/time -v "$bin" import --jobs "$jobs" "$data" 2>"$report" || { cat "$report" >&2; exit 1; }
grep -E '^archived' "$report"
grep -E 'Maximum resident set size|Elapsed \(wall clock\)|Percent of CPU' "$report"
size="$(psql "$(database_url_for "$db")" -Atc "SELECT pg_size_pretty(pg_database_size(current_database()))")"
echo "database size: $size"
drop_database "$db"
