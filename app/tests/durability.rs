//! Process-level durability tests: the real `orderflow` binary runs as a child process and
//! is killed (SIGKILL), restarted, run twice on one PostgreSQL, and stopped with SIGTERM.
//!
//! `two_instances_fire_each_timer_once` needs `ORDERFLOW_TEST_DATABASE_URL` (a PostgreSQL
//! server URL whose user may create databases, and `psql` on the PATH); without it, it is
//! skipped with a message.

use std::collections::{BTreeMap, HashSet};
use std::fs::File;
use std::future::Future;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};

/// The platform admin key every child process accepts (`ORDERFLOW_ADMIN_KEY`).
const ADMIN_KEY: &str = "durability-admin-key-0123456789abcdef";
const MERCHANT: &str = "haidilao";

// ---------------------------------------------------------------------------------------
// Harness: temp dirs, child processes, HTTP
// ---------------------------------------------------------------------------------------

/// A directory under the system temp dir, removed on drop unless the test failed (then its
/// logs stay for a post-mortem).
struct TempDir(PathBuf);

impl TempDir {
    fn new(label: &str) -> Self {
        let path = std::env::temp_dir().join(format!(
            "orderflow-durability-{label}-{}",
            uuid::Uuid::new_v4().simple()
        ));
        std::fs::create_dir_all(&path).expect("create temp dir");
        Self(path)
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("test files kept in {}", self.0.display());
        } else {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

/// A free TCP port on 127.0.0.1 (bound, read, released).
fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    listener.local_addr().expect("local addr").port()
}

/// The last `lines` lines of a file.
fn tail(path: &Path, lines: usize) -> String {
    let mut text = String::new();
    if let Ok(mut file) = File::open(path) {
        let len = file.metadata().map(|m| m.len()).unwrap_or(0);
        let _ = file.seek(SeekFrom::Start(len.saturating_sub(64 * 1024)));
        let mut bytes = Vec::new();
        let _ = file.read_to_end(&mut bytes);
        text = String::from_utf8_lossy(&bytes).into_owned();
    }
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// One `orderflow` child process. Dropping it kills the process (and, when the test is
/// failing, prints the tail of its log).
struct Server {
    name: String,
    child: Option<Child>,
    log: PathBuf,
    api: Api,
}

impl Server {
    /// Starts the binary on a free port and waits (bounded) until `GET /readyz` is 200.
    async fn start(name: &str, dir: &Path, database_url: &str, seed: bool) -> Server {
        let port = free_port();
        let log = dir.join(format!("{name}.log"));
        let out = File::options()
            .create(true)
            .append(true)
            .open(&log)
            .expect("open log file");
        let err = out.try_clone().expect("clone log file");
        let child = Command::new(env!("CARGO_BIN_EXE_orderflow"))
            .env("ORDERFLOW_ADDR", format!("127.0.0.1:{port}"))
            .env("DATABASE_URL", database_url)
            .env("ORDERFLOW_ADMIN_KEY", ADMIN_KEY)
            .env("ORDERFLOW_SEED", if seed { "true" } else { "false" })
            .env("ORDERFLOW_LOG", "warn")
            .env("ORDERFLOW_LOG_FORMAT", "text")
            .stdin(Stdio::null())
            .stdout(Stdio::from(out))
            .stderr(Stdio::from(err))
            .spawn()
            .expect("start the orderflow binary");
        let mut server = Server {
            name: name.to_owned(),
            child: Some(child),
            log,
            api: Api::new(format!("http://127.0.0.1:{port}")),
        };
        server.wait_ready().await;
        server
    }

    async fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        let probe = reqwest::Client::builder()
            .timeout(Duration::from_secs(2))
            .build()
            .expect("client");
        loop {
            if let Some(status) = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
            {
                panic!(
                    "{} exited before it was ready ({status}); log:\n{}",
                    self.name,
                    tail(&self.log, 60)
                );
            }
            if let Ok(response) = probe.get(self.api.url("/readyz")).send().await
                && response.status().as_u16() == 200
            {
                return;
            }
            if Instant::now() > deadline {
                panic!(
                    "{} was not ready within 30 s; log:\n{}",
                    self.name,
                    tail(&self.log, 60)
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    fn pid(&self) -> u32 {
        self.child.as_ref().expect("running child").id()
    }

    /// SIGKILL (on Unix) and reap.
    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
        if std::thread::panicking() {
            eprintln!(
                "---- last lines of {} ({}) ----\n{}\n----",
                self.name,
                self.log.display(),
                tail(&self.log, 40)
            );
        }
    }
}

/// A response, read whole.
struct Reply {
    status: u16,
    body: Value,
    text: String,
}

/// An HTTP client for one instance, authenticated as the platform admin.
#[derive(Clone)]
struct Api {
    base: String,
    client: reqwest::Client,
}

impl Api {
    fn new(base: String) -> Self {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .expect("client");
        Self { base, client }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    async fn send(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, &str)],
        body: Option<&Value>,
    ) -> Reply {
        let mut request = self
            .client
            .request(method.clone(), self.url(path))
            .bearer_auth(ADMIN_KEY)
            .query(query);
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request
            .send()
            .await
            .unwrap_or_else(|e| panic!("{method} {path} on {} failed: {e}", self.base));
        let status = response.status().as_u16();
        let text = response.text().await.expect("response body");
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        assert!(
            status < 500,
            "{method} {path} on {} answered {status} (a 5xx is a bug): {text}",
            self.base
        );
        Reply { status, body, text }
    }

    async fn get(&self, path: &str, query: &[(&str, &str)]) -> Reply {
        self.send(Method::GET, path, query, None).await
    }

    async fn post(&self, path: &str, body: &Value) -> Reply {
        self.send(Method::POST, path, &[], Some(body)).await
    }

    async fn put(&self, path: &str, body: &Value) -> Reply {
        self.send(Method::PUT, path, &[], Some(body)).await
    }

    /// Every item of a paginated list (follows `next_cursor`).
    async fn list_all(&self, path: &str, query: &[(&str, &str)]) -> Vec<Value> {
        let mut items = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut params: Vec<(&str, &str)> = query.to_vec();
            params.push(("limit", "200"));
            if let Some(cursor) = &cursor {
                params.push(("cursor", cursor));
            }
            let page = self.get(path, &params).await;
            assert_eq!(page.status, 200, "GET {path}: {}", page.text);
            items.extend(page.body["data"].as_array().expect("data array").clone());
            match page.body["next_cursor"].as_str() {
                Some(next) => cursor = Some(next.to_owned()),
                None => return items,
            }
        }
    }

    /// An order's whole history, every page.
    async fn history(&self, order_id: &str) -> Vec<Value> {
        self.list_all(&format!("/v1/orders/{order_id}/history"), &[])
            .await
    }

    async fn order(&self, order_id: &str) -> Value {
        let reply = self.get(&format!("/v1/orders/{order_id}"), &[]).await;
        assert_eq!(reply.status, 200, "GET order {order_id}: {}", reply.text);
        reply.body
    }
}

/// Runs `f(0..n)` with at most `concurrency` calls in flight; results in index order.
async fn run_concurrently<T, F, Fut>(n: usize, concurrency: usize, f: F) -> Vec<T>
where
    T: Send + 'static,
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = T> + Send + 'static,
{
    let f = Arc::new(f);
    let next = Arc::new(AtomicUsize::new(0));
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..concurrency.min(n).max(1) {
        let f = f.clone();
        let next = next.clone();
        workers.spawn(async move {
            let mut done = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                if i >= n {
                    return done;
                }
                done.push((i, f(i).await));
            }
        });
    }
    let mut results: Vec<(usize, T)> = Vec::with_capacity(n);
    while let Some(joined) = workers.join_next().await {
        match joined {
            Ok(done) => results.extend(done),
            Err(error) if error.is_panic() => std::panic::resume_unwind(error.into_panic()),
            Err(error) => panic!("worker failed: {error}"),
        }
    }
    results.sort_by_key(|(i, _)| *i);
    results.into_iter().map(|(_, t)| t).collect()
}

// ---------------------------------------------------------------------------------------
// Scenario helpers
// ---------------------------------------------------------------------------------------

/// The platform default flow with the payment step's timeout shortened.
fn short_timeout_flow(payment_timeout_seconds: u64) -> Value {
    let mut flow: Value = serde_json::from_str(include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../seeds/platform/order-flow/default.json"
    )))
    .expect("the seed's default flow parses");
    let payment = flow["steps"]
        .as_array_mut()
        .expect("steps")
        .iter_mut()
        .find(|s| s["name"] == "payment")
        .expect("the default flow has a payment step");
    assert_eq!(payment["timeoutSeconds"], 300, "the seed flow changed");
    payment["timeoutSeconds"] = json!(payment_timeout_seconds);
    flow
}

/// Publishes `flow` as haidilao's `order-flow/default`.
async fn publish_flow(api: &Api, flow: &Value) {
    let base = format!("/v1/merchants/{MERCHANT}/metadata/order-flow/default");
    let draft = api.put(&format!("{base}/draft"), flow).await;
    assert_eq!(draft.status, 200, "save flow draft: {}", draft.text);
    let published = api.post(&format!("{base}/publish"), &json!({})).await;
    assert_eq!(published.status, 201, "publish flow: {}", published.text);
}

fn order_request(i: usize) -> Value {
    json!({
        "merchant_id": MERCHANT,
        "currency": "CNY",
        "items": [{"sku": "beef", "name": "Beef slices", "quantity": 2, "unit_price_minor": 5000}],
        "address": {
            "recipient": format!("Customer {i}"),
            "phone": "13800000000",
            "street": format!("{i} Test Road"),
        },
    })
}

/// Creates an order; returns its id.
async fn create_order(api: &Api, i: usize) -> String {
    let created = api.post("/v1/storefront/orders", &order_request(i)).await;
    assert_eq!(created.status, 201, "create order {i}: {}", created.text);
    assert_eq!(
        created.body["status"], "awaiting_payment",
        "{}",
        created.text
    );
    assert_eq!(created.body["amount_minor"], 10000, "{}", created.text);
    created.body["order_id"]
        .as_str()
        .expect("order_id")
        .to_owned()
}

/// Creates an order and pays it with Alipay (80%): completed at 8000.
async fn create_and_pay(api: &Api, i: usize) -> String {
    let id = create_order(api, i).await;
    let paid = api
        .post(
            &format!("/v1/storefront/orders/{id}/payment"),
            &json!({"payment_method": "alipay"}),
        )
        .await;
    assert_eq!(paid.status, 200, "pay order {id}: {}", paid.text);
    assert_eq!(paid.body["status"], "completed", "{}", paid.text);
    assert_eq!(paid.body["final_amount_minor"], 8000, "{}", paid.text);
    id
}

/// How many events of each type an order's history holds.
fn event_counts(history: &[Value]) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for event in history {
        *counts
            .entry(event["type"].as_str().unwrap_or("?").to_owned())
            .or_insert(0) += 1;
    }
    counts
}

fn count(counts: &BTreeMap<String, usize>, kind: &str) -> usize {
    counts.get(kind).copied().unwrap_or(0)
}

/// Asserts an order timed out at payment exactly once: canceled, `payment_timeout`, one
/// `TaskTimedOut`, one `ExecutionSucceeded`, and a gap-free history.
async fn assert_timed_out_once(api: &Api, id: &str) {
    let order = api.order(id).await;
    assert_eq!(order["status"], "canceled", "order {id}: {order}");
    assert_eq!(
        order["cancel_reason"], "payment_timeout",
        "order {id}: {order}"
    );
    let history = api.history(id).await;
    assert_contiguous(id, &history);
    let counts = event_counts(&history);
    assert_eq!(
        count(&counts, "TaskTimedOut"),
        1,
        "order {id} must time out exactly once; events: {counts:?}"
    );
    assert_eq!(
        count(&counts, "ExecutionSucceeded"),
        1,
        "order {id} must end exactly once; events: {counts:?}"
    );
    assert_eq!(
        count(&counts, "ExecutionFailed"),
        0,
        "order {id}; events: {counts:?}"
    );
}

/// Asserts a paid order is still completed at 8000 with one `ExecutionSucceeded` and no
/// timeout.
async fn assert_completed_once(api: &Api, id: &str) {
    let order = api.order(id).await;
    assert_eq!(order["status"], "completed", "order {id}: {order}");
    assert_eq!(order["final_amount_minor"], 8000, "order {id}: {order}");
    let history = api.history(id).await;
    assert_contiguous(id, &history);
    let counts = event_counts(&history);
    assert_eq!(
        count(&counts, "ExecutionSucceeded"),
        1,
        "order {id}; events: {counts:?}"
    );
    assert_eq!(
        count(&counts, "TaskTimedOut"),
        0,
        "order {id}; events: {counts:?}"
    );
}

/// The history's `seq` runs 1, 2, 3… without gaps or repeats.
fn assert_contiguous(id: &str, history: &[Value]) {
    let seqs: Vec<i64> = history.iter().filter_map(|e| e["seq"].as_i64()).collect();
    let expected: Vec<i64> = (1..=history.len() as i64).collect();
    assert_eq!(seqs, expected, "order {id}: history seq is not 1..n");
}

/// Polls (bounded) until no order of the merchant awaits payment or is processing.
async fn wait_until_settled(api: &Api, bound: Duration) {
    let deadline = Instant::now() + bound;
    loop {
        let mut open = 0;
        for status in ["awaiting_payment", "processing"] {
            open += api
                .list_all(
                    &format!("/v1/merchants/{MERCHANT}/orders"),
                    &[("status", status)],
                )
                .await
                .len();
        }
        if open == 0 {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{open} orders still open after {bound:?}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// Asserts the merchant holds exactly `expected` orders (nothing lost, nothing extra).
async fn assert_order_set(api: &Api, expected: &[String]) {
    let listed = api
        .list_all(&format!("/v1/merchants/{MERCHANT}/orders"), &[])
        .await;
    let listed: Vec<String> = listed
        .iter()
        .map(|o| o["order_id"].as_str().expect("order_id").to_owned())
        .collect();
    let unique: HashSet<&String> = listed.iter().collect();
    assert_eq!(unique.len(), listed.len(), "the order list has duplicates");
    let expected: HashSet<&String> = expected.iter().collect();
    assert_eq!(
        unique, expected,
        "the merchant's orders differ from those created"
    );
}

// ---------------------------------------------------------------------------------------
// 1. SIGKILL with timers pending, restart: every timer fires once, nothing is lost
// ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn crash_and_restart_loses_nothing() {
    const PAID: usize = 100;
    const WAITING: usize = 100;
    const TIMEOUT_S: u64 = 4;
    let started = Instant::now();
    let dir = TempDir::new("crash");
    let database_url = format!("sqlite://{}?mode=rwc", dir.path().join("of.db").display());

    let mut first = Server::start("first", dir.path(), &database_url, true).await;
    let api = first.api.clone();
    publish_flow(&api, &short_timeout_flow(TIMEOUT_S)).await;

    let paid = {
        let api = api.clone();
        run_concurrently(PAID, 8, move |i| {
            let api = api.clone();
            async move { create_and_pay(&api, i).await }
        })
        .await
    };
    let paid_done = started.elapsed();

    // Each waiting order's payment deadline is at least TIMEOUT_S after its request began.
    let waiting_started = Instant::now();
    let waiting = {
        let api = api.clone();
        run_concurrently(WAITING, 8, move |i| {
            let api = api.clone();
            async move {
                let requested = Instant::now();
                (create_order(&api, PAID + i).await, requested)
            }
        })
        .await
    };
    let last_created = Instant::now();
    first.kill();
    let killed = Instant::now();
    let pending_at_kill = waiting
        .iter()
        .filter(|(_, requested)| *requested + Duration::from_secs(TIMEOUT_S) > killed)
        .count();
    let waiting: Vec<String> = waiting.into_iter().map(|(id, _)| id).collect();
    eprintln!(
        "created and paid {PAID} orders by {paid_done:?}; created {WAITING} waiting orders in \
         {:?}; SIGKILLed with {pending_at_kill} of their timers certainly not yet due",
        killed - waiting_started
    );
    // Normally all of them; a very slow machine may let a few fire before the crash, but
    // the test only proves something when most fire after the restart.
    assert!(
        pending_at_kill >= WAITING / 2,
        "only {pending_at_kill} of {WAITING} payment timers were still pending at the kill \
         (creating them took {:?}): the machine is too slow for this test's {TIMEOUT_S} s timeout",
        killed - waiting_started
    );

    // Let every timeout fall overdue while no process runs.
    tokio::time::sleep_until((last_created + Duration::from_secs(TIMEOUT_S + 1)).into()).await;

    let second = Server::start("second", dir.path(), &database_url, true).await;
    let api = second.api.clone();
    let restarted = Instant::now();
    wait_until_settled(&api, Duration::from_secs(20)).await;
    eprintln!(
        "all waiting orders settled {:?} after the restart",
        restarted.elapsed()
    );

    let mut all = paid.clone();
    all.extend(waiting.iter().cloned());
    assert_order_set(&api, &all).await;
    {
        let api = api.clone();
        let waiting = Arc::new(waiting);
        run_concurrently(WAITING, 8, move |i| {
            let api = api.clone();
            let waiting = waiting.clone();
            async move { assert_timed_out_once(&api, &waiting[i]).await }
        })
        .await;
    }
    {
        let api = api.clone();
        let paid = Arc::new(paid);
        run_concurrently(PAID, 8, move |i| {
            let api = api.clone();
            let paid = paid.clone();
            async move { assert_completed_once(&api, &paid[i]).await }
        })
        .await;
    }
    drop(second);
    eprintln!(
        "crash_and_restart_loses_nothing took {:?}",
        started.elapsed()
    );
}

/// What the clients were told before the crash, per order.
#[derive(Default)]
struct Acknowledged {
    created: Vec<String>,
    paid: Vec<String>,
}

/// One client of the crash-under-load test: creates and pays orders until the server stops
/// answering, and keeps what was acknowledged.
async fn client_until_the_crash(
    api: Api,
    i: usize,
    acknowledged: Arc<std::sync::Mutex<Acknowledged>>,
) {
    let send = |path: String, body: Value| {
        let request = api
            .client
            .post(api.url(&path))
            .bearer_auth(ADMIN_KEY)
            .json(&body);
        async move {
            let response = request.send().await.ok()?;
            let status = response.status().as_u16();
            let body: Value = response.json().await.ok()?;
            Some((status, body))
        }
    };
    for n in 0.. {
        let Some((201, created)) = send(
            "/v1/storefront/orders".into(),
            order_request(i * 100_000 + n),
        )
        .await
        else {
            return;
        };
        let id = created["order_id"].as_str().expect("order_id").to_owned();
        acknowledged
            .lock()
            .expect("acknowledged")
            .created
            .push(id.clone());
        let paid = send(
            format!("/v1/storefront/orders/{id}/payment"),
            json!({"payment_method": "alipay"}),
        )
        .await;
        let Some((200, paid)) = paid else { return };
        assert_eq!(paid["status"], "completed", "{paid}");
        assert_eq!(paid["final_amount_minor"], 8000, "{paid}");
        acknowledged.lock().expect("acknowledged").paid.push(id);
    }
}

/// SIGKILL while batches are in flight: every create and payment that was answered is
/// there after the restart, applied once; what was in flight is all there or not at all.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_with_batches_in_flight_loses_no_acknowledged_write() {
    const CLIENTS: usize = 16;
    let dir = TempDir::new("crash-under-load");
    let database_url = format!("sqlite://{}?mode=rwc", dir.path().join("of.db").display());
    let mut first = Server::start("first", dir.path(), &database_url, true).await;
    let acknowledged = Arc::new(std::sync::Mutex::new(Acknowledged::default()));
    let mut clients = tokio::task::JoinSet::new();
    for i in 0..CLIENTS {
        clients.spawn(client_until_the_crash(
            first.api.clone(),
            i,
            acknowledged.clone(),
        ));
    }
    // Kill once the load is well under way: requests are queued and batches committing.
    let deadline = Instant::now() + Duration::from_secs(20);
    while acknowledged.lock().expect("acknowledged").paid.len() < 300 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    first.kill();
    while let Some(client) = clients.join_next().await {
        client.expect("client");
    }
    let Acknowledged { created, paid } =
        std::mem::take(&mut *acknowledged.lock().expect("acknowledged"));
    assert!(
        paid.len() >= 300,
        "the load never got going: {} payments answered",
        paid.len()
    );
    eprintln!(
        "SIGKILLed after {} creates and {} payments were answered",
        created.len(),
        paid.len()
    );

    let second = Server::start("second", dir.path(), &database_url, true).await;
    let api = second.api.clone();
    let stored: Vec<Value> = api
        .list_all(&format!("/v1/merchants/{MERCHANT}/orders"), &[])
        .await;
    let stored_ids: HashSet<&str> = stored
        .iter()
        .filter_map(|o| o["order_id"].as_str())
        .collect();
    for id in &created {
        assert!(
            stored_ids.contains(id.as_str()),
            "acknowledged order {id} is gone"
        );
    }
    for id in &paid {
        assert_completed_once(&api, id).await;
    }
    // What was in flight at the kill committed whole or not at all: no order is half-paid,
    // and paying a waiting one now applies once.
    for order in &stored {
        let id = order["order_id"].as_str().expect("order_id");
        match order["status"].as_str() {
            Some("completed") => assert_completed_once(&api, id).await,
            Some("awaiting_payment") => {
                assert_contiguous(id, &api.history(id).await);
                let reply = api
                    .post(
                        &format!("/v1/storefront/orders/{id}/payment"),
                        &json!({"payment_method": "alipay"}),
                    )
                    .await;
                assert_eq!(
                    reply.status, 200,
                    "paying {id} after the restart: {}",
                    reply.text
                );
                assert_completed_once(&api, id).await;
            }
            other => panic!("order {id} is {other:?} after the crash: {order}"),
        }
    }
}

// ---------------------------------------------------------------------------------------
// 2. Two instances on one PostgreSQL: each timer fires exactly once
// ---------------------------------------------------------------------------------------

/// A database created for one test on the server of `ORDERFLOW_TEST_DATABASE_URL`, dropped
/// (best effort) on drop.
struct PgDatabase {
    server_url: String,
    name: String,
    url: String,
}

impl PgDatabase {
    fn create(server_url: &str) -> PgDatabase {
        let name = format!("orderflow_durability_{}", uuid::Uuid::new_v4().simple());
        let (without_query, query) = match server_url.split_once('?') {
            Some((url, query)) => (url, Some(query)),
            None => (server_url, None),
        };
        let (prefix, _) = without_query
            .rsplit_once('/')
            .expect("ORDERFLOW_TEST_DATABASE_URL has a path");
        let url = match query {
            Some(query) => format!("{prefix}/{name}?{query}"),
            None => format!("{prefix}/{name}"),
        };
        psql(server_url, &format!("CREATE DATABASE {name}"))
            .unwrap_or_else(|e| panic!("cannot create the test database: {e}"));
        PgDatabase {
            server_url: server_url.to_owned(),
            name,
            url,
        }
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        if let Err(error) = psql(
            &self.server_url,
            &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name),
        ) {
            eprintln!("could not drop test database {}: {error}", self.name);
        }
    }
}

/// Runs one SQL statement with `psql` against `url`.
fn psql(url: &str, sql: &str) -> Result<(), String> {
    let output = Command::new("psql")
        .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", url, "-c", sql])
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run psql: {e}"))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(format!(
            "psql -c {sql:?} failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        ))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_fire_each_timer_once() {
    const ORDERS: usize = 500;
    const TIMEOUT_S: u64 = 3;
    let Ok(server_url) = std::env::var("ORDERFLOW_TEST_DATABASE_URL") else {
        eprintln!(
            "ORDERFLOW_TEST_DATABASE_URL is not set: two_instances_fire_each_timer_once skipped"
        );
        return;
    };
    let started = Instant::now();
    let dir = TempDir::new("two-instances");
    // Declared before the servers, so it is dropped after they are killed.
    let database = PgDatabase::create(&server_url);

    let a = Server::start("instance-a", dir.path(), &database.url, true).await;
    let b = Server::start("instance-b", dir.path(), &database.url, false).await;
    let apis = [a.api.clone(), b.api.clone()];
    publish_flow(&apis[0], &short_timeout_flow(TIMEOUT_S)).await;

    let created_at = Instant::now();
    let ids = {
        let apis = apis.clone();
        run_concurrently(ORDERS, 16, move |i| {
            let api = apis[i % 2].clone();
            async move { create_order(&api, i).await }
        })
        .await
    };
    eprintln!(
        "created {ORDERS} orders over two instances in {:?}",
        created_at.elapsed()
    );

    wait_until_settled(&apis[1], Duration::from_secs(60)).await;
    eprintln!(
        "all orders settled {:?} after the first was created",
        created_at.elapsed()
    );

    assert_order_set(&apis[0], &ids).await;
    {
        let apis = apis.clone();
        let ids = Arc::new(ids);
        run_concurrently(ORDERS, 16, move |i| {
            let api = apis[(i + 1) % 2].clone();
            let ids = ids.clone();
            async move { assert_timed_out_once(&api, &ids[i]).await }
        })
        .await;
    }
    drop((a, b));
    drop(database);
    eprintln!(
        "two_instances_fire_each_timer_once took {:?}",
        started.elapsed()
    );
}

// ---------------------------------------------------------------------------------------
// 3. SIGTERM: a graceful, successful exit
// ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigterm_shuts_down_gracefully() {
    let dir = TempDir::new("sigterm");
    let database_url = format!("sqlite://{}?mode=rwc", dir.path().join("of.db").display());
    let mut server = Server::start("sigterm", dir.path(), &database_url, true).await;
    // A client that sends a request's headers but never their end (a slowloris, or a
    // client that hung) must not keep the process alive: the header read timeout (10 s)
    // closes its connection, and the drain is bounded anyway.
    let address = server.api.base.trim_start_matches("http://").to_owned();
    let mut half_sent = std::net::TcpStream::connect(&address).expect("connect to the server");
    std::io::Write::write_all(
        &mut half_sent,
        b"POST /v1/storefront/orders HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n",
    )
    .expect("send part of a request");
    let sent = Command::new("kill")
        .args(["-TERM", &server.pid().to_string()])
        .status()
        .expect("run kill");
    assert!(sent.success(), "kill -TERM failed: {sent}");
    let stopped = Instant::now();
    let child = server.child.as_mut().expect("running child");
    let status = loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            break status;
        }
        assert!(
            stopped.elapsed() < Duration::from_secs(15),
            "the process did not exit within 15 s of SIGTERM (a half-sent request is open)"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(
        status.success(),
        "exit after SIGTERM was not a success: {status}"
    );
    server.child = None;
    drop(half_sent);
    eprintln!("exited {:?} after SIGTERM with {status}", stopped.elapsed());
}
