#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Benchmarks users can trust: the SDK, raw Npgsql with the same SQL and connection handling, the hand-written patterns
# and pgbench (the physical limit), side by side and interleaved on the local throwaway PostgreSQL (started if needed);
# bytes allocated per call (SDK vs raw Npgsql) and the resilience pipeline alone; then HTTP POST /payments with and
# without the Idempotency-Key middleware through wrk; then benchmarks/coalesce.sh and benchmarks/bulk.sh (both on their own
# durable cluster, fsync on).
# Each configuration starts with every connection pool emptied; every round runs each scenario once, one scenario later
# than the round before. Prints the table and ends with one line per target: `target <name> <measured> <goal>` (a ratio
# target is the median of the per-round ratios), met when measured >= goal, or when measured <= goal for alloc:<case>
# (bytes per call above raw). One scenario alone, for a CPU sampling trace (dotnet-trace):
#   dotnet artifacts/bin/LoadDriver/release/LoadDriver.dll profile "<connection string>" sdk|raw <calls> hot|fresh|half [callers]
# Writes benchmarks/results/latest.txt, latest.json, chart.svg (and results.tsv, the raw rows).
#
# Usage: benchmarks/run.sh
# Environment (defaults = the full run, ~24 minutes on 2 cores with the earlier bulk.sh; the durable bulk.sh alone now
#   takes ~13, BENCH_BULK=0 skips it; BENCH_PGBENCH=none saves ~4):
#   BENCH_SECONDS=2 BENCH_RUNS=3 BENCH_CALLERS=1,8,32 BENCH_MIXES=0,50,99,100
#   BENCH_SECTIONS=insert-or-get,upsert,connection,alloc,pipeline BENCH_ALLOC_CALLS=2000 BENCH_PIPELINE_CALLS=200000
#   (section cpu, not in the default list: client CPU time per call, SDK and raw, single caller; BENCH_ONLY=a,b keeps only
#   the named scenarios of the throughput sections; BENCH_CPU_TRACE=1 prints each window's client CPU per call)
#   BENCH_PGBENCH=none (no pgbench rows) BENCH_HTTP=1 BENCH_HTTP_SECONDS=3 BENCH_HTTP_CONNECTIONS=1,16 BENCH_BULK=1
#   BENCH_COALESCE=1 (0 skips benchmarks/coalesce.sh, ~8 minutes)
#   BENCH_RESULTS=benchmarks/results
#   IW_PG_PORT, IW_PG_DIR: the cluster eng/pg-local.sh starts and every step uses (default 54329, /tmp/idempotentwrites-pg-54329)
#   but bulk.sh, which runs on its own durable cluster (fsync on; BULK_PG_PORT, default 54339, see benchmarks/bulk.sh)
#   BENCH_QUICK=1: 1 s x 3 runs, callers 1,8, mixes 0,99,100, HTTP 2 s
set -euo pipefail
cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
if [[ "${BENCH_QUICK:-0}" == 1 ]]; then
  export BENCH_SECONDS="${BENCH_SECONDS:-1}" BENCH_CALLERS="${BENCH_CALLERS:-1,8}" BENCH_MIXES="${BENCH_MIXES:-0,99,100}"
  BENCH_HTTP_SECONDS="${BENCH_HTTP_SECONDS:-2}"
fi
export BENCH_RUNS="${BENCH_RUNS:-3}"
out="${BENCH_RESULTS:-benchmarks/results}"
mkdir -p "$out"
tsv="$out/results.tsv"
: > "$tsv"

CS="$(bash eng/pg-local.sh start </dev/null)"
dotnet build benchmarks/LoadDriver -c Release >/dev/null </dev/null
dotnet artifacts/bin/LoadDriver/release/LoadDriver.dll "$CS" "$tsv" </dev/null

if [[ "${BENCH_HTTP:-1}" != 0 ]]; then
  # Its target lines come again, with the others, from the report below.
  IW_TEST_CONNECTION="$CS" BENCH_HTTP_RESULTS="$tsv" bash benchmarks/http-idempotency.sh \
    "${BENCH_HTTP_SECONDS:-3}" "$BENCH_RUNS" "${BENCH_HTTP_CONNECTIONS:-1,16}" | grep -v "^target "
fi

echo
echo "== results (median of $BENCH_RUNS interleaved runs, [min – max], ratio to (or, per call, difference from) the reference named per block) =="
dotnet artifacts/bin/LoadDriver/release/LoadDriver.dll report "$out" "$tsv" </dev/null

if [[ "${BENCH_COALESCE:-1}" != 0 ]]; then
  echo
  echo "== benchmarks/coalesce.sh =="
  coalesce_log="$(mktemp)"
  # coalesce.sh, like bulk.sh, runs on the durable cluster (fsync and synchronous_commit on), not this one.
  BENCH_RESULTS="$out" bash benchmarks/coalesce.sh </dev/null | tee "$coalesce_log"
  grep '^target ' "$coalesce_log" >> "$out/latest.txt" || true
  rm -f -- "$coalesce_log"
fi

if [[ "${BENCH_BULK:-1}" != 0 && -f benchmarks/bulk.sh ]]; then
  echo
  echo "== benchmarks/bulk.sh =="
  bulk_log="$(mktemp)"
  # bulk.sh starts and uses its own durable cluster (fsync on, BULK_PG_PORT), not this one.
  bash benchmarks/bulk.sh </dev/null | tee "$bulk_log"
  grep '^target ' "$bulk_log" >> "$out/latest.txt" || true
  echo
  # All target lines last, the bulk ones included.
  grep '^target ' "$out/latest.txt"
fi
