#!/usr/bin/env bash
# Generates the Python and TypeScript SDKs from the committed openapi/openapi.json and runs
# each SDK's end-to-end program against a fresh orderflow server.
#
#   openapi/sdk/run-e2e.sh [PATH_TO_ORDERFLOW_BINARY]
#
# The binary defaults to ${CARGO_TARGET_DIR:-target}/debug/orderflow (relative paths are taken
# from the repository root); this script builds nothing. It starts the server on a free
# loopback port with a temporary SQLite database, a random admin key and loopback webhook URLs
# allowed (for the programs' local receivers), waits for /readyz,
# generates both SDKs (python/generate.sh, typescript/generate.sh; the output is git-ignored),
# runs python/e2e.py and typescript/e2e.ts, stops the server, and exits non-zero if anything
# failed. Re-runs reuse python/.venv and typescript/node_modules.
set -euo pipefail
sdk="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$sdk/../.." && pwd)"
started=$SECONDS

step() { printf '==> sdk-e2e: %s\n' "$*"; }
fail() { printf '==> sdk-e2e: FAILED: %s\n' "$*" >&2; exit 1; }

bin="${1:-${CARGO_TARGET_DIR:-target}/debug/orderflow}"
case "$bin" in /*) ;; *) bin="$root/$bin" ;; esac
[ -x "$bin" ] || fail "no orderflow binary at $bin (build it first: cargo build -p app)"
for tool in python3 node npm curl; do
  command -v "$tool" >/dev/null || fail "$tool is not installed"
done

tmp="$(mktemp -d "${TMPDIR:-/tmp}/orderflow-sdk-e2e.XXXXXX")"
server_pid=""
stop_server() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  server_pid=""
}
cleanup() {
  local rc=$?
  stop_server
  if [ "$rc" -ne 0 ] && [ -s "$tmp/server.err" ]; then
    echo "---- orderflow server log (last 40 lines) ----" >&2
    tail -n 40 "$tmp/server.err" >&2
  fi
  rm -rf "$tmp"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Port 0: the kernel picks a free port and the server prints the one it bound. Each e2e program
# receives its webhooks on 127.0.0.1, which the server calls only with
# ORDERFLOW_WEBHOOK_ALLOW_PRIVATE=true (off by default: no endpoint may point into its network).
admin_key="sdk-e2e-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
step "starting $bin (SQLite at $tmp/of.db)"
ORDERFLOW_ADDR=127.0.0.1:0 \
DATABASE_URL="sqlite://$tmp/of.db?mode=rwc" \
ORDERFLOW_ADMIN_KEY="$admin_key" \
ORDERFLOW_SQLITE_SYNC=normal \
ORDERFLOW_LOG=warn \
ORDERFLOW_WEBHOOK_ALLOW_PRIVATE=true \
  "$bin" >"$tmp/server.out" 2>"$tmp/server.err" </dev/null &
server_pid=$!

# The SDKs are generated while the server starts.
step "generating the Python SDK (openapi-python-client)"
"$sdk/python/generate.sh" "$root/openapi/openapi.json" || fail "Python SDK generation"
step "generating the TypeScript SDK (@hey-api/openapi-ts)"
"$sdk/typescript/generate.sh" "$root/openapi/openapi.json" || fail "TypeScript SDK generation"

step "waiting for the server"
url=""
for _ in $(seq 1 300); do
  kill -0 "$server_pid" 2>/dev/null || fail "the server exited during start-up"
  if [ -z "$url" ]; then
    url="$(sed -n 's/^orderflow is listening on \(http:[^ ]*\).*$/\1/p' "$tmp/server.out" | head -n 1)"
  fi
  if [ -n "$url" ] && curl -fsS -o /dev/null "$url/readyz" 2>/dev/null; then
    break
  fi
  sleep 0.1
done
[ -n "$url" ] || fail "the server did not print its address within 30 s"
curl -fsS -o /dev/null "$url/readyz" || fail "$url/readyz is not ready within 30 s"
step "server ready at $url"

passed=0
failed=0
run() {
  local name="$1"
  shift
  step "running the $name e2e program"
  if ORDERFLOW_URL="$url" ORDERFLOW_ADMIN_KEY="$admin_key" "$@"; then
    passed=$((passed + 1))
    step "$name: ok"
  else
    failed=$((failed + 1))
    printf '==> sdk-e2e: %s: FAILED\n' "$name" >&2
  fi
}
run python env PYTHONPATH="$sdk/python/generated" PYTHONDONTWRITEBYTECODE=1 \
  "$sdk/python/.venv/bin/python" "$sdk/python/e2e.py"
run typescript node "$sdk/typescript/dist/e2e.js"

kill -0 "$server_pid" 2>/dev/null || { failed=$((failed + 1)); echo "==> sdk-e2e: the server died during the run" >&2; }
stop_server
step "done in $((SECONDS - started)) s"
echo "sdk-e2e: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
