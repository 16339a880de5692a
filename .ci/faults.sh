#!/usr/bin/env bash
# CI: fault injection against the built binary (tests/faults/, Python 3 stdlib only).
# Each scenario starts the server on a fresh database, injects one fault and audits every
# response it acknowledged: kill -9 under load (SQLite, PostgreSQL) with retries of the
# unanswered requests, overdue payments racing the timer loop, PostgreSQL restarted and
# stopped under load, a full disk (SQLite on a 20 MB tmpfs), two instances starting together
# (SQLite, PostgreSQL), SIGTERM with a half-sent request, 50 slowloris connections, kill -9
# with webhook deliveries in flight (every committed event still arrives).
# Prints per scenario what it acknowledged and found, then a summary; fails if any fails.
# Under 10 minutes (about 2 on a 2-core machine).
#
# Needs: PostgreSQL on 127.0.0.1:5432 (user postgres, trust auth) managed by pg_ctlcluster
# (the pg-* scenarios stop and start it, and always start it again), and root for `mount`
# (disk-full is skipped otherwise).
#
#   bash .ci/faults.sh [path/to/orderflow] [scenario...]      (default: ${CARGO_TARGET_DIR:-target}/debug/orderflow)
#   bash .ci/faults.sh target/debug/orderflow kill9-sqlite    one scenario locally
#   python3 tests/faults/run.py --list                        the scenario names
#   FAULTS_KEEP=1 bash .ci/faults.sh ...                      keep each scenario's temp dir (server logs)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BIN="$(realpath "${1:-${CARGO_TARGET_DIR:-$ROOT/target}/debug/orderflow}")"
shift || true
cd "$ROOT"
[ -x "$BIN" ] || { echo "no orderflow binary at $BIN; build it with: cargo build -p app" >&2; exit 2; }

pg_up() {
  if ! pg_isready -h 127.0.0.1 -p 5432 -q; then
    echo "PostgreSQL is down; starting it"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n 1)" main start || true
    for _ in $(seq 1 30); do pg_isready -h 127.0.0.1 -p 5432 -q && break; sleep 1; done
  fi
}
# Whatever happens, leave PostgreSQL running (the scenarios restart it themselves; this is
# the safety net if the runner itself is killed).
trap pg_up EXIT
pg_up

# SIGINT on overrun lets the runner clean up (servers, databases, tmpfs mounts).
PYTHONDONTWRITEBYTECODE=1 timeout --signal=INT --kill-after=60 900 python3 tests/faults/run.py "$BIN" "$@"
