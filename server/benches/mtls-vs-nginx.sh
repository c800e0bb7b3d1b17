#!/usr/bin/env bash
# Mutual TLS against Debian's nginx, side by side in one run: full handshakes with an ECDSA card
# certificate and a 2 KB GET (8 and 64 clients), the same over kept-alive connections, 20 and
# 100 MiB downloads, and our signed-in pages per second. server/benches/mtls_vs_nginx.rs says
# what is measured and how; results are in server/benches/RESULTS.md.
#
#   bash server/benches/mtls-vs-nginx.sh                      # 3 rounds of 10 s each
#   bash server/benches/mtls-vs-nginx.sh --seconds 5 --rounds 5
#
# Installs nginx when it is missing (as root; Debian's nginx-light, which has the TLS module).
# Uses DATABASE_URL when set, else a private PostgreSQL cluster; the benchmark's database is
# dropped at the end. Loopback only; stops both servers by itself.
set -euo pipefail
source "$(dirname "$0")/../../.ci/lib.sh"
cd "$ROOT"

ensure_system_packages nginx-light
ensure_database
trap stop_private_postgres EXIT
step "building and running the benchmark (release)"
SQLX_OFFLINE=true \
  cargo bench --locked -p server --bench mtls_vs_nginx -- "$@"
