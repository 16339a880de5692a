"""kill -9 under load (SQLite file, PostgreSQL).

Injects: 8 clients create and pay orders (each request with its own Idempotency-Key); once
enough payments are answered the server gets SIGKILL mid-load; it is restarted on the same
database.
Asserts: every order answered 201 exists with the status the last acknowledged response
implies, every payment answered 200 is applied exactly once (one TaskSucceeded for the
payment step); then every request that got no answer is sent again with the same key and
body: it is replayed (if it had committed) or processed now, never 409
idempotency-key-in-flight; the audit holds again after the retries and after one more
restart.
"""
from __future__ import annotations

import time

from common import (Clients, Ledger, Scenario, audit, check_replies, retry_unanswered, sqlite_url,
                    wait_until)

CLIENTS = 8
KILL_AFTER_PAYMENTS = 300
MERCHANT = "haidilao"


def _run(sc: Scenario, database_url: str) -> None:
    server = sc.server("orderflow", database_url).start()
    ledger = Ledger(sc.name)
    clients = Clients(CLIENTS, server.api, ledger, MERCHANT, stop_on_no_answer=True, timeout=20)
    paid = lambda: sum(1 for a in ledger.snapshot() if a.kind == "pay" and a.acked)  # noqa: E731
    started = time.monotonic()
    if not wait_until(lambda: paid() >= KILL_AFTER_PAYMENTS, 60, 0.01):
        sc.fail(f"the load never got going: {paid()} payments answered in 60 s ({ledger.summary()})")
    server.kill9()
    sc.note(f"SIGKILL after {time.monotonic() - started:.1f}s of load")
    clients.join(30)
    sc.expect(not any(t.is_alive() for t in clients.threads), "a client did not stop after the kill")
    attempts = ledger.snapshot()
    sc.ack(ledger.summary())
    # Before the kill every request must have been answered properly.
    check_replies(sc, attempts, allow_unanswered=True, what="before the kill: ")
    unanswered = [a for a in attempts if a.unanswered]
    sc.ack(f"{len(unanswered)} request(s) got no answer (in flight at the kill): "
           + ", ".join(f"{a.kind} {a.tag.rsplit('-', 2)[-2]}-{a.tag.rsplit('-', 1)[-1]}" for a in unanswered))

    server.start()
    stored = audit(sc, server.api, ledger, MERCHANT, "after the restart")
    retry_unanswered(sc, server.api, ledger, stored)
    audit(sc, server.api, ledger, MERCHANT, "after the retries")
    server.restart()
    audit(sc, server.api, ledger, MERCHANT, "after a second restart")


def sqlite(sc: Scenario) -> None:
    _run(sc, sqlite_url(sc.workdir / "of.db"))


def postgres(sc: Scenario) -> None:
    _run(sc, sc.pg_database("kill9").url)
