#!/usr/bin/env bash
# Throwaway PostgreSQL 15 cluster for tests (Debian 12, run as root or as any user).
# Used by test/support/pg.ts; copied from the team's recipe, with `restart` added.
#
#   eval "$(bash pg-throwaway.sh start)"   # exports PGHOST PGPORT PGUSER PGDATABASE DATABASE_URL PG_THROWAWAY_DIR
#   ... run tests (node 'pg' picks up PGHOST/PGPORT/PGUSER/PGDATABASE, or use DATABASE_URL) ...
#   bash pg-throwaway.sh restart "$PG_THROWAWAY_DIR"   # pg_ctl restart -m fast (same port and data)
#   bash pg-throwaway.sh stop "$PG_THROWAWAY_DIR"
#   bash pg-throwaway.sh selftest          # start + `psql select 1` + stop, prints timings
#
# - initdb/postgres refuse to run as root, so as root we run them as the 'postgres' system user
#   (created by the postgresql-common package) via runuser; as non-root we run them directly.
# - Listens on a unix socket in the temp dir AND on 127.0.0.1:<random free port>, trust auth.
# - Durability is switched off (fsync, synchronous_commit, full_page_writes) - test data only.
# - If the server binaries are missing it installs them (apt-get install -y postgresql-15).
set -euo pipefail

PGBIN="${PGBIN:-/usr/lib/postgresql/15/bin}"

ensure_installed() {
  if [ ! -x "$PGBIN/initdb" ]; then
    echo "pg-throwaway: installing postgresql-15" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q postgresql-15 >&2 || { apt-get update -q >&2 && apt-get install -y -q postgresql-15 >&2; }
  fi
}

as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

free_port() {
  node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

start() {
  ensure_installed
  local dir port t0
  t0=$(date +%s%N)
  dir=$(mktemp -d /tmp/pgtmp.XXXXXX)
  chmod 755 "$dir"
  [ "$(id -u)" = 0 ] && chown postgres:postgres "$dir"
  port="${PGPORT_WANTED:-$(free_port)}"
  as_pg "$PGBIN/initdb" -D "$dir/data" -U postgres --auth=trust --no-sync -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
    || { cat "$dir/initdb.log" >&2; exit 1; }
  cat >>"$dir/data/postgresql.conf" <<EOF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 200
EOF
  as_pg "$PGBIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 start >/dev/null \
    || { cat "$dir/server.log" >&2; exit 1; }
  echo "pg-throwaway: started in $(( ($(date +%s%N) - t0) / 1000000 ))ms dir=$dir port=$port" >&2
  cat <<EOF
export PG_THROWAWAY_DIR='$dir'
export PGHOST='127.0.0.1'
export PGPORT='$port'
export PGUSER='postgres'
export PGDATABASE='postgres'
export PG_SOCKET_DIR='$dir'
export DATABASE_URL='postgres://postgres@127.0.0.1:$port/postgres'
EOF
}

restart() {
  local dir="${1:?usage: restart DIR}"
  case "$dir" in /tmp/pgtmp.*) ;; *) echo "refusing to restart $dir" >&2; exit 1;; esac
  as_pg "$PGBIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -m fast -w -t 30 restart >/dev/null \
    || { tail -20 "$dir/server.log" >&2; exit 1; }
}

stop() {
  local dir="${1:?usage: stop DIR}"
  case "$dir" in /tmp/pgtmp.*) ;; *) echo "refusing to remove $dir" >&2; exit 1;; esac
  if [ -f "$dir/data/postmaster.pid" ]; then
    as_pg "$PGBIN/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$dir"
}

case "${1:-}" in
  start) start ;;
  stop) stop "${2:-${PG_THROWAWAY_DIR:-}}" ;;
  restart) restart "${2:-${PG_THROWAWAY_DIR:-}}" ;;
  selftest)
    t0=$(date +%s%N)
    eval "$(start)"
    psql -X -At -c 'select version()'
    psql -X -At -h "$PG_SOCKET_DIR" -c 'select 1 as via_socket'
    stop "$PG_THROWAWAY_DIR"
    echo "pg-throwaway: start+query+stop in $(( ($(date +%s%N) - t0) / 1000000 ))ms" >&2
    ;;
  *) echo "usage: $0 start | restart DIR | stop DIR | selftest" >&2; exit 2 ;;
esac
