"""Overdue payments racing the timer loop (SQLite, and PostgreSQL, where the timer loop and
payments once deadlocked).

Injects: xibei publishes an order-flow whose payment step times out after 3 s; 200 orders
are created (8 threads) and each is paid (8 more threads) at a moment drawn from 0.3 s
before to 0.3 s after its own `payment_deadline`, while the timer loop fires the timeouts.
Asserts: a payment answered 200 was sent no later than the deadline and its order is
completed at 8000 with its payment TaskSucceeded `at` <= the deadline and no TaskTimedOut;
every other payment is 409 with a type ending /task-timed-out, answered no earlier than the
deadline, and its order is canceled with `payment_timeout` (one TaskTimedOut, at or after
the deadline, no payment TaskSucceeded); every order ends completed or canceled; no 5xx.
"""
from __future__ import annotations

import heapq
import random
import threading
import time

from common import (FINAL_AMOUNT, PAY_BODY, STOREFRONT_ORDERS, Scenario, event_counts, order_body, parallel,
                    parse_ts, publish_flow, short_timeout_flow, sqlite_url, wait_until)

MERCHANT = "xibei"
ORDERS = 200
THREADS = 8
TIMEOUT_S = 3
WINDOW = (-0.3, 0.3)  # pay this long before/after the deadline
EPS = 0.005  # timestamps are microseconds; the clock is the same machine's


def sqlite(sc: Scenario) -> None:
    _run(sc, sqlite_url(sc.workdir / "of.db"))


def postgres(sc: Scenario) -> None:
    _run(sc, sc.pg_database("overdue").url)


def _run(sc: Scenario, database_url: str) -> None:
    server = sc.server("orderflow", database_url).start()
    api = server.api
    version = publish_flow(api, MERCHANT, short_timeout_flow(TIMEOUT_S))
    sc.note(f"published {MERCHANT} order-flow v{version} with a {TIMEOUT_S} s payment timeout")

    queue: list[tuple[float, int, str, float]] = []  # (pay_at, n, order_id, deadline)
    cond = threading.Condition()
    created: dict[str, float] = {}  # order_id -> deadline
    create_errors: list[str] = []
    payments: list[dict] = []
    state = {"creating": True}
    counter = iter(range(ORDERS))
    lock = threading.Lock()

    def creator() -> None:
        while True:
            with lock:
                n = next(counter, None)
            if n is None:
                return
            r = api.post(STOREFRONT_ORDERS, order_body(MERCHANT, f"overdue-{n}"))
            body = r.body or {}
            if r.status != 201 or not body.get("payment_deadline"):
                create_errors.append(r.short())
                continue
            deadline = parse_ts(body["payment_deadline"])
            with cond:
                created[body["order_id"]] = deadline
                heapq.heappush(queue, (deadline + random.uniform(*WINDOW), n, body["order_id"], deadline))
                cond.notify()

    def payer() -> None:
        while True:
            with cond:
                while not queue and state["creating"]:
                    cond.wait(0.1)
                if not queue:
                    return
                pay_at, _, oid, deadline = heapq.heappop(queue)
            delay = pay_at - time.time()
            if delay > 0:
                time.sleep(delay)
            sent = time.time()
            r = api.post(f"{STOREFRONT_ORDERS}/{oid}/payment", PAY_BODY)
            payments.append({"order_id": oid, "deadline": deadline, "planned": pay_at, "sent": sent,
                             "answered": time.time(), "reply": r})

    creators = [threading.Thread(target=creator, daemon=True) for _ in range(THREADS)]
    payers = [threading.Thread(target=payer, daemon=True) for _ in range(THREADS)]
    started = time.time()
    for t in creators + payers:
        t.start()
    for t in creators:
        t.join(120)
    with cond:
        state["creating"] = False
        cond.notify_all()
    for t in payers:
        t.join(120)
    sc.note(f"created {len(created)} orders and sent {len(payments)} payments in {time.time() - started:.1f}s")
    sc.expect(not create_errors, f"{len(create_errors)} creates failed, e.g. {create_errors[:1]}")

    ok = [p for p in payments if p["reply"].status == 200]
    late = [p for p in payments if p["reply"].status == 409]
    other = [p for p in payments if p["reply"].status not in (200, 409)]
    lag = sorted(p["sent"] - p["planned"] for p in payments)
    near = sum(1 for p in payments if abs(p["sent"] - p["deadline"]) < 0.05)
    sc.ack(f"{len(ok)} payments answered 200, {len(late)} answered 409, {len(other)} other; "
           f"{near} sent within 50 ms of their deadline; send lag behind plan p50 "
           f"{lag[len(lag) // 2] * 1000 if lag else 0:.0f} ms, max {lag[-1] * 1000 if lag else 0:.0f} ms")
    sc.expect(not other, f"{len(other)} payments neither 200 nor 409, e.g. "
                         f"{other[0]['reply'].short() if other else ''}")
    sc.expect(bool(ok) and bool(late), f"the race was not exercised: {len(ok)} paid in time, {len(late)} late")

    paid_after = [p for p in ok if p["sent"] > p["deadline"] + EPS]
    sc.expect(not paid_after, f"{len(paid_after)} payments sent after the deadline were answered 200, e.g. "
                              f"{[(p['order_id'], round(p['sent'] - p['deadline'], 3)) for p in paid_after[:3]]}"
                              " (seconds after the deadline)")
    bad_200 = [p for p in ok if (p["reply"].body or {}).get("status") != "completed"
               or (p["reply"].body or {}).get("final_amount_minor") != FINAL_AMOUNT]
    sc.expect(not bad_200, f"{len(bad_200)} payments answered 200 without completed/8000, e.g. "
                           f"{bad_200[0]['reply'].short() if bad_200 else ''}")
    wrong_type = [p for p in late if not p["reply"].problem_type.endswith("/task-timed-out")]
    for t in sorted(set(p["reply"].problem_type.rsplit("/", 1)[-1] for p in late)):
        after = sorted(p["sent"] - p["deadline"] for p in late if p["reply"].problem_type.endswith("/" + t))
        sc.found(f"409 {t}: {len(after)} payments, sent {after[0] * 1000:+.0f} to {after[-1] * 1000:+.0f} ms "
                 "from their deadline")
    sc.expect(not wrong_type, f"{len(wrong_type)} late payments answered 409 without type /task-timed-out, e.g. "
                              f"{wrong_type[0]['reply'].short() if wrong_type else ''}")
    early = [p for p in late if p["answered"] < p["deadline"] - EPS]
    sc.expect(not early, f"{len(early)} payments were refused as timed out before their deadline, e.g. "
                         f"{[(p['order_id'], round(p['deadline'] - p['answered'], 3)) for p in early[:3]]}")

    # Let the timer loop cancel whatever is still waiting.
    def open_orders() -> int:
        return len(api.list_all(f"/v1/merchants/{MERCHANT}/orders", "&status=awaiting_payment")) + \
            len(api.list_all(f"/v1/merchants/{MERCHANT}/orders", "&status=processing"))
    settled = wait_until(lambda: open_orders() == 0, 30, 0.25)
    sc.expect(settled, f"{open_orders()} orders still open 30 s after the last payment")

    answered = {p["order_id"]: p["reply"].status for p in payments}

    def final_problem(item: tuple[str, float]) -> tuple[str, str | None]:
        oid, deadline = item
        r = api.order(oid)
        if r.status != 200:
            return "?", f"{oid}: GET {r.short()}"
        o = r.body
        h = api.history(oid)
        c = event_counts(h)
        succeeded = [parse_ts(e["at"]) for e in h if e["type"] == "TaskSucceeded" and e.get("step") == "payment"]
        timed_out = [parse_ts(e["at"]) for e in h if e["type"] == "TaskTimedOut" and e.get("step") == "payment"]
        status = o["status"] if o["status"] != "canceled" else f"canceled/{o.get('cancel_reason')}"
        if o["status"] == "completed":
            if o.get("final_amount_minor") != FINAL_AMOUNT or len(succeeded) != 1 or timed_out:
                return status, f"{oid}: completed with final {o.get('final_amount_minor')}, events {dict(c)}"
            if succeeded[0] > deadline + EPS:
                return status, f"{oid}: completed {succeeded[0] - deadline:.3f}s after its payment deadline"
            if answered.get(oid) != 200:
                return status, f"{oid}: completed although its payment was answered {answered.get(oid)}"
        elif o["status"] == "canceled" and o.get("cancel_reason") == "payment_timeout":
            if len(timed_out) != 1 or succeeded:
                return status, f"{oid}: canceled with events {dict(c)}"
            if timed_out[0] < deadline - EPS:
                return status, f"{oid}: timed out {deadline - timed_out[0]:.3f}s before its deadline"
            if answered.get(oid) == 200:
                return status, f"{oid}: payment answered 200 but the order is canceled (payment_timeout)"
        else:
            return status, f"{oid}: ended {status}"
        return status, None

    results = parallel(final_problem, list(created.items()))
    by_status: dict[str, int] = {}
    for status, _ in results:
        by_status[status] = by_status.get(status, 0) + 1
    sc.found(f"{len(created)} orders: " + ", ".join(f"{k}: {v}" for k, v in sorted(by_status.items())))
    problems = [p for _, p in results if p]
    sc.expect(not problems, f"{len(problems)} orders in a wrong final state: {'; '.join(problems[:4])}")
    server.restart()
    after = parallel(final_problem, list(created.items()))
    sc.expect([s for s, _ in after] == [s for s, _ in results],
              "the final statuses changed across a restart")
    sc.found("the same final statuses after a restart" if [s for s, _ in after] == [s for s, _ in results]
             else "different final statuses after a restart")
