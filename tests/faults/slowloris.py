"""50 slowloris connections while /healthz is polled (SQLite).

Injects: 50 connections each send a request line and one header, then half of them stall
and half trickle one more header byte every second, never ending the head.
Asserts: every /healthz poll (a fresh connection every 0.2 s) answers 200 within 1 s while
they are open; the server closes every slow connection within 15 s of its opening (header
read timeout 10 s); the process is still up and ready afterwards.
"""
from __future__ import annotations

import select
import socket
import statistics
import threading
import time

from common import Scenario, http, sqlite_url

CONNECTIONS = 50
HEALTHZ_LIMIT = 1.0
CLOSE_WITHIN = 15.0


def run(sc: Scenario) -> None:
    server = sc.server("orderflow", sqlite_url(sc.workdir / "of.db")).start()
    addr = ("127.0.0.1", server.port)
    opened: dict[socket.socket, float] = {}
    closed: dict[socket.socket, tuple[float, str]] = {}
    trickle: set[socket.socket] = set()
    for i in range(CONNECTIONS):
        s = socket.create_connection(addr)
        sc.stack.callback(s.close)
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        opened[s] = time.time()
        if i % 2:
            trickle.add(s)
        s.setblocking(False)
    sc.note(f"{CONNECTIONS} slow connections open ({len(trickle)} trickling a byte a second, the rest stalled)")

    done = threading.Event()

    def manage() -> None:
        next_trickle = time.time() + 1
        while not done.is_set() and len(closed) < len(opened):
            live = [s for s in opened if s not in closed]
            readable, _, _ = select.select(live, [], [], 0.1)
            for s in readable:
                try:
                    data = s.recv(65536)
                    if not data:
                        closed[s] = (time.time(), "closed")
                    else:
                        status = data.split(b"\r\n", 1)[0].decode(errors="replace")
                        closed[s] = (time.time(), f"answered {status!r}")
                except OSError as e:
                    closed[s] = (time.time(), type(e).__name__)
            if time.time() >= next_trickle:
                next_trickle += 1
                for s in trickle:
                    if s not in closed:
                        try:
                            s.send(b"a")
                        except OSError as e:
                            closed[s] = (time.time(), type(e).__name__)
    manager = threading.Thread(target=manage, daemon=True)
    manager.start()

    polls: list[tuple[int | None, float]] = []
    started = time.time()
    while time.time() - started < CLOSE_WITHIN + 2 and len(closed) < len(opened):
        r = http(server.port, "GET", "/healthz", timeout=5, auth=False)
        polls.append((r.status, r.elapsed))
        time.sleep(0.2)
    done.set()
    manager.join(5)

    slow_polls = [(s, round(e, 3)) for s, e in polls if s != 200 or e > HEALTHZ_LIMIT]
    times = sorted(at - opened[s] for s, (at, _) in closed.items())
    late = [round(at - opened[s], 1) for s, (at, _) in closed.items() if at - opened[s] > CLOSE_WITHIN]
    hows: dict[str, int] = {}
    for _, how in closed.values():
        hows[how] = hows.get(how, 0) + 1
    sc.ack(f"{len(polls)} /healthz polls while the slow connections were open; slowest "
           f"{max((e for _, e in polls), default=0) * 1000:.0f} ms")
    sc.found(f"{len(closed)} of {CONNECTIONS} slow connections ended ({hows}); after "
             + (f"{times[0]:.1f}s min, {statistics.median(times):.1f}s median, {times[-1]:.1f}s max" if times else "-"))
    sc.expect(bool(polls) and not slow_polls,
              f"{len(slow_polls)} /healthz polls failed or took over {HEALTHZ_LIMIT}s: {slow_polls[:5]}")
    sc.expect(len(closed) == CONNECTIONS,
              f"{CONNECTIONS - len(closed)} slow connections still open {time.time() - started:.0f}s after opening")
    sc.expect(not late, f"{len(late)} slow connections were closed later than {CLOSE_WITHIN}s: {late[:5]}")
    trickled = [at - opened[s] for s, (at, _) in closed.items() if s in trickle]
    sc.expect(not trickled or max(trickled) <= CLOSE_WITHIN,
              "trickling a byte a second kept a connection open past the header read timeout")
    ready = http(server.port, "GET", "/readyz", timeout=3, auth=False)
    sc.expect(server.alive() and ready.status == 200, f"the server is not ready afterwards: {ready.short()}")
