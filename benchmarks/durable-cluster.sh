# SPDX-License-Identifier: MIT
# Sourced by the benchmarks that run on the durable cluster (bulk.sh, coalesce.sh): fsync, synchronous_commit and
# full_page_writes on (IW_PG_DURABLE=1 eng/pg-local.sh), never the fast test cluster (fsync off).
#   durable_cluster <script name> <port> <dir>
# refuses the test cluster's port, starts the cluster if needed, sets CS to its connection string, and on exit removes the
# temporary file named by $log (if any) and stops the cluster when it started it.
durable_cluster() {
  local name="$1"
  DURABLE_PORT="$2"
  DURABLE_DIR="$3"
  if [[ "$DURABLE_PORT" == 54329 ]]; then
    echo "$name: the port must not be 54329, the test cluster's port (fsync off)" >&2
    exit 2
  fi

  DURABLE_STARTED=0
  log=""
  trap durable_cleanup EXIT
  if ! durable_pg status >/dev/null 2>&1; then DURABLE_STARTED=1; fi
  CS="$(durable_pg start)"
}

durable_pg() { IW_PG_DURABLE=1 IW_PG_PORT="$DURABLE_PORT" IW_PG_DIR="$DURABLE_DIR" bash eng/pg-local.sh "$@" </dev/null; }

durable_cleanup() {
  if [[ -n "${log:-}" ]]; then rm -f -- "$log"; fi
  if ((DURABLE_STARTED)); then durable_pg stop || true; fi
}
