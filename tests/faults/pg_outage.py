"""PostgreSQL restarted / stopped under load.

Injects: 8 clients create and pay orders against a fresh PostgreSQL database; then
`pg-restart` restarts the cluster (stop + start at once) and `pg-stop` stops it for 9 s
(longer than the request timeout) while the load goes on, then starts it again. The server
is never restarted during the outage (ORDERFLOW_REQUEST_TIMEOUT=5).
Asserts: every request is answered, within the request timeout (+1 s), with 201/200 or a
503 problem+json (type /unavailable, /storage-full, or /request-timeout when the request
timeout passes first) with Retry-After; never a 500, never a
hang. pg-stop: at least one such 503 while PostgreSQL is down, and every /readyz during the
outage answers 503 within 2 s. Both: once PostgreSQL is back a new write succeeds within
30 s with the same server process, /readyz is 200 again, and the audit of every
acknowledged response holds, live and after a server restart. PostgreSQL is always
started again in a `finally`.
"""
from __future__ import annotations

import threading
import time

from common import (Clients, Ledger, Scenario, audit, check_replies, http, pg_start, pg_stop, wait_until)

CLIENTS = 8
MERCHANT = "haidilao"
REQUEST_TIMEOUT = 5
OUTAGE_S = REQUEST_TIMEOUT + 4  # longer than the request timeout: waiting it out is not an option
READYZ_LIMIT = 2.0


def _setup(sc: Scenario, label: str):
    db = sc.pg_database(label)
    server = sc.server("orderflow", db.url, {"ORDERFLOW_REQUEST_TIMEOUT": str(REQUEST_TIMEOUT)}).start()
    ledger = Ledger(sc.name)
    clients = Clients(CLIENTS, server.api, ledger, MERCHANT, timeout=REQUEST_TIMEOUT + 10)
    if not wait_until(lambda: sum(1 for a in ledger.snapshot() if a.acked) >= 200, 60):
        sc.fail(f"the load never got going ({ledger.summary()})")
    return server, ledger, clients


def _recover(sc: Scenario, server, ledger: Ledger, clients: Clients, up: float) -> None:
    """After PostgreSQL is back: a write started after `up` succeeds within 30 s, /readyz is
    200, the same process serves; then stop the load and audit (live, and after a restart)."""
    pid = server.pid
    recovered = wait_until(lambda: any(a.acked and a.started >= up for a in ledger.snapshot()), 30, 0.1)
    first = min((a.ended for a in ledger.snapshot() if a.acked and a.started >= up), default=None)
    sc.expect(recovered, "no write succeeded within 30 s after PostgreSQL was back")
    ready = wait_until(lambda: http(server.port, "GET", "/readyz", timeout=3, auth=False).status == 200, 30, 0.2)
    sc.expect(ready, "/readyz not 200 within 30 s after PostgreSQL was back")
    time.sleep(2)  # some more load on the recovered pool
    clients.stop()
    sc.expect(server.alive() and server.pid == pid, "the server process did not survive the outage")
    sc.found(f"writes succeed again {first - up:.1f}s after PostgreSQL was back, without a server restart"
             if first else "writes did not recover")
    attempts = ledger.snapshot()
    sc.ack(ledger.summary())
    check_replies(sc, attempts, allow_unanswered=False, max_seconds=REQUEST_TIMEOUT + 1)
    audit(sc, server.api, ledger, MERCHANT, "live, after the outage")
    server.restart()
    audit(sc, server.api, ledger, MERCHANT, "after a server restart")


def restart(sc: Scenario) -> None:
    server, ledger, clients = _setup(sc, "pgrestart")
    try:
        down = time.time()
        try:
            pg_stop()
        finally:
            pg_start()
        up = time.time()
        sc.note(f"PostgreSQL restarted under load ({up - down:.1f}s)")
        _recover(sc, server, ledger, clients, up)
    finally:
        clients.stop()
        pg_start()
    during = [a for a in ledger.snapshot() if down - 1 <= a.started <= up + 5 and a.reply.status == 503]
    sc.found(f"{len(during)} requests around the restart answered 503")


def stop(sc: Scenario) -> None:
    server, ledger, clients = _setup(sc, "pgstop")
    readyz: list[tuple[float, int | None, float]] = []
    try:
        try:
            pg_stop()
            down = time.time()
            sc.note("PostgreSQL stopped under load")
            poll_stop = threading.Event()

            def poll() -> None:
                while not poll_stop.is_set():
                    t = time.time()
                    r = http(server.port, "GET", "/readyz", timeout=READYZ_LIMIT + 3, auth=False)
                    readyz.append((t, r.status, r.elapsed))
                    time.sleep(0.3)
            poller = threading.Thread(target=poll, daemon=True)
            poller.start()
            time.sleep(OUTAGE_S)
            poll_stop.set()
            poller.join(10)
            starting = time.time()
        finally:
            pg_start()
        up = time.time()
        sc.note(f"PostgreSQL down for {starting - down:.1f}s, accepting connections again {up - starting:.1f}s later")
        outage = [a for a in ledger.snapshot() if down <= a.started < starting]
        refused = [a for a in outage if a.reply.status == 503]
        sc.ack(f"while PostgreSQL was down: {len(outage)} requests sent, {len(refused)} answered 503, "
               f"{sum(1 for a in outage if a.acked)} acknowledged, slowest answer "
               f"{max((a.reply.elapsed for a in outage), default=0):.2f}s")
        sc.expect(bool(refused), "no request was answered 503 while PostgreSQL was down")
        slow_ready = [(round(e, 2), s) for _, s, e in readyz if e > READYZ_LIMIT or s != 503]
        sc.found(f"/readyz during the outage: {len(readyz)} polls, statuses "
                 f"{sorted(set(s for _, s, _ in readyz), key=str)}, slowest {max((e for _, _, e in readyz), default=0):.2f}s")
        sc.expect(bool(readyz) and not slow_ready,
                  f"/readyz during the outage must answer 503 within {READYZ_LIMIT}s: {slow_ready[:5]}")
        _recover(sc, server, ledger, clients, up)
    finally:
        clients.stop()
        pg_start()
