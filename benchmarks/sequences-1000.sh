#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# How long `iw sequences check` takes on a database with 1,000 sequence-fed tables (100 of them drifted).
# Creates a scratch database on the throwaway local PostgreSQL (started if needed), or on IW_TEST_CONNECTION's server,
# runs the built tool N times (default 3) and prints wall-clock and self-reported times; drops the database at the end.
# Usage: benchmarks/sequences-1000.sh [runs]
set -euo pipefail
cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
RUNS="${1:-3}"
CS="${IW_TEST_CONNECTION:-$(bash eng/pg-local.sh start </dev/null)}"
PSQL="$(command -v psql || echo /usr/lib/postgresql/15/bin/psql)"

# Npgsql "Key=Value;..." -> libpq variables for psql (the tool itself takes --connection).
field() { tr ';' '\n' <<<"$CS" | awk -F= -v k="$1" 'tolower($1) == tolower(k) { sub(/^[^=]*=/, ""); print; exit }'; }
export PGHOST="$(field Host)" PGPORT="$(field Port)" PGUSER="$(field Username)" PGPASSWORD="$(field Password)"
DB="iw_bench_sequences_1000"
cleanup() { PGDATABASE=postgres "$PSQL" -X -q -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1 || true; }
trap cleanup EXIT

cleanup
PGDATABASE=postgres "$PSQL" -X -q -c "CREATE DATABASE $DB"
PGDATABASE="$DB" "$PSQL" -X -q -v ON_ERROR_STOP=1 <<'SQL'
DO $$
BEGIN
    FOR i IN 1..1000 LOOP
        EXECUTE format('CREATE TABLE %I (id serial PRIMARY KEY, payload text)', 't' || i);
        EXECUTE format('INSERT INTO %I (payload) SELECT ''x'' FROM generate_series(1, 5)', 't' || i);
        IF i % 10 = 0 THEN
            EXECUTE format('INSERT INTO %I (id, payload) VALUES (100, ''restored'')', 't' || i);
        END IF;
    END LOOP;
END $$;
SQL

dotnet build src/IdempotentWrites.Cli -c Release >/dev/null
TOOL=artifacts/bin/IdempotentWrites.Cli/release/IdempotentWrites.Cli.dll
TARGET="${CS%;}"
TARGET="$(tr ';' '\n' <<<"$TARGET" | grep -vi '^database=' | paste -sd ';');Database=$DB"
echo "iw sequences check on 1,000 tables (100 drifted), $RUNS runs:"
for run in $(seq 1 "$RUNS"); do
  start=$(date +%s%N)
  set +e
  json="$(dotnet "$TOOL" sequences check --json --connection "$TARGET")"
  code=$?
  set -e
  end=$(date +%s%N)
  self=$(grep -o '"elapsedMilliseconds": [0-9]*' <<<"$json" | grep -o '[0-9]*$')
  drifted=$(grep -o '"drifted": [0-9]*' <<<"$json" | head -1 | grep -o '[0-9]*$')
  printf '  run %d: %5d ms wall clock (process start included), %5d ms inside the check; exit %d, %s drifted\n' \
    "$run" $(((end - start) / 1000000)) "$self" "$code" "$drifted"
done
