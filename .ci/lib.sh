# Shared by .ci/run (all tests) and .ci/demo (run the app): installs what is missing, finds or
# starts PostgreSQL, builds. Sourced, not run. Every step says what it does on standard error.
# shellcheck shell=bash

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CARGO_LEPTOS_VERSION=0.3.10
SQLX_CLI_VERSION=0.8.6
CARGO_DENY_VERSION=0.20.2
PG_PORT="${ARCHIVIST_PG_PORT:-55432}"
E2E_PORT="${ARCHIVIST_E2E_PORT:-3443}"
# The server reads every ARCHIVIST_* variable as a setting and refuses unknown ones: these two
# knobs are the scripts' own, so the programs they start never see them.
unset ARCHIVIST_PG_PORT ARCHIVIST_E2E_PORT
PG_DIR="$ROOT/target/postgres"

step() { printf '\n==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

export PATH="$HOME/.cargo/bin:$ROOT/end2end/node_modules/.bin:$PATH"

# The disk is shared and its free space varies; a build that fails for want of it should say so early.
report_disk_space() {
  local avail
  avail="$(df -Pk "$ROOT" | awk 'NR == 2 { print $4 }')"
  printf 'disk: %s MiB free under %s\n' "$((avail / 1024))" "$ROOT" >&2
  [ "$avail" -ge $((4 * 1024 * 1024)) ] ||
    printf 'warning: less than 4 GiB free; the build needs about that much\n' >&2
}

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; else die "installing needs root: run as root or install: $*"; fi
}

APT_UPDATED=
apt_install() {
  local missing=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  step "installing Debian packages: ${missing[*]}"
  if [ -z "$APT_UPDATED" ]; then as_root apt-get update -qq; APT_UPDATED=1; fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# Installs what is missing; a tool that is already there (from any source) is left alone.
# Extra arguments are further Debian packages that must be installed.
ensure_system_packages() {
  # Never Debian's binaryen: its wasm-opt 108 breaks hydration (wasm-opt comes from npm).
  local pkgs=(ca-certificates)
  command -v curl >/dev/null || pkgs+=(curl)
  command -v cc >/dev/null || pkgs+=(gcc libc6-dev)
  command -v pkg-config >/dev/null || pkgs+=(pkg-config)
  command -v npm >/dev/null || pkgs+=(nodejs npm)
  command -v psql >/dev/null || pkgs+=(postgresql-client)
  [ -n "${DATABASE_URL:-}" ] || [ -n "$(pg_bin_dir)" ] || pkgs+=(postgresql)
  apt_install "${pkgs[@]}" "$@"
  command -v cargo >/dev/null || die "cargo is missing: install Rust 1.95 with rustup (https://rustup.rs) and run again"
}

wasm_bindgen_version() {
  awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' "$ROOT/Cargo.lock"
}

ensure_rust_tools() {
  rustup target list --installed 2>/dev/null | grep -q '^wasm32-unknown-unknown$' || {
    step "adding the wasm32-unknown-unknown target"
    rustup target add wasm32-unknown-unknown
  }
  cargo leptos --version 2>/dev/null | grep -q "$CARGO_LEPTOS_VERSION" || {
    # 0.3.11 needs a newer rustc than 1.95.
    step "installing cargo-leptos $CARGO_LEPTOS_VERSION (about 11 minutes, once)"
    cargo install cargo-leptos --locked --version "$CARGO_LEPTOS_VERSION"
  }
  local wb
  wb="$(wasm_bindgen_version)"
  [ -n "$wb" ] || die "Cargo.lock names no wasm-bindgen version"
  wasm-bindgen --version 2>/dev/null | grep -q " $wb\$" || {
    # Not --locked: its lock file names a crate version this registry does not have.
    step "installing wasm-bindgen-cli $wb (the version in Cargo.lock)"
    cargo install wasm-bindgen-cli --version "$wb" --force
  }
  if [ "${1:-}" = with-sqlx ]; then
    cargo sqlx --version 2>/dev/null | grep -q "$SQLX_CLI_VERSION" || {
      step "installing sqlx-cli $SQLX_CLI_VERSION"
      cargo install sqlx-cli --locked --version "$SQLX_CLI_VERSION" --no-default-features --features postgres,rustls
    }
    # The test command's dependency policy (.ci/deny.toml): licences, bans, sources.
    cargo deny --version 2>/dev/null | grep -q "$CARGO_DENY_VERSION" || {
      step "installing cargo-deny $CARGO_DENY_VERSION (about 6 minutes, once)"
      cargo install cargo-deny --locked --version "$CARGO_DENY_VERSION"
    }
  fi
}

# promtool, to check the alert rules: unpacked from Debian's prometheus package into
# target/tools rather than installed, since installing the package starts a Prometheus server.
ensure_promtool() {
  PROMTOOL="$ROOT/target/tools/promtool"
  [ -x "$PROMTOOL" ] && return 0
  if command -v promtool >/dev/null; then PROMTOOL="$(command -v promtool)"; return 0; fi
  step "unpacking promtool from Debian's prometheus package"
  if [ -z "$APT_UPDATED" ]; then as_root apt-get update -qq; APT_UPDATED=1; fi
  local dir
  dir="$(mktemp -d)"
  (cd "$dir" && apt-get download -qq prometheus >/dev/null 2>&1) || die "cannot download Debian's prometheus package"
  dpkg-deb -x "$dir"/prometheus_*.deb "$dir/unpacked"
  mkdir -p "$ROOT/target/tools"
  cp "$dir/unpacked/usr/bin/promtool" "$PROMTOOL"
  rm -rf "$dir"
}

ensure_npm_packages() {
  step "installing the end-to-end test packages (npm ci, no browser downloads)"
  (cd "$ROOT/end2end" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error)
  command -v wasm-opt | grep -q "$ROOT/end2end/node_modules/.bin" ||
    die "wasm-opt from npm binaryen is not first on PATH"
}

# The release site and binary as shipped. What is shipped names no path of the machine that built
# it (panic locations in the public WebAssembly named /root/.cargo/registry/…): dependencies'
# sources become /cargo/…, ours /archivist/….
build_release() {
  local cargo_home="${CARGO_HOME:-$HOME/.cargo}"
  RUSTFLAGS="--remap-path-prefix=$cargo_home=/cargo --remap-path-prefix=$ROOT=/archivist${RUSTFLAGS:+ $RUSTFLAGS}" \
    cargo leptos build --release
}

pg_bin_dir() {
  find /usr/lib/postgresql -maxdepth 2 -name bin -type d 2>/dev/null | sort -V | tail -n 1
}

PG_STARTED=
# Uses DATABASE_URL when set. Otherwise starts a private cluster from the system's PostgreSQL
# binaries, with its data in target/postgres (ignored by git), on 127.0.0.1:$PG_PORT, and
# exports DATABASE_URL for it. stop_private_postgres stops it again only if we started it.
ensure_database() {
  if [ -n "${DATABASE_URL:-}" ]; then
    step "using the PostgreSQL server in DATABASE_URL"
    return 0
  fi
  local bin
  bin="$(pg_bin_dir)"
  [ -n "$bin" ] || { apt_install postgresql; bin="$(pg_bin_dir)"; }
  [ -n "$bin" ] || die "no PostgreSQL binaries under /usr/lib/postgresql"
  local run=()
  if [ "$(id -u)" = 0 ]; then run=(runuser -u postgres --); fi

  mkdir -p "$PG_DIR"
  [ "$(id -u)" = 0 ] && chown postgres: "$PG_DIR"
  if [ ! -f "$PG_DIR/data/PG_VERSION" ]; then
    step "creating a private PostgreSQL cluster in $PG_DIR/data"
    "${run[@]}" "$bin/initdb" -D "$PG_DIR/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >/dev/null ||
      die "initdb failed in $PG_DIR/data (the postgres user must be able to enter every folder above it)"
  fi
  if ! "${run[@]}" "$bin/pg_ctl" -D "$PG_DIR/data" status >/dev/null 2>&1; then
    step "starting the private PostgreSQL cluster on 127.0.0.1:$PG_PORT"
    "${run[@]}" "$bin/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 60 \
      -o "-c listen_addresses=127.0.0.1 -c port=$PG_PORT -c unix_socket_directories=''" start >/dev/null ||
      die "PostgreSQL did not start: see $PG_DIR/server.log (is port $PG_PORT free? set ARCHIVIST_PG_PORT)"
    PG_STARTED="$bin"
  fi
  export DATABASE_URL="postgres://postgres@127.0.0.1:$PG_PORT/postgres"
}

stop_private_postgres() {
  [ -n "$PG_STARTED" ] || return 0
  local run=()
  if [ "$(id -u)" = 0 ]; then run=(runuser -u postgres --); fi
  step "stopping the private PostgreSQL cluster"
  "${run[@]}" "$PG_STARTED/pg_ctl" -D "$PG_DIR/data" -m fast -w stop >/dev/null || true
  PG_STARTED=
}

# A database URL like DATABASE_URL's, naming database $1.
database_url_for() {
  local base="${DATABASE_URL%%\?*}" query=""
  [ "$base" != "$DATABASE_URL" ] && query="?${DATABASE_URL#*\?}"
  local prefix="${base%/*}"
  # postgres://host:port without a path: keep everything, add the name.
  case "$base" in *://*/*) ;; *) prefix="$base" ;; esac
  printf '%s/%s%s' "$prefix" "$1" "$query"
}

# Creates database $1 unless it exists.
create_database() {
  local name="$1"
  psql "$DATABASE_URL" -XtAc "SELECT 1 FROM pg_database WHERE datname = '$name'" | grep -q 1 ||
    psql "$DATABASE_URL" -Xqc "CREATE DATABASE \"$name\""
}

# The URL `archivist serve` logs in with for the database URL $1: the login archivist_web, a member of
# the role archivist_server that the migrations create (it owns nothing and cannot change the
# audit log), made here once per cluster. Migrate with DATABASE_URL (the owner) first.
serving_url() {
  local url="$1"
  psql "$url" -Xqc "DO \$\$ BEGIN CREATE ROLE archivist_web LOGIN IN ROLE archivist_server;
    EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END \$\$" >/dev/null
  # postgres://user[:password]@host/… → postgres://archivist_web@host/… (trust or peer-less
  # local auth; give the login a password and put it here where the cluster asks for one).
  case "$url" in
    *://*@*) printf '%s://archivist_web@%s' "${url%%://*}" "${url#*@}" ;;
    *://*) printf '%s://archivist_web@%s' "${url%%://*}" "${url#*://}" ;;
  esac
}

# The demo's audit signing key and checkpoint directory under $1 (made once; the key is never
# replaced, so checkpoints signed earlier keep verifying).
ensure_audit_key() {
  local dir="$1" archivist="$2"
  mkdir -p "$dir/audit/checkpoints"
  [ -f "$dir/audit/signing.key" ] || "$archivist" audit new-key "$dir/audit/signing.key" >/dev/null
}

drop_database() {
  psql "$DATABASE_URL" -Xqc "DROP DATABASE IF EXISTS \"$1\" WITH (FORCE)"
}

# The certificate policy of the demo cards (server/identity/src/demo.rs, DEMO_CARD_POLICY).
DEMO_CARD_POLICY=1.3.6.1.4.1.32473.1.10.1

# Links the demo cards (by SATU, the default card number rule) to the demo controllers that
# `archivist demo` generates: archivist-1 sees two controllers and is an administrator,
# archivist-2 and archivist-3 one each, archivist-4 none. Linking twice changes nothing.
link_demo_cards() {
  local bin="$1" first=1.2.246.10.12345670.10.0 second=1.2.246.10.12345671.10.0 third=1.2.246.10.12345672.10.0
  "$bin" card link 999000110 --controller "$first" >/dev/null
  "$bin" card link 999000110 --controller "$second" >/dev/null
  "$bin" card link 99900022B --controller "$second" >/dev/null
  "$bin" card link 99900033P --controller "$third" >/dev/null
  "$bin" admin grant 999000110 >/dev/null
  define_demo_deployment_test "$bin" "$second"
}

# The deployment test of controller $2, once: the documents of its test client with the fewest
# documents (archivist-1 checks and confirms it; an administrator resets it with
# `archivist deployment-test reset`).
define_demo_deployment_test() {
  local bin="$1" controller="$2" client
  [ -z "$(psql -X -q -At "$DATABASE_URL" -c \
    "SELECT 1 FROM deployment_test WHERE controller_oid = '$controller'")" ] || return 0
  client="$(psql -X -q -At "$DATABASE_URL" -c "SELECT client_id_value FROM document_version
    WHERE controller_oid = '$controller' GROUP BY 1 ORDER BY count(*), 1 LIMIT 1")"
  [ -n "$client" ] || die "controller $controller has no documents for its deployment test"
  "$bin" deployment-test define "$controller" --client "$client" >/dev/null
}
