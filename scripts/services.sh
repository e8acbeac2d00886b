#!/usr/bin/env bash
# Services the test suite uses, on loopback, for a Debian 12 machine as root (CI, or a developer's box).
#
#   bash scripts/services.sh install   # Debian packages
#   bash scripts/services.sh start     # PostgreSQL on 127.0.0.1; prints the env lines for the tests
#   bash scripts/services.sh env       # print the env lines again
#   bash scripts/services.sh stop
#
# Everything lives under $SVC_BASE (default $TMPDIR/facteur-services). PostgreSQL runs without fsync:
# these are test databases, and durability of Facteur's own writes is tested on its own storage.
set -euo pipefail
SVC_BASE=${SVC_BASE:-${TMPDIR:-/tmp}/facteur-services}
PG_PORT=${PG_PORT:-55432}
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}

wait_for() { # wait_for <seconds> <command...>
  local t=$1; shift
  for _ in $(seq 1 $((t * 4))); do "$@" >/dev/null 2>&1 && return 0; sleep 0.25; done
  echo "timed out waiting for: $*" >&2; return 1
}

do_install() {
  export DEBIAN_FRONTEND=noninteractive
  local wanted=(postgresql postgresql-client swaks isync rspamd clamav clamav-daemon)
  local missing=()
  for p in "${wanted[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  if [ ${#missing[@]} -gt 0 ]; then
    apt-get update -q
    apt-get install -y -q "${missing[@]}"
  fi
}

start_pg() {
  local d=$SVC_BASE/pg
  mkdir -p "$d"; chown postgres:postgres "$d"; chmod 700 "$d"
  if [ ! -f "$d/data/PG_VERSION" ]; then
    su postgres -c "$PGBIN/initdb -D $d/data -U postgres --auth=trust -E UTF8 --locale=C.UTF-8" >"$d/initdb.log"
  fi
  if ! su postgres -c "$PGBIN/pg_ctl -D $d/data status" >/dev/null 2>&1; then
    su postgres -c "$PGBIN/pg_ctl -D $d/data -l $d/pg.log -w -t 60 start -o '-p $PG_PORT -k $d -c listen_addresses=127.0.0.1 -c max_connections=300 -c fsync=off -c synchronous_commit=off -c full_page_writes=off'" >/dev/null
  fi
  wait_for 30 psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -tAc 'select 1'
  psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -tAc "select 1 from pg_database where datname='facteur_test'" | grep -q 1 ||
    psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -c 'create database facteur_test' >/dev/null
}

print_env() {
  echo "FACTEUR_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:$PG_PORT/facteur_test"
}

do_stop() {
  [ -f "$SVC_BASE/pg/data/postmaster.pid" ] && su postgres -c "$PGBIN/pg_ctl -D $SVC_BASE/pg/data -m fast -w stop" >/dev/null || true
}

case "${1:-}" in
  install) do_install ;;
  start) start_pg; print_env ;;
  env) print_env ;;
  stop) do_stop ;;
  *) echo "usage: $0 install|start|env|stop" >&2; exit 2 ;;
esac
