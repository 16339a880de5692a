"""kill -9 with webhook deliveries in flight (SQLite file).

Injects: a local receiver (answering 204 after 20 ms, so deliveries are in flight) is
subscribed to order.created and order.paid; 8 clients create and pay orders; the server
gets SIGKILL mid-load and is restarted on the same database.
Asserts: every event of those types that the events feed holds (every committed one)
reaches the receiver at least once after the restart, and nothing arrives that the feed
does not hold (no delivery of an uncommitted change). Duplicates are allowed (at least
once) and counted.
"""
from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from common import Clients, Ledger, Scenario, sqlite_url, wait_until

CLIENTS = 8
KILL_AFTER_PAYMENTS = 150
MERCHANT = "haidilao"
TYPES = ["order.created", "order.paid"]


class Receiver:
    """Counts each webhook-id it is sent."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.seen: dict[str, int] = {}
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (the stdlib's name)
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                event_id = self.headers.get("webhook-id", "")
                time.sleep(0.02)
                if json.loads(body).get("id") == event_id:
                    with receiver.lock:
                        receiver.seen[event_id] = receiver.seen.get(event_id, 0) + 1
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.http.server_address[1]}/hooks"
        threading.Thread(target=self.http.serve_forever, daemon=True).start()

    def snapshot(self) -> dict[str, int]:
        with self.lock:
            return dict(self.seen)


def sqlite(sc: Scenario) -> None:
    receiver = Receiver()
    try:
        _run(sc, receiver)
    finally:
        receiver.http.shutdown()


def _run(sc: Scenario, receiver: Receiver) -> None:
    server = sc.server("orderflow", sqlite_url(sc.workdir / "of.db"),
                       env={"ORDERFLOW_WEBHOOK_ALLOW_PRIVATE": "true"}).start()
    server.api.must(server.api.post(f"/v1/merchants/{MERCHANT}/webhook-endpoints",
                                    {"url": receiver.url, "event_types": TYPES}), 201, "an endpoint")
    ledger = Ledger(sc.name)
    clients = Clients(CLIENTS, server.api, ledger, MERCHANT, stop_on_no_answer=True, timeout=20)
    paid = lambda: sum(1 for a in ledger.snapshot() if a.kind == "pay" and a.acked)  # noqa: E731
    if not wait_until(lambda: paid() >= KILL_AFTER_PAYMENTS, 60, 0.01):
        sc.fail(f"the load never got going: {paid()} payments answered in 60 s")
    before = len(receiver.snapshot())
    server.kill9()
    clients.join(30)
    sc.ack(f"SIGKILL with {before} events received so far; {ledger.summary()}")

    server.start()
    committed = {e["id"] for t in TYPES
                 for e in server.api.list_all(f"/v1/merchants/{MERCHANT}/events", f"&type={t}")}
    sc.ack(f"{len(committed)} {'/'.join(TYPES)} events committed (the feed, after the restart)")
    if not wait_until(lambda: committed <= set(receiver.snapshot()), 60, 0.1):
        missing = committed - set(receiver.snapshot())
        sc.fail(f"{len(missing)} committed event(s) never arrived within 60 s of the restart, e.g. "
                f"{sorted(missing)[:3]}")
    seen = receiver.snapshot()
    phantom = set(seen) - committed
    sc.expect(not phantom, f"{len(phantom)} event(s) arrived that were never committed: {sorted(phantom)[:3]}")
    duplicates = sum(n - 1 for n in seen.values())
    sc.found(f"every committed event arrived; {duplicates} arrived more than once (at least once: "
             f"an attempt in flight at the kill is made again)")
    server.stop()
