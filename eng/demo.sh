#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Run samples/RaceDemo against the throwaway local PostgreSQL cluster (started if needed):
# 50 concurrent InsertOrGetAsync calls for one key -> 1 row, 1 Inserted, 49 Existing.
#
# Usage: eng/demo.sh
# Environment: IW_PG_PORT, IW_PG_DIR, IW_PG_PASSWORD (see eng/pg-local.sh help)
set -euo pipefail
cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.."

export DOTNET_CLI_TELEMETRY_OPTOUT=1
export DOTNET_NOLOGO=1
export DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

command -v dotnet >/dev/null 2>&1 \
  || { echo "${0##*/}: error: 'dotnet' not found on PATH; install the .NET 10 SDK (see global.json)" >&2; exit 1; }

CS="$(bash eng/pg-local.sh start </dev/null)"

# 1. The writer: 50 racing InsertOrGetAsync calls for one key.
dotnet run --project samples/RaceDemo -c Release -- "$CS"

# 2. The HTTP layer: samples/Users.Api on loopback, driven with curl.
command -v curl >/dev/null 2>&1 || { [[ $(id -u) -eq 0 ]] && apt-get install -y --no-install-recommends curl >/dev/null 2>&1; } || true
PORT="${IW_DEMO_PORT:-5180}"
URL="http://127.0.0.1:$PORT"
dotnet build samples/Users.Api -c Release >/dev/null
ConnectionStrings__Postgres="$CS" dotnet artifacts/bin/Users.Api/release/Users.Api.dll --urls "$URL" >/tmp/idempotentwrites-demo-api.log 2>&1 &
API_PID=$!
trap 'kill "$API_PID" 2>/dev/null || true' EXIT
for _ in $(seq 1 120); do curl -fsS -o /dev/null "$URL/users/0" 2>/dev/null && break; curl -sS -o /dev/null "$URL/users/0" 2>/dev/null && break; sleep 0.5; done

call() { # method path [body] [extra curl args...]: prints status, selected headers and the body
  local method=$1 path=$2 body=${3:-}; shift 3 || shift $#
  printf '\n$ %s %s %s\n' "$method" "$path" "$*"
  curl -sS -i -X "$method" "$URL$path" -H 'Content-Type: application/json' -H 'X-Api-Key: demo' ${body:+-d "$body"} "$@" \
    | tr -d '\r' | grep -E '^(HTTP/|Location:|Idempotent-Replayed:|Content-Type:|Retry-After:)|^\{' || true
}

EMAIL="demo-$(date +%s)@example.com"
echo
echo "Users.Api on $URL"
call POST /users "{\"email\":\"$EMAIL\",\"name\":\"Ann\"}"           # 201 Created + Location
call POST /users "{\"email\":\"$EMAIL\",\"name\":\"Ann again\"}"     # 200 OK, the stored row
call POST /users/register "{\"email\":\"$EMAIL\",\"name\":\"Dup\"}"  # 409 unique-violation, no email in the body
KEY="demo-$(date +%s%N)"
call POST /payments '{"userId":1,"amountCents":500}' -H "Idempotency-Key: \"$KEY\""   # 201, runs the handler
call POST /payments '{"userId":1,"amountCents":500}' -H "Idempotency-Key: \"$KEY\""   # replay: same body, Idempotent-Replayed: true
call POST /payments '{"userId":1,"amountCents":999}' -H "Idempotency-Key: \"$KEY\""   # 422 fingerprint-mismatch
call POST /payments '{"userId":1,"amountCents":500}'                                   # 400 missing-key
