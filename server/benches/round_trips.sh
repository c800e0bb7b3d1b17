#!/usr/bin/env bash
# Database round trips per page: how many statements the server sends to PostgreSQL to answer
# the front page, a search page and a document page (server-side rendered, as a browser gets
# them), counted from sqlx's own statement log (target `sqlx::query`, one event per statement,
# the session store's statements included).
#
#   bash server/benches/round_trips.sh                 # the working tree's server
#   ROUND_TRIPS_BIN=/path/to/archivist bash server/benches/round_trips.sh
#
# The second form counts another build (an older commit's, say) on the same demo archive, so
# that two builds are compared in one run. The archive: 300 `archivist demo` documents, the
# demo cards linked as `.ci/demo` links them; the card is archivist-1 (two controllers, an
# administrator). Each answer is counted on a connection that has signed in already, without
# the connection's own statements (see `count`). Results: server/benches/RESULTS.md.
set -euo pipefail
source "$(dirname "$0")/../../.ci/lib.sh"
cd "$ROOT"

work="${BENCH_DIR:-$ROOT/target/bench}/round_trips"
port="${BENCH_PORT:-3545}"
db=archivist_bench_round_trips
card=archivist-1

ensure_system_packages
ensure_database
rm -rf "$work"
mkdir -p "$work"

bin="${ROUND_TRIPS_BIN:-}"
if [ -z "$bin" ]; then
  step "building the server"
  SQLX_OFFLINE=true cargo build --locked -p server --bin archivist
  bin="${CARGO_TARGET_DIR:-$ROOT/target}/debug/archivist"
fi
url="$(database_url_for "$db")"

step "archiving 300 demo documents in $db"
drop_database "$db"
create_database "$db"
"$bin" demo --dir "$work/demo" --documents 300 >/dev/null
export ARCHIVIST_TLS__CLIENT_CA="[$work/demo/pki/issuing-ca.pem]"
export ARCHIVIST_ARCHIVE__SIGNATURE_CA="[$work/demo/pki/signing-ca.pem]"
DATABASE_URL="$url" "$bin" migrate 2>/dev/null
DATABASE_URL="$url" "$bin" import "$work/demo/documents" >/dev/null
DATABASE_URL="$url" link_demo_cards "$bin"
document="$(psql -X -q -At "$url" -c "SELECT document_oid FROM document_version
  WHERE controller_oid = '1.2.246.10.12345671.10.0' ORDER BY document_oid LIMIT 1")"

log="$work/server.log"
server_pid=
trap 'kill "$server_pid" 2>/dev/null || true; drop_database "$db"; stop_private_postgres' EXIT
# Starts the server with the statement log on; extra arguments are further settings (NAME=value).
serve() {
  [ -z "$server_pid" ] || { kill "$server_pid"; wait "$server_pid" 2>/dev/null || true; }
  step "serving on port $port with the statement log on ${*:-}"
  env ARCHIVIST_LISTEN="127.0.0.1:$port" \
    ARCHIVIST_TLS__CERTIFICATE="$work/demo/pki/server.pem" \
    ARCHIVIST_TLS__PRIVATE_KEY="$work/demo/pki/server.key" \
    ARCHIVIST_TLS__CLIENT_CRL="[$work/demo/pki/issuing-ca.crl]" \
    ARCHIVIST_TLS__CARD_POLICIES="[\"$DEMO_CARD_POLICY\"]" \
    ARCHIVIST_AUTH__CARD_REQUESTS_PER_SECOND=1000000 \
    RUST_LOG="warn,sqlx::query=debug" \
    DATABASE_URL="$url" "$@" \
    "$bin" serve >"$log" 2>&1 &
  server_pid=$!
  for _ in $(seq 1 100); do
    curl -skf "https://127.0.0.1:$port/healthz" >/dev/null 2>&1 && return 0
    kill -0 "$server_pid" 2>/dev/null || { cat "$log" >&2; die "the server did not start"; }
    sleep 0.2
  done
  die "the server did not answer /healthz"
}

statements() { grep -c 'sqlx::query' "$log" || true; }
# Asks for a page n times over one connection; prints the statements the server sent meanwhile.
ask() {
  local path="$1" n="$2" before args=()
  for _ in $(seq 1 "$n"); do args+=(-o /dev/null "https://localhost:$port$path"); done
  before="$(statements)"
  curl -s --cacert "$work/demo/pki/root-ca.pem" \
    --cert "$work/demo/pki/$card.pem" --key "$work/demo/pki/$card.key" \
    -b "$work/cookies" -c "$work/cookies" -w '%{http_code}\n' "${args[@]}" |
    grep -qvx 200 && die "$path did not answer 200"
  sleep 0.5
  echo $(($(statements) - before))
}
# The statements of one answer: one connection asking three times less one asking once,
# halved, so that neither the connection's own statements nor the sign-in are counted.
count() {
  local once thrice
  ask "$1" 1 >/dev/null # signs in
  once="$(ask "$1" 1)"
  thrice="$(ask "$1" 3)"
  echo $(((thrice - once) / 2))
}
pages() {
  printf '%-36s %6s %6s %8s\n' "$1" "$(count /)" "$(count /search)" "$(count "/documents/$document")"
}

results="$work/results.txt"
printf '%-36s %6s %6s %8s\n' "card number rule" front search document | tee "$results"
serve
pages "subject_attribute (the default)" | tee -a "$results"

# The enrolled rule looks the card number up in the database: the card's certificate enrolled
# under the same number, as read from the audit log of the pass above.
psql -X -q "$url" -c "COPY (SELECT DISTINCT '999000110' AS card_number,
    certificate_issuer AS issuer, certificate_serial, public_key_sha256 FROM audit_log
    WHERE certificate_subject LIKE '%999000110%') TO STDOUT WITH (FORMAT csv, HEADER)" \
  >"$work/enrolment.csv"
DATABASE_URL="$url" "$bin" card import-enrolment "$work/enrolment.csv" >/dev/null
rm -f "$work/cookies"
serve ARCHIVIST_AUTH__CARD_NUMBER_RULE='{kind="enrolled"}'
pages "enrolled" | tee -a "$results"
