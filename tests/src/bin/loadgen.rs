//! Load generator: runs full storefront checkouts (create an order, then pay it) against a
//! running orderflow server, or against an in-process baseline (`--baseline`), with a
//! fixed number of concurrent workers, for a duration or a number of checkouts, and reports
//! throughput, request latency percentiles and errors.
//!
//! ```text
//! cargo run --release -p tests --bin loadgen -- --url http://127.0.0.1:8080 --key KEY \
//!     --concurrency 32 --duration 10s
//! cargo run --release -p tests --bin loadgen -- --baseline \
//!     --database-url 'sqlite:///tmp/baseline.db?mode=rwc' --duration 10s
//! ```
//!
//! With `--webhook`, a local receiver subscribes to the merchant's checkout events first,
//! and after the run the report says how many deliveries arrived and their lag. With
//! `--receive N`, loadgen only runs that receiver (on `--webhook-port`) until N deliveries
//! arrived: how fast a backlog drains.
//!
//! The baseline is the ceiling this machine allows: a minimal axum server whose one endpoint
//! inserts one row through sea-orm into the same kind of database, driven by the same worker
//! loop (two POSTs per "checkout"), so its numbers compare with the server's request for
//! request.
//!
//! Exit status: 0, or 1 when the run could not start, or with `--fail-on-errors` when any
//! request failed, any checkout came back wrong, or no checkout completed at all.

#[path = "loadgen/baseline.rs"]
mod baseline;
#[path = "loadgen/report.rs"]
mod report;
#[path = "loadgen/run.rs"]
mod run;
#[path = "loadgen/webhooks.rs"]
mod webhooks;

use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use clap::Parser;

use crate::baseline::SqliteSync;
use crate::run::{Limit, Shared, Target};

#[derive(Debug, Parser)]
#[command(
    name = "loadgen",
    about = "Runs full checkouts (create order + pay) against an orderflow server and reports \
             checkouts/s, latency percentiles and errors"
)]
struct Args {
    /// Base URL of the running server (ignored with --baseline).
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    url: String,
    /// API key sent as `Authorization: Bearer <key>` (the server's platform admin key works).
    #[arg(long, env = "ORDERFLOW_ADMIN_KEY", hide_env_values = true)]
    key: Option<String>,
    /// Merchant whose storefront takes the orders.
    #[arg(long, default_value = "haidilao")]
    merchant: String,
    /// Payment method each order is paid with.
    #[arg(long, default_value = "alipay")]
    method: String,
    /// Concurrent workers, each looping create → pay.
    #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    concurrency: u32,
    /// How long to run: `10s`, `500ms`, `2m`, `1.5s` (default 10s).
    #[arg(long, value_parser = parse_duration, conflicts_with = "orders")]
    duration: Option<Duration>,
    /// Start this many checkouts per second between all workers (paced) instead of each
    /// worker's next as soon as its last finished: a load below what the server can carry.
    #[arg(long, value_parser = parse_rate)]
    rate: Option<f64>,
    /// Stop after this many checkouts instead of after a duration.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    orders: Option<u64>,
    /// Check that every payment answers with this `final_amount_minor`.
    #[arg(long)]
    expect_final_amount: Option<i64>,
    /// Exit 1 if any request failed, any checkout was wrong, or none completed (CI smoke).
    #[arg(long)]
    fail_on_errors: bool,
    /// Also print the report as one line of JSON (the last line of stdout).
    #[arg(long)]
    json: bool,
    /// Per-request timeout.
    #[arg(long, value_parser = parse_duration, default_value = "30s")]
    timeout: Duration,
    /// Measure the in-process baseline (axum + one sea-orm INSERT) instead of a server.
    #[arg(long, requires = "database_url")]
    baseline: bool,
    /// Database of the baseline: `sqlite://path?mode=rwc` or `postgres://…` (used as given).
    #[arg(long, requires = "baseline")]
    database_url: Option<String>,
    /// SQLite durability of the baseline; match the server's ORDERFLOW_SQLITE_SYNC.
    #[arg(long, value_enum, default_value = "full")]
    sqlite_sync: SqliteSync,
    /// Subscribe a local webhook receiver to the checkout events before the run, and report
    /// the deliveries and their lag after it (the server must allow private addresses).
    #[arg(long, conflicts_with = "baseline")]
    webhook: bool,
    /// The receiver's port (0: any free port). A fixed one outlives the run: a later
    /// `--receive` can take the deliveries of the endpoint registered now.
    #[arg(long, default_value_t = 0)]
    webhook_port: u16,
    /// How long to wait for the deliveries after the run (0s: not at all).
    #[arg(long, value_parser = parse_duration_or_zero, default_value = "60s")]
    webhook_wait: Duration,
    /// Only receive: run the receiver on --webhook-port until this many deliveries arrived
    /// (or none arrived for 10 s), and report their rate and lag.
    #[arg(long, conflicts_with_all = ["baseline", "webhook"])]
    receive: Option<u64>,
}

fn parse_rate(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(rate) if rate.is_finite() && rate > 0.0 && rate <= 1e6 => Ok(rate),
        _ => Err(format!(
            "`{text}` is not a rate of checkouts per second (0 < rate ≤ 1000000)"
        )),
    }
}

fn parse_duration_or_zero(text: &str) -> Result<Duration, String> {
    if text.trim().trim_end_matches('s') == "0" {
        Ok(Duration::ZERO)
    } else {
        parse_duration(text)
    }
}

/// Parses `250ms`, `10s`, `1.5s`, `2m`, `1h`, or a bare number of seconds.
fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let value: f64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not a duration like 10s, 500ms or 2m"))?;
    let seconds = match unit.trim() {
        "ms" => value / 1000.0,
        "" | "s" => value,
        "m" | "min" => value * 60.0,
        "h" => value * 3600.0,
        other => return Err(format!("unknown unit `{other}`: use ms, s, m or h")),
    };
    if !seconds.is_finite() || seconds <= 0.0 || seconds > 365.0 * 86_400.0 {
        return Err(format!("`{text}` is out of range"));
    }
    Ok(Duration::from_secs_f64(seconds))
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    match start(args).await {
        Ok(code) => code,
        Err(message) => {
            eprintln!("loadgen: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn start(args: Args) -> Result<ExitCode, String> {
    if let Some(expected) = args.receive {
        let receiver = webhooks::Receiver::start(args.webhook_port).await?;
        eprintln!(
            "loadgen: receiving at {} until {expected} deliveries arrived",
            receiver.url
        );
        print!(
            "{}",
            receiver
                .wait_for(expected, Duration::from_secs(24 * 3600))
                .await
        );
        return Ok(ExitCode::SUCCESS);
    }
    let limit = match (args.orders, args.duration) {
        (Some(n), _) => Limit::Orders(n),
        (None, Some(d)) => Limit::Duration(d),
        (None, None) => Limit::Duration(Duration::from_secs(10)),
    };
    let concurrency = args.concurrency as usize;
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency)
        .pool_idle_timeout(Duration::from_secs(90))
        .tcp_nodelay(true)
        .timeout(args.timeout)
        .build()
        .map_err(|e| format!("cannot build the HTTP client: {e}"))?;

    // The baseline server and the webhook receiver live as long as these bindings.
    let _baseline;
    let mut receiver_binding = None;
    let target = if args.baseline {
        let database_url = args.database_url.as_deref().unwrap_or_default();
        let server = baseline::start(database_url, args.sqlite_sync).await?;
        let target = Target::baseline(
            &server.base_url(),
            database_url,
            args.sqlite_sync,
            args.key.as_deref(),
            &args.merchant,
            &args.method,
        )?;
        _baseline = Some(server);
        target
    } else {
        let key = args.key.as_deref().ok_or(
            "no API key: pass --key or set ORDERFLOW_ADMIN_KEY (the server's platform admin key)",
        )?;
        preflight(&client, &args.url).await?;
        if args.webhook {
            let receiver = webhooks::Receiver::start(args.webhook_port).await?;
            receiver
                .subscribe(&client, &args.url, key, &args.merchant)
                .await?;
            receiver_binding = Some(receiver);
        }
        _baseline = None;
        Target::server(
            &args.url,
            key,
            &args.merchant,
            &args.method,
            args.expect_final_amount,
        )?
    };

    let shared = Arc::new(Shared::new(args.rate));
    let started = Instant::now();
    let progress = tokio::spawn(progress(shared.clone(), started, limit));
    let stopper = tokio::spawn(stop_on(shared.clone(), limit));
    let stats = run::run(client, Arc::new(target.clone()), shared, concurrency, limit).await;
    let elapsed = started.elapsed();
    stopper.abort();
    progress.abort();
    let _ = progress.await;
    if std::io::stderr().is_terminal() {
        eprintln!();
    }

    let report = report::Report::new(&target, concurrency, args.rate, limit, elapsed, stats);
    let webhook_report = match &receiver_binding {
        Some(receiver) if !args.webhook_wait.is_zero() => {
            let expected = report.checkouts() * webhooks::CHECKOUT_EVENTS.len() as u64;
            Some(receiver.wait_for(expected, args.webhook_wait).await)
        }
        _ => None,
    };
    let mut out = std::io::stdout().lock();
    let _ = write!(out, "{}", report.text());
    if let Some(text) = webhook_report {
        let _ = write!(out, "{text}");
    }
    if args.json {
        let _ = writeln!(out, "{}", report.json());
    }
    let _ = out.flush();

    if args.fail_on_errors {
        if report.errors_total() > 0 {
            eprintln!("loadgen: FAILED: {} error(s)", report.errors_total());
            return Ok(ExitCode::FAILURE);
        }
        if report.checkouts() == 0 {
            eprintln!("loadgen: FAILED: no checkout completed");
            return Ok(ExitCode::FAILURE);
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Fails fast, with a clear message, when nothing answers at the server's URL.
async fn preflight(client: &reqwest::Client, base: &str) -> Result<(), String> {
    let url = format!("{}/healthz", base.trim_end_matches('/'));
    match client.get(&url).send().await {
        Ok(response) if response.status().is_success() => Ok(()),
        Ok(response) => {
            eprintln!(
                "loadgen: warning: GET {url} answered {}; running anyway",
                response.status()
            );
            Ok(())
        }
        Err(e) => Err(format!("cannot reach the server at {base} ({url}): {e}")),
    }
}

/// Ends the run at the deadline (duration mode) or on Ctrl-C: workers finish the checkout
/// they are in and stop.
async fn stop_on(shared: Arc<Shared>, limit: Limit) {
    let deadline = async {
        match limit {
            Limit::Duration(d) => tokio::time::sleep(d).await,
            Limit::Orders(_) => std::future::pending().await,
        }
    };
    tokio::select! {
        () = deadline => {}
        _ = tokio::signal::ctrl_c() => eprintln!("\nloadgen: interrupted; finishing the checkouts in flight"),
    }
    shared.stop.store(true, Ordering::Relaxed);
}

/// Prints a progress line every second on stderr: overwritten in place on a terminal,
/// one line per second otherwise.
async fn progress(shared: Arc<Shared>, started: Instant, limit: Limit) {
    let terminal = std::io::stderr().is_terminal();
    let mut ticker = tokio::time::interval(Duration::from_secs(1));
    ticker.tick().await;
    let mut last_count = 0;
    let mut last_at = started;
    loop {
        ticker.tick().await;
        let now = Instant::now();
        let count = shared.checkouts.load(Ordering::Relaxed);
        let errors = shared.errors.load(Ordering::Relaxed);
        let window = now.duration_since(last_at).as_secs_f64().max(1e-9);
        let rate = (count - last_count) as f64 / window;
        last_count = count;
        last_at = now;
        let of = match limit {
            Limit::Orders(n) => format!("/{n}"),
            Limit::Duration(_) => String::new(),
        };
        let line = format!(
            "[{:>6.1}s] checkouts {count}{of}  {rate:.1}/s  errors {errors}",
            now.duration_since(started).as_secs_f64()
        );
        let mut err = std::io::stderr().lock();
        if terminal {
            let _ = write!(err, "\r{line}\x1b[K");
        } else {
            let _ = writeln!(err, "{line}");
        }
        let _ = err.flush();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("10s"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("3"), Ok(Duration::from_secs(3)));
        assert!(parse_duration("0s").is_err());
        assert!(parse_duration("5x").is_err());
        assert!(parse_duration("s").is_err());
    }

    #[test]
    fn rates() {
        assert_eq!(parse_rate("1000"), Ok(1000.0));
        assert_eq!(parse_rate("2.5"), Ok(2.5));
        for bad in ["0", "-5", "NaN", "inf", "fast", "2000000"] {
            assert!(parse_rate(bad).is_err(), "{bad}");
        }
    }
}
