#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Run the load driver against the throwaway local PostgreSQL (started if needed): SDK vs raw Npgsql, side by side.
# Usage: benchmarks/run.sh [seconds per run] [runs]      Env: BENCH_WORKLOADS=hot,fresh BENCH_CALLERS=1,8
set -euo pipefail
cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
CS="$(bash eng/pg-local.sh start </dev/null)"
dotnet build benchmarks/LoadDriver -c Release >/dev/null
exec dotnet artifacts/bin/LoadDriver/release/LoadDriver.dll "$CS" "${1:-3}" "${2:-3}"
