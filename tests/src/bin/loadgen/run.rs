//! The worker loop: `concurrency` tasks, each looping create → pay on one shared client,
//! recording every request's latency and every failure.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use hdrhistogram::Histogram;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderValue};
use serde_json::{Value, json};

use crate::baseline::SqliteSync;

/// When the run ends.
#[derive(Debug, Clone, Copy)]
pub enum Limit {
    /// Workers start no new checkout after this long.
    Duration(Duration),
    /// Workers start exactly this many checkouts between them.
    Orders(u64),
}

/// Counters the workers update live, read by the progress line and the stopper.
#[derive(Debug, Default)]
pub struct Shared {
    /// Checkouts completed correctly.
    pub checkouts: AtomicU64,
    /// Checkouts that failed (each failed checkout is exactly one error).
    pub errors: AtomicU64,
    /// Checkouts started, for `--orders`.
    claimed: AtomicU64,
    /// Set at the deadline or on Ctrl-C.
    pub stop: AtomicBool,
    /// With `--rate`: the checkouts' start times, paced from the run's start.
    pace: Option<Pace>,
}

impl Shared {
    /// Counters for a run whose checkouts start at `rate` per second between all workers,
    /// or each as soon as its worker is free.
    pub fn new(rate: Option<f64>) -> Self {
        Self {
            pace: rate.map(Pace::new),
            ..Self::default()
        }
    }
}

/// Checkouts started at a fixed rate between all workers (at most one every `interval`),
/// rather than each worker's next as soon as its last finished: a load the server can
/// carry, to measure what happens below saturation. A worker that finds its start time
/// passed starts at once, so a server that falls behind gets the concurrency's worth.
#[derive(Debug)]
struct Pace {
    started: Instant,
    interval: Duration,
    /// How many start times were handed out.
    next: AtomicU64,
}

impl Pace {
    fn new(per_second: f64) -> Self {
        Self {
            started: Instant::now(),
            interval: Duration::from_secs_f64(1.0 / per_second),
            next: AtomicU64::new(0),
        }
    }

    /// Waits for this checkout's start time.
    async fn wait(&self) {
        let slot = self.next.fetch_add(1, Ordering::Relaxed);
        let at = self.started + self.interval.mul_f64(slot as f64);
        tokio::time::sleep_until(at.into()).await;
    }
}

/// The two requests of a checkout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    Create,
    Pay,
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Kind::Create => "create",
            Kind::Pay => "pay",
        })
    }
}

/// What is measured: the real checkout on a server, or the baseline's two inserts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Server,
    Baseline,
}

/// Where the requests go and what a correct answer looks like.
#[derive(Debug, Clone)]
pub struct Target {
    pub mode: Mode,
    /// One line saying what was measured, for the report (no secrets).
    pub description: String,
    create_url: String,
    /// Server: the orders URL prefix the order id and `/payment` are appended to.
    /// Baseline: the one endpoint, used as is.
    pay_url: String,
    auth: Option<HeaderValue>,
    create_body: Bytes,
    pay_body: Bytes,
    expect_final_amount: Option<i64>,
}

fn checkout_bodies(merchant: &str, method: &str) -> (Bytes, Bytes) {
    let order = json!({
        "merchant_id": merchant,
        "currency": "CNY",
        "items": [{"sku": "beef", "name": "Beef slices", "quantity": 2, "unit_price_minor": 5000}],
        "address": {"recipient": "Li Lei", "phone": "13800000000", "street": "1 Road"},
        "fields": {},
    });
    let pay = json!({"payment_method": method});
    (Bytes::from(order.to_string()), Bytes::from(pay.to_string()))
}

fn bearer(key: &str) -> Result<HeaderValue, String> {
    let mut value = HeaderValue::from_str(&format!("Bearer {key}"))
        .map_err(|_| "the API key is not a valid header value".to_owned())?;
    value.set_sensitive(true);
    Ok(value)
}

impl Target {
    pub fn server(
        base: &str,
        key: &str,
        merchant: &str,
        method: &str,
        expect_final_amount: Option<i64>,
    ) -> Result<Self, String> {
        let base = base.trim_end_matches('/');
        let (create_body, pay_body) = checkout_bodies(merchant, method);
        Ok(Target {
            mode: Mode::Server,
            description: format!(
                "orderflow at {base}: POST /v1/storefront/orders, then \
                 POST /v1/storefront/orders/{{id}}/payment (merchant {merchant}, method {method})"
            ),
            create_url: format!("{base}/v1/storefront/orders"),
            pay_url: format!("{base}/v1/storefront/orders/"),
            auth: Some(bearer(key)?),
            create_body,
            pay_body,
            expect_final_amount,
        })
    }

    pub fn baseline(
        base: &str,
        database_url: &str,
        sqlite_sync: SqliteSync,
        key: Option<&str>,
        merchant: &str,
        method: &str,
    ) -> Result<Self, String> {
        let (create_body, pay_body) = checkout_bodies(merchant, method);
        let database = crate::report::redact_url(database_url);
        let settings = if database_url.starts_with("sqlite:") {
            format!(", WAL, synchronous={sqlite_sync}, pool 16")
        } else {
            ", pool 16".to_owned()
        };
        Ok(Target {
            mode: Mode::Baseline,
            description: format!(
                "baseline: in-process axum at {base}, POST /rows twice per checkout, \
                 each one sea-orm INSERT into {database}{settings}"
            ),
            create_url: format!("{base}/rows"),
            pay_url: format!("{base}/rows"),
            auth: key.map(bearer).transpose()?,
            create_body,
            pay_body,
            expect_final_amount: None,
        })
    }
}

/// Everything one worker (and, merged, the whole run) measured.
pub struct Stats {
    pub create: Histogram<u64>,
    pub pay: Histogram<u64>,
    /// Checkouts completed correctly.
    pub checkouts: u64,
    /// Checkouts started.
    pub attempted: u64,
    /// Requests sent, answered or not.
    pub requests: u64,
    /// Answers with an unexpected HTTP status, by request kind and status.
    pub http: BTreeMap<(Kind, u16), u64>,
    /// Requests that got no answer, by request kind and cause.
    pub transport: BTreeMap<(Kind, &'static str), u64>,
    /// Checkouts whose answers had the expected status but the wrong content, by reason.
    pub bad: BTreeMap<String, u64>,
}

/// Latencies in microseconds, from 1 µs to an hour, 3 significant figures.
pub fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 3_600_000_000, 3).expect("valid histogram bounds")
}

impl Stats {
    fn new() -> Self {
        Stats {
            create: histogram(),
            pay: histogram(),
            checkouts: 0,
            attempted: 0,
            requests: 0,
            http: BTreeMap::new(),
            transport: BTreeMap::new(),
            bad: BTreeMap::new(),
        }
    }

    fn merge(&mut self, other: Stats) {
        self.create
            .add(&other.create)
            .expect("histograms of equal bounds add");
        self.pay
            .add(&other.pay)
            .expect("histograms of equal bounds add");
        self.checkouts += other.checkouts;
        self.attempted += other.attempted;
        self.requests += other.requests;
        for (k, v) in other.http {
            *self.http.entry(k).or_default() += v;
        }
        for (k, v) in other.transport {
            *self.transport.entry(k).or_default() += v;
        }
        for (k, v) in other.bad {
            *self.bad.entry(k).or_default() += v;
        }
    }

    fn record(&mut self, kind: Kind, latency: Duration) {
        let micros = u64::try_from(latency.as_micros())
            .unwrap_or(u64::MAX)
            .max(1);
        match kind {
            Kind::Create => self.create.saturating_record(micros),
            Kind::Pay => self.pay.saturating_record(micros),
        }
    }

    fn bad(&mut self, reason: String) {
        *self.bad.entry(reason).or_default() += 1;
    }
}

/// Runs the workers until the limit and returns what they measured, merged.
pub async fn run(
    client: reqwest::Client,
    target: Arc<Target>,
    shared: Arc<Shared>,
    concurrency: usize,
    limit: Limit,
) -> Stats {
    let workers: Vec<_> = (0..concurrency)
        .map(|_| {
            tokio::spawn(worker(
                client.clone(),
                target.clone(),
                shared.clone(),
                limit,
            ))
        })
        .collect();
    let mut total = Stats::new();
    for worker in workers {
        match worker.await {
            Ok(stats) => total.merge(stats),
            Err(e) => eprintln!("loadgen: a worker died: {e}"),
        }
    }
    total
}

async fn worker(
    client: reqwest::Client,
    target: Arc<Target>,
    shared: Arc<Shared>,
    limit: Limit,
) -> Stats {
    let mut stats = Stats::new();
    while !shared.stop.load(Ordering::Relaxed) {
        if let Limit::Orders(n) = limit
            && shared.claimed.fetch_add(1, Ordering::Relaxed) >= n
        {
            break;
        }
        if let Some(pace) = &shared.pace {
            pace.wait().await;
        }
        stats.attempted += 1;
        match checkout(&client, &target, &mut stats).await {
            Outcome::Completed => {
                stats.checkouts += 1;
                shared.checkouts.fetch_add(1, Ordering::Relaxed);
            }
            Outcome::Failed => {
                shared.errors.fetch_add(1, Ordering::Relaxed);
            }
            Outcome::NoAnswer => {
                shared.errors.fetch_add(1, Ordering::Relaxed);
                // Not a busy loop of refused connections while the server is down.
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    }
    stats
}

enum Outcome {
    Completed,
    Failed,
    NoAnswer,
}

/// One request, timed from sending to having read the whole answer.
async fn post(
    client: &reqwest::Client,
    url: &str,
    body: Bytes,
    auth: Option<&HeaderValue>,
) -> Result<(u16, Bytes, Duration), reqwest::Error> {
    let mut request = client
        .post(url)
        .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
        .body(body);
    if let Some(auth) = auth {
        request = request.header(AUTHORIZATION, auth.clone());
    }
    let started = Instant::now();
    let response = request.send().await?;
    let status = response.status().as_u16();
    let body = response.bytes().await?;
    Ok((status, body, started.elapsed()))
}

fn transport_cause(e: &reqwest::Error) -> &'static str {
    if e.is_timeout() {
        "timeout"
    } else if e.is_connect() {
        "connect"
    } else if e.is_body() || e.is_decode() {
        "body"
    } else if e.is_request() {
        "request"
    } else {
        "other"
    }
}

/// Sends one request of a checkout and checks its status; the parsed JSON answer on success.
async fn step(
    client: &reqwest::Client,
    url: &str,
    body: Bytes,
    target: &Target,
    kind: Kind,
    expected_status: u16,
    stats: &mut Stats,
) -> Result<Value, Outcome> {
    stats.requests += 1;
    match post(client, url, body, target.auth.as_ref()).await {
        Err(e) => {
            *stats
                .transport
                .entry((kind, transport_cause(&e)))
                .or_default() += 1;
            Err(Outcome::NoAnswer)
        }
        Ok((status, answer, latency)) => {
            stats.record(kind, latency);
            if status != expected_status {
                *stats.http.entry((kind, status)).or_default() += 1;
                return Err(Outcome::Failed);
            }
            serde_json::from_slice(&answer).map_err(|_| {
                stats.bad(format!(
                    "{kind} answered {status} with a body that is not JSON"
                ));
                Outcome::Failed
            })
        }
    }
}

async fn checkout(client: &reqwest::Client, target: &Target, stats: &mut Stats) -> Outcome {
    let (id_field, create_status, pay_status) = match target.mode {
        Mode::Server => ("order_id", 201, 200),
        Mode::Baseline => ("id", 201, 201),
    };
    let created = match step(
        client,
        &target.create_url,
        target.create_body.clone(),
        target,
        Kind::Create,
        create_status,
        stats,
    )
    .await
    {
        Ok(created) => created,
        Err(outcome) => return outcome,
    };
    let Some(id) = created.get(id_field).and_then(Value::as_str) else {
        stats.bad(format!("create answered without `{id_field}`"));
        return Outcome::Failed;
    };
    let pay_url = match target.mode {
        Mode::Server => format!("{}{id}/payment", target.pay_url),
        Mode::Baseline => target.pay_url.clone(),
    };
    let paid = match step(
        client,
        &pay_url,
        target.pay_body.clone(),
        target,
        Kind::Pay,
        pay_status,
        stats,
    )
    .await
    {
        Ok(paid) => paid,
        Err(outcome) => return outcome,
    };
    match target.mode {
        Mode::Baseline => {
            if paid.get("id").and_then(Value::as_str).is_none() {
                stats.bad("pay answered without `id`".to_owned());
                return Outcome::Failed;
            }
        }
        Mode::Server => {
            let status = paid.get("status").and_then(Value::as_str).unwrap_or("none");
            if status != "completed" {
                let reason = paid
                    .get("cancel_reason")
                    .and_then(Value::as_str)
                    .map(|r| format!(" ({r})"))
                    .unwrap_or_default();
                stats.bad(format!("status {status}{reason}"));
                return Outcome::Failed;
            }
            if let Some(expected) = target.expect_final_amount {
                let actual = paid.get("final_amount_minor").and_then(Value::as_i64);
                if actual != Some(expected) {
                    let actual = actual.map_or("none".to_owned(), |a| a.to_string());
                    stats.bad(format!("final_amount_minor {actual}, expected {expected}"));
                    return Outcome::Failed;
                }
            }
        }
    }
    Outcome::Completed
}
