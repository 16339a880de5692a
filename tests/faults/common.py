"""Shared harness for the fault-injection scenarios (stdlib only).

- `Scenario`: one scenario's context: the binary, a temp dir, what was acknowledged and
  found, failures, and everything to clean up (servers, databases, mounts) in an ExitStack.
- `Server`: one `orderflow` child process on a free port, logging to a file.
- `http` / `Api`: HTTP/1.1 with a timeout per call via `http.client`; never raises for an
  HTTP status or a network error (a `Reply` with `status=None` is "no answer").
- `PgDatabase`, `pg_stop`, `pg_start`: PostgreSQL 15 on 127.0.0.1:5432, user postgres.
- `Ledger`, `client_loop`, `audit`: clients that create and pay orders with
  Idempotency-Keys, what each request got, and the audit of every acknowledged response.
"""
from __future__ import annotations

import contextlib
import http.client as httpclient
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import traceback
import uuid
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Callable, Iterable

REPO = Path(__file__).resolve().parents[2]
ADMIN_KEY = "faults-admin-key-" + uuid.uuid4().hex[:20]
PG_HOST = "127.0.0.1"
PG_PORT = 5432
PG_SERVER_URL = f"postgres://postgres@{PG_HOST}:{PG_PORT}"
STOREFRONT_ORDERS = "/v1/storefront/orders"


class ScenarioFailed(Exception):
    """Raised to stop a scenario early; the message is its reason."""


# ---------------------------------------------------------------------------------------
# HTTP
# ---------------------------------------------------------------------------------------


@dataclass
class Reply:
    status: int | None  # None: no answer (refused, reset, timed out)
    headers: dict[str, str] = field(default_factory=dict)
    text: str = ""
    elapsed: float = 0.0
    error: str | None = None

    @property
    def body(self) -> Any:
        try:
            return json.loads(self.text)
        except ValueError:
            return None

    @property
    def problem_type(self) -> str:
        body = self.body
        return str(body.get("type", "")) if isinstance(body, dict) else ""

    @property
    def is_problem_json(self) -> bool:
        return self.headers.get("content-type", "").startswith("application/problem+json")

    @property
    def replayed(self) -> bool:
        return self.headers.get("idempotent-replayed", "").lower() == "true"

    def short(self) -> str:
        if self.status is None:
            return f"no answer ({self.error}) after {self.elapsed:.2f}s"
        return f"{self.status} {self.problem_type or ''} {self.text[:200]!r} after {self.elapsed:.2f}s"


def http(port: int, method: str, path: str, body: Any = None, headers: dict | None = None,
         timeout: float = 15.0, auth: bool = True) -> Reply:
    """One request on a fresh connection. Network errors and timeouts give status None."""
    hdrs = {"Connection": "close"}
    if auth:
        hdrs["Authorization"] = f"Bearer {ADMIN_KEY}"
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        hdrs["Content-Type"] = "application/json"
    hdrs.update(headers or {})
    started = time.monotonic()
    conn = httpclient.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=data, headers=hdrs)
        resp = conn.getresponse()
        text = resp.read().decode("utf-8", "replace")
        return Reply(resp.status, {k.lower(): v for k, v in resp.getheaders()}, text,
                     time.monotonic() - started)
    except (OSError, httpclient.HTTPException) as e:
        return Reply(None, elapsed=time.monotonic() - started, error=f"{type(e).__name__}: {e}")
    finally:
        conn.close()


class Api:
    def __init__(self, port: int, timeout: float = 15.0):
        self.port = port
        self.timeout = timeout

    def call(self, method: str, path: str, body: Any = None, headers: dict | None = None,
             timeout: float | None = None) -> Reply:
        return http(self.port, method, path, body, headers, timeout or self.timeout)

    def get(self, path: str, **kw) -> Reply:
        return self.call("GET", path, **kw)

    def post(self, path: str, body: Any = None, **kw) -> Reply:
        return self.call("POST", path, body if body is not None else {}, **kw)

    def put(self, path: str, body: Any, **kw) -> Reply:
        return self.call("PUT", path, body, **kw)

    def must(self, reply: Reply, status: int, what: str) -> Any:
        if reply.status != status:
            raise ScenarioFailed(f"{what}: expected {status}, got {reply.short()}")
        return reply.body

    def list_all(self, path: str, params: str = "") -> list:
        items: list = []
        cursor = None
        while True:
            q = f"?limit=200{params}" + (f"&cursor={cursor}" if cursor else "")
            page = self.must(self.get(path + q), 200, f"GET {path}")
            items.extend(page["data"])
            cursor = page.get("next_cursor")
            if not cursor:
                return items

    def order(self, order_id: str) -> Reply:
        return self.get(f"/v1/orders/{order_id}")

    def history(self, order_id: str) -> list:
        return self.list_all(f"/v1/orders/{order_id}/history")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def unavailable_problem(reply: Reply) -> str | None:
    """None when `reply` is a proper 503 (problem+json, type ending /storage-full,
    /unavailable, or /request-timeout when the request timeout passed first; integer
    Retry-After); otherwise what is wrong with it."""
    wrong = []
    if reply.status != 503:
        return f"status {reply.status}"
    if not reply.is_problem_json:
        wrong.append(f"content-type {reply.headers.get('content-type')!r}")
    if not reply.problem_type.endswith(("/storage-full", "/unavailable", "/request-timeout")):
        wrong.append(f"type {reply.problem_type!r}")
    if not reply.headers.get("retry-after", "").strip().isdigit():
        wrong.append(f"Retry-After {reply.headers.get('retry-after')!r}")
    return ", ".join(wrong) or None


def parse_ts(text: str) -> float:
    """RFC 3339 (UTC, 'Z') to epoch seconds."""
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


# ---------------------------------------------------------------------------------------
# Processes
# ---------------------------------------------------------------------------------------


def tail(path: Path, lines: int = 30) -> str:
    try:
        data = Path(path).read_bytes()[-64 * 1024:].decode("utf-8", "replace")
    except OSError:
        return ""
    return "\n".join(data.splitlines()[-lines:])


class Server:
    """One orderflow process. `start()` waits until /readyz is 200 (bounded)."""

    def __init__(self, bin_path: str, workdir: Path, name: str, database_url: str,
                 env: dict | None = None, port: int | None = None):
        self.bin = bin_path
        self.name = name
        self.port = port or free_port()
        self.log = Path(workdir) / f"{name}.log"
        self.env = dict(os.environ)
        self.env.update({
            "ORDERFLOW_ADDR": f"127.0.0.1:{self.port}",
            "DATABASE_URL": database_url,
            "ORDERFLOW_ADMIN_KEY": ADMIN_KEY,
            "ORDERFLOW_RATE_LIMIT": "0",
            "ORDERFLOW_LOG": "warn",
            "ORDERFLOW_LOG_FORMAT": "text",
            "ORDERFLOW_SEED": "true",
        })
        self.env.update(env or {})
        self.proc: subprocess.Popen | None = None
        self.api = Api(self.port)
        self.starts = 0

    def spawn(self) -> "Server":
        with open(self.log, "ab") as out:
            out.write(f"---- start #{self.starts + 1} at {time.strftime('%H:%M:%S')} ----\n".encode())
            out.flush()
            self.proc = subprocess.Popen([self.bin, "serve"], env=self.env, stdin=subprocess.DEVNULL,
                                         stdout=out, stderr=subprocess.STDOUT, cwd=self.log.parent,
                                         start_new_session=True)
        self.starts += 1
        return self

    def start(self, timeout: float = 60.0) -> "Server":
        self.spawn()
        self.wait_ready(timeout)
        return self

    def wait_ready(self, timeout: float = 60.0) -> float:
        started = time.monotonic()
        while True:
            if self.proc is not None and self.proc.poll() is not None:
                raise ScenarioFailed(f"{self.name} exited with code {self.proc.returncode} before it was "
                                     f"ready; log:\n{tail(self.log, 25)}")
            if http(self.port, "GET", "/readyz", timeout=2, auth=False).status == 200:
                return time.monotonic() - started
            if time.monotonic() - started > timeout:
                raise ScenarioFailed(f"{self.name} not ready within {timeout:.0f}s; log:\n{tail(self.log, 25)}")
            time.sleep(0.1)

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def signal(self, sig: int) -> None:
        if self.alive():
            os.kill(self.proc.pid, sig)

    def kill9(self) -> None:
        if self.alive():
            os.kill(self.proc.pid, signal.SIGKILL)
        if self.proc is not None:
            self.proc.wait()

    def stop(self, timeout: float = 45.0) -> int | None:
        """SIGTERM and wait (SIGKILL after `timeout`); the exit code."""
        if self.proc is None:
            return None
        if self.alive():
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill9()
        return self.proc.returncode

    def restart(self, timeout: float = 60.0) -> "Server":
        self.stop()
        return self.start(timeout)


# ---------------------------------------------------------------------------------------
# PostgreSQL
# ---------------------------------------------------------------------------------------


def psql(sql: str, db: str = "postgres", check: bool = True) -> str:
    out = subprocess.run(["psql", "-X", "-qAt", "-v", "ON_ERROR_STOP=1", "-h", PG_HOST, "-p", str(PG_PORT),
                          "-U", "postgres", "-d", db, "-c", sql],
                         capture_output=True, text=True, timeout=60)
    if check and out.returncode != 0:
        raise ScenarioFailed(f"psql {sql!r}: {out.stderr.strip()}")
    return out.stdout


def pg_ready() -> bool:
    return subprocess.run(["pg_isready", "-q", "-h", PG_HOST, "-p", str(PG_PORT)]).returncode == 0


def pg_ctl(action: str) -> None:
    versions = sorted(os.listdir("/etc/postgresql"))
    if not versions:
        raise ScenarioFailed("no PostgreSQL cluster under /etc/postgresql")
    out = subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", versions[0], "main", action],
                         capture_output=True, text=True, timeout=120)
    if out.returncode != 0 and not (action == "start" and "already running" in out.stderr):
        raise ScenarioFailed(f"pg_ctlcluster {action}: {out.stderr.strip() or out.stdout.strip()}")


def pg_stop() -> None:
    pg_ctl("stop")


def pg_start(wait: float = 60.0) -> None:
    if not pg_ready():
        pg_ctl("start")
    deadline = time.monotonic() + wait
    while not pg_ready():
        if time.monotonic() > deadline:
            raise ScenarioFailed("PostgreSQL did not come back")
        time.sleep(0.3)


class PgDatabase:
    """A fresh database `faults_<label>_<random>`; dropped (WITH FORCE) on close."""

    def __init__(self, label: str):
        pg_start()
        self.name = f"faults_{label}_{uuid.uuid4().hex[:10]}".lower().replace("-", "_")
        psql(f"CREATE DATABASE {self.name}")
        self.url = f"{PG_SERVER_URL}/{self.name}"

    def close(self) -> None:
        try:
            pg_start()
            psql(f"DROP DATABASE IF EXISTS {self.name} WITH (FORCE)")
        except Exception as e:  # noqa: BLE001 -- best effort, reported
            print(f"    (could not drop database {self.name}: {e})", flush=True)


def sqlite_url(path: Path) -> str:
    return f"sqlite://{path}?mode=rwc"


# ---------------------------------------------------------------------------------------
# Scenario context
# ---------------------------------------------------------------------------------------


class Scenario:
    def __init__(self, name: str, bin_path: str):
        self.name = name
        self.bin = bin_path
        self.failures: list[str] = []
        self.skipped: str | None = None
        self.stack = contextlib.ExitStack()
        self.workdir = Path(tempfile.mkdtemp(prefix=f"orderflow-faults-{name}-"))
        self.servers: list[Server] = []
        if os.environ.get("FAULTS_KEEP"):
            self.stack.callback(print, f"  (files kept in {self.workdir})")
        else:
            self.stack.callback(shutil.rmtree, self.workdir, True)

    # -- reporting --
    def ack(self, line: str) -> None:
        print(f"  acknowledged: {line}", flush=True)

    def found(self, line: str) -> None:
        print(f"  found: {line}", flush=True)

    def note(self, line: str) -> None:
        print(f"  .. {line}", flush=True)

    def fail(self, reason: str) -> None:
        self.failures.append(reason)
        print(f"  ASSERTION FAILED: {reason}", flush=True)

    def expect(self, ok: bool, reason: str) -> bool:
        if not ok:
            self.fail(reason)
        return ok

    def skip(self, reason: str) -> None:
        self.skipped = reason
        print(f"  skipped: {reason}", flush=True)

    # -- resources --
    def server(self, name: str, database_url: str, env: dict | None = None) -> Server:
        s = Server(self.bin, self.workdir, name, database_url, env)
        self.servers.append(s)
        self.stack.callback(s.kill9)
        return s

    def pg_database(self, label: str) -> PgDatabase:
        db = PgDatabase(label)
        self.stack.callback(db.close)
        return db

    def print_logs(self, lines: int = 15) -> None:
        """The server logs' distinct errors (without the per-response access lines), then
        their last lines."""
        for s in self.servers:
            try:
                all_lines = s.log.read_text(errors="replace").splitlines()
            except OSError:
                continue
            errors, seen = [], set()
            for line in all_lines:
                if ("ERROR" in line or "panicked" in line) and "tower_http::trace::on_failure" not in line:
                    shape = line.split("Z ", 1)[-1][:120]
                    if shape not in seen:
                        seen.add(shape)
                        errors.append(line)
            if errors:
                print(f"  ---- distinct errors in {s.name}.log ({len(errors)}) ----")
                print("\n".join("    " + line[:400] for line in errors[:15]))
            banner = ("orderflow is listening", "API docs:", "Admin console:")
            text = "\n".join(line for line in tail(s.log, lines + 3).splitlines()
                             if not any(b in line for b in banner))
            if text.strip() and (errors or len(self.servers) <= 2 or (s.proc and s.proc.poll() not in (None, 0, -9, -15))):
                print(f"  ---- last lines of {s.name}.log ----")
                print("\n".join("    " + line[:400] for line in text.splitlines()))

    def close(self) -> None:
        self.stack.close()


# ---------------------------------------------------------------------------------------
# Orders, flows
# ---------------------------------------------------------------------------------------


def order_body(merchant: str, tag: str) -> dict:
    """An order for 2 x 50.00 (10000 minor); `tag` (unique per create) is the street."""
    return {
        "merchant_id": merchant,
        "currency": "CNY",
        "items": [{"sku": "beef", "name": "Beef slices", "quantity": 2, "unit_price_minor": 5000}],
        "address": {"recipient": "Fault Injector", "phone": "13800000000", "street": tag},
    }


PAY_BODY = {"payment_method": "alipay"}  # alipay-discount: pay 80%, 10000 -> 8000
FINAL_AMOUNT = 8000


def short_timeout_flow(seconds: int) -> dict:
    flow = json.loads((REPO / "seeds/platform/order-flow/default.json").read_text())
    payment = [s for s in flow["steps"] if s["name"] == "payment"]
    if len(payment) != 1:
        raise ScenarioFailed("the seed's default flow has no single `payment` step")
    payment[0]["timeoutSeconds"] = seconds
    return flow


def publish_flow(api: Api, merchant: str, flow: dict) -> int:
    base = f"/v1/merchants/{merchant}/metadata/order-flow/default"
    api.must(api.put(f"{base}/draft", flow), 200, "save the order-flow draft")
    return api.must(api.post(f"{base}/publish", {}), 201, "publish the order-flow")["version"]


# ---------------------------------------------------------------------------------------
# Load with a ledger of every request
# ---------------------------------------------------------------------------------------


@dataclass
class Attempt:
    kind: str  # "create" | "pay"
    tag: str  # the order's tag (its street), unique per create
    key: str  # Idempotency-Key
    path: str
    body: dict
    started: float  # time.time()
    ended: float
    reply: Reply
    order_id: str | None = None

    @property
    def acked(self) -> bool:
        return self.reply.status == (201 if self.kind == "create" else 200)

    @property
    def unanswered(self) -> bool:
        return self.reply.status is None


class Ledger:
    """Every request the clients sent, and what each got. Thread-safe."""

    def __init__(self, label: str):
        self.label = f"{label}-{uuid.uuid4().hex[:6]}"
        self.attempts: list[Attempt] = []
        self.lock = threading.Lock()

    def send(self, api: Api, kind: str, tag: str, path: str, body: dict,
             order_id: str | None = None, timeout: float | None = None) -> Attempt:
        key = f"{tag}-{kind}"
        started = time.time()
        reply = api.post(path, body, headers={"Idempotency-Key": key}, timeout=timeout)
        a = Attempt(kind, tag, key, path, body, started, time.time(), reply, order_id)
        if kind == "create" and reply.status == 201:
            a.order_id = (reply.body or {}).get("order_id")
        with self.lock:
            self.attempts.append(a)
        return a

    def snapshot(self) -> list[Attempt]:
        with self.lock:
            return list(self.attempts)

    def counts(self) -> dict[str, int]:
        c: dict[str, int] = defaultdict(int)
        for a in self.snapshot():
            c[f"{a.kind} {a.reply.status if a.reply.status is not None else 'no-answer'}"] += 1
        return dict(sorted(c.items()))

    def summary(self) -> str:
        c = self.counts()
        return ", ".join(f"{k}: {v}" for k, v in c.items()) or "nothing"


def client_loop(api: Api, ledger: Ledger, client: int, stop: threading.Event, merchant: str,
                stop_on_no_answer: bool = False, pay: bool = True, timeout: float | None = None,
                pause_after_refusal: float = 0.1) -> None:
    """Creates (and pays) orders until `stop` is set, each request with its own
    Idempotency-Key. With `stop_on_no_answer`, returns at the first request without answer
    (the process is gone)."""
    n = 0
    while not stop.is_set():
        n += 1
        tag = f"{ledger.label}-c{client}-n{n}"
        a = ledger.send(api, "create", tag, STOREFRONT_ORDERS, order_body(merchant, tag), timeout=timeout)
        if a.unanswered and stop_on_no_answer:
            return
        if not a.acked or not a.order_id:
            time.sleep(pause_after_refusal)
            continue
        if not pay or stop.is_set():
            continue
        p = ledger.send(api, "pay", tag, f"{STOREFRONT_ORDERS}/{a.order_id}/payment", PAY_BODY,
                        order_id=a.order_id, timeout=timeout)
        if p.unanswered and stop_on_no_answer:
            return
        if not p.acked:
            time.sleep(pause_after_refusal)


class Clients:
    """N `client_loop` threads; `stop()` sets the event and joins them."""

    def __init__(self, n: int, api: Api, ledger: Ledger, merchant: str, **kw):
        self.stop_event = threading.Event()
        self.threads = [threading.Thread(target=client_loop, args=(api, ledger, i, self.stop_event, merchant),
                                         kwargs=kw, daemon=True) for i in range(n)]
        for t in self.threads:
            t.start()

    def stop(self, join_timeout: float = 60.0) -> None:
        self.stop_event.set()
        self.join(join_timeout)

    def join(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        for t in self.threads:
            t.join(max(0.0, deadline - time.monotonic()))


def wait_until(pred: Callable[[], bool], timeout: float, interval: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(interval)
    return pred()


def check_replies(sc: Scenario, attempts: Iterable[Attempt], allow_unanswered: bool, max_seconds: float | None = None,
                  what: str = "") -> None:
    """Every reply is 201/200 or a proper 503; no 5xx other than that, no other 4xx, and,
    unless allowed, every request got an answer (within `max_seconds`)."""
    bad_503, other, unanswered, slow = [], [], [], []
    for a in attempts:
        r = a.reply
        if r.status is None:
            unanswered.append(a)
        elif a.acked:
            pass
        elif r.status == 503:
            if unavailable_problem(r):
                bad_503.append(a)
        else:
            other.append(a)
        if max_seconds is not None and r.elapsed > max_seconds:
            slow.append(a)
    if bad_503:
        kinds: dict[str, int] = defaultdict(int)
        for a in bad_503:
            kinds[f"{a.reply.problem_type.rsplit('/', 1)[-1] or a.reply.headers.get('content-type')} "
                  f"Retry-After={a.reply.headers.get('retry-after')} detail={(a.reply.body or {}).get('detail')!r}"] += 1
        sc.note("improper 503s: " + "; ".join(f"{v} x {k}" for k, v in kinds.items()))
    for label, bad in (("503 without a proper problem+json/Retry-After", bad_503),
                       ("unexpected status (not 201/200/503)", other),
                       ("no answer", [] if allow_unanswered else unanswered),
                       (f"answered after more than {max_seconds}s", slow)):
        if bad:
            ex = bad[0]
            details = "" if label != "503 without a proper problem+json/Retry-After" else f" ({unavailable_problem(ex.reply)})"
            sc.fail(f"{what}{len(bad)} request(s) {label}; e.g. {ex.kind} {ex.tag}: {ex.reply.short()}{details}")


# ---------------------------------------------------------------------------------------
# Audit
# ---------------------------------------------------------------------------------------


def event_counts(history: list) -> dict[str, int]:
    c: dict[str, int] = defaultdict(int)
    for e in history:
        c[e["type"]] += 1
        if e["type"] in ("TaskSucceeded", "TaskTimedOut") and e.get("step") == "payment":
            c[f"{e['type']}:payment"] += 1
    return c


def contiguous(history: list) -> bool:
    return [e.get("seq") for e in history] == list(range(1, len(history) + 1))


def parallel(fn: Callable, items: list, workers: int = 8) -> list:
    with ThreadPoolExecutor(workers) as ex:
        return list(ex.map(fn, items))


def audit(sc: Scenario, api: Api, ledger: Ledger, merchant: str, when: str) -> dict:
    """Checks every acknowledged response against the server's state:
    - each order answered 201 exists, under the id it was given;
    - an order answered 200 to its payment is completed at 8000, with one TaskSucceeded for
      the payment step and one ExecutionSucceeded;
    - an order whose payment was never attempted, or refused with a 4xx, awaits payment;
      one whose payment got no answer or a 503 awaits payment or is completed (once);
    - no order exists twice for one create (tag), none exists that nobody asked for.
    Returns {tag: stored order}."""
    attempts = ledger.snapshot()
    stored = api.list_all(f"/v1/merchants/{merchant}/orders")
    by_tag: dict[str, list] = defaultdict(list)
    for o in stored:
        by_tag[str((o.get("address") or {}).get("street"))].append(o)
    tags: dict[str, list[Attempt]] = defaultdict(list)
    for a in attempts:
        tags[a.tag].append(a)

    lost, wrong_id, dup, unknown, wrong_status = [], [], [], [], []
    for tag, orders in by_tag.items():
        if tag not in tags:
            unknown.append(tag)
        if len(orders) > 1:
            dup.append(f"{tag} x{len(orders)}")
    to_check: list[tuple[str, str]] = []  # (order_id, expected: completed|awaiting|either)
    acked_creates = acked_pays = 0
    refused_but_applied = 0  # answered 503, applied anyway (ambiguous like a gateway timeout)
    for tag, atts in tags.items():
        creates = [a for a in atts if a.kind == "create"]
        pays = [a for a in atts if a.kind == "pay"]
        acked_ids = {a.order_id for a in creates if a.acked}
        acked_creates += bool(acked_ids)
        paid = any(a.acked for a in pays)
        acked_pays += paid
        orders = by_tag.get(tag, [])
        if len(acked_ids) > 1:
            wrong_id.append(f"{tag}: two 201s with different ids {sorted(acked_ids)}")
        if acked_ids and not orders:
            lost.append(f"{tag} ({next(iter(acked_ids))})")
            continue
        if not orders:
            continue
        o = orders[0]
        if not acked_ids and any(a.reply.status == 503 for a in creates):
            refused_but_applied += 1
        if not paid and o["status"] == "completed" and any(a.reply.status == 503 for a in pays):
            refused_but_applied += 1
        if acked_ids and o["order_id"] not in acked_ids:
            wrong_id.append(f"{tag}: answered {sorted(acked_ids)}, stored {o['order_id']}")
        if paid:
            expected = "completed"
        elif any(a.reply.status is None or a.reply.status >= 500 for a in pays):
            expected = "either"
        else:
            expected = "awaiting"
        ok = {"completed": o["status"] == "completed" and o.get("final_amount_minor") == FINAL_AMOUNT,
              "awaiting": o["status"] == "awaiting_payment",
              "either": o["status"] in ("awaiting_payment", "completed")}[expected]
        if not ok:
            wrong_status.append(f"{o['order_id']} is {o['status']} (final {o.get('final_amount_minor')}), "
                                f"expected {expected}")
        to_check.append((o["order_id"], "completed" if o["status"] == "completed" else "awaiting"))

    def history_problem(item: tuple[str, str]) -> str | None:
        oid, status = item
        try:
            h = api.history(oid)
        except ScenarioFailed as e:
            return f"{oid}: {e}"
        c = event_counts(h)
        if not contiguous(h):
            return f"{oid}: history seq is not 1..n"
        if status == "completed":
            if c["TaskSucceeded:payment"] != 1 or c["ExecutionSucceeded"] != 1:
                return (f"{oid}: completed with {c['TaskSucceeded:payment']} TaskSucceeded(payment), "
                        f"{c['ExecutionSucceeded']} ExecutionSucceeded")
        elif c["TaskSucceeded:payment"] != 0 or c["ExecutionSucceeded"] != 0:
            return f"{oid}: awaiting payment yet has {dict(c)}"
        return None

    bad_history = [p for p in parallel(history_problem, to_check) if p]
    completed = sum(1 for _, s in to_check if s == "completed")
    sc.found(f"{when}: {len(stored)} orders stored ({completed} completed); {acked_creates} acknowledged "
             f"creates, {acked_pays} acknowledged payments checked"
             + (f"; {refused_but_applied} request(s) answered 503 were applied nonetheless" if refused_but_applied else ""))
    for label, items in (("acknowledged order(s) lost", lost), ("order id mismatch(es)", wrong_id),
                         ("duplicate order(s) for one create", dup),
                         ("order(s) nobody created", unknown),
                         ("order(s) in a status the acknowledged responses do not allow", wrong_status),
                         ("bad history(ies)", bad_history)):
        if items:
            sc.fail(f"{when}: {len(items)} {label}: {'; '.join(items[:5])}")
    return {tag: orders[0] for tag, orders in by_tag.items()}


def retry_unanswered(sc: Scenario, api: Api, ledger: Ledger, stored: dict,
                     select: Callable[[Attempt], bool] = lambda a: a.unanswered) -> dict:
    """Sends every selected request again with the same Idempotency-Key and body. A create
    must be replayed (201, same id) when the order was stored, or be processed now (201, new)
    when not; a payment must answer 200 completed (replayed when the order was already
    completed). A 409 idempotency-key-in-flight is a defect: nothing is processing it.
    Returns counts by outcome."""
    outcome: dict[str, int] = defaultdict(int)
    in_flight: list[str] = []
    for a in [a for a in ledger.snapshot() if select(a)]:
        was = stored.get(a.tag)
        r = api.post(a.path, a.body, headers={"Idempotency-Key": a.key})
        label = f"{a.kind} {r.status}{' replayed' if r.replayed else ''}"
        if r.status == 409:
            label += f" {r.problem_type.rsplit('/', 1)[-1]}"
        label += f" [order was {'not stored' if was is None else was['status']}]"
        outcome[label] += 1
        if r.status == 409 and r.problem_type.endswith("/idempotency-key-in-flight"):
            in_flight.append(f"{a.kind} {a.tag} (key {a.key})")
            continue
        retry = Attempt(a.kind, a.tag, a.key, a.path, a.body, time.time(), time.time(), r, a.order_id)
        if a.kind == "create":
            if r.status != 201:
                sc.fail(f"retried create {a.tag}: {r.short()}")
                continue
            retry.order_id = r.body.get("order_id")
            if was is not None:
                sc.expect(r.replayed and retry.order_id == was["order_id"],
                          f"retried create {a.tag}: order {was['order_id']} was stored, yet the retry "
                          f"answered {retry.order_id} replayed={r.replayed}")
            else:
                sc.expect(not r.replayed, f"retried create {a.tag}: replayed an order that is not stored")
        else:
            ok = r.status == 200 and (r.body or {}).get("status") == "completed"
            if sc.expect(ok, f"retried payment {a.tag}: {r.short()}") and was is not None \
                    and was["status"] == "completed":
                sc.expect(r.replayed, f"retried payment {a.tag}: the order was already completed, yet the "
                                      f"retry was not a replay")
        with ledger.lock:
            ledger.attempts.append(retry)
    sc.found("retries of requests that got no answer: "
             + (", ".join(f"{k}: {v}" for k, v in sorted(outcome.items())) or "none to retry"))
    if in_flight:
        sc.fail(f"{len(in_flight)} retried request(s) answered 409 idempotency-key-in-flight although "
                f"nothing processes them (the process that claimed the key was killed): "
                f"{'; '.join(in_flight[:4])}")
    return dict(outcome)


def run_main(fn: Callable[[Scenario], None], sc: Scenario) -> None:
    """Runs a scenario body; an exception is a failure with its reason."""
    try:
        fn(sc)
    except ScenarioFailed as e:
        sc.fail(str(e))
    except Exception:  # noqa: BLE001 -- any crash of the harness is a failure, with its trace
        sc.fail("harness error:\n" + traceback.format_exc())
