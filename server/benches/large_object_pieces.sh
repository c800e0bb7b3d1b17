#!/usr/bin/env bash
# What one 1 MiB piece of a large stored value costs to read at its start and near its end, the
# way the byte endpoints read large objects (`substring(bytes FROM offset FOR 1 MiB)`), for a
# value PostgreSQL could not compress (a PDF: stored as it is, out of line) and for one it could
# (XHTML-like text: stored compressed). Answers whether a download's time grows linearly with
# its size: a piece of an uncompressed value is read directly, a piece of a compressed one only
# after decompressing everything before it.
#
#   bash server/benches/large_object_pieces.sh
#
# Uses DATABASE_URL when set, else a private PostgreSQL cluster (as the test command does); works
# in a scratch database of its own, dropped at the end. Results are in server/benches/RESULTS.md.
set -euo pipefail
source "$(dirname "$0")/../../.ci/lib.sh"
cd "$ROOT"

ensure_database
trap 'drop_database archivist_bench_pieces; stop_private_postgres' EXIT
drop_database archivist_bench_pieces
create_database archivist_bench_pieces
url="$(database_url_for archivist_bench_pieces)"

step "64 MiB of random bytes and 65 MB of repeated text, as bytea"
psql -X -q "$url" <<'SQL'
CREATE TABLE piece_probe (kind text PRIMARY KEY, bytes bytea NOT NULL);
INSERT INTO piece_probe
SELECT 'incompressible', decode(string_agg(md5(random()::text) || md5(random()::text), ''), 'hex')
FROM generate_series(1, 2097152);
INSERT INTO piece_probe
SELECT 'compressible', convert_to(repeat('<p>Asiakirjan teksti, joka toistuu. ', 1900000), 'UTF8');
SELECT kind, length(bytes) AS bytes, pg_column_size(bytes) AS stored FROM piece_probe ORDER BY kind;
SQL

step "one 1 MiB piece at the start and at 60 MB, best of five"
psql -X -q -At "$url" <<'SQL'
CREATE FUNCTION piece_ms(k text, start int) RETURNS numeric LANGUAGE plpgsql AS $$
DECLARE
    best numeric := NULL;
    t timestamptz;
    n int;
BEGIN
    FOR i IN 1..5 LOOP
        t := clock_timestamp();
        SELECT length(substring(bytes FROM start FOR 1048576)) INTO n
        FROM piece_probe WHERE kind = k;
        best := least(coalesce(best, 1e9),
                      extract(epoch FROM clock_timestamp() - t) * 1000);
    END LOOP;
    RETURN round(best, 2);
END;
$$;
SELECT format('%-15s piece at 0: %s ms, piece at 60 MB: %s ms', kind,
              piece_ms(kind, 1), piece_ms(kind, 60000001))
FROM piece_probe ORDER BY kind;
SQL
