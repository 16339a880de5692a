"""Timer throughput: N orders wait for payment; every payment timeout is made due at once
while the server is down; after a restart, how long until all N orders are canceled?
Also prints the server's RSS with N orders waiting.

    python3 tests/perf/timers.py target/release/orderflow 10000
"""
import concurrent.futures, json, os, socket, sqlite3, subprocess, sys, tempfile, time, urllib.request

BIN = sys.argv[1]
N = int(sys.argv[2]) if len(sys.argv) > 2 else 10000
WORK = tempfile.mkdtemp(prefix="orderflow-timers-")
DB = os.path.join(WORK, "of.db")
KEY = "timer-admin-key-0123456"
with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    PORT = s.getsockname()[1]
env=dict(os.environ, ORDERFLOW_ADDR=f"127.0.0.1:{PORT}", DATABASE_URL=f"sqlite://{DB}?mode=rwc", ORDERFLOW_ADMIN_KEY=KEY, ORDERFLOW_RATE_LIMIT="0", ORDERFLOW_LOG="warn")
def start():
    p=subprocess.Popen([BIN], env=env, stdout=subprocess.DEVNULL, stderr=open(os.path.join(WORK, "server.log"), "a"))
    for _ in range(100):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{PORT}/readyz"); return p
        except Exception: time.sleep(0.1)
    raise SystemExit("not ready")
def call(method, path, body=None):
    req=urllib.request.Request(f"http://127.0.0.1:{PORT}{path}", method=method, data=json.dumps(body).encode() if body is not None else None, headers={"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"})
    with urllib.request.urlopen(req) as r: return json.load(r)
p=start()
flow=json.load(open(os.path.join(os.path.dirname(__file__), "../../seeds/platform/order-flow/default.json"))); flow["steps"][1]["timeoutSeconds"]=3600
call("PUT","/v1/merchants/haidilao/metadata/order-flow/default/draft",flow); call("POST","/v1/merchants/haidilao/metadata/order-flow/default/publish",{})
order={"merchant_id":"haidilao","currency":"CNY","items":[{"sku":"beef","name":"Beef","quantity":2,"unit_price_minor":5000}],"address":{"recipient":"Li","phone":"13800000000","street":"1 Road"}}
t=time.time()
with concurrent.futures.ThreadPoolExecutor(16) as ex: list(ex.map(lambda _: call("POST","/v1/storefront/orders",order), range(N)))
print(f"created {N} waiting orders in {time.time()-t:.1f}s", flush=True)
rss=int(open(f"/proc/{p.pid}/status").read().split("VmRSS:")[1].split()[0])//1024
print(f"server RSS with {N} orders waiting: {rss} MB", flush=True)
p.kill(); p.wait()
# Make every payment timeout due now: all of them fall due together.
c=sqlite3.connect(DB); c.execute("UPDATE timers SET due_at = ? WHERE purpose = 'step_timeout'", ("2026-01-01T00:00:00Z",)); c.commit(); c.close()
t=time.time(); p=start(); started=time.time()-t
while True:
    c=sqlite3.connect(DB); n=c.execute("SELECT count(*) FROM orders WHERE status='canceled' AND cancel_reason='payment_timeout'").fetchone()[0]; c.close()
    if n>=N or time.time()-t>120: break
    time.sleep(0.2)
print(f"{n} of {N} timeouts fired {time.time()-t:.1f}s after the restart (server ready after {started:.1f}s)", flush=True)
p.kill()
