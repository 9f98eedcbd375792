#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Bulk import benchmark (issue #17): `iw import` and InsertManyAsync against the psql recipe (temporary staging table,
# \copy CSV, INSERT … SELECT … ON CONFLICT (email) DO NOTHING, setval, one transaction) and against the ceiling (plain
# \copy into the table, no conflict handling), on 1,000,000 rows, ascending and shuffled input, 0 % and 30 % existing,
# interleaved, median of 3; see benchmarks/BulkDriver/Program.cs. Ends with `target` lines.
#
# It runs on its OWN durable cluster (fsync, synchronous_commit, full_page_writes on: IW_PG_DURABLE=1 eng/pg-local.sh),
# never on the fast test cluster (fsync off): IW_TEST_CONNECTION, IW_PG_PORT and IW_PG_DIR are ignored, so benchmarks/run.sh
# may call it with its own cluster's settings in the environment. The cluster is started if needed and stopped at the end
# when this script started it.
# Environment: BULK_PG_PORT (default 54339), BULK_PG_DIR (default /tmp/idempotentwrites-pg-durable-<port>),
#   BENCH_RESULTS (default benchmarks/results): the output is also written to $BENCH_RESULTS/bulk-latest.txt (replaced
#   only when the run succeeds).
# Usage: benchmarks/bulk.sh [rows=1000000] [runs=3]   (1M rows x 3 runs: ~13 minutes on 2 cores)
set -euo pipefail
cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
unset IW_TEST_CONNECTION
# shellcheck source=benchmarks/durable-cluster.sh
source benchmarks/durable-cluster.sh
dotnet build benchmarks/BulkDriver -c Release >/dev/null </dev/null
dotnet build src/IdempotentWrites.Cli -c Release >/dev/null </dev/null
durable_cluster bulk.sh "${BULK_PG_PORT:-54339}" "${BULK_PG_DIR:-/tmp/idempotentwrites-pg-durable-${BULK_PG_PORT:-54339}}"

results="${BENCH_RESULTS:-benchmarks/results}"
mkdir -p "$results"
log="$(mktemp)"
chmod 644 -- "$log"
export PATH="/usr/lib/postgresql/15/bin:$PATH"
BULK_IW_DLL=artifacts/bin/IdempotentWrites.Cli/release/IdempotentWrites.Cli.dll \
  dotnet artifacts/bin/BulkDriver/release/BulkDriver.dll "$CS" "${1:-1000000}" "${2:-3}" </dev/null | tee "$log"
mv -f -- "$log" "$results/bulk-latest.txt"
log=""
