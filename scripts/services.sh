#!/usr/bin/env bash
# Services the test suite uses, on loopback, for a Debian 12 machine as root (CI, or a developer's box).
#
#   bash scripts/services.sh install   # Debian packages
#   bash scripts/services.sh start     # PostgreSQL, Redis, Rspamd, clamd on 127.0.0.1; prints the env lines
#   bash scripts/services.sh env       # print the env lines again
#   bash scripts/services.sh stop      # stop what `start` started (by PID file)
#
# `start` prints only NAME=value lines on stdout (.ci/run exports each one); progress goes to stderr.
# Starting twice is fine: what already runs is left alone. `install` also installs Debian's Chromium,
# the headless browser of the web application's tests (driven by playwright-core; nothing downloaded).
#
# Everything lives under $SVC_BASE (default $TMPDIR/facteur-services). PostgreSQL runs without fsync:
# these are test databases, and durability of Facteur's own writes is tested on its own storage.
#
# Rspamd (issue 5, the Rspamd adapter): the normal worker (HTTP /checkv2) and the controller on loopback,
# greylisting off (it would answer "soft reject" for unknown senders), no Redis (Bayes, history and the
# rate limits are then just disabled), and no lookups on the internet: the modules that only ask public
# zones or rspamd.com (rbl, fuzzy_check, asn, emails) are off, and its DNS goes to $RSPAMD_DNS — a DNS
# server of the tests when given, else a loopback port where nothing answers, so that the lookups that
# remain (SPF/DKIM/DMARC of the sender, PTR of a non-local client) time out within a second instead of
# going to the internet. Facteur's tests send from 127.0.0.1, which Rspamd does not look up at all.
#
# Redis (the change feed between nodes): no persistence, loopback only.
#
# clamd (issue 5, the ClamAV adapter): signature downloads are not possible here, so its database is a
# small one made locally that detects the EICAR test file (a body signature, which also matches inside
# decoded MIME parts and zip archives, and the file's SHA-256). StreamMaxLength is 64M: a message of the
# contract's largest size (50 MB) fits.
set -euo pipefail
SVC_BASE=${SVC_BASE:-${TMPDIR:-/tmp}/facteur-services}
PG_PORT=${PG_PORT:-55432}
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
RSPAMD_NORMAL_PORT=${RSPAMD_NORMAL_PORT:-51333}
RSPAMD_CONTROLLER_PORT=${RSPAMD_CONTROLLER_PORT:-51334}
RSPAMD_DNS=${RSPAMD_DNS:-127.0.0.1:9} # nothing answers on UDP 9 (discard)
CLAMD_PORT=${CLAMD_PORT:-53310}
REDIS_PORT=${REDIS_PORT:-56379}

wait_for() { # wait_for <seconds> <command...>
  local t=$1; shift
  for _ in $(seq 1 $((t * 4))); do "$@" >/dev/null 2>&1 && return 0; sleep 0.25; done
  echo "timed out waiting for: $*" >&2; return 1
}

do_install() {
  export DEBIAN_FRONTEND=noninteractive
  local wanted=(postgresql postgresql-client redis-server swaks isync rspamd clamav clamav-daemon clamdscan curl chromium)
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
    su postgres -c "$PGBIN/pg_ctl -D $d/data -l $d/pg.log -w -t 60 start -o '-p $PG_PORT -k $d -c listen_addresses=127.0.0.1 -c max_connections=300 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c log_lock_waits=on -c deadlock_timeout=1s'" >/dev/null
  fi
  wait_for 30 psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -tAc 'select 1'
  psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -tAc "select 1 from pg_database where datname='facteur_test'" | grep -q 1 ||
    psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -c 'create database facteur_test' >/dev/null
}

# Is the process named in a PID file alive?
running() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

start_redis() {
  local d=$SVC_BASE/redis
  mkdir -p "$d"
  if ! running "$d/redis.pid"; then
    redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --save '' --appendonly no --daemonize yes \
      --pidfile "$d/redis.pid" --logfile "$d/redis.log" --dir "$d" >/dev/null
  fi
  wait_for 20 redis-cli -p "$REDIS_PORT" ping
}

start_rspamd() {
  local d=$SVC_BASE/rspamd
  if running "$d/run/rspamd.pid"; then
    wait_for 60 sh -c "curl -sf http://127.0.0.1:$RSPAMD_NORMAL_PORT/ping | grep -q pong"
    return
  fi
  mkdir -p "$d/conf/override.d" "$d/conf/local.d" "$d/db" "$d/run" "$d/log"
  printf 'bind_socket = "127.0.0.1:%s";\ncount = 1;\n' "$RSPAMD_NORMAL_PORT" >"$d/conf/override.d/worker-normal.inc"
  printf 'bind_socket = "127.0.0.1:%s";\nsecure_ip = ["127.0.0.1", "::1"];\n' "$RSPAMD_CONTROLLER_PORT" >"$d/conf/override.d/worker-controller.inc"
  # the milter proxy is not used (Facteur talks HTTP to the normal worker)
  printf 'enabled = false;\n' >"$d/conf/override.d/worker-proxy.inc"
  printf 'enabled = false;\n' >"$d/conf/local.d/greylist.conf"
  local m
  for m in rbl fuzzy_check asn emails; do printf 'enabled = false;\n' >"$d/conf/local.d/$m.conf"; done
  # max_message: Rspamd closes the connection without an answer past it (default 50Mb, the contract's
  # largest message before the trace headers are added)
  printf 'max_message = 64Mb;\ndns {\n  nameserver = ["%s"];\n  timeout = 500ms;\n  retransmits = 1;\n}\n' "$RSPAMD_DNS" >"$d/conf/local.d/options.inc"
  chown -R _rspamd:_rspamd "$d/db" "$d/run" "$d/log"
  # -u/-g: workers run as _rspamd (started as root). Redirect output: the daemon keeps inherited fds open.
  rspamd -u _rspamd -g _rspamd -c /etc/rspamd/rspamd.conf \
    --var LOCAL_CONFDIR="$d/conf" --var DBDIR="$d/db" --var RUNDIR="$d/run" --var LOGDIR="$d/log" \
    >"$d/log/stdout.log" 2>&1 </dev/null
  # the first start compiles its regular expressions (hyperscan): 15-30 s before /ping answers
  wait_for 120 sh -c "curl -sf http://127.0.0.1:$RSPAMD_NORMAL_PORT/ping | grep -q pong"
}

start_clamd() {
  local d=$SVC_BASE/clamav
  if running "$d/run/clamd.pid"; then
    wait_for 30 sh -c "clamdscan --no-summary --config-file=$d/clamd.conf --stream $d/samples/eicar.com | grep -q FOUND"
    return
  fi
  mkdir -p "$d/db" "$d/run" "$d/samples"
  # the EICAR test file: 68 bytes, no trailing newline
  printf '%s' 'X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*' >"$d/samples/eicar.com"
  # body signature (.ndb, name:target:offset:hex): the string anywhere, also in decoded MIME parts and archives
  printf 'Eicar-Test-Signature:0:*:%s\n' "$(printf '%s' 'EICAR-STANDARD-ANTIVIRUS-TEST-FILE' | od -An -tx1 | tr -d ' \n')" >"$d/db/facteur.ndb"
  # hash signature (.hsb, sha256:size:name): the exact 68-byte file
  sigtool --sha256 "$d/samples/eicar.com" | sed 's/:[^:]*$/:Eicar-Test-File-SHA256/' >"$d/db/facteur.hsb"
  cat >"$d/clamd.conf" <<EOF
DatabaseDirectory $d/db
LocalSocket $d/run/clamd.sock
LocalSocketMode 666
TCPSocket $CLAMD_PORT
TCPAddr 127.0.0.1
PidFile $d/run/clamd.pid
LogFile $d/run/clamd.log
LogTime yes
Foreground no
StreamMaxLength 64M
MaxThreads 4
EOF
  clamd -c "$d/clamd.conf" >"$d/run/clamd.stdout" 2>&1 </dev/null
  wait_for 60 sh -c "clamdscan --no-summary --config-file=$d/clamd.conf --stream $d/samples/eicar.com | grep -q FOUND"
}

print_env() {
  echo "FACTEUR_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:$PG_PORT/facteur_test"
  echo "FACTEUR_TEST_RSPAMD_URL=http://127.0.0.1:$RSPAMD_NORMAL_PORT"
  echo "FACTEUR_TEST_CLAMD=127.0.0.1:$CLAMD_PORT"
  echo "FACTEUR_TEST_REDIS_URL=redis://127.0.0.1:$REDIS_PORT"
  # read by scripts/test.mjs when a test fails: PostgreSQL's lock waits (log_lock_waits) and errors
  echo "FACTEUR_TEST_PG_LOG=$SVC_BASE/pg/pg.log"
}

do_stop() {
  [ -f "$SVC_BASE/pg/data/postmaster.pid" ] && su postgres -c "$PGBIN/pg_ctl -D $SVC_BASE/pg/data -m fast -w stop" >/dev/null || true
  local p pid
  for p in "$SVC_BASE/redis/redis.pid" "$SVC_BASE/rspamd/run/rspamd.pid" "$SVC_BASE/clamav/run/clamd.pid"; do
    if running "$p"; then
      pid=$(cat "$p")
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    fi
    rm -f "$p"
  done
}

case "${1:-}" in
  install) do_install ;;
  start)
    t0=$(date +%s)
    start_pg; echo "postgres up (+$(($(date +%s) - t0))s)" >&2
    start_redis; echo "redis up    (+$(($(date +%s) - t0))s)" >&2
    start_clamd; echo "clamd up    (+$(($(date +%s) - t0))s)" >&2
    start_rspamd; echo "rspamd up   (+$(($(date +%s) - t0))s)" >&2
    print_env ;;
  env) print_env ;;
  stop) do_stop ;;
  *) echo "usage: $0 install|start|env|stop" >&2; exit 2 ;;
esac
