"""Two instances started at the same moment on one empty database (SQLite file, PostgreSQL).

Injects: two `orderflow` processes are spawned back to back (both with ORDERFLOW_SEED=true)
on one empty database, 20 rounds on SQLite and 5 on PostgreSQL, each on a fresh database.
Asserts: both become ready (neither exits, e.g. with code 1, on a migration or seeding
race); the demo data is there exactly once, seen from either instance: the merchants are
exactly haidilao and xibei, the platform catalog holds the 5 payment methods each at
version 1, the platform order-flow and haidilao's routing table have exactly one version;
each instance can create and pay an order.
"""
from __future__ import annotations

from common import (FINAL_AMOUNT, PAY_BODY, STOREFRONT_ORDERS, Api, Scenario, ScenarioFailed, order_body,
                    sqlite_url, tail)

ROUNDS = {"sqlite": 20, "postgres": 5}  # a start takes ~0.2 s on SQLite, ~1 s on PostgreSQL


def _seed_state(api: Api) -> dict:
    merchants = sorted(m["id"] for m in api.list_all("/v1/merchants"))
    methods = sorted((m["name"], m.get("published_version")) for m in
                     api.list_all("/v1/platform/metadata/payment-method"))
    flow_versions = [v["version"] for v in api.list_all("/v1/platform/metadata/order-flow/default/versions")]
    routing_versions = [v["version"] for v in
                        api.list_all("/v1/merchants/haidilao/metadata/routing-table/default/versions")]
    return {"merchants": merchants, "payment methods": methods, "platform order-flow versions": flow_versions,
            "haidilao routing-table versions": routing_versions}


EXPECTED = {
    "merchants": ["haidilao", "xibei"],
    "payment methods": [(m, 1) for m in ("alipay", "cash_on_delivery", "points", "unionpay", "wechat_pay")],
    "platform order-flow versions": [1],
    "haidilao routing-table versions": [1],
}


def _round(sc: Scenario, n: int, database_url: str, tally: dict) -> list[str]:
    problems = []
    a = sc.server(f"r{n}-a", database_url).spawn()
    b = sc.server(f"r{n}-b", database_url).spawn()
    try:
        for s in (a, b):
            try:
                s.wait_ready(60)
                tally["ready"] += 1
            except ScenarioFailed as e:
                last = [line for line in tail(s.log, 5).splitlines() if line.strip()][-1:]
                problems.append(f"round {n}: {s.name} did not come up: {str(e).splitlines()[0]} "
                                f"(its log ends: {last[0][:300] if last else ''!r})")
        if problems:
            return problems
        for s in (a, b):
            state = _seed_state(s.api)
            if state != EXPECTED:
                diff = {k: v for k, v in state.items() if v != EXPECTED[k]}
                evidence = [(m, [(v["version"], v.get("published_by"), v.get("published_at")) for v in
                                 s.api.list_all(f"/v1/platform/metadata/payment-method/{m}/versions")])
                            for m, version in state["payment methods"] if version != 1][:2]
                problems.append(f"round {n}: seen from {s.name}: {diff}"
                                + (f"; versions (version, by, at): {evidence}" if evidence else ""))
            r = s.api.post(STOREFRONT_ORDERS, order_body("haidilao", f"twin-{n}-{s.name}"))
            paid = s.api.post(f"{STOREFRONT_ORDERS}/{(r.body or {}).get('order_id')}/payment", PAY_BODY) \
                if r.status == 201 else r
            if r.status != 201 or paid.status != 200 or (paid.body or {}).get("final_amount_minor") != FINAL_AMOUNT:
                problems.append(f"round {n}: checkout on {s.name}: create {r.short()}; pay {paid.short()}")
            else:
                tally["checkouts"] += 1
        return problems
    finally:
        for s in (a, b):
            s.kill9()


def _run(sc: Scenario, rounds: int, make_url) -> None:
    problems: list[str] = []
    tally = {"ready": 0, "checkouts": 0}
    for n in range(1, rounds + 1):
        problems += _round(sc, n, make_url(n), tally)
    sc.ack(f"{rounds} rounds x 2 instances spawned together: {tally['ready']} became ready, "
           f"{tally['checkouts']} checkouts (create 201 + pay 200) answered")
    sc.found(f"{rounds} rounds: "
             + ("both instances ready, demo data seeded once, both serve checkouts each time" if not problems
                else f"{len(problems)} problem(s)"))
    for p in problems:
        sc.fail(p)


def sqlite(sc: Scenario) -> None:
    _run(sc, ROUNDS["sqlite"], lambda n: sqlite_url(sc.workdir / f"twin-{n}.db"))


def postgres(sc: Scenario) -> None:
    _run(sc, ROUNDS["postgres"], lambda n: sc.pg_database(f"twin{n}").url)
