//! Helpers for the checkout, workflow, task-callback and idempotency tests: standard order
//! bodies, paying, polling an order until it reaches a status, reading an execution's
//! history, and publishing flow and discount-function variants.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use reqwest::Method;
use serde_json::Value;

use crate::{ADMIN_KEY, TestApp, TestResponse, execute, json};

/// How often a poll reads the order again.
pub const POLL_INTERVAL: Duration = Duration::from_millis(200);

/// The longest a poll waits for a timer-driven change before failing the test.
pub const POLL_LIMIT: Duration = Duration::from_secs(10);

/// A delivery address the seed checkout pages accept.
pub fn address() -> Value {
    json!({
        "recipient": "Li Lei",
        "phone": "+86 138 0000 0000",
        "street": "1 Chaoyang Road, Building 3, Floor 12"
    })
}

/// The seed scenario's order: 2 × beef slices at 50.00 CNY (10000 minor units in all).
pub fn order_body(merchant: &str) -> Value {
    json!({
        "merchant_id": merchant,
        "currency": "CNY",
        "items": [{"sku": "beef", "name": "Beef slices", "quantity": 2, "unit_price_minor": 5000}],
        "address": address(),
        "fields": {"delivery_time": "asap", "notes": "No cilantro, please"},
    })
}

/// An order for a merchant without a checkout page: no address or fields to validate.
pub fn plain_order_body(merchant: &str) -> Value {
    json!({
        "merchant_id": merchant,
        "currency": "CNY",
        "items": [{"sku": "beef", "name": "Beef slices", "quantity": 2, "unit_price_minor": 5000}],
    })
}

/// The platform's default flow, as shipped in `seeds/`.
pub fn default_flow() -> Value {
    json!({
        "version": "v1", "type": "flow", "timeoutSeconds": 3600,
        "steps": [
            {"type": "task", "name": "generateInfo", "action": "resolve_payment_combination"},
            {"type": "task", "name": "payment", "action": "await_payment",
             "pattern": "waitForCallback", "timeoutSeconds": 300,
             "catch": [{"errors": ["Task.Timeout"], "goto": "orderCanceled"}]},
            {"type": "task", "name": "paymentCombination", "action": "apply_discount",
             "catch": [{"errors": ["Route.NotFound", "Function.Error"], "goto": "orderCanceled"}]},
            {"type": "task", "name": "orderCompleted", "action": "complete_order", "end": true},
            {"type": "task", "name": "orderCanceled", "action": "cancel_order"}
        ]
    })
}

/// The default flow with the payment step's timeout set to `seconds`.
pub fn flow_with_payment_timeout(seconds: u64) -> Value {
    let mut flow = default_flow();
    flow["steps"][1]["timeoutSeconds"] = json!(seconds);
    flow
}

/// The default flow whose payment step exposes its task token in its input (and so in the
/// history's `TaskScheduled` event), for callers that finish it through `/v1/tasks`.
pub fn flow_exposing_payment_token() -> Value {
    let mut flow = default_flow();
    flow["steps"][1]["inputMappings"] = json!([
        {"target": "token", "source": "$context.task.token"},
        {"target": "amount_minor", "source": "$input.amount_minor"}
    ]);
    flow
}

/// The default flow with a manual-review step (`await_callback`) between payment and the
/// discount: `Review.Rejected` cancels the order; the review times out after
/// `review_timeout_seconds`. The review's token is in its `TaskScheduled` input.
pub fn review_flow(review_timeout_seconds: u64) -> Value {
    json!({
        "version": "v1", "type": "flow", "timeoutSeconds": 3600,
        "steps": [
            {"type": "task", "name": "generateInfo", "action": "resolve_payment_combination"},
            {"type": "task", "name": "payment", "action": "await_payment",
             "pattern": "waitForCallback", "timeoutSeconds": 300,
             "catch": [{"errors": ["Task.Timeout"], "goto": "orderCanceled"}]},
            {"type": "task", "name": "review", "action": "await_callback",
             "pattern": "waitForCallback", "timeoutSeconds": review_timeout_seconds,
             "inputMappings": [{"target": "token", "source": "$context.task.token"}],
             "catch": [{"errors": ["Review.Rejected"], "goto": "orderCanceled"}]},
            {"type": "task", "name": "paymentCombination", "action": "apply_discount",
             "catch": [{"errors": ["Route.NotFound", "Function.Error"], "goto": "orderCanceled"}]},
            {"type": "task", "name": "orderCompleted", "action": "complete_order", "end": true},
            {"type": "task", "name": "orderCanceled", "action": "cancel_order"}
        ]
    })
}

/// A discount function paying `percent` % of the order, labelled `label`, with test cases
/// (publishing runs them) on 100.00 and 0.00.
pub fn percent_discount(method: &str, percent: i64, label: &str) -> Value {
    let case = |amount: i64| {
        json!({
            "input": {"amount_minor": amount, "currency": "CNY", "method": method,
                      "merchant_id": "any", "items": [], "fields": {}},
            "expect": {"amount_minor": amount * percent / 100, "label": label}
        })
    };
    json!({
        "description": format!("{method} promotion: the customer pays {percent}% of the order."),
        "script": format!(
            "#{{ amount_minor: percent_of(order.amount_minor, {percent}), label: \"{label}\" }}"
        ),
        "tests": [case(10000), case(0)]
    })
}

/// The events of one type in a history, in order.
pub fn events<'a>(history: &'a [Value], kind: &str) -> Vec<&'a Value> {
    history.iter().filter(|e| e["type"] == kind).collect()
}

/// The task token the latest `TaskScheduled` event of `step` exposes in its input
/// (`detail.input.token`), when the step maps `$context.task.token` there.
pub fn task_token(history: &[Value], step: &str) -> Option<String> {
    history
        .iter()
        .rev()
        .find(|e| e["type"] == "TaskScheduled" && e["step"] == step)
        .and_then(|e| e["detail"]["input"]["token"].as_str())
        .map(str::to_owned)
}

/// Milliseconds since the Unix epoch of an RFC 3339 timestamp.
#[track_caller]
pub fn timestamp_millis(text: &str) -> i64 {
    sea_orm::prelude::DateTimeWithTimeZone::parse_from_rfc3339(text)
        .unwrap_or_else(|e| panic!("{text:?} is not an RFC 3339 timestamp: {e}"))
        .timestamp_millis()
}

/// Milliseconds since the Unix epoch, now.
pub fn now_millis() -> i64 {
    let elapsed = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("the clock is after 1970");
    i64::try_from(elapsed.as_millis()).expect("a plausible time")
}

/// The checkout and workflow operations, over HTTP.
impl TestApp {
    /// Sends a request with a bearer key, an optional `Idempotency-Key` and an optional JSON
    /// body.
    pub async fn send_with_idempotency(
        &self,
        method: Method,
        path: &str,
        key: &str,
        idempotency_key: Option<&str>,
        body: Option<&Value>,
    ) -> TestResponse {
        let mut request = self.client.request(method, self.url(path)).bearer_auth(key);
        if let Some(idempotency_key) = idempotency_key {
            request = request.header("Idempotency-Key", idempotency_key);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        execute(request).await
    }

    /// `POST /v1/storefront/orders` with `key`.
    pub async fn create_order_as(&self, key: &str, body: &Value) -> TestResponse {
        self.send(Method::POST, "/v1/storefront/orders", Some(key), Some(body))
            .await
    }

    /// Creates the standard 2 × 5000 order for a merchant with a checkout page (as the
    /// platform admin) and returns the created order, asserting a 201 awaiting payment.
    pub async fn create_order(&self, merchant: &str) -> Value {
        self.create_order_from(&order_body(merchant)).await
    }

    /// Creates an order from `body` as the platform admin, asserting a 201 awaiting payment.
    pub async fn create_order_from(&self, body: &Value) -> Value {
        let created = self.create_order_as(ADMIN_KEY, body).await;
        created.assert_status(201);
        assert_eq!(
            created.body["status"], "awaiting_payment",
            "{}",
            created.text
        );
        created.body
    }

    /// `POST /v1/storefront/orders/{id}/payment` with `key`.
    pub async fn pay_as(&self, key: &str, order_id: &str, method: &str) -> TestResponse {
        self.send(
            Method::POST,
            &format!("/v1/storefront/orders/{order_id}/payment"),
            Some(key),
            Some(&json!({"payment_method": method})),
        )
        .await
    }

    /// Pays an order as the platform admin.
    pub async fn pay(&self, order_id: &str, method: &str) -> TestResponse {
        self.pay_as(ADMIN_KEY, order_id, method).await
    }

    /// `POST /v1/storefront/orders/{id}/cancel` with `key`.
    pub async fn cancel_as(&self, key: &str, order_id: &str) -> TestResponse {
        self.send(
            Method::POST,
            &format!("/v1/storefront/orders/{order_id}/cancel"),
            Some(key),
            None,
        )
        .await
    }

    /// The order as the storefront sees it (read as the platform admin), asserting a 200.
    pub async fn order(&self, order_id: &str) -> Value {
        let order = self.get(&format!("/v1/storefront/orders/{order_id}")).await;
        order.assert_status(200);
        order.body
    }

    /// The whole execution history of an order, oldest first, each entry checked against
    /// the document's `HistoryEvent`.
    pub async fn history(&self, order_id: &str) -> Vec<Value> {
        let history = self
            .list_all(&format!("/v1/orders/{order_id}/history"))
            .await;
        crate::documented::assert_history_documented(self, &history).await;
        history
    }

    /// Reads the order every [`POLL_INTERVAL`] until its status is `status`, for at most
    /// `limit`; returns the order or fails the test showing what it last saw.
    pub async fn wait_for_status(&self, order_id: &str, status: &str, limit: Duration) -> Value {
        let started = Instant::now();
        loop {
            let order = self.order(order_id).await;
            if order["status"] == status {
                return order;
            }
            assert!(
                started.elapsed() < limit,
                "order {order_id} did not become {status:?} within {limit:?}; last seen: {order}"
            );
            tokio::time::sleep(POLL_INTERVAL).await;
        }
    }

    /// Publishes a merchant's own `order-flow` named `default`; returns its version.
    pub async fn publish_flow(&self, merchant: &str, flow: &Value) -> i64 {
        self.publish(
            &format!("/v1/merchants/{merchant}"),
            "order-flow",
            "default",
            flow,
        )
        .await
    }

    /// Creates a merchant with no checkout page, offering `methods` (in that order), with
    /// `alipay-discount` (pays 80%) published and a routing table that routes only Alipay
    /// and cancels everything else.
    pub async fn create_alipay_only_routed_merchant(&self, merchant: &str, methods: &[&str]) {
        self.create_merchant(merchant).await;
        let scope = format!("/v1/merchants/{merchant}");
        let enabled: Vec<Value> = methods.iter().map(|m| json!({"method": m})).collect();
        self.publish(
            &scope,
            "payment-combination",
            "default",
            &json!({"methods": enabled}),
        )
        .await;
        self.publish(
            &scope,
            "discount-function",
            "alipay-discount",
            &percent_discount("alipay", 80, "Alipay: 20% off"),
        )
        .await;
        self.publish(
            &scope,
            "routing-table",
            "default",
            &json!({
                "rules": [{"when": {"method": "alipay"}, "function": "alipay-discount"}],
                "default": {"action": "cancel"}
            }),
        )
        .await;
    }
}
