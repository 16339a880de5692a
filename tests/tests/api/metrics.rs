//! `/metrics` moves with the work the server does.

use tests::{TestApp, json, on_both_databases};

fn sample(metrics: &str, name_and_labels: &str) -> Option<f64> {
    metrics
        .lines()
        .find(|line| line.starts_with(name_and_labels))
        .and_then(|line| line.rsplit(' ').next())
        .and_then(|value| value.parse().ok())
}

async fn scrape(app: &TestApp) -> String {
    let response = app.send(reqwest::Method::GET, "/metrics", None, None).await;
    response.assert_status(200);
    assert!(
        response
            .header("content-type")
            .is_some_and(|c| c.starts_with("text/plain")),
        "{:?}",
        response.header("content-type")
    );
    response.text
}

on_both_databases! {
    async fn metrics_move_after_a_checkout(app: TestApp) {
        let before = scrape(&app).await;
        let completed = r#"orderflow_orders_finished_total{cancel_reason="",status="completed"}"#;
        assert_eq!(sample(&before, completed), None, "no order has finished yet");
        assert!(before.contains("orderflow_timer_lag_seconds 0"), "{before}");
        assert!(before.contains(r#"orderflow_db_pool_connections{state="open"}"#), "{before}");

        let order = app
            .post(
                "/v1/storefront/orders",
                &json!({"merchant_id": "haidilao", "currency": "CNY",
                        "items": [{"sku": "beef", "name": "Beef", "quantity": 2, "unit_price_minor": 5000}],
                        "address": {"recipient": "Li", "phone": "13800000000", "street": "1 Road"}}),
            )
            .await;
        order.assert_status(201);
        let id = order.body["order_id"].as_str().unwrap().to_owned();
        let paid = app
            .post(&format!("/v1/storefront/orders/{id}/payment"), &json!({"payment_method": "alipay"}))
            .await;
        paid.assert_status(200);
        assert_eq!(paid.body["final_amount_minor"], 8000);

        let after = scrape(&app).await;
        assert_eq!(sample(&after, completed), Some(1.0), "{after}");
        let created = r#"orderflow_http_requests_total{method="POST",route="/v1/storefront/orders",status="201"}"#;
        assert_eq!(sample(&after, created), Some(1.0), "{after}");
        let pay_route = r#"orderflow_http_requests_total{method="POST",route="/v1/storefront/orders/{order_id}/payment",status="200"}"#;
        assert_eq!(sample(&after, pay_route), Some(1.0), "{after}");
        let evaluations = r#"orderflow_function_evaluation_seconds_count{outcome="ok"}"#;
        assert_eq!(sample(&after, evaluations), Some(1.0), "{after}");
        assert!(after.contains("orderflow_http_request_duration_seconds_bucket"), "{after}");
        // The writer committed both change sets (and the timer loop's leases) in batches.
        let applied = |metrics: &str| sample(metrics, "orderflow_writer_batch_size_sum").unwrap_or(0.0);
        assert!(applied(&after) >= applied(&before) + 2.0, "{after}");
        assert!(sample(&after, "orderflow_writer_commit_seconds_count").is_some_and(|n| n >= 2.0), "{after}");
        // Nothing of the checkout waits; the timer and delivery loops' leases may.
        assert!(sample(&after, "orderflow_writer_queue_depth").is_some_and(|n| n <= 2.0), "{after}");
        assert!(after.contains("orderflow_webhook_delivery_lag_seconds_count 0"), "no endpoint, no delivery: {after}");
        assert_eq!(sample(&after, "orderflow_writer_failed_batches_total"), Some(0.0), "{after}");
        assert!(after.contains("orderflow_writer_refused_total"), "{after}");
        assert!(after.contains("orderflow_writer_retries_total"), "{after}");
        // The payment staged from the copy of the execution its order's creation wrote.
        let reads = |source: &str| sample(&after, &format!(r#"orderflow_execution_reads_total{{source="{source}"}}"#));
        assert_eq!(reads("recent"), Some(1.0), "{after}");
        assert_eq!(reads("database"), None, "{after}");
        // Raw ids never become labels.
        assert!(!after.contains(&id), "the order id leaked into a label");
    }

    async fn function_errors_are_counted_by_kind(app: TestApp) {
        let response = app
            .post("/v1/merchants/haidilao/functions/dry-run", &json!({"script": "loop {}", "input": {"amount_minor": 1}}))
            .await;
        response.assert_status(200);
        let kind = response.body["error"]["kind"].as_str().unwrap().to_owned();
        let after = scrape(&app).await;
        let errors = format!(r#"orderflow_function_errors_total{{kind="{kind}"}}"#);
        assert_eq!(sample(&after, &errors), Some(1.0), "{after}");
    }
}
