#!/usr/bin/env bash
# Checkout throughput against the machine's ceiling, interleaved so every run sees the same
# load from the rest of the machine. Each round runs the server (SQLite with
# synchronous=full, or PostgreSQL) under the load generator, then, when COMPARE names
# another orderflow binary (e.g. an older build), that one the same way, then the baseline
# (one sea-orm INSERT per request on the same kind of database). Prints each run's summary,
# the server's context switches per checkout and writer batch sizes, and requests/s as a
# share of the baseline's.
#
#   cargo build --release -p app -p tests
#   tests/perf/checkout.sh sqlite 32 2          # backend, clients, rounds
#   tests/perf/checkout.sh postgres 32 2        # needs PostgreSQL on 127.0.0.1:5432
#   COMPARE=/path/to/old/orderflow tests/perf/checkout.sh sqlite 32 2
set -euo pipefail
cd "$(dirname "$0")/../.."
BACKEND=${1:-sqlite}
CLIENTS=${2:-32}
ROUNDS=${3:-2}
DURATION=${DURATION:-10s}
BIN=${CARGO_TARGET_DIR:-target}/release
KEY=loadgen-admin-key-0123456789
source tests/perf/common.sh

switches() { # voluntary + involuntary context switches over every thread of a process
  cat /proc/"$1"/task/*/status 2>/dev/null | awk '/ctxt_switches/ {n += $2} END {print n + 0}'
}


serve() { # label binary: one loaded run of an orderflow binary; its report in $WORK/label.out
  local label=$1 binary=$2 server before after checkouts
  ORDERFLOW_ADDR=127.0.0.1:18080 DATABASE_URL="$(database "$label$round")" ORDERFLOW_ADMIN_KEY=$KEY \
    ORDERFLOW_RATE_LIMIT=0 ORDERFLOW_LOG=warn ORDERFLOW_SQLITE_SYNC=full "$binary" \
    >"$WORK/$label.log" 2>&1 &
  server=$!
  for _ in $(seq 1 100); do curl -fs http://127.0.0.1:18080/readyz >/dev/null && break; sleep 0.1; done
  before=$(switches "$server")
  echo "== round $round: $label ($BACKEND, $CLIENTS clients, $DURATION)"
  ORDERFLOW_ADMIN_KEY=$KEY "$BIN/loadgen" --url http://127.0.0.1:18080 --concurrency "$CLIENTS" \
    --duration "$DURATION" --expect-final-amount 8000 | grep -v '^\[' | tee "$WORK/$label.out"
  after=$(switches "$server")
  checkouts=$(awk '$1 == "checkouts" {print $2}' "$WORK/$label.out")
  curl -fs http://127.0.0.1:18080/metrics | awk '/^orderflow_writer_batch_size_(sum|count)/ {v[$1] = $2}
    END {if (v["orderflow_writer_batch_size_count"] > 0) printf "writer: %d batches, %.1f change sets each\n",
      v["orderflow_writer_batch_size_count"], v["orderflow_writer_batch_size_sum"] / v["orderflow_writer_batch_size_count"]}'
  kill "$server"; wait "$server" 2>/dev/null || true
  echo "context switches per checkout: $(( (after - before) / (checkouts > 0 ? checkouts : 1) ))"
}

for round in $(seq 1 "$ROUNDS"); do
  serve server "$BIN/orderflow"
  if [ -n "${COMPARE:-}" ]; then serve compare "$COMPARE"; fi
  echo "== round $round: baseline ($BACKEND, $CLIENTS clients, $DURATION)"
  "$BIN/loadgen" --baseline --database-url "$(database "baseline$round")" \
    --concurrency "$CLIENTS" --duration "$DURATION" | grep -v '^\[' | tee "$WORK/baseline.out"
  baseline=$(requests_per_second "$WORK/baseline.out")
  for label in server compare; do
    [ -f "$WORK/$label.out" ] || continue
    echo "== round $round: $label requests/s $(requests_per_second "$WORK/$label.out") =" \
      "$(awk -v a="$(requests_per_second "$WORK/$label.out")" -v b="$baseline" 'BEGIN {printf "%.0f", 100 * a / b}')%" \
      "of the baseline's $baseline"
  done
  rm -f "$WORK"/*.out
done
