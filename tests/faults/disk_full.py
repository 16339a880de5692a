"""A full disk (SQLite on a 20 MB tmpfs; needs root for `mount`, else skipped).

Injects: 4 clients create and pay orders while a filler file takes every free byte of the
tmpfs (and is topped up while it is held full); after writes have been refused for a while
the filler is deleted. The server is not restarted.
Asserts: while the disk is full, writes answer 503 problem+json (type /storage-full or
/unavailable) with Retry-After, never 500, never a hang, and at least one write is refused;
every /readyz poll made while writes are failing (a refusal in the last 10 s and no write
committed since) answers 503; after the filler is deleted a new write succeeds within 30 s
with the same process and /readyz is 200 again; every order answered 201 exists, with the
status its acknowledged responses imply, live and after a restart.
"""
from __future__ import annotations

import errno
import os
import subprocess
import threading
import time

from common import Clients, Ledger, Scenario, audit, check_replies, http, sqlite_url, wait_until

CLIENTS = 4
MERCHANT = "haidilao"
REQUEST_TIMEOUT = 10
SIZE = "20m"
HOLD_FULL_S = 6  # keep the disk full this long after the first refusal
UNREADY_WINDOW = 10.0  # /readyz is not ready this long after a refused write


def _mount(sc: Scenario):
    mnt = sc.workdir / "tmpfs"
    mnt.mkdir()
    if os.geteuid() != 0:
        return None
    out = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={SIZE}", "tmpfs", str(mnt)],
                         capture_output=True, text=True)
    if out.returncode != 0:
        sc.note(f"mount failed: {out.stderr.strip()}")
        return None

    def umount() -> None:
        if subprocess.run(["umount", str(mnt)], capture_output=True).returncode != 0:
            subprocess.run(["umount", "-l", str(mnt)], capture_output=True)
    sc.stack.callback(umount)
    return mnt


class Filler:
    """Takes every free byte of the file system, and keeps taking what gets freed."""

    def __init__(self, path):
        self.path = path
        self.file = open(path, "wb", buffering=0)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._top_up, daemon=True)

    def fill(self) -> int:
        written = 0
        for chunk in (1 << 20, 64 << 10, 4 << 10, 512):
            block = b"\0" * chunk
            while True:
                try:
                    written += self.file.write(block)
                except OSError as e:
                    if e.errno != errno.ENOSPC:
                        raise
                    break
        return written

    def _top_up(self) -> None:
        while not self.stop.is_set():
            self.fill()
            time.sleep(0.05)

    def start(self) -> int:
        n = self.fill()
        self.thread.start()
        return n

    def delete(self) -> None:
        self.stop.set()
        self.thread.join(10)
        self.file.close()
        os.unlink(self.path)


def run(sc: Scenario) -> None:
    mnt = _mount(sc)
    if mnt is None:
        sc.skip("needs root for tmpfs")
        return
    server = sc.server("orderflow", sqlite_url(mnt / "of.db"), {"ORDERFLOW_REQUEST_TIMEOUT": str(REQUEST_TIMEOUT)})
    server.start()
    pid = server.pid
    ledger = Ledger(sc.name)
    clients = Clients(CLIENTS, server.api, ledger, MERCHANT, timeout=REQUEST_TIMEOUT + 10)
    filler = None
    readyz: list[tuple[float, int | None, float]] = []
    try:
        if not wait_until(lambda: sum(1 for a in ledger.snapshot() if a.acked) >= 100, 60):
            sc.fail(f"the load never got going ({ledger.summary()})")
        filler = Filler(mnt / "filler")
        full_at = time.time()
        taken = filler.start()
        st = os.statvfs(mnt)
        sc.note(f"filler took {taken / 1e6:.1f} MB; {st.f_bavail * st.f_frsize} bytes left on the tmpfs")

        def refusals() -> list:
            return [a for a in ledger.snapshot() if a.started >= full_at and a.reply.status == 503]
        poll_stop = threading.Event()

        def poll() -> None:
            while not poll_stop.is_set():
                t = time.time()
                r = http(server.port, "GET", "/readyz", timeout=5, auth=False)
                readyz.append((t, r.status, r.elapsed))
                time.sleep(0.25)
        poller = threading.Thread(target=poll, daemon=True)
        poller.start()
        first = wait_until(lambda: bool(refusals()), 30, 0.05)
        sc.expect(first, "no write was refused within 30 s of filling the disk")
        time.sleep(HOLD_FULL_S)
        poll_stop.set()
        poller.join(10)
        freed_at = time.time()
        filler.delete()
        filler = None
        full = [a for a in ledger.snapshot() if full_at <= a.started < freed_at]
        sc.ack(f"while the disk was full ({freed_at - full_at:.1f}s): {len(full)} writes, "
               f"{sum(1 for a in full if a.acked)} acknowledged, {len(refusals())} answered 503 "
               f"({', '.join(sorted(set(a.reply.problem_type.rsplit('/', 1)[-1] for a in refusals())))})")

        recovered = wait_until(lambda: any(a.acked and a.started >= freed_at for a in ledger.snapshot()), 30, 0.1)
        first_ok = min((a.ended for a in ledger.snapshot() if a.acked and a.started >= freed_at), default=None)
        sc.expect(recovered, "no write succeeded within 30 s after the filler was deleted")
        ready = wait_until(lambda: http(server.port, "GET", "/readyz", timeout=3, auth=False).status == 200, 30, 0.2)
        sc.expect(ready, "/readyz not 200 within 30 s after the filler was deleted")
        time.sleep(1)
        clients.stop()
        sc.expect(server.alive() and server.pid == pid, "the server process did not survive the full disk")
        if first_ok:
            sc.found(f"writes succeed again {first_ok - freed_at:.1f}s after the filler was deleted, "
                     "without a restart")
    finally:
        clients.stop()
        if filler is not None:
            filler.delete()

    attempts = ledger.snapshot()
    sc.ack(ledger.summary())
    check_replies(sc, attempts, allow_unanswered=False, max_seconds=REQUEST_TIMEOUT + 1)

    # /readyz while writes fail: a refusal within the last 10 s and nothing committed since.
    failed = sorted(a.ended for a in attempts if a.reply.status == 503)
    wrong = []
    for t, status, elapsed in readyz:
        last_fail = max((e for e in failed if e <= t), default=None)
        if last_fail is None or t - last_fail >= UNREADY_WINDOW:
            continue
        committed_since = any(a.acked and a.ended > last_fail and a.started < t for a in attempts)
        if not committed_since and status != 503:
            wrong.append(f"{status} at +{t - last_fail:.2f}s after a refused write")
    sc.found(f"/readyz while the disk was full: {len(readyz)} polls, "
             f"{sum(1 for _, s, _ in readyz if s == 503)} answered 503, "
             f"{sum(1 for _, s, _ in readyz if s == 200)} answered 200")
    sc.expect(any(s == 503 for _, s, _ in readyz), "/readyz never answered 503 while the disk was full")
    sc.expect(not wrong, f"/readyz was not 503 while writes were failing: {wrong[:5]}")

    audit(sc, server.api, ledger, MERCHANT, "live, after the disk was freed")
    server.restart()
    audit(sc, server.api, ledger, MERCHANT, "after a restart")
