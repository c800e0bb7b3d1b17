#!/usr/bin/env bash
# Page benchmark: the server's time for search pages and document pages in a large archive
# (p50 and p99), and the server's memory while it streams a 100 MB stored document.
#
#   bash server/benches/pages.sh                    # 10,000,000 versions, 1,000,000 searched
#   bash server/benches/pages.sh 1000000 100000     # smaller: total, in the searched controller
#
# The archive: `archivist demo` documents (BENCH_SEED versions, default 30,000, three
# controllers) archived with `archivist import`, then filled to size by copying the archived
# rows (server/benches/pages_fill.sql says what is copied and what is not): the searched
# controller (1.2.246.10.12345671.10.0, archivist-2's only one) to the second number, the two
# others to the rest. The filled database is kept for the next run (BENCH_REFILL=1
# makes it again); drop it with `dropdb archivist_bench_pages` when done (about 25 GB at full
# size).
#
# Measured with curl over one kept-alive TLS connection with a demo card's certificate and a
# session cookie, one request at a time, from the same machine: each time is a whole page as
# the browser gets it (server-side rendering with its queries, audit row and TLS), so it is an
# upper bound of the server's own time. Results are recorded in server/benches/RESULTS.md.
set -euo pipefail
source "$(dirname "$0")/../../.ci/lib.sh"
cd "$ROOT"

total="${1:-10000000}"
searched="${2:-1000000}"
seed_documents="${BENCH_SEED:-30000}"
rounds="${BENCH_ROUNDS:-200}"
work="${BENCH_DIR:-$ROOT/target/bench}/pages"
port="${BENCH_PORT:-3544}"
searched_controller=1.2.246.10.12345671.10.0
db=archivist_bench_pages

ensure_system_packages
ensure_database
mkdir -p "$work"

step "building the release binary"
SQLX_OFFLINE=true cargo build --release --locked -p server --bin archivist
bin="${CARGO_TARGET_DIR:-$ROOT/target}/release/archivist"
url="$(database_url_for "$db")"
q() { psql -X -q -At "$url" -v ON_ERROR_STOP=1 -c "$1"; }

export ARCHIVIST_TLS__CLIENT_CA="[$work/demo/pki/issuing-ca.pem]"
export ARCHIVIST_ARCHIVE__SIGNATURE_CA="[$work/demo/pki/signing-ca.pem]"
filled="$(q "SELECT value FROM bench_pages WHERE key = 'filled'" 2>/dev/null || true)"
if [ "${BENCH_REFILL:-0}" = 1 ] || [ "$filled" != "$total/$searched/$seed_documents" ]; then
  step "archiving $seed_documents demo documents"
  drop_database "$db"
  create_database "$db"
  rm -rf "$work/demo"
  "$bin" demo --dir "$work/demo" --documents "$seed_documents" >/dev/null
  DATABASE_URL="$url" "$bin" migrate 2>/dev/null
  DATABASE_URL="$url" "$bin" import --jobs 8 "$work/demo/documents" | tail -3
  DATABASE_URL="$url" link_demo_cards "$bin"
  q "ANALYZE"

  step "filling to $total versions, $searched of them in $searched_controller"
  # Secondary indexes are dropped and built again after the load: one sort per index instead
  # of millions of random insertions.
  tables="'client','client_case','client_relationship','document_set','document_version','archive_state'"
  q "CREATE TABLE bench_pages (key text PRIMARY KEY, value text NOT NULL)"
  q "CREATE TABLE bench_index AS SELECT indexname, indexdef FROM pg_indexes i
     WHERE schemaname = 'public' AND tablename IN ($tables)
       AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)"
  q "DO \$\$ DECLARE r record; BEGIN
       FOR r IN SELECT indexname FROM bench_index LOOP EXECUTE format('DROP INDEX %I', r.indexname); END LOOP;
     END \$\$"
  seeded_searched="$(q "SELECT count(*) FROM document_version WHERE controller_oid = '$searched_controller'")"
  seeded_others="$(q "SELECT count(*) FROM document_version WHERE controller_oid <> '$searched_controller'")"
  for controller in $(q "SELECT oid FROM controller ORDER BY oid"); do
    have="$(q "SELECT count(*) FROM document_version WHERE controller_oid = '$controller'")"
    [ "$have" -gt 0 ] || continue
    if [ "$controller" = "$searched_controller" ]; then
      want="$searched"
    else
      # The rest, shared in proportion to what each other controller has.
      want=$(( (total - searched) * have / seeded_others ))
    fi
    copies=$(( (want + have - 1) / have - 1 ))
    [ "$copies" -gt 0 ] || continue
    echo "  $controller: $have archived, $copies copies of each" >&2
    psql -X -q "$url" -v controller="$controller" -v copies="$copies" \
      -f "$ROOT/server/benches/pages_fill.sql" >/dev/null
  done
  step "building the secondary indexes again"
  q "SET maintenance_work_mem = '1GB'; DO \$\$ DECLARE r record; BEGIN
       FOR r IN SELECT indexdef FROM bench_index LOOP EXECUTE r.indexdef; END LOOP;
     END \$\$"
  q "DROP TABLE bench_index"
  step "vacuum and statistics"
  q "VACUUM (ANALYZE)"
  q "INSERT INTO bench_pages VALUES ('filled', '$total/$searched/$seed_documents')"
  : "${seeded_searched}"
fi
q "SELECT 'versions: ' || count(*) || ' in all, ' || count(*) FILTER (WHERE controller_oid = '$searched_controller')
   || ' in the searched controller; database ' || pg_size_pretty(pg_database_size(current_database()))
   FROM document_version" | tee "$work/size.txt"

# One demo card asks as fast as it can: the per-card limit is lifted (it is measured elsewhere).
step "serving on port $port"
server_log="$work/server.log"
ARCHIVIST_LISTEN="127.0.0.1:$port" \
ARCHIVIST_TLS__CERTIFICATE="$work/demo/pki/server.pem" \
ARCHIVIST_TLS__PRIVATE_KEY="$work/demo/pki/server.key" \
ARCHIVIST_TLS__CLIENT_CRL="[$work/demo/pki/issuing-ca.crl]" \
ARCHIVIST_TLS__CARD_POLICIES="[\"$DEMO_CARD_POLICY\"]" \
ARCHIVIST_AUTH__CARD_REQUESTS_PER_SECOND=1000000 \
RUST_LOG=warn \
DATABASE_URL="$url" \
  "$bin" serve >"$server_log" 2>&1 &
server_pid=$!
trap 'kill "$server_pid" 2>/dev/null || true; stop_private_postgres' EXIT
for _ in $(seq 1 100); do
  curl -skf "https://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$server_log" >&2; die "the server did not start"; }
  sleep 0.2
done

base="https://localhost:$port"
# curl over one connection: every URL of the list in turn, one line per answer.
fetch_all() {
  local card="$1"; shift
  local args=()
  for path in "$@"; do args+=(-o /dev/null "$base$path"); done
  curl -s --cacert "$work/demo/pki/root-ca.pem" \
    --cert "$work/demo/pki/$card.pem" --key "$work/demo/pki/$card.key" \
    -b "$work/$card.cookies" -c "$work/$card.cookies" \
    -w '%{http_code} %{time_total}\n' "${args[@]}"
}
page() {
  curl -s --cacert "$work/demo/pki/root-ca.pem" \
    --cert "$work/demo/pki/$1.pem" --key "$work/demo/pki/$1.key" \
    -b "$work/$1.cookies" -c "$work/$1.cookies" "$base$2"
}
next_of() { grep -o '<a href="/search?[^"]*" data-action="next-page"' | sed 's/^<a href="//; s/" data-action.*//; s/&amp;/\&/g'; }
# p50, p99 and the largest of a list of seconds, in milliseconds; any answer other than 200
# fails the run.
summarise() {
  awk '$1 != 200 { print "unexpected status " $1 > "/dev/stderr"; bad = 1 } { print $2 * 1000 }
       END { exit bad }' | sort -n |
    awk '{ t[NR] = $1 } END {
      p50 = t[int((NR - 1) * 0.50) + 1]; p99 = t[int((NR - 1) * 0.99) + 1];
      printf "n=%d p50=%.1f ms p99=%.1f ms max=%.1f ms\n", NR, p50, p99, t[NR] }'
}

# What to ask for: imported documents (complete rows) and their clients and types.
mapfile -t documents < <(q "SELECT document_oid FROM stored_bytes
  WHERE controller_oid = '$searched_controller' AND kind = 'cda' ORDER BY md5(document_oid) LIMIT $rounds")
mapfile -t clients < <(q "SELECT DISTINCT client_id_value FROM document_version
  WHERE controller_oid = '$searched_controller' AND client_id_value NOT LIKE '%/%' ORDER BY 1 LIMIT 50")
mapfile -t types < <(q "SELECT specific_type_code FROM document_version
  WHERE controller_oid = '$searched_controller' AND specific_type_code IS NOT NULL
  GROUP BY 1 ORDER BY count(*) DESC LIMIT 5")
mapfile -t tasks < <(q "SELECT service_task_code FROM document_version
  WHERE controller_oid = '$searched_controller' AND service_task_code IS NOT NULL
  GROUP BY 1 ORDER BY count(*) LIMIT 5")

results="$work/results.txt"
: >"$results"
measure() {
  local name="$1" card="$2"; shift 2
  # One pass to warm the caches and the connection's prepared statements, one measured.
  fetch_all "$card" "$@" >/dev/null
  printf '%-56s %s\n' "$name" "$(fetch_all "$card" "$@" | summarise)" | tee -a "$results"
}
repeat() { local n="$1" path="$2"; for _ in $(seq 1 "$n"); do echo "$path"; done; }

for card in archivist-2 archivist-1; do
  step "$card: search pages"
  mapfile -t deep < <(
    path="/search?status=all"
    for _ in $(seq 1 20); do
      path="$(page "$card" "$path" | next_of)"
      [ -n "$path" ] || break
      echo "$path"
    done
  )
  kinds=(
    "newest current|/search"
    "all versions by client|/search?status=all&sort=client"
    "oldest archived first|/search?sort=archived&order=asc"
    "a client's documents|/search?client=CLIENT&status=all"
    "by document type|/search?type=TYPE"
    "by service task, clients Z-A|/search?task=TASK&sort=client&order=desc"
    "a year of documents|/search?from=2020-01-01&until=2020-12-31"
    "archived since 2024|/search?archived_from=2024-01-01&status=all&sort=archived"
    "page 2-20 by cursor|DEEP"
    "nullified, oldest first|/search?status=nullified&sort=time&order=asc"
  )
  searches=()
  for kind in "${kinds[@]}"; do
    name="${kind%%|*}"
    paths=()
    for i in $(seq 0 $(( rounds / 10 - 1 ))); do
      path="${kind#*|}"
      path="${path/CLIENT/${clients[$(( i % ${#clients[@]} ))]}}"
      path="${path/TYPE/${types[$(( i % ${#types[@]} ))]}}"
      path="${path/TASK/${tasks[$(( i % ${#tasks[@]} ))]}}"
      [ "$path" = DEEP ] && path="${deep[$(( i % ${#deep[@]} ))]}"
      paths+=("$path")
    done
    measure "$card search: $name" "$card" "${paths[@]}"
    searches+=("${paths[@]}")
  done
  measure "$card search (the 10 kinds, mixed)" "$card" "${searches[@]}"
  measure "$card search: page 20 by cursor, repeated" "$card" $(repeat "$rounds" "${deep[-1]}")
  step "$card: document pages"
  measure "$card document page" "$card" $(for d in "${documents[@]}"; do echo "/documents/$d"; done)
done

step "streaming a 100 MB stored document"
big="${documents[0]}"
psql -X -q "$url" -v ON_ERROR_STOP=1 -v document="$big" <<'SQL' >/dev/null
ALTER TABLE stored_bytes DISABLE TRIGGER stored_bytes_immutable;
UPDATE stored_bytes SET bytes = b, size = length(b), sha256 = sha256(b)
FROM (SELECT convert_to(repeat('<!-- 100 MB of stored bytes for the download benchmark -->', 1807890), 'UTF8') AS b) AS big
WHERE document_oid = :'document' AND kind = 'cda';
ALTER TABLE stored_bytes ENABLE TRIGGER stored_bytes_immutable;
SQL
hwm() { awk '/VmHWM/ { print $2 / 1024 " MB" }' "/proc/$server_pid/status"; }
rss() { awk '/VmRSS/ { print $2 / 1024 " MB" }' "/proc/$server_pid/status"; }
before="$(hwm)"
expected="$(q "SELECT encode(sha256, 'hex') || ' ' || size FROM stored_bytes WHERE document_oid = '$big' AND kind = 'cda'")"
started="$(date +%s.%N)"
got="$(curl -s --cacert "$work/demo/pki/root-ca.pem" --cert "$work/demo/pki/archivist-2.pem" \
  --key "$work/demo/pki/archivist-2.key" -b "$work/archivist-2.cookies" \
  "$base/api/documents/$big/raw" | sha256sum | cut -d' ' -f1)"
ended="$(date +%s.%N)"
[ "$got ${expected#* }" = "$expected" ] || die "the download differs from the stored bytes ($got, expected $expected)"
{
  echo "100 MB raw download: ${expected#* } bytes in $(awk -v a="$started" -v b="$ended" 'BEGIN { printf "%.2f", b - a }') s, SHA-256 as stored"
  echo "server peak memory (VmHWM) before the download: $before; after: $(hwm); resident now: $(rss)"
} | tee -a "$results"
echo "results: $results" >&2
