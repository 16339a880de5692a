#!/usr/bin/env bash
# CI: a short load-generator smoke. Starts the server on a fresh SQLite database and runs
# 200 full checkouts (create + pay) at concurrency 8; fails on any error or wrong amount.
# It asserts correctness under concurrency, never timing.
#
#   bash .ci/loadgen-smoke.sh [path/to/orderflow]   (default: ${CARGO_TARGET_DIR:-target}/debug/orderflow)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BIN="$(realpath "${1:-${CARGO_TARGET_DIR:-$ROOT/target}/debug/orderflow}")"
cd "$ROOT"
[ -x "$BIN" ] || { echo "no orderflow binary at $BIN; build it with: cargo build -p app" >&2; exit 2; }

WORK="$(mktemp -d "${TMPDIR:-/tmp}/orderflow-loadgen.XXXXXX")"
SERVER_PID=""
cleanup() {
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

PORT="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"
export ORDERFLOW_ADMIN_KEY="loadgen-smoke-$(python3 -c 'import secrets; print(secrets.token_hex(16))')"
DATABASE_URL="sqlite://$WORK/smoke.db?mode=rwc" ORDERFLOW_ADDR="127.0.0.1:$PORT" ORDERFLOW_LOG=warn \
  "$BIN" >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 100); do
  curl -fsS "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1 && break
  kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/server.log" >&2; exit 1; }
  sleep 0.2
done

cargo run -q -p tests --bin loadgen -- --url "http://127.0.0.1:$PORT" \
  --orders 200 --concurrency 8 --expect-final-amount 8000 --fail-on-errors || {
  echo "loadgen smoke failed; server log:" >&2
  tail -40 "$WORK/server.log" >&2
  exit 1
}
