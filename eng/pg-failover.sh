#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A failover test bed on this machine: a durable primary (eng/pg-local.sh, fsync and synchronous_commit on) and a
# streaming standby made from it with pg_basebackup -R, both on 127.0.0.1, then the primary killed and the standby promoted.
#
# Usage: eng/pg-failover.sh start|kill-primary|promote|stop|status
#   start          primary + standby, streaming; prints the multi-host connection string (primary first, then standby,
#                  Target Session Attributes=primary, Host Recheck Seconds=1) on stdout
#   kill-primary   pg_ctl stop -m immediate on the primary (a crash: no shutdown checkpoint, clients cut off)
#   promote        pg_ctl promote -w on the standby; prints the milliseconds it took
#   stop           stops both (immediately) and removes their directories
#   status         one line per server: its port and whether it is running, in recovery (standby) or primary
# Environment:
#   IW_FO_MODE          sync (synchronous_standby_names = '*': a commit waits for the standby) or async; default sync
#   IW_FO_PORT          the primary's port (default 54359); the standby listens on IW_FO_STANDBY_PORT (default port + 1)
#   IW_FO_DIR           base directory (default /tmp/idempotentwrites-failover-<port>): primary/ and standby/ in it
#   IW_FO_RECHECK       Host Recheck Seconds in the printed connection string (default 1; Npgsql's own default is 10)
#   IW_PG_VERSION       as for eng/pg-local.sh (the standby uses the same binaries, pg_basebackup included)
set -euo pipefail

SCRIPT_DIR="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)"
readonly SCRIPT_DIR
readonly MODE="${IW_FO_MODE:-sync}"
readonly PORT="${IW_FO_PORT:-54359}"
readonly STANDBY_PORT="${IW_FO_STANDBY_PORT:-$((PORT + 1))}"
readonly BASE="${IW_FO_DIR:-/tmp/idempotentwrites-failover-$PORT}"
readonly PRIMARY_DIR="$BASE/primary"
readonly STANDBY_DIR="$BASE/standby"
readonly PASSWORD="${IW_PG_PASSWORD:-iw}"
readonly HOST=127.0.0.1
readonly RECHECK="${IW_FO_RECHECK:-1}"

die() { printf 'pg-failover.sh: error: %s\n' "$*" >&2; exit 1; }
log() { printf 'pg-failover.sh: %s\n' "$*" >&2; }
is_root() { [[ "$(id -u)" -eq 0 ]]; }
as_pg() {
  if is_root; then
    (cd / && runuser -u postgres -- "$@")
  else
    "$@"
  fi
}

case "$MODE" in sync | async) ;; *) die "IW_FO_MODE must be sync or async, not '$MODE'" ;; esac

pg_local() { IW_PG_PORT="$PORT" IW_PG_DIR="$PRIMARY_DIR" IW_PG_DURABLE=1 bash "$SCRIPT_DIR/pg-local.sh" "$@"; }

# The server binaries pg-local.sh uses (it prints them in status output); pg_basebackup must come from the same major.
bin_dir() {
  local postmaster
  postmaster="$(head -n1 "$PRIMARY_DIR/postmaster.pid" 2>/dev/null || true)"
  [[ -n "$postmaster" ]] || die "the primary is not running"
  dirname -- "$(readlink -f "/proc/$postmaster/exe")"
}

psql_primary() {
  local bin="$1"
  shift
  local client="$bin/psql"
  [[ -x "$client" ]] || client="/usr/lib/postgresql/15/bin/psql"
  PGPASSWORD="$PASSWORD" "$client" -X -q -At -h "$HOST" -p "$PORT" -U postgres -d postgres -v ON_ERROR_STOP=1 "$@"
}

cmd_start() {
  cmd_stop_quietly
  mkdir -p -- "$BASE"
  if is_root; then chown postgres:postgres -- "$BASE"; fi
  pg_local start >/dev/null
  local bin
  bin="$(bin_dir)"
  [[ -x "$bin/pg_basebackup" ]] || die "$bin has no pg_basebackup (the npm builds of PostgreSQL lack it); use IW_PG_VERSION=15"
  if [[ "$MODE" == sync ]]; then
    psql_primary "$bin" -c "ALTER SYSTEM SET synchronous_standby_names = '*'" -c "SELECT pg_reload_conf()" >/dev/null
  else
    psql_primary "$bin" -c "ALTER SYSTEM RESET synchronous_standby_names" -c "SELECT pg_reload_conf()" >/dev/null
  fi

  log "pg_basebackup from port $PORT into $STANDBY_DIR"
  as_pg env PGPASSWORD="$PASSWORD" "$bin/pg_basebackup" -h "$HOST" -p "$PORT" -U postgres -D "$STANDBY_DIR" -R -X stream -c fast
  # The copied postgresql.conf names the primary's port and socket directory: the command line overrides both.
  as_pg "$bin/pg_ctl" start -D "$STANDBY_DIR" -l "$STANDBY_DIR/server.log" -w -t 60 \
    -o "-p $STANDBY_PORT -k $STANDBY_DIR -c synchronous_standby_names=" >&2 \
    || { tail -n 20 "$STANDBY_DIR/server.log" >&2; die "the standby did not start"; }

  local state="" i
  for ((i = 0; i < 600; i++)); do
    state="$(psql_primary "$bin" -c "SELECT state || '/' || sync_state FROM pg_stat_replication LIMIT 1" || true)"
    if [[ "$MODE" == sync && "$state" == streaming/sync ]] || [[ "$MODE" == async && "$state" == streaming/async ]]; then
      break
    fi
    sleep 0.1
  done
  [[ "$state" == streaming/* ]] || die "the standby is not streaming (pg_stat_replication: '$state')"
  log "primary 127.0.0.1:$PORT, standby 127.0.0.1:$STANDBY_PORT, $state"
  printf 'Host=%s:%s,%s:%s;Username=postgres;Password=%s;Database=postgres;Target Session Attributes=primary;Host Recheck Seconds=%s\n' \
    "$HOST" "$PORT" "$HOST" "$STANDBY_PORT" "$PASSWORD" "$RECHECK"
}

cmd_kill_primary() {
  local bin
  bin="$(bin_dir)"
  as_pg "$bin/pg_ctl" stop -D "$PRIMARY_DIR" -m immediate -w >&2
}

cmd_promote() {
  local bin started
  bin="$(dirname -- "$(readlink -f "/proc/$(head -n1 "$STANDBY_DIR/postmaster.pid")/exe")")"
  started="$(date +%s%N)"
  as_pg "$bin/pg_ctl" promote -D "$STANDBY_DIR" -w -t 60 >&2
  printf '%s\n' "$(( ($(date +%s%N) - started) / 1000000 ))"
}

stop_dir() {
  local dir="$1" pid
  [[ -f "$dir/postmaster.pid" ]] || return 0
  pid="$(head -n1 "$dir/postmaster.pid")"
  if [[ -n "$pid" && -e "/proc/$pid/exe" ]]; then
    as_pg "$(dirname -- "$(readlink -f "/proc/$pid/exe")")/pg_ctl" stop -D "$dir" -m immediate -w >&2 || true
  fi
}

cmd_stop_quietly() {
  stop_dir "$STANDBY_DIR"
  stop_dir "$PRIMARY_DIR"
  rm -rf -- "$STANDBY_DIR" "$PRIMARY_DIR" "$PRIMARY_DIR.lock"
}

cmd_status() {
  local name dir port
  for name in primary standby; do
    if [[ "$name" == primary ]]; then dir="$PRIMARY_DIR" port="$PORT"; else dir="$STANDBY_DIR" port="$STANDBY_PORT"; fi
    if [[ -f "$dir/postmaster.pid" ]] && [[ -e "/proc/$(head -n1 "$dir/postmaster.pid")/exe" ]]; then
      printf '%s %s running\n' "$name" "$port"
    else
      printf '%s %s stopped\n' "$name" "$port"
    fi
  done
}

case "${1:-}" in
  start) cmd_start ;;
  kill-primary) cmd_kill_primary ;;
  promote) cmd_promote ;;
  stop) cmd_stop_quietly; rmdir -- "$BASE" 2>/dev/null || true ;;
  status) cmd_status ;;
  *) die "usage: $0 start|kill-primary|promote|stop|status" ;;
esac
