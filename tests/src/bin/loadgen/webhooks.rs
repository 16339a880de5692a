//! The webhook side of a load run: a local receiver that answers 204 and measures each
//! delivery's lag (arrival minus the event's `created_at`), and the endpoint that points the
//! server at it.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use hdrhistogram::Histogram;

/// The order events of a checkout; an endpoint subscribed to them gets four per checkout.
pub const CHECKOUT_EVENTS: [&str; 4] = [
    "order.created",
    "order.awaiting_payment",
    "order.paid",
    "order.completed",
];

struct Arrivals {
    count: u64,
    first: Option<Instant>,
    last: Option<Instant>,
    /// Lag in microseconds.
    lag: Histogram<u64>,
}

pub struct Receiver {
    pub url: String,
    arrivals: Arc<Mutex<Arrivals>>,
}

impl Receiver {
    /// Listens on 127.0.0.1:`port` (0: any free port).
    pub async fn start(port: u16) -> Result<Receiver, String> {
        let lag = Histogram::new_with_bounds(1, 3_600_000_000, 3)
            .map_err(|e| format!("histogram: {e}"))?;
        let arrivals = Arc::new(Mutex::new(Arrivals {
            count: 0,
            first: None,
            last: None,
            lag,
        }));
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .map_err(|e| format!("the webhook receiver cannot listen on port {port}: {e}"))?;
        let address = listener
            .local_addr()
            .map_err(|e| format!("the webhook receiver's address: {e}"))?;
        let router = axum::Router::new()
            .route("/hooks", post(receive))
            .with_state(arrivals.clone());
        tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        Ok(Receiver {
            url: format!("http://{address}/hooks"),
            arrivals,
        })
    }

    /// Registers an endpoint for the checkout events of `merchant` pointing here.
    pub async fn subscribe(
        &self,
        client: &reqwest::Client,
        base: &str,
        key: &str,
        merchant: &str,
    ) -> Result<(), String> {
        let url = format!(
            "{}/v1/merchants/{merchant}/webhook-endpoints",
            base.trim_end_matches('/')
        );
        let response = client
            .post(&url)
            .bearer_auth(key)
            .json(&serde_json::json!({"url": self.url, "event_types": CHECKOUT_EVENTS}))
            .send()
            .await
            .map_err(|e| format!("POST {url}: {e}"))?;
        if !response.status().is_success() {
            let status = response.status();
            let body = response.text().await.unwrap_or_default();
            return Err(format!(
                "POST {url} answered {status}: {body} (the server needs ORDERFLOW_WEBHOOK_ALLOW_PRIVATE=true)"
            ));
        }
        Ok(())
    }

    pub fn count(&self) -> u64 {
        self.arrivals.lock().map_or(0, |a| a.count)
    }

    /// Waits until `expected` deliveries arrived, or `limit` passed with none arriving for
    /// a second; then reports.
    pub async fn wait_for(&self, expected: u64, limit: Duration) -> String {
        let deadline = Instant::now() + limit;
        let mut last_count = self.count();
        let mut last_change = Instant::now();
        while self.count() < expected && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(50)).await;
            let count = self.count();
            if count != last_count {
                last_count = count;
                last_change = Instant::now();
            } else if last_change.elapsed() > Duration::from_secs(10) {
                break;
            }
        }
        self.report(expected)
    }

    fn report(&self, expected: u64) -> String {
        let Ok(a) = self.arrivals.lock() else {
            return "webhooks: no report (a receiver thread panicked)\n".into();
        };
        let window = match (a.first, a.last) {
            (Some(first), Some(last)) => last.duration_since(first).as_secs_f64(),
            _ => 0.0,
        };
        let ms = |q: f64| a.lag.value_at_quantile(q) as f64 / 1000.0;
        format!(
            "webhooks: {} of {expected} deliveries arrived; {:.0}/s from the first to the last\n\
             webhook lag (event committed → delivered) ms: p50 {:.1}  p90 {:.1}  p99 {:.1}  max {:.1}\n",
            a.count,
            if window > 0.0 {
                a.count as f64 / window
            } else {
                0.0
            },
            ms(0.5),
            ms(0.9),
            ms(0.99),
            a.lag.max() as f64 / 1000.0,
        )
    }
}

async fn receive(State(arrivals): State<Arc<Mutex<Arrivals>>>, body: Bytes) -> StatusCode {
    let now = chrono::Utc::now();
    let created = serde_json::from_slice::<serde_json::Value>(&body)
        .ok()
        .and_then(|event| chrono::DateTime::parse_from_rfc3339(event["created_at"].as_str()?).ok());
    if let Ok(mut a) = arrivals.lock() {
        let at = Instant::now();
        a.count += 1;
        a.first.get_or_insert(at);
        a.last = Some(at);
        if let Some(created) = created {
            let lag = (now - created.with_timezone(&chrono::Utc))
                .num_microseconds()
                .unwrap_or(0)
                .max(1);
            let _ = a.lag.record(lag as u64);
        }
    }
    StatusCode::NO_CONTENT
}
