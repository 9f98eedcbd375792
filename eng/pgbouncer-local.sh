#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A throwaway PgBouncer (pool_mode = transaction) on 127.0.0.1 in front of eng/pg-local.sh's PostgreSQL.
#
# Usage: eng/pgbouncer-local.sh start|stop|status|url
#   start  installs the Debian pgbouncer package when missing (root), starts PostgreSQL (eng/pg-local.sh) and PgBouncer,
#          and prints only the Npgsql connection string that goes through PgBouncer.
# Environment: IW_PGB_PORT (default 16432 in front of PostgreSQL on port 54329, else 10000 + the PostgreSQL port % 10000:
#              one PgBouncer per server, all outside the ephemeral port range; servers whose ports differ by a multiple
#              of 10000 need IW_PGB_PORT), IW_PGB_DIR (default /tmp/idempotentwrites-pgbouncer-$IW_PGB_PORT), plus
#              IW_PG_PORT / IW_PG_PASSWORD of eng/pg-local.sh; IW_PGB_TARGET_HOST / IW_PGB_TARGET_PORT point it at
#              another PostgreSQL (then eng/pg-local.sh is not started).
#              A running PgBouncer on the port that forwards to another server is an error, never silently reused; so is
#              a port that another program listens on.
# The test suite (tests/Concurrency/Faults/PgBouncerTests.cs) sets IW_PGB_PORT and IW_PGB_DIR itself, starts its own
# PgBouncer before each test and stops it and removes its directory after.
set -euo pipefail

REPO_ROOT="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd -P)"
PG_PORT="${IW_PGB_TARGET_PORT:-${IW_PG_PORT:-54329}}"
PG_HOST="${IW_PGB_TARGET_HOST:-127.0.0.1}"
if [[ "$PG_PORT" == 54329 ]]; then
  PORT="${IW_PGB_PORT:-16432}"
else
  PORT="${IW_PGB_PORT:-$((10000 + PG_PORT % 10000))}"
fi
DIR="${IW_PGB_DIR:-/tmp/idempotentwrites-pgbouncer-$PORT}"
PASSWORD="${IW_PG_PASSWORD:-iw}"
log() { printf 'pgbouncer-local.sh: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

as_owner() {
  if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

url() { printf 'Host=127.0.0.1;Port=%s;Username=postgres;Password=%s;Database=postgres;No Reset On Close=true;Max Auto Prepare=0\n' "$PORT" "$PASSWORD"; }

# A daemon that has exited stays a zombie until init reaps it; that one is not running.
alive() { [[ -r "/proc/$1/stat" && "$(cut -d ' ' -f 3 "/proc/$1/stat" 2>/dev/null)" != Z ]]; }

running() { [[ -f "$DIR/pgbouncer.pid" ]] && alive "$(cat "$DIR/pgbouncer.pid")"; }

install() {
  command -v pgbouncer >/dev/null 2>&1 && return
  [[ $(id -u) -eq 0 ]] || die "pgbouncer is not installed and this is not root; install the Debian package 'pgbouncer'"
  log "installing pgbouncer (apt-get) — this takes a minute"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y --no-install-recommends pgbouncer </dev/null >&2 || {
    log "apt-get install failed; refreshing package lists (apt-get update) and retrying"
    apt-get update </dev/null >&2 && apt-get install -y --no-install-recommends pgbouncer </dev/null >&2
  }
  # The package starts its own instance on 6432; this script runs a private one.
  systemctl disable --now pgbouncer >/dev/null 2>&1 || service pgbouncer stop >/dev/null 2>&1 || true
}

start() {
  install
  if [[ -z "${IW_PGB_TARGET_PORT:-}" ]]; then bash "$REPO_ROOT/eng/pg-local.sh" start >/dev/null </dev/null; fi
  if running; then
    local target
    target="$(sed -nE 's/^\* = (host=[^ ]+ port=[0-9]+)$/\1/p' "$DIR/pgbouncer.ini" 2>/dev/null || true)"
    [[ "$target" == "host=$PG_HOST port=$PG_PORT" ]] \
      || die "the PgBouncer on port $PORT forwards to '${target:-?}', not host=$PG_HOST port=$PG_PORT; set IW_PGB_PORT (or stop it: IW_PGB_PORT=$PORT $0 stop)"
    log "already running on port $PORT"
    url
    return
  fi
  if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
    die "another program already listens on 127.0.0.1:$PORT; set IW_PGB_PORT"
  fi
  mkdir -p "$DIR"
  cat >"$DIR/pgbouncer.ini" <<INI
[databases]
* = host=$PG_HOST port=$PG_PORT

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $PORT
unix_socket_dir =
auth_type = scram-sha-256
auth_file = $DIR/userlist.txt
pool_mode = transaction
max_client_conn = 1000
default_pool_size = 40
server_reset_query =
ignore_startup_parameters = extra_float_digits,options
logfile = $DIR/pgbouncer.log
pidfile = $DIR/pgbouncer.pid
INI
  printf '"postgres" "%s"\n' "$PASSWORD" >"$DIR/userlist.txt"
  chmod 600 "$DIR/userlist.txt"
  [[ $(id -u) -eq 0 ]] && chown -R postgres: "$DIR"
  rm -f -- "$DIR/pgbouncer.log"
  as_owner pgbouncer -d "$DIR/pgbouncer.ini" >&2
  # pgbouncer -d exits 0 before it binds, and a daemon that cannot bind exits on its own: started means our daemon runs
  # and the port answers.
  for _ in $(seq 1 100); do
    if running && (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
      log "started on 127.0.0.1:$PORT (pool_mode = transaction, $DIR)"
      url
      return
    fi
    if grep -q FATAL "$DIR/pgbouncer.log" 2>/dev/null; then break; fi
    sleep 0.1
  done
  die "pgbouncer did not start; $DIR/pgbouncer.log says:"$'\n'"$(tail -n 5 "$DIR/pgbouncer.log" 2>/dev/null)"
}

# SIGTERM is PgBouncer 1.18's immediate shutdown; waits until the process is gone.
stop() {
  if ! running; then log "not running ($DIR)"; return; fi
  local pid
  pid="$(cat "$DIR/pgbouncer.pid")"
  kill "$pid"
  for _ in $(seq 1 100); do
    alive "$pid" || { log "stopped ($DIR)"; return; }
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  log "stopped with SIGKILL after 10 s ($DIR)"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) if running; then echo running; else echo stopped; exit 3; fi ;;
  url) running || die "not running"; url ;;
  *) echo "usage: ${0##*/} start|stop|status|url" >&2; exit 2 ;;
esac
