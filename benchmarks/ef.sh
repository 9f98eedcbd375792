#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# EF Core benchmark (issue #15): insert-or-get through DbSet.InsertOrGetAsync (IdempotentWrites.EntityFrameworkCore), the
# core IIdempotentWriter with the table mapped by hand, and the pattern EF users write today (SELECT, then Add +
# SaveChanges catching the unique violation), a fresh DbContext per call, at 1 / 8 / 32 callers on fresh, 50 % and 99 %
# existing keys, interleaved, with p50/p99 latency; see benchmarks/EfDriver/Program.cs. Ends with `ef-ratio` lines.
#
# It runs on the local test cluster (eng/pg-local.sh: fsync and synchronous_commit off), started if needed and left
# running: the comparison is of client-side overhead, not of commit durability.
# Environment: EF_SECONDS (default 2), EF_RUNS (default 3), EF_CALLERS (default 1,8,32), EF_MIXES (default 0,50,99),
#   BENCH_RESULTS (default benchmarks/results): the output is also written to $BENCH_RESULTS/ef-latest.txt (replaced only
#   when the run succeeds).
# Usage: benchmarks/ef.sh   (~2 minutes on 2 cores)
set -euo pipefail
cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
CS="$(bash eng/pg-local.sh start </dev/null)"
dotnet build benchmarks/EfDriver -c Release >/dev/null </dev/null

out="${BENCH_RESULTS:-benchmarks/results}"
mkdir -p "$out"
log="$(mktemp)"
dotnet artifacts/bin/EfDriver/release/EfDriver.dll "$CS" </dev/null | tee "$log"
cat -- "$log" > "$out/ef-latest.txt"
rm -f -- "$log"
