#!/usr/bin/env bash
# Webhook delivery under load, on SQLite (synchronous=full) or PostgreSQL.
#  1. Checkout throughput with one subscribed endpoint against none, interleaved, with the
#     delivery lag of every event (committed → arrived at a local receiver).
#  2. A backlog: BACKLOG_ORDERS checkouts (4 events each) committed while no instance
#     delivers, then an instance that does, timed draining them to the local receiver.
#
#   cargo build --release -p app -p tests
#   tests/perf/webhooks.sh sqlite 32 2            # backend, clients, rounds
#   BACKLOG_ORDERS=25000 tests/perf/webhooks.sh postgres 32 1
#   RATE=1000 tests/perf/webhooks.sh sqlite 32 1  # checkouts paced at 1000/s: the lag below saturation
set -euo pipefail
cd "$(dirname "$0")/../.."
BACKEND=${1:-sqlite}
CLIENTS=${2:-32}
ROUNDS=${3:-2}
DURATION=${DURATION:-10s}
BACKLOG_ORDERS=${BACKLOG_ORDERS:-25000}
RATE=${RATE:-}
BIN=${CARGO_TARGET_DIR:-target}/release
KEY=loadgen-admin-key-0123456789
RECEIVER_PORT=18181
source tests/perf/common.sh

start_server() { # url deliver: starts a server in the background; its pid in $server
  ORDERFLOW_ADDR=127.0.0.1:18080 DATABASE_URL="$1" ORDERFLOW_ADMIN_KEY=$KEY ORDERFLOW_RATE_LIMIT=0 \
    ORDERFLOW_LOG=warn ORDERFLOW_SQLITE_SYNC=full ORDERFLOW_WEBHOOK_ALLOW_PRIVATE=true \
    ORDERFLOW_WEBHOOKS="$2" "$BIN/orderflow" >>"$WORK/server.log" 2>&1 &
  server=$!
  for _ in $(seq 1 100); do curl -fs http://127.0.0.1:18080/readyz >/dev/null && break; sleep 0.1; done
}

stop_server() { kill "$server"; wait "$server" 2>/dev/null || true; }

# CPU time the server process has used so far, in clock ticks (user + system, all threads).
server_ticks() { awk '{print $14 + $15}' /proc/"$server"/stat; }
# Microseconds of server CPU per unit: ticks units
per_unit() { awk -v t="$1" -v n="$2" -v hz="$(getconf CLK_TCK)" 'BEGIN {printf "%.0f", n ? t * 1e6 / hz / n : 0}'; }
checkouts_run() { awk '$1 == "pay" {print $2}' "$1"; }


for round in $(seq 1 "$ROUNDS"); do
  for mode in without with; do
    start_server "$(database "$mode$round")" true
    echo "== round $round: checkouts $mode a subscribed endpoint ($BACKEND, $CLIENTS clients, $DURATION)"
    flag=""; [ "$mode" = with ] && flag="--webhook"
    [ -n "$RATE" ] && flag="$flag --rate $RATE"
    before=$(server_ticks)
    ORDERFLOW_ADMIN_KEY=$KEY "$BIN/loadgen" --url http://127.0.0.1:18080 --concurrency "$CLIENTS" \
      --duration "$DURATION" --expect-final-amount 8000 $flag | grep -v '^\[' | tee "$WORK/$mode.out"
    # With an endpoint this includes the deliveries made after the load while loadgen waited.
    echo "server CPU per checkout: $(per_unit $(($(server_ticks) - before)) "$(checkouts_run "$WORK/$mode.out")") µs"
    stop_server
  done
  echo "== round $round: with an endpoint, requests/s $(requests_per_second "$WORK/with.out") =" \
    "$(awk -v a="$(requests_per_second "$WORK/with.out")" -v b="$(requests_per_second "$WORK/without.out")" \
      'BEGIN {printf "%.0f", 100 * a / b}')% of without ($(requests_per_second "$WORK/without.out"))"
done

echo "== backlog: $BACKLOG_ORDERS checkouts committed while no instance delivers"
url=$(database backlog)
start_server "$url" false
ORDERFLOW_ADMIN_KEY=$KEY "$BIN/loadgen" --url http://127.0.0.1:18080 --concurrency "$CLIENTS" \
  --orders "$BACKLOG_ORDERS" --webhook --webhook-port $RECEIVER_PORT --webhook-wait 0s | grep -v '^\['
stop_server
echo "== backlog: an instance that delivers starts; draining $((BACKLOG_ORDERS * 4)) deliveries"
"$BIN/loadgen" --receive $((BACKLOG_ORDERS * 4)) --webhook-port $RECEIVER_PORT >"$WORK/drain.out" &
receiver=$!
sleep 0.5
start_server "$url" true
before=$(server_ticks)
wait "$receiver"
drained=$(($(server_ticks) - before))
cat "$WORK/drain.out"
echo "server CPU per delivery while draining: $(per_unit "$drained" $((BACKLOG_ORDERS * 4))) µs"
stop_server
