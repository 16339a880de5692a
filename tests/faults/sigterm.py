"""SIGTERM with a half-sent request and one request in flight (SQLite).

Injects: one connection sends a request's headers without the final blank line (and then
nothing); another sends a complete create-order request head and half of its body; then
SIGTERM; one second later the second connection sends the rest of its body.
Asserts: the in-flight request is answered 201; the process exits with code 0 within the
request timeout + 5 s (ORDERFLOW_REQUEST_TIMEOUT=10, so 15 s) of the signal; the order
acknowledged during the drain exists after a restart.
"""
from __future__ import annotations

import json
import signal
import socket
import threading
import time

from common import ADMIN_KEY, STOREFRONT_ORDERS, Scenario, order_body, sqlite_url

REQUEST_TIMEOUT = 10
DRAIN_BOUND = REQUEST_TIMEOUT + 5
SLACK = 1.0


def _read_response(sock: socket.socket, timeout: float) -> tuple[int | None, dict | None, str]:
    sock.settimeout(timeout)
    data = b""
    try:
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
            head, sep, body = data.partition(b"\r\n\r\n")
            if sep:
                length = [int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                          if line.lower().startswith(b"content-length:")]
                if length and len(body) >= length[0]:
                    break
    except OSError as e:
        return None, None, f"{type(e).__name__}: {e} after {data[:200]!r}"
    head, _, body = data.partition(b"\r\n\r\n")
    try:
        status = int(head.split(b" ", 2)[1])
    except (IndexError, ValueError):
        return None, None, f"no status line in {data[:200]!r}"
    try:
        return status, json.loads(body), body.decode(errors="replace")[:200]
    except ValueError:
        return status, None, body.decode(errors="replace")[:200]


def run(sc: Scenario) -> None:
    server = sc.server("orderflow", sqlite_url(sc.workdir / "of.db"),
                       {"ORDERFLOW_REQUEST_TIMEOUT": str(REQUEST_TIMEOUT)}).start()
    addr = ("127.0.0.1", server.port)

    half = socket.create_connection(addr)
    sc.stack.callback(half.close)
    half_opened = time.time()
    half.sendall(b"POST /v1/storefront/orders HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n")
    half_closed: dict = {}

    def watch_half() -> None:
        half.settimeout(60)
        try:
            data = half.recv(65536)
            half_closed["how"] = f"answered {data[:40]!r} then closed" if data else "closed"
        except OSError as e:
            half_closed["how"] = f"{type(e).__name__}"
        half_closed["at"] = time.time()
    threading.Thread(target=watch_half, daemon=True).start()

    body = json.dumps(order_body("haidilao", "sigterm-in-flight")).encode()
    flight = socket.create_connection(addr)
    sc.stack.callback(flight.close)
    flight.sendall(b"POST " + STOREFRONT_ORDERS.encode() + b" HTTP/1.1\r\nHost: x\r\n"
                   b"Content-Type: application/json\r\nIdempotency-Key: sigterm-in-flight\r\n"
                   b"Authorization: Bearer " + ADMIN_KEY.encode() + b"\r\n"
                   b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body[: len(body) // 2])
    time.sleep(0.5)  # the head is read, the handler waits for the body

    server.signal(signal.SIGTERM)
    termed = time.time()
    time.sleep(1.0)
    try:
        flight.sendall(body[len(body) // 2:])
        status, reply, text = _read_response(flight, DRAIN_BOUND + 5)
    except OSError as e:
        status, reply, text = None, None, f"{type(e).__name__}: {e}"
    sc.ack(f"in-flight create answered {status} {time.time() - termed:.1f}s after SIGTERM"
           + (f": order {reply.get('order_id')}" if status == 201 and reply else f": {text}"))

    exit_code = None
    while time.time() - termed < DRAIN_BOUND + 10:
        exit_code = server.proc.poll()
        if exit_code is not None:
            break
        time.sleep(0.05)
    exited = time.time()
    sc.found(f"exit code {exit_code} {exited - termed:.1f}s after SIGTERM (bound {DRAIN_BOUND}s); "
             f"half-sent connection: {half_closed.get('how', 'still open')}"
             + (f" {half_closed['at'] - half_opened:.1f}s after it was opened" if 'at' in half_closed else ""))
    sc.expect(status == 201 and bool(reply and reply.get("order_id")),
              f"the in-flight request was not answered 201: {status} {text}")
    sc.expect(exit_code == 0, f"the process did not exit with code 0 after SIGTERM: {exit_code}")
    sc.expect(exit_code is None or exited - termed <= DRAIN_BOUND + SLACK,
              f"the process took {exited - termed:.1f}s to exit (bound {DRAIN_BOUND}s)")
    sc.expect("at" in half_closed and half_closed["at"] <= exited + 0.5,
              "the half-sent connection was not closed when the process exited")
    if exit_code is None:
        server.kill9()

    if status == 201 and reply:
        server.start()
        r = server.api.order(reply["order_id"])
        sc.found(f"after a restart the order acknowledged during the drain is {r.status} "
                 f"{(r.body or {}).get('status')}")
        sc.expect(r.status == 200 and (r.body or {}).get("status") == "awaiting_payment",
                  f"the order acknowledged during the drain is not there after a restart: {r.short()}")
