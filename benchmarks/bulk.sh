#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Bulk import benchmark: InsertManyAsync vs psql (\copy + INSERT … SELECT … ON CONFLICT) vs row-by-row InsertOrGetAsync,
# 0% and 30% pre-existing keys, against the throwaway local PostgreSQL (started if needed). Ends with `target` lines.
# Usage: benchmarks/bulk.sh [rows=1000000] [runs=3] [row-by-row sample=20000]
set -euo pipefail
cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
CS="$(bash eng/pg-local.sh start </dev/null)"
export PATH="/usr/lib/postgresql/15/bin:$PATH"
dotnet build benchmarks/BulkDriver -c Release >/dev/null
exec dotnet artifacts/bin/BulkDriver/release/BulkDriver.dll "$CS" "${1:-1000000}" "${2:-3}" "${3:-20000}"
