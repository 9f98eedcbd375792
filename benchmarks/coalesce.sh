#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Coalescing benchmark (issue #14): insert-or-get with IdempotentWritesOptions.CoalesceWrites on, the SDK without it, and
# the best hand-written per-call strategy (and, as an A/A control, that strategy again on its own pool: the noise floor), at
# 1 / 8 / 32 / 128 callers on fresh, 50 % existing and hot keys, interleaved, with p50/p99 latency; at one caller also the
# ceiling (hand-written code keeping its prepared commands per backend, as an SDK with no cost of its own would); see
# benchmarks/CoalesceDriver/Program.cs. Ends with `target` and `coalesce-ceiling` lines.
#
# It runs on its OWN durable cluster (fsync and synchronous_commit on: IW_PG_DURABLE=1 eng/pg-local.sh), the one
# benchmarks/bulk.sh uses, never on the fast test cluster (fsync off). The cluster is started if needed and stopped at the
# end when this script started it.
# Environment: COALESCE_PG_PORT (default 54339), COALESCE_PG_DIR (default /tmp/idempotentwrites-pg-durable-<port>),
#   COALESCE_SECONDS (default 2), COALESCE_RUNS (default 3; three times that at one caller),
#   COALESCE_CALLERS (default 1,8,32,128), COALESCE_MIXES (default 0,50,100), BENCH_RESULTS (default benchmarks/results):
#   the output is also written to $BENCH_RESULTS/coalesce-latest.txt (replaced only when the run succeeds) and the chart
#   to coalesce-chart.svg.
# Usage: benchmarks/coalesce.sh   (~10 minutes on 2 cores)
set -euo pipefail
cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
# shellcheck source=benchmarks/durable-cluster.sh
source benchmarks/durable-cluster.sh
dotnet build benchmarks/CoalesceDriver -c Release >/dev/null </dev/null
durable_cluster coalesce.sh "${COALESCE_PG_PORT:-54339}" "${COALESCE_PG_DIR:-/tmp/idempotentwrites-pg-durable-${COALESCE_PG_PORT:-54339}}"

out="${BENCH_RESULTS:-benchmarks/results}"
mkdir -p "$out"
log="$(mktemp)"
dotnet artifacts/bin/CoalesceDriver/release/CoalesceDriver.dll "$CS" "$out/coalesce-chart.svg" </dev/null | tee "$log"
cat -- "$log" > "$out/coalesce-latest.txt"
