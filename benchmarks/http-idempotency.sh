#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Throughput of POST /payments with the Idempotency-Key middleware (first requests, replays) against the same endpoint
# without it, driven by wrk on loopback at 1 and 16 connections. Hosts samples/Users.Api in-process on Kestrel.
#
# Usage: benchmarks/http-idempotency.sh [seconds per run (3)] [runs (3)] [connections (1,16)]
# Environment: IW_TEST_CONNECTION (an Npgsql connection string); else eng/pg-local.sh starts the local cluster.
#              BENCH_HTTP_RESULTS (TSV file the rows are appended to; default a temporary file).
set -euo pipefail
REPO_ROOT="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd -P)"
cd -- "$REPO_ROOT"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

if ! command -v "${BENCH_WRK:-wrk}" >/dev/null 2>&1; then
  if [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null 2>&1; then
    echo "http-idempotency.sh: installing wrk (apt-get) — this takes a minute" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null </dev/null
  else
    echo "http-idempotency.sh: wrk not found (apt-get install wrk)" >&2
    exit 1
  fi
fi

connection="${IW_TEST_CONNECTION:-}"
if [[ -z "$connection" ]]; then
  connection="$(bash eng/pg-local.sh start </dev/null)"
fi

results="${BENCH_HTTP_RESULTS:-$(mktemp)}"
dotnet build benchmarks/HttpDriver -c Release >/dev/null </dev/null
dotnet artifacts/bin/HttpDriver/release/HttpDriver.dll "$connection" "$results" "${1:-3}" "${2:-3}" "${3:-1,16}" </dev/null
