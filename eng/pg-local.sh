#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Manage a throwaway local PostgreSQL cluster (127.0.0.1 only) for the integration tests.

set -euo pipefail

readonly SCRIPT_NAME="${0##*/}"
SCRIPT_DIR="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)"
readonly SCRIPT_DIR
REPO_ROOT="$(cd -- "$SCRIPT_DIR/.." && pwd -P)"
readonly REPO_ROOT

PORT="${IW_PG_PORT:-54329}"
PASSWORD="${IW_PG_PASSWORD:-iw}"
PG_DIR="${IW_PG_DIR:-/tmp/idempotentwrites-pg-$PORT}"
readonly PG_OS_USER=postgres
readonly PG_DB_USER=postgres
readonly HOST=127.0.0.1
readonly READY_TIMEOUT=60

BIN=""               # PostgreSQL bin dir, resolved lazily (full path; never rely on PATH)
PWFILE=""            # temporary initdb password file, removed on exit
LOCALE_GENERATED=0   # set to 1 when this run had to generate de_DE.UTF-8

usage() {
  cat <<EOF
Usage: $SCRIPT_NAME <command> [args]

Manage a throwaway PostgreSQL cluster listening on $HOST only.

Commands:
  start          initdb (if needed) and start the cluster; prints ONLY the Npgsql
                 connection string on stdout (e.g. CS=\$($SCRIPT_NAME start))
  stop           stop the cluster (pg_ctl stop -m fast); exit 0 if already stopped
  restart        restart the cluster (pg_ctl restart -m fast -w); prints the connection string
  status         print running/stopped; exit 0 when running, 3 when stopped
  url            print the connection string; exit 1 when not running
  psql [args]    run psql against the cluster ($HOST, user $PG_DB_USER) with the given args
  help           show this message

Environment:
  IW_PG_PORT      TCP port                  (default 54329, currently $PORT)
  IW_PG_DIR       cluster (data) directory  (default /tmp/idempotentwrites-pg-\$PORT)
  IW_PG_PASSWORD  password of role postgres (default iw)
EOF
}

log() { printf '%s: %s\n' "$SCRIPT_NAME" "$*" >&2; }
die() { log "error: $*"; exit 1; }

cleanup() {
  if [[ -n "$PWFILE" ]]; then rm -f -- "$PWFILE"; fi
}
trap cleanup EXIT

is_root() { [[ "$(id -u)" -eq 0 ]]; }

# Run a PostgreSQL program as the cluster owner: the `postgres` OS user when we are root
# (initdb/pg_ctl refuse to run as root), otherwise the current user. fd 9 (our lock) is
# closed so the postmaster never inherits it, and cwd is / so an unreadable cwd (/root)
# does not bother the postgres user.
as_pg() {
  if is_root; then
    (cd / && runuser -u "$PG_OS_USER" -- "$@") 9<&-
  else
    "$@" 9<&-
  fi
}

validate_config() {
  if [[ ! "$PORT" =~ ^[1-9][0-9]{0,4}$ ]] || ((PORT > 65535)); then
    die "IW_PG_PORT must be a TCP port number (1-65535), got '$PORT'"
  fi
  [[ -n "$PASSWORD" ]] || die "IW_PG_PASSWORD must not be empty"
  [[ "$PASSWORD" != *$'\n'* ]] || die "IW_PG_PASSWORD must not contain a newline"
  [[ -n "$PG_DIR" ]] || die "IW_PG_DIR must not be empty"
  if [[ "$PG_DIR" != /* ]]; then PG_DIR="$PWD/$PG_DIR"; fi
  while [[ "$PG_DIR" == */ && "$PG_DIR" != / ]]; do PG_DIR="${PG_DIR%/}"; done
  [[ "$PG_DIR" != / ]] || die "IW_PG_DIR must not be /"
  # Unix socket paths are limited to 107 bytes (sun_path).
  local sock="$PG_DIR/.s.PGSQL.$PORT"
  ((${#sock} <= 107)) || die "IW_PG_DIR is too long for a unix socket path ($sock); use a shorter directory"
}

# Npgsql connection-string value quoting (DbConnectionStringBuilder rules).
cs_value() {
  local v="$1"
  if [[ "$v" == *[\;=\'\"]* || "$v" =~ ^[[:space:]] || "$v" =~ [[:space:]]$ ]]; then
    printf '"%s"' "${v//\"/\"\"}"
  else
    printf '%s' "$v"
  fi
}

connection_string() {
  printf 'Host=%s;Port=%s;Username=%s;Password=%s;Database=postgres\n' \
    "$HOST" "$PORT" "$PG_DB_USER" "$(cs_value "$PASSWORD")"
}

# ---------------------------------------------------------------- binaries

newest_bin_dir() {
  local d best=""
  while IFS= read -r d; do
    if [[ -x "$d/initdb" && -x "$d/pg_ctl" ]]; then best="$d"; fi
  done < <(compgen -G '/usr/lib/postgresql/*/bin' | sort -V)
  printf '%s' "$best"
}

# Prefer the binaries matching an existing cluster's major version, else the newest.
resolve_bin() {
  BIN=""
  local ver
  if [[ -r "$PG_DIR/PG_VERSION" ]]; then
    ver="$(tr -d '[:space:]' <"$PG_DIR/PG_VERSION")"
    if [[ -n "$ver" && -x "/usr/lib/postgresql/$ver/bin/pg_ctl" && -x "/usr/lib/postgresql/$ver/bin/initdb" ]]; then
      BIN="/usr/lib/postgresql/$ver/bin"
      return 0
    fi
  fi
  BIN="$(newest_bin_dir)"
}

apt_lists_present() { compgen -G '/var/lib/apt/lists/*_Packages' >/dev/null; }

apt_install() {
  export DEBIAN_FRONTEND=noninteractive
  local -a apt_opts=(-y -q --no-install-recommends -o Dpkg::Use-Pty=0
    -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold)
  if ! apt_lists_present; then
    log "running apt-get update"
    apt-get update -q </dev/null >&2
  fi
  log "installing: $*"
  if ! apt-get install "${apt_opts[@]}" "$@" </dev/null >&2; then
    log "apt-get install failed; refreshing package lists and retrying"
    apt-get update -q </dev/null >&2
    apt-get install "${apt_opts[@]}" "$@" </dev/null >&2
  fi
}

# Make sure server binaries exist; install them when root, fail clearly otherwise.
ensure_bin() {
  resolve_bin
  if [[ -z "$BIN" ]]; then
    is_root || die "PostgreSQL server binaries not found (no /usr/lib/postgresql/*/bin/initdb). Install them with: sudo apt-get install --no-install-recommends postgresql postgresql-contrib locales (or run this script as root)"
    # Our cluster uses its own port ($PORT), so Debian's auto-created main cluster on 5432 does not collide.
    apt_install postgresql postgresql-contrib locales
    resolve_bin
    [[ -n "$BIN" ]] || die "PostgreSQL installed but no /usr/lib/postgresql/*/bin with initdb was found"
  fi
  if is_root; then
    id -u "$PG_OS_USER" >/dev/null 2>&1 || die "OS user '$PG_OS_USER' does not exist (is the Debian postgresql package installed?)"
  fi
}

# ---------------------------------------------------------------- locale

has_de_locale() { locale -a 2>/dev/null | grep -qiE '^de_DE\.utf-?8$'; }

# Tests switch lc_messages to German to prove error handling does not parse localized
# text. PostgreSQL only sees OS locales that existed when the server started, so this
# must run before the server starts.
ensure_de_locale() {
  has_de_locale && return 0
  if ! is_root; then
    log "warning: OS locale de_DE.UTF-8 is missing (locale -a); tests using lc_messages='de_DE.UTF-8' will fail. As root run: sed -i 's/^# *de_DE.UTF-8 UTF-8/de_DE.UTF-8 UTF-8/' /etc/locale.gen && locale-gen"
    return 0
  fi
  if ! command -v locale-gen >/dev/null 2>&1 || [[ ! -f /etc/locale.gen ]]; then
    apt_install locales
  fi
  if grep -qE '^[[:space:]]*#?[[:space:]]*de_DE\.UTF-8[[:space:]]+UTF-8[[:space:]]*$' /etc/locale.gen; then
    sed -i -E 's/^[[:space:]]*#[[:space:]]*(de_DE\.UTF-8[[:space:]]+UTF-8)[[:space:]]*$/\1/' /etc/locale.gen
  else
    printf '%s\n' 'de_DE.UTF-8 UTF-8' >>/etc/locale.gen
  fi
  log "generating OS locale de_DE.UTF-8"
  locale-gen </dev/null >&2
  if has_de_locale; then
    LOCALE_GENERATED=1
  else
    log "warning: de_DE.UTF-8 still missing after locale-gen"
  fi
}

# ---------------------------------------------------------------- cluster state

# Serialize start/stop/restart (several engineers/test runs may call us concurrently).
take_lock() {
  local lock="${PG_DIR}.lock"
  if [[ ! -e "$lock" ]]; then
    (umask 000 && : >>"$lock") 2>/dev/null || true
  fi
  # The braces keep 2>/dev/null from applying permanently (exec without a command).
  if { exec 9<"$lock"; } 2>/dev/null; then
    flock -w 180 9 || die "timed out waiting for lock $lock"
  else
    log "warning: cannot open lock file $lock; continuing without locking"
  fi
}

dir_accessible() { [[ -r "$PG_DIR" && -x "$PG_DIR" ]]; }

port_answers() {
  local rc=0
  "$BIN/pg_isready" -q -h "$HOST" -p "$PORT" -t 2 >/dev/null 2>&1 || rc=$?
  # 0 = accepting, 1 = rejecting (e.g. starting up); both mean a server owns the port.
  [[ $rc -eq 0 || $rc -eq 1 ]]
}

is_running() {
  [[ -n "$BIN" && -e "$PG_DIR" ]] || return 1
  if ! dir_accessible; then
    # Cluster owned by another user (e.g. created via root); best effort via the port.
    port_answers
    return
  fi
  [[ -f "$PG_DIR/PG_VERSION" ]] || return 1
  local rc=0
  as_pg "$BIN/pg_ctl" status -D "$PG_DIR" >/dev/null 2>&1 || rc=$?
  # 4 = data dir not accessible to the pg user (cluster owned by someone else): use the port.
  if ((rc == 4)); then
    port_answers
    return
  fi
  ((rc == 0))
}

wait_ready() {
  local deadline=$((SECONDS + READY_TIMEOUT))
  until "$BIN/pg_isready" -q -h "$HOST" -p "$PORT" -U "$PG_DB_USER" -d postgres -t 2 >/dev/null 2>&1; do
    if ((SECONDS >= deadline)); then
      show_log_tail
      die "server on $HOST:$PORT not ready after ${READY_TIMEOUT}s"
    fi
    sleep 0.5
  done
}

show_log_tail() {
  if [[ -r "$PG_DIR/server.log" ]]; then
    log "last lines of $PG_DIR/server.log:"
    tail -n 30 "$PG_DIR/server.log" >&2 || true
  fi
}

safe_to_remove() {
  local real
  real="$(realpath -m -- "$PG_DIR")"
  # Refuse shallow paths (/, /tmp, /home, ...), $HOME, the repo or anything containing it, git checkouts.
  [[ "$real" == /*/* ]] || return 1
  [[ -z "${HOME:-}" || "$real" != "$(realpath -m -- "$HOME")" ]] || return 1
  [[ "$REPO_ROOT/" != "$real/"* ]] || return 1
  [[ ! -e "$real/.git" ]] || return 1
}

remove_dir() {
  safe_to_remove || die "refusing to remove $PG_DIR (looks unsafe); remove it yourself or set IW_PG_DIR"
  log "removing $PG_DIR ($1)"
  rm -rf -- "$PG_DIR"
}

init_cluster() {
  log "initializing new cluster in $PG_DIR with $BIN"
  mkdir -p -- "$PG_DIR"
  chmod 700 -- "$PG_DIR"
  if is_root; then chown "$PG_OS_USER:$PG_OS_USER" -- "$PG_DIR"; fi

  PWFILE="$(mktemp -p /tmp pg-local-pw.XXXXXX)"
  printf '%s\n' "$PASSWORD" >"$PWFILE"
  if is_root; then chown "$PG_OS_USER" -- "$PWFILE"; fi

  # --no-sync: throwaway cluster, no need to wait for fsync of the fresh files.
  local -a extra=(--no-sync)
  if "$BIN/initdb" --help 2>/dev/null | grep -q -- '--no-instructions'; then extra+=(--no-instructions); fi
  as_pg "$BIN/initdb" -D "$PG_DIR" -U "$PG_DB_USER" \
    --auth-local=trust --auth-host=scram-sha-256 --pwfile="$PWFILE" \
    -E UTF8 --locale=C.UTF-8 "${extra[@]}" >&2 \
    || die "initdb failed (the $PG_OS_USER user needs to be able to traverse all parents of $PG_DIR)"
  rm -f -- "$PWFILE"
  PWFILE=""
}

# Make $PG_DIR an initialized cluster owned by the right user (not running).
prepare_dir() {
  if [[ -e "$PG_DIR" && ! -d "$PG_DIR" ]]; then
    remove_dir "not a directory"
  fi
  if [[ -d "$PG_DIR" ]]; then
    if is_root; then
      if [[ -n "$(find "$PG_DIR" ! -user "$PG_OS_USER" -print -quit 2>/dev/null)" ]]; then
        chown -R "$PG_OS_USER:$PG_OS_USER" -- "$PG_DIR"
      fi
    elif [[ ! -O "$PG_DIR" ]]; then
      die "$PG_DIR is owned by another user ($(stat -c %U -- "$PG_DIR")); run as root or set IW_PG_DIR"
    fi
    if [[ ! -f "$PG_DIR/PG_VERSION" ]]; then
      if [[ -n "$(ls -A -- "$PG_DIR")" ]]; then
        remove_dir "no PG_VERSION, not a cluster"
      fi
    else
      local ver major
      ver="$(tr -d '[:space:]' <"$PG_DIR/PG_VERSION")"
      major="$(basename -- "$(dirname -- "$BIN")")"
      if [[ "$ver" != "$major" ]]; then
        remove_dir "cluster version $ver but only PostgreSQL $major binaries are available; throwaway cluster"
      fi
    fi
  fi
  if [[ ! -f "$PG_DIR/PG_VERSION" ]]; then
    init_cluster
  fi
}

# (Re)write our settings block at the end of postgresql.conf (later settings win).
write_conf() {
  local conf="$PG_DIR/postgresql.conf" begin="# BEGIN eng/pg-local.sh settings" end="# END eng/pg-local.sh settings"
  [[ -f "$conf" ]] || die "$conf not found; remove $PG_DIR and try again"
  local kept
  kept="$(awk -v b="$begin" -v e="$end" '$0 == b {skip = 1; next} $0 == e {skip = 0; next} !skip' "$conf")"
  # Writing into the existing file keeps its owner (postgres) and mode.
  {
    printf '%s\n' "$kept"
    printf '%s\n' "$begin"
    printf '%s\n' "# Managed by eng/pg-local.sh; rewritten on every start."
    printf "listen_addresses = '%s'\n" "$HOST"
    printf 'port = %s\n' "$PORT"
    printf "unix_socket_directories = '%s'\n" "${PG_DIR//\'/\'\'}"
    printf '%s\n' "max_connections = 400" \
      "shared_buffers = 256MB" \
      "# Throwaway test cluster: durability is irrelevant and these make tests much faster." \
      "# Never copy these three settings to a real server (a crash can corrupt the data)." \
      "fsync = off" \
      "synchronous_commit = off" \
      "full_page_writes = off" \
      "max_prepared_transactions = 0" \
      "log_min_messages = warning" \
      "lc_messages = 'C'" \
      "$end"
  } >"$conf"
}

# Make sure the password in the connection string works (IW_PG_PASSWORD may differ
# from the one the cluster was initialized with); fix it via the trusted unix socket.
ensure_password() {
  if PGPASSWORD="$PASSWORD" "$BIN/psql" -X -q -At -w -h "$HOST" -p "$PORT" -U "$PG_DB_USER" -d postgres \
    -c 'select 1' >/dev/null 2>&1 9<&-; then
    return 0
  fi
  log "password login failed; setting the password of role $PG_DB_USER from IW_PG_PASSWORD"
  printf '%s\n' "ALTER ROLE $PG_DB_USER PASSWORD :'pw';" \
    | as_pg "$BIN/psql" -X -q -w -v ON_ERROR_STOP=1 -v pw="$PASSWORD" \
      -h "$PG_DIR" -p "$PORT" -U "$PG_DB_USER" -d postgres >&2 \
    || die "could not set the password of role $PG_DB_USER"
}

start_server() {
  if port_answers; then
    die "port $PORT on $HOST is already used by another PostgreSQL server (not $PG_DIR); set IW_PG_PORT"
  fi
  log "starting PostgreSQL ($BIN) in $PG_DIR on $HOST:$PORT"
  if ! as_pg "$BIN/pg_ctl" start -D "$PG_DIR" -l "$PG_DIR/server.log" -w -t "$READY_TIMEOUT" >&2; then
    show_log_tail
    die "pg_ctl start failed; if the cluster is broken remove it: rm -rf $PG_DIR"
  fi
}

# ---------------------------------------------------------------- commands

cmd_start() {
  ensure_bin
  ensure_de_locale
  take_lock
  resolve_bin
  if is_running; then
    if ((LOCALE_GENERATED)) && dir_accessible; then
      log "de_DE.UTF-8 was just generated; restarting so the server sees it"
      write_conf
      as_pg "$BIN/pg_ctl" restart -D "$PG_DIR" -l "$PG_DIR/server.log" -m fast -w -t "$READY_TIMEOUT" >&2
    else
      log "already running ($PG_DIR, port $PORT)"
    fi
    wait_ready
    if dir_accessible; then ensure_password; fi
    connection_string
    return 0
  fi
  prepare_dir
  write_conf
  start_server
  wait_ready
  ensure_password
  connection_string
}

cmd_restart() {
  ensure_bin
  ensure_de_locale
  take_lock
  resolve_bin
  if is_running && [[ -f "$PG_DIR/PG_VERSION" ]]; then
    write_conf
    log "restarting PostgreSQL in $PG_DIR"
    if ! as_pg "$BIN/pg_ctl" restart -D "$PG_DIR" -l "$PG_DIR/server.log" -m fast -w -t "$READY_TIMEOUT" >&2; then
      show_log_tail
      die "pg_ctl restart failed"
    fi
  else
    is_running && die "cluster in $PG_DIR is running but not accessible to $(id -un); run as root"
    prepare_dir
    write_conf
    start_server
  fi
  wait_ready
  ensure_password
  connection_string
}

cmd_stop() {
  resolve_bin
  take_lock
  if ! is_running; then
    log "not running ($PG_DIR)"
    return 0
  fi
  dir_accessible || die "cluster in $PG_DIR is not accessible to $(id -un); run as root"
  log "stopping PostgreSQL in $PG_DIR"
  as_pg "$BIN/pg_ctl" stop -D "$PG_DIR" -m fast -w -t "$READY_TIMEOUT" >&2
}

cmd_status() {
  resolve_bin
  if is_running; then
    echo running
    log "$PG_DIR on $HOST:$PORT"
    return 0
  fi
  echo stopped
  exit 3
}

cmd_url() {
  resolve_bin
  if ! is_running; then
    log "not running ($PG_DIR, port $PORT); start it with: $0 start"
    exit 1
  fi
  connection_string
}

cmd_psql() {
  resolve_bin
  if [[ -z "$BIN" ]]; then
    die "psql not found (no /usr/lib/postgresql/*/bin); run: $0 start"
  fi
  # Runs as the invoking OS user (TCP + password), so relative -f/-o/\copy paths work.
  PGPASSWORD="$PASSWORD" exec "$BIN/psql" -h "$HOST" -p "$PORT" -U "$PG_DB_USER" -d postgres "$@"
}

main() {
  if (($# == 0)); then
    usage >&2
    exit 2
  fi
  local cmd="$1"
  shift
  case "$cmd" in
    help | -h | --help) usage; return 0 ;;
  esac
  validate_config
  case "$cmd" in
    start) cmd_start ;;
    stop) cmd_stop ;;
    restart) cmd_restart ;;
    status) cmd_status ;;
    url) cmd_url ;;
    psql) cmd_psql "$@" ;;
    *)
      log "unknown command: $cmd"
      usage >&2
      exit 2
      ;;
  esac
}

main "$@"
