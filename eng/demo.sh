#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Run samples/RaceDemo against the throwaway local PostgreSQL cluster (started if needed):
# 50 concurrent InsertOrGetAsync calls for one key -> 1 row, 1 Inserted, 49 Existing.
#
# Usage: eng/demo.sh
# Environment: IW_PG_PORT, IW_PG_DIR, IW_PG_PASSWORD (see eng/pg-local.sh help); IW_DEMO_PORT (Users.Api, default 5180)
set -euo pipefail
cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.."

export DOTNET_CLI_TELEMETRY_OPTOUT=1
export DOTNET_NOLOGO=1
export DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

die() { printf '%s: error: %s\n' "${0##*/}" "$*" >&2; exit 1; }

command -v dotnet >/dev/null 2>&1 || die "'dotnet' not found on PATH; install the .NET 10 SDK (see global.json)"

PORT="${IW_DEMO_PORT:-5180}"
URL="http://127.0.0.1:$PORT"
if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
  die "port $PORT is already in use by another program; stop it or choose another port: IW_DEMO_PORT=5181 bash eng/demo.sh"
fi

CS="$(bash eng/pg-local.sh start </dev/null)"

# 1. The writer: 50 racing InsertOrGetAsync calls for one key.
dotnet run --project samples/RaceDemo -c Release -- "$CS"

# 2. The HTTP layer: samples/Users.Api on loopback, driven with curl. The demo checks that the app answering is the one it
#    started (a port already taken by something else is an error, not a silent run) and that every status is the one shown.
if ! command -v curl >/dev/null 2>&1 && [[ $(id -u) -eq 0 ]]; then
  printf '%s: installing curl (apt-get) — this takes a minute\n' "${0##*/}" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends curl </dev/null >/dev/null 2>&1 || true
fi
command -v curl >/dev/null 2>&1 || die "curl is needed for the HTTP part; install it (apt-get install curl)"
LOG_DIR="$(mktemp -d "${TMPDIR:-/tmp}/idempotentwrites-demo.XXXXXX")"
LOG="$LOG_DIR/users-api.log"
dotnet build samples/Users.Api -c Release >/dev/null
ConnectionStrings__Postgres="$CS" dotnet artifacts/bin/Users.Api/release/Users.Api.dll --urls "$URL" >"$LOG" 2>&1 &
API_PID=$!
# The app is stopped in any case; its log directory is removed when the demo succeeded, kept (and named) when not.
trap 'status=$?; { kill "$API_PID" && wait "$API_PID"; } 2>/dev/null || true; if ((status == 0)); then rm -rf -- "$LOG_DIR"; fi' EXIT
ready=0
for _ in $(seq 1 120); do
  kill -0 "$API_PID" 2>/dev/null || die "Users.Api exited while starting; its log: $LOG"$'\n'"$(tail -n 20 "$LOG")"
  if [[ "$(curl -sS -o /dev/null -w '%{http_code}' "$URL/users/0" 2>/dev/null || true)" == 404 ]]; then ready=1; break; fi
  sleep 0.5
done
((ready)) || die "Users.Api did not answer on $URL within 60 s; its log: $LOG"

call() { # expected-status method path [body] [extra curl args...]: prints status, selected headers and the body
  local expected=$1 method=$2 path=$3 body=${4:-}; shift 4 || shift $#
  printf '\n$ %s %s %s\n' "$method" "$path" "$*"
  local response status
  response="$(curl -sS -i -X "$method" "$URL$path" -H 'Content-Type: application/json' -H 'X-Api-Key: demo' ${body:+-d "$body"} "$@" | tr -d '\r')" \
    || die "$method $path: no answer from $URL (log: $LOG)"
  printf '%s\n' "$response" | grep -E '^(HTTP/|Location:|Idempotent-Replayed:|Content-Type:|Retry-After:)|^\{' || true
  status="$(printf '%s\n' "$response" | awk 'NR == 1 { print $2 }')"
  [[ "$status" == "$expected" ]] || die "$method $path answered $status, expected $expected (log: $LOG)"
}

EMAIL="demo-$(date +%s)@example.com"
echo
echo "Users.Api on $URL (log: $LOG)"
call 201 POST /users "{\"email\":\"$EMAIL\",\"name\":\"Ann\"}"           # Created + Location
call 200 POST /users "{\"email\":\"$EMAIL\",\"name\":\"Ann again\"}"     # OK, the stored row
call 409 POST /users/register "{\"email\":\"$EMAIL\",\"name\":\"Dup\"}"  # unique-violation, no email in the body
KEY="demo-$(date +%s%N)"
call 201 POST /payments '{"userId":1,"amountCents":500}' -H "Idempotency-Key: \"$KEY\""   # runs the handler
call 201 POST /payments '{"userId":1,"amountCents":500}' -H "Idempotency-Key: \"$KEY\""   # replay: same body, Idempotent-Replayed: true
call 422 POST /payments '{"userId":1,"amountCents":999}' -H "Idempotency-Key: \"$KEY\""   # fingerprint-mismatch
call 400 POST /payments '{"userId":1,"amountCents":500}'                                   # missing-key
echo
echo "demo: every response as shown above"
