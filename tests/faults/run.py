#!/usr/bin/env python3
"""Fault-injection suite for orderflow: runs every scenario (or the named ones) against a
built binary and prints, per scenario, what it acknowledged, what it found and PASS/FAIL,
then a summary table. Exits 1 if any scenario failed.

    python3 tests/faults/run.py /work/target/debug/orderflow               # all
    python3 tests/faults/run.py /work/target/debug/orderflow kill9-sqlite  # one (or several)
    python3 tests/faults/run.py --list
"""
from __future__ import annotations

import os
import signal
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import importlib  # noqa: E402

import common  # noqa: E402

# name -> "module:function" (a module per scenario class, next to this file)
SCENARIOS = {
    "kill9-sqlite": "kill9:sqlite",
    "kill9-postgres": "kill9:postgres",
    "webhooks-kill9": "webhooks_kill9:sqlite",
    "overdue-payments-sqlite": "overdue:sqlite",
    "overdue-payments-postgres": "overdue:postgres",
    "pg-restart": "pg_outage:restart",
    "pg-stop": "pg_outage:stop",
    "disk-full": "disk_full:run",
    "twin-start-sqlite": "twin_start:sqlite",
    "twin-start-postgres": "twin_start:postgres",
    "sigterm-half-sent": "sigterm:run",
    "slowloris": "slowloris:run",
}


def load(name: str):
    module, function = SCENARIOS[name].split(":")
    return getattr(importlib.import_module(module), function)


def main(argv: list[str]) -> int:
    if "--list" in argv:
        print("\n".join(SCENARIOS))
        return 0
    if not argv or argv[0].startswith("-"):
        print(__doc__, file=sys.stderr)
        return 2
    bin_path = os.path.abspath(argv[0])
    if not os.access(bin_path, os.X_OK):
        print(f"no executable orderflow binary at {bin_path}", file=sys.stderr)
        return 2
    names = argv[1:] or list(SCENARIOS)
    unknown = [n for n in names if n not in SCENARIOS]
    if unknown:
        print(f"unknown scenario(s) {unknown}; known: {', '.join(SCENARIOS)}", file=sys.stderr)
        return 2
    # SIGTERM (or SIGINT, e.g. from `timeout`) unwinds like Ctrl-C: every scenario's
    # `finally` runs (PostgreSQL started again, tmpfs unmounted, servers killed).
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    st = os.stat(bin_path)
    print(f"binary {bin_path} (built {time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(st.st_mtime))}, "
          f"{st.st_size} bytes); scenarios: {', '.join(names)}", flush=True)
    results = []
    suite_started = time.monotonic()
    interrupted = False
    for name in names:
        print(f"\n=== {name} ===", flush=True)
        sc = common.Scenario(name, bin_path)
        started = time.monotonic()
        try:
            common.run_main(load(name), sc)
            if sc.failures:
                sc.print_logs()
        except KeyboardInterrupt:
            sc.fail("interrupted")
            interrupted = True
        finally:
            try:
                sc.close()
            except Exception as e:  # noqa: BLE001
                sc.fail(f"cleanup failed: {e}")
        took = time.monotonic() - started
        verdict = "FAIL" if sc.failures else ("SKIP" if sc.skipped else "PASS")
        reason = "; ".join(f.splitlines()[0] for f in sc.failures) if sc.failures else (sc.skipped or "")
        print(f"  {verdict} ({took:.1f}s){': ' + reason if reason else ''}", flush=True)
        results.append((name, verdict, took, len(sc.failures)))
        if interrupted:
            break
    total = time.monotonic() - suite_started
    print("\n=== summary ===")
    print(f"{'scenario':<26} {'result':<6} {'seconds':>8}  failed assertions")
    for name, verdict, took, n in results:
        print(f"{name:<26} {verdict:<6} {took:>8.1f}  {n}")
    failed = [r for r in results if r[1] == "FAIL"]
    print(f"{len(results) - len(failed)} of {len(results)} passed (or skipped) in {total:.1f}s")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
