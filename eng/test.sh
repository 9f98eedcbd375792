#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Build the solution, run every test project (unit + PostgreSQL concurrency tests), then check the NuGet packages.
# With IW_EXTRA_PG_VERSIONS (.ci/run sets "13 18"), the concurrency tests run once more on each of those PostgreSQL
# majors, each on its own throwaway cluster from eng/pg-local.sh (which installs the binaries when missing).
#
# Usage: eng/test.sh [extra dotnet test args...]        (passed to `dotnet test` / the xunit.v3 MTP test hosts)
#   e.g. eng/test.sh --filter-class 'IdempotentWrites.ConcurrencyTests.InsertOrGetRaceTests' --ignore-exit-code 8
#   (a filter leaves the other test project with zero tests, which MTP reports as exit code 8)
#
# Environment:
#   IW_TEST_CONNECTION  Npgsql connection string of the PostgreSQL server to test against.
#                       When unset, eng/pg-local.sh starts (or reuses) a throwaway local cluster.
#   IW_TEST_RESULTS     directory for the TRX result files (default: artifacts/TestResults)
#   IW_PG_VERSION, IW_PG_PORT, IW_PG_DIR, IW_PG_PASSWORD   passed through to eng/pg-local.sh (the main run's server)
#   IW_EXTRA_PG_VERSIONS  space-separated PostgreSQL majors (13..18) to run the concurrency tests on as well, after the
#                         main run (default none; .ci/run sets "13 18"). Each runs on a cluster of its own, on the port
#                         and in the directory below (or IW_PG_PORT_<major> / IW_PG_DIR_<major>); a cluster this script
#                         started for it is stopped afterwards. TRX files go to IW_TEST_RESULTS/pg<major>.
#   IW_SKIP_PACK_CHECK=1  skip the final step, eng/pack-check.sh --no-build (the packages pack; docs/getting-started.md's
#                         app, built from them as the page says, answers its curl requests as shown, in a database of
#                         its own on IW_TEST_CONNECTION's server; `iw --version` works); .ci/run never sets it
#   IW_PG_RESTART_PORT, IW_PGB_TEST_PORT   override the ports of the servers the fault tests start (below)
#
# Side by side: every port and directory a run uses derives from its own settings, so two runs on one machine with
# different IW_PG_PORT and IW_PG_DIR pass side by side:
#   the test server         IW_PG_PORT / IW_PG_DIR (eng/pg-local.sh); left running for the next run
#                           (stop it with eng/pg-local.sh stop and the same settings)
#   ServerRestartTests      a cluster of its own on IW_PG_RESTART_PORT, else 20000 + the test server's port % 10000
#                           (54401 -> 24401), in ${TMPDIR:-/tmp}/idempotentwrites-pg-restart-<port>
#   PgBouncerTests          a PgBouncer of its own on IW_PGB_TEST_PORT, else 10000 + the test server's port % 10000
#                           (54401 -> 14401), in ${TMPDIR:-/tmp}/idempotentwrites-pgbouncer-<port>
#   When a derived port is taken (say by a run whose IW_PG_PORT differs by a multiple of 10000) the next free one up is
#   used. The tests start and stop those two servers themselves and remove their directories, also when a test fails.
#   IW_EXTRA_PG_VERSIONS    a cluster per major on IW_PG_PORT_<major>, else 30000 + (the test server's port % 400) * 6
#                           + major - 13 (54329 -> 31974 for 13, 31979 for 18) or the next port up that no socket uses,
#                           in eng/pg-local.sh's directory for that port (/tmp/idempotentwrites-pg<major>-<port>)
#   Derived ports stay under 32768, out of Linux's ephemeral range (ip_local_port_range 32768-60999): a client socket
#   of this run or another (a test connection closing, in TIME_WAIT for 60 s) never holds them.
#
# Progress: `dotnet test` prints nothing while a test module runs when its output is not a terminal (a CI log), for
# minutes. So the test runs here use --output Detailed --no-ansi (a line per finished test) and condense that: failed
# and skipped tests are printed with their details as they finish, passed ones only counted, and at least once a minute
# a line says how long the tests have run, how many passed, failed and were skipped, which test modules are running,
# and which test finished last.

set -euo pipefail

SCRIPT_NAME="${0##*/}"
REPO_ROOT="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd -P)"
cd -- "$REPO_ROOT"

readonly SOLUTION=IdempotentWrites.sln
readonly CONFIGURATION=Release
RESULTS_DIR="${IW_TEST_RESULTS:-$REPO_ROOT/artifacts/TestResults}"

step() { printf '\n==> %s\n' "$*" >&2; }
die() { printf '%s: error: %s\n' "$SCRIPT_NAME" "$*" >&2; exit 1; }

# Filters `dotnet test --output Detailed --no-ansi` (see Progress above): a passed test's block (its line and the
# indented lines under it) is counted, not printed; every other line is printed as is. A progress line follows at least
# once a minute, even while no test finishes, and never inside a test's block.
condense_test_output() {
  local line="" partial="" modules read_status wait_for in_passed=0 passed=0 failed=0 skipped=0 last="-" started=$SECONDS
  local reported=$SECONDS
  local -A running=()
  report_progress() {
    ((SECONDS - reported >= 60)) || return 0
    reported=$SECONDS
    modules="${!running[*]}"
    printf '==> tests running for %dm%02ds: %d passed, %d failed, %d skipped; running: %s; last finished: %.160s\n' \
      $(((SECONDS - started) / 60)) $(((SECONDS - started) % 60)) "$passed" "$failed" "$skipped" "${modules:-none}" "$last"
  }
  while :; do
    read_status=0
    wait_for=$((reported + 60 - SECONDS))
    ((wait_for >= 1)) || wait_for=1
    IFS= read -r -t "$wait_for" line || read_status=$?
    if ((read_status > 128)); then
      partial+="$line"   # a minute without a whole line: keep what came
      report_progress
      continue
    fi
    line="$partial$line"
    partial=""
    if ((read_status != 0)) && [[ -z "$line" ]]; then break; fi
    if [[ "$line" == '  '* ]]; then
      ((in_passed)) || printf '%s\n' "$line"
    else
      report_progress
      in_passed=0
      case "$line" in
        'passed '*) in_passed=1; passed=$((passed + 1)); last="${line#passed }" ;;
        'failed '*) failed=$((failed + 1)); last="${line#failed }" ;;
        'skipped '*) skipped=$((skipped + 1)); last="${line#skipped }" ;;
      esac
      if [[ "$line" =~ ^Running\ tests\ from\ (.*/)?([^/]+)\.dll\  ]]; then
        running["${BASH_REMATCH[2]}"]=1
      elif [[ "$line" =~ ^/(.*/)?([^/]+)\.dll\ \( ]]; then
        unset 'running[${BASH_REMATCH[2]}]'
      fi
      ((in_passed)) || printf '%s\n' "$line"
    fi
    if ((read_status != 0)); then break; fi
  done
}

# No prompts, no first-run banner, no telemetry, plain log output (CI or a terminal alike).
export DOTNET_CLI_TELEMETRY_OPTOUT=1
export DOTNET_NOLOGO=1
export DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
export DOTNET_GENERATE_ASPNET_CERTIFICATE=false

step "checking the .NET SDK"
command -v dotnet >/dev/null 2>&1 \
  || die "'dotnet' not found on PATH. Install the .NET 10 SDK (see global.json): https://dot.net/download or https://learn.microsoft.com/dotnet/core/install/linux-debian"
sdk_version="$(dotnet --version 2>/dev/null)" \
  || die "'dotnet --version' failed: the SDK required by global.json ($(tr -d '\n ' <global.json)) is probably not installed"
printf '%s: dotnet SDK %s\n' "$SCRIPT_NAME" "$sdk_version" >&2

main_version=""   # the major of the main run's local cluster; none when IW_TEST_CONNECTION names the server
if [[ -n "${IW_TEST_CONNECTION:-}" ]]; then
  step "using PostgreSQL from IW_TEST_CONNECTION"
else
  main_version="${IW_PG_VERSION:-15}"
  step "starting the local PostgreSQL cluster (eng/pg-local.sh start)"
  IW_TEST_CONNECTION="$(bash eng/pg-local.sh start </dev/null)" \
    || die "eng/pg-local.sh start failed; set IW_TEST_CONNECTION to use an existing server instead"
  [[ -n "$IW_TEST_CONNECTION" ]] || die "eng/pg-local.sh start printed no connection string"
fi
export IW_TEST_CONNECTION

step "dotnet build $SOLUTION -c $CONFIGURATION"
rc=0
dotnet build "$SOLUTION" -c "$CONFIGURATION" </dev/null || rc=$?
if ((rc != 0)); then
  step "build FAILED (dotnet build exit code $rc)"
  exit "$rc"
fi

step "eng/check-lines.sh (no line of src/**/*.cs over 150 columns)"
bash eng/check-lines.sh </dev/null || die "eng/check-lines.sh found lines over 150 columns in src/ (wrap them at about 120)"

step "dotnet test --solution $SOLUTION -c $CONFIGURATION --no-build $* (TRX -> ${RESULTS_DIR#"$REPO_ROOT"/})"
dotnet test --solution "$SOLUTION" -c "$CONFIGURATION" --no-build --output Detailed --no-ansi \
  --results-directory "$RESULTS_DIR" --report-xunit-trx \
  "$@" </dev/null | condense_test_output || rc=$?

if ((rc == 0)); then
  step "tests passed"
else
  step "tests FAILED (dotnet test exit code $rc)"
fi

readonly CONCURRENCY_PROJECT=tests/Concurrency/IdempotentWrites.ConcurrencyTests.csproj

# A TCP socket uses port $1 on this machine: listening, connected or closing (ss), else a server answering on 127.0.0.1.
port_in_use() {
  if command -v ss >/dev/null 2>&1; then
    [[ -n "$(ss -Htan "sport = :$1" 2>/dev/null)" ]]
  else
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
  fi
}

# The port of an extra major's cluster (see Side by side above): derived from the test server's port, the next one up
# that no socket uses, unless that major's cluster of this directory already runs there (a run that left it running).
extra_port() {
  local version="$1" dir="$2" server_port port
  server_port="$(sed -nE 's/(^|.*;)[[:space:]]*[Pp][Oo][Rr][Tt][[:space:]]*=[[:space:]]*([0-9]+).*/\2/p' \
    <<<"$IW_TEST_CONNECTION" | head -n 1)"
  port=$((30000 + (${server_port:-5432} % 400) * 6 + version - 13))
  while port_in_use "$port" \
    && ! env -u IW_PG_DIR IW_PG_VERSION="$version" IW_PG_PORT="$port" ${dir:+IW_PG_DIR="$dir"} \
      bash eng/pg-local.sh status </dev/null >/dev/null 2>&1; do
    port=$((port + 6))
  done
  printf '%s' "$port"
}

read -r -a extra_versions <<<"${IW_EXTRA_PG_VERSIONS:-}"
for version in "${extra_versions[@]}"; do
  [[ "$version" =~ ^1[3-8]$ ]] || die "IW_EXTRA_PG_VERSIONS: '$version' is not a PostgreSQL major from 13 to 18"
  if [[ "$version" == "$main_version" ]]; then
    step "PostgreSQL $version: already tested by the main run"
    continue
  fi
  port_var="IW_PG_PORT_$version"
  dir_var="IW_PG_DIR_$version"
  pg_env=(env -u IW_PG_PORT -u IW_PG_DIR IW_PG_VERSION="$version")
  pg_env+=(IW_PG_PORT="${!port_var:-$(extra_port "$version" "${!dir_var:-}")}")
  if [[ -n "${!dir_var:-}" ]]; then pg_env+=(IW_PG_DIR="${!dir_var}"); fi
  was_running=0
  if "${pg_env[@]}" bash eng/pg-local.sh status </dev/null >/dev/null 2>&1; then was_running=1; fi
  step "PostgreSQL $version: eng/pg-local.sh start"
  version_rc=0
  if connection="$("${pg_env[@]}" bash eng/pg-local.sh start </dev/null)" && [[ -n "$connection" ]]; then
    step "PostgreSQL $version: dotnet test --project $CONCURRENCY_PROJECT $*"
    IW_TEST_CONNECTION="$connection" dotnet test --project "$CONCURRENCY_PROJECT" -c "$CONFIGURATION" --no-build \
      --output Detailed --no-ansi --results-directory "$RESULTS_DIR/pg$version" --report-xunit-trx "$@" </dev/null \
      | condense_test_output || version_rc=$?
    if ((!was_running)); then "${pg_env[@]}" bash eng/pg-local.sh stop </dev/null || true; fi
  else
    printf '%s: error: eng/pg-local.sh start failed for PostgreSQL %s\n' "$SCRIPT_NAME" "$version" >&2
    version_rc=1
  fi
  if ((version_rc == 0)); then
    step "PostgreSQL $version: tests passed"
  else
    step "PostgreSQL $version: tests FAILED (exit code $version_rc)"
    ((rc != 0)) || rc=$version_rc
  fi
done

if [[ "${IW_SKIP_PACK_CHECK:-}" == 1 ]]; then
  step "package check skipped (IW_SKIP_PACK_CHECK=1)"
else
  step "eng/pack-check.sh --no-build (pack the four packages, run the apps of docs/getting-started.md and docs/ef-core.md from them, iw --version)"
  pack_rc=0
  bash eng/pack-check.sh --no-build </dev/null || pack_rc=$?
  if ((pack_rc == 0)); then
    step "package check passed"
  else
    step "package check FAILED (eng/pack-check.sh exit code $pack_rc)"
    ((rc != 0)) || rc=$pack_rc
  fi
fi
exit "$rc"
