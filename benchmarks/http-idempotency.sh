#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The latency the Idempotency-Key middleware adds to a request: a first request (claim + handler + stored response) and a
# replay, against the same endpoint without the middleware. Hosts samples/Users.Api in-process on Kestrel (loopback).
#
# Usage: benchmarks/http-idempotency.sh [requests per scenario per round (default 500)] [rounds (default 3)]
# Environment: IW_TEST_CONNECTION (an Npgsql connection string); else eng/pg-local.sh starts the local cluster.
set -euo pipefail
REPO_ROOT="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd -P)"
cd -- "$REPO_ROOT"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

connection="${IW_TEST_CONNECTION:-}"
if [[ -z "$connection" ]]; then
  connection="$(bash eng/pg-local.sh start </dev/null)"
fi

dotnet build benchmarks/HttpDriver -c Release >/dev/null </dev/null
dotnet artifacts/bin/HttpDriver/release/HttpDriver.dll "$connection" "${1:-500}" "${2:-3}" </dev/null
