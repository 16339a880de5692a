//! Prometheus metrics, one registry per application (so that tests starting several apps in
//! one process each see their own).

use std::time::Duration;

use prometheus::{
    Encoder, Histogram, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec, Opts,
    Registry, TextEncoder,
};

use std::sync::Arc;

use domain::function::FunctionErrorKind;
use domain::lifecycle::{CancelReason, OrderStatus};

use crate::persistence::writer::WriterMetrics;

pub struct Metrics {
    registry: Registry,
    http_requests: IntCounterVec,
    http_duration: HistogramVec,
    orders_finished: IntCounterVec,
    function_duration: HistogramVec,
    function_errors: IntCounterVec,
    pub timer_lag_seconds: IntGauge,
    pub timers_fired: IntCounterVec,
    pub db_pool: IntGaugeVec,
    pub writer: Arc<WriterMetrics>,
    /// Webhook attempts, by outcome: `delivered`, `retrying` or `given_up`.
    pub webhook_attempts: IntCounterVec,
    /// From an event's commit to its delivery.
    pub webhook_lag_seconds: Histogram,
    pub webhook_in_flight: IntGauge,
    /// The orders of each active rollout, by version and status; set at each scrape, so
    /// ended rollouts leave no series behind.
    pub rollout_orders: IntGaugeVec,
    /// Executions read to stage a change, by where from: `recent` (this instance's copy)
    /// or `database`.
    pub execution_reads: IntCounterVec,
}

const LATENCY_BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];
const FUNCTION_BUCKETS: [f64; 10] = [
    0.000_005, 0.000_01, 0.000_025, 0.000_05, 0.000_1, 0.000_25, 0.001, 0.005, 0.025, 0.1,
];

impl Metrics {
    pub fn new() -> Result<Self, prometheus::Error> {
        let registry = Registry::new_custom(Some("orderflow".into()), None)?;
        let http_requests = IntCounterVec::new(
            Opts::new(
                "http_requests_total",
                "HTTP requests answered, by route, method and status",
            ),
            &["route", "method", "status"],
        )?;
        let http_duration = HistogramVec::new(
            HistogramOpts::new(
                "http_request_duration_seconds",
                "HTTP request latency, by route and method",
            )
            .buckets(LATENCY_BUCKETS.to_vec()),
            &["route", "method"],
        )?;
        let orders_finished = IntCounterVec::new(
            Opts::new(
                "orders_finished_total",
                "Orders that reached a final status, by status and cancel reason",
            ),
            &["status", "cancel_reason"],
        )?;
        let function_duration = HistogramVec::new(
            HistogramOpts::new(
                "function_evaluation_seconds",
                "Discount function evaluation time, by outcome",
            )
            .buckets(FUNCTION_BUCKETS.to_vec()),
            &["outcome"],
        )?;
        let function_errors = IntCounterVec::new(
            Opts::new(
                "function_errors_total",
                "Discount function evaluations that failed, by error kind",
            ),
            &["kind"],
        )?;
        let timer_lag_seconds = IntGauge::new(
            "timer_lag_seconds",
            "Age of the oldest timer that is due but not fired yet (0 when none)",
        )?;
        let timers_fired = IntCounterVec::new(
            Opts::new("timers_fired_total", "Timers fired, by purpose"),
            &["purpose"],
        )?;
        let db_pool = IntGaugeVec::new(
            Opts::new("db_pool_connections", "Database pool connections, by state"),
            &["state"],
        )?;
        registry.register(Box::new(http_requests.clone()))?;
        registry.register(Box::new(http_duration.clone()))?;
        registry.register(Box::new(orders_finished.clone()))?;
        registry.register(Box::new(function_duration.clone()))?;
        registry.register(Box::new(function_errors.clone()))?;
        registry.register(Box::new(timer_lag_seconds.clone()))?;
        registry.register(Box::new(timers_fired.clone()))?;
        let webhook_attempts = IntCounterVec::new(
            Opts::new(
                "webhook_attempts_total",
                "Webhook delivery attempts, by outcome (delivered, retrying, given_up)",
            ),
            &["outcome"],
        )?;
        let webhook_lag_seconds = Histogram::with_opts(
            HistogramOpts::new(
                "webhook_delivery_lag_seconds",
                "Time from an event's commit to its delivery",
            )
            .buckets(LATENCY_BUCKETS.to_vec()),
        )?;
        let webhook_in_flight = IntGauge::new(
            "webhook_attempts_in_flight",
            "Webhook delivery attempts waiting for their receivers",
        )?;
        registry.register(Box::new(db_pool.clone()))?;
        registry.register(Box::new(webhook_attempts.clone()))?;
        registry.register(Box::new(webhook_lag_seconds.clone()))?;
        registry.register(Box::new(webhook_in_flight.clone()))?;
        let rollout_orders = IntGaugeVec::new(
            Opts::new(
                "rollout_orders",
                "Orders of each active staged rollout, by document, version (and whether it is the candidate) and status",
            ),
            &["merchant", "document", "version", "arm", "status"],
        )?;
        registry.register(Box::new(rollout_orders.clone()))?;
        let execution_reads = IntCounterVec::new(
            Opts::new(
                "execution_reads_total",
                "Executions read to stage a change, by source: recent (this instance's copy of what it last wrote) or database",
            ),
            &["source"],
        )?;
        registry.register(Box::new(execution_reads.clone()))?;
        let writer = Arc::new(WriterMetrics::new(&registry)?);
        Ok(Self {
            registry,
            writer,
            http_requests,
            http_duration,
            orders_finished,
            function_duration,
            function_errors,
            timer_lag_seconds,
            timers_fired,
            db_pool,
            webhook_attempts,
            webhook_lag_seconds,
            webhook_in_flight,
            rollout_orders,
            execution_reads,
        })
    }

    pub fn observe_request(&self, route: &str, method: &str, status: u16, elapsed: Duration) {
        self.http_requests
            .with_label_values(&[route, method, &status.to_string()])
            .inc();
        self.http_duration
            .with_label_values(&[route, method])
            .observe(elapsed.as_secs_f64());
    }

    pub fn order_finished(&self, status: OrderStatus, cancel_reason: Option<CancelReason>) {
        self.orders_finished
            .with_label_values(&[
                status.as_str(),
                cancel_reason.map_or("", CancelReason::as_str),
            ])
            .inc();
    }

    /// A discount function ran for `duration`, and failed with `error` if it did.
    pub fn observe_function(&self, duration: Duration, error: Option<FunctionErrorKind>) {
        let outcome = match error {
            None => "ok",
            Some(kind) => {
                self.function_errors
                    .with_label_values(&[kind.as_str()])
                    .inc();
                "error"
            }
        };
        self.function_duration
            .with_label_values(&[outcome])
            .observe(duration.as_secs_f64());
    }

    /// The text exposition format.
    pub fn render(&self) -> String {
        let mut buffer = Vec::new();
        let _ = TextEncoder::new().encode(&self.registry.gather(), &mut buffer);
        String::from_utf8(buffer).unwrap_or_default()
    }
}
