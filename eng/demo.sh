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
exec dotnet run --project samples/RaceDemo -c Release -- "$CS"
