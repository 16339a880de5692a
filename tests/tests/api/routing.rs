//! The routing table: evaluating a payment against the published table (or a draft passed
//! in the request) — which rule matched, which function and version it selects and what
//! that function charges — and the static checks that publishing a table runs.

use reqwest::Method;
use serde_json::Value;
use tests::{TestApp, TestResponse, json, on_both_databases};

const TABLE: &str = "routing-table";

fn evaluate_path(merchant: &str) -> String {
    format!("/v1/merchants/{merchant}/routing/evaluate")
}

fn order(amount: i64) -> Value {
    json!({"amount_minor": amount, "currency": "CNY",
           "items": [{"sku": "beef", "name": "Beef slices", "quantity": 2, "unit_price_minor": 5000}],
           "fields": {}})
}

/// Evaluates a payment of `amount` by `method` against the published table.
async fn evaluate(app: &TestApp, merchant: &str, method: &str, amount: i64) -> TestResponse {
    let response = app
        .post(
            &evaluate_path(merchant),
            &json!({"order": order(amount), "payment_method": method}),
        )
        .await;
    response.assert_status(200);
    response
}

/// Evaluates a payment against a draft table given in the request.
async fn evaluate_draft(
    app: &TestApp,
    merchant: &str,
    method: &str,
    amount: i64,
    table: &Value,
) -> TestResponse {
    app.post(
        &evaluate_path(merchant),
        &json!({"order": order(amount), "payment_method": method, "routing_table": table}),
    )
    .await
}

/// Asserts that a rule (or the default, when `rule` is None) selected version 1 of
/// `function`, and that it priced the order at `amount`.
#[track_caller]
fn assert_priced(response: &TestResponse, rule: Option<usize>, function: &str, amount: i64) {
    let body = &response.body;
    match rule {
        Some(index) => {
            assert_eq!(body["route"], "rule", "{}", response.text);
            assert_eq!(body["rule_index"], index, "{}", response.text);
        }
        None => {
            assert_eq!(body["route"], "default", "{}", response.text);
            assert!(body["rule_index"].is_null(), "{}", response.text);
        }
    }
    assert_eq!(
        body["function"],
        json!({"name": function, "version": 1}),
        "{}",
        response.text
    );
    assert_eq!(body["result"]["ok"], true, "{}", response.text);
    assert_eq!(
        body["result"]["output"]["amount_minor"], amount,
        "{}",
        response.text
    );
    assert!(body["condition_error"].is_null(), "{}", response.text);
}

/// A merchant of its own with published copies of the seed's alipay and wechat functions
/// (and no payment combination).
async fn fresh_merchant(app: &TestApp, id: &str) -> String {
    app.create_merchant(id).await;
    let scope = format!("/v1/merchants/{id}");
    for (name, percent) in [("alipay-discount", 80), ("wechat-pay-discount", 50)] {
        let function = json!({
            "description": format!("Pay {percent}%."),
            "script": format!("#{{amount_minor: percent_of(order.amount_minor, {percent}), label: \"{percent}%\"}}"),
            "tests": [{"input": {"amount_minor": 10000}, "expect": percent * 100}],
        });
        assert_eq!(
            app.publish(&scope, "discount-function", name, &function)
                .await,
            1
        );
    }
    scope
}

/// Saves `draft` as haidilao's routing table, expects its publish to be rejected with
/// exactly `pointers`, and checks that the draft is kept and version 1 stays published.
async fn publish_is_rejected(app: &TestApp, draft: &Value, pointers: &[&str]) -> TestResponse {
    let doc = "/v1/merchants/haidilao/metadata/routing-table/default";
    app.put(&format!("{doc}/draft"), draft)
        .await
        .assert_status(200);
    let rejected = app.post(&format!("{doc}/publish"), &json!({})).await;
    rejected.assert_violations(pointers);
    let after = app.get(doc).await;
    after.assert_status(200);
    assert_eq!(&after.body["draft"], draft, "the draft must survive");
    assert_eq!(after.body["published_version"], 1, "{}", after.text);
    rejected
}

on_both_databases! {
    async fn the_seed_tables_route_each_method_to_its_function(app: TestApp) {
        let response = evaluate(&app, "haidilao", "alipay", 10_000).await;
        assert_priced(&response, Some(0), "alipay-discount", 8000);
        assert_eq!(response.body["routing_table_version"], 1);
        assert_eq!(response.body["result"]["output"]["label"], "Alipay: 20% off");
        assert!(response.body["result"]["operations"].as_u64().is_some_and(|n| n > 0), "{}", response.text);
        assert_eq!(response.body["routing_logs"], json!([]));

        let response = evaluate(&app, "haidilao", "wechat_pay", 10_000).await;
        assert_priced(&response, Some(1), "wechat-pay-discount", 5000);
        assert_eq!(response.body["routing_table_version"], 1);

        let response = evaluate(&app, "xibei", "unionpay", 10_000).await;
        assert_priced(&response, Some(2), "unionpay-discount", 7000);
        assert_eq!(response.body["routing_table_version"], 1);
        let response = evaluate(&app, "xibei", "alipay", 9999).await;
        assert_priced(&response, Some(0), "alipay-discount", 7999);

        // A method no rule names takes the seed's default: cancel.
        let response = evaluate(&app, "haidilao", "points", 10_000).await;
        assert_eq!(response.body["route"], "cancel", "{}", response.text);
        assert!(response.body["rule_index"].is_null());
        assert!(response.body["function"].is_null());
        assert!(response.body["result"].is_null());
        assert_eq!(response.body["routing_table_version"], 1);

        // The merchant's own admin key may evaluate too.
        let key = app.create_key("xibei", "merchant_admin").await;
        let response = app
            .send(Method::POST, &evaluate_path("xibei"), Some(&key),
                  Some(&json!({"order": order(10_000), "payment_method": "unionpay"})))
            .await;
        response.assert_status(200);
        assert_priced(&response, Some(2), "unionpay-discount", 7000);
    }

    async fn a_method_without_a_rule_follows_the_default_cancel(app: TestApp) {
        let scope = fresh_merchant(&app, "solo").await;
        let table = json!({"rules": [{"when": {"method": "alipay"}, "function": "alipay-discount"}],
                           "default": {"action": "cancel"}});
        assert_eq!(app.publish(&scope, TABLE, "default", &table).await, 1);

        let response = evaluate(&app, "solo", "wechat_pay", 10_000).await;
        assert_eq!(response.body["route"], "cancel", "{}", response.text);
        assert!(response.body["rule_index"].is_null(), "{}", response.text);
        assert!(response.body["function"].is_null(), "{}", response.text);
        assert!(response.body["result"].is_null(), "{}", response.text);
        assert_eq!(response.body["routing_table_version"], 1);

        let response = evaluate(&app, "solo", "alipay", 10_000).await;
        assert_priced(&response, Some(0), "alipay-discount", 8000);

        // Without a default (allowed: the merchant enables no methods), it is not found.
        let no_default = json!({"rules": [{"when": {"method": "alipay"}, "function": "alipay-discount"}]});
        assert_eq!(app.publish(&scope, TABLE, "default", &no_default).await, 2);
        let response = evaluate(&app, "solo", "wechat_pay", 10_000).await;
        assert_eq!(response.body["route"], "not_found", "{}", response.text);
        assert_eq!(response.body["routing_table_version"], 2);
        assert!(response.body["function"].is_null(), "{}", response.text);
    }

    async fn a_draft_table_in_the_request_is_tried_instead(app: TestApp) {
        let draft = json!({"rules": [
            {"when": {"method": "alipay", "condition": "order.amount_minor > 5000"}, "function": "wechat-pay-discount"},
            {"when": {"method": "alipay"}, "function": "alipay-discount"}
        ], "default": {"action": "cancel"}});
        let response = evaluate_draft(&app, "haidilao", "alipay", 10_000, &draft).await;
        response.assert_status(200);
        assert_priced(&response, Some(0), "wechat-pay-discount", 5000);
        assert!(response.body["routing_table_version"].is_null(), "{}", response.text);

        let response = evaluate_draft(&app, "haidilao", "alipay", 4000, &draft).await;
        response.assert_status(200);
        assert_priced(&response, Some(1), "alipay-discount", 3200);

        // The condition sees the method and the merchant, set from the request.
        let draft = json!({"rules": [
            {"when": {"method": "alipay", "condition": "order.method == \"alipay\" && order.merchant_id == \"haidilao\""}, "function": "unionpay-discount"}
        ], "default": {"action": "cancel"}});
        let response = evaluate_draft(&app, "haidilao", "alipay", 10_000, &draft).await;
        response.assert_status(200);
        assert_priced(&response, Some(0), "unionpay-discount", 7000);

        // Amount bounds.
        let draft = json!({"rules": [
            {"when": {"method": "alipay", "max_amount_minor": 999}, "function": "unionpay-discount"},
            {"when": {"method": "alipay", "min_amount_minor": 1000}, "function": "wechat-pay-discount"}
        ]});
        let response = evaluate_draft(&app, "haidilao", "alipay", 1000, &draft).await;
        response.assert_status(200);
        assert_priced(&response, Some(1), "wechat-pay-discount", 500);

        // The published table is unchanged by any of this.
        let response = evaluate(&app, "haidilao", "alipay", 10_000).await;
        assert_priced(&response, Some(0), "alipay-discount", 8000);
    }

    async fn a_condition_that_fails_at_run_time_is_reported(app: TestApp) {
        for (condition, kind) in [
            ("order.amount_minor / 0 > 1", "Function.RuntimeError"),
            ("order.amount_minor", "Function.InvalidResult"),
        ] {
            let draft = json!({"rules": [
                {"when": {"method": "alipay", "condition": condition}, "function": "unionpay-discount"},
                {"when": {"method": "alipay"}, "function": "alipay-discount"}
            ], "default": {"action": "cancel"}});
            let response = evaluate_draft(&app, "haidilao", "alipay", 10_000, &draft).await;
            response.assert_status(200);
            let body = &response.body;
            assert_eq!(body["route"], "condition_failed", "{}", response.text);
            assert_eq!(body["condition_error"]["kind"], kind, "{}", response.text);
            assert!(body["condition_error"]["message"].as_str().is_some_and(|m| !m.is_empty()));
            // A failed condition is not a miss: no later rule and no function runs.
            assert!(body["rule_index"].is_null(), "{}", response.text);
            assert!(body["function"].is_null(), "{}", response.text);
            assert!(body["result"].is_null(), "{}", response.text);
        }
        // A condition is only evaluated for the rule's method.
        let draft = json!({"rules": [
            {"when": {"method": "wechat_pay", "condition": "order.amount_minor / 0 > 1"}, "function": "wechat-pay-discount"},
            {"when": {"method": "alipay"}, "function": "alipay-discount"}
        ]});
        let response = evaluate_draft(&app, "haidilao", "alipay", 10_000, &draft).await;
        response.assert_status(200);
        assert_priced(&response, Some(1), "alipay-discount", 8000);
    }

    async fn a_draft_default_function_catches_unrouted_methods(app: TestApp) {
        let draft = json!({"rules": [{"when": {"method": "wechat_pay"}, "function": "wechat-pay-discount"}],
                           "default": {"function": "unionpay-discount"}});
        let response = evaluate_draft(&app, "haidilao", "alipay", 10_000, &draft).await;
        response.assert_status(200);
        assert_priced(&response, None, "unionpay-discount", 7000);
        assert!(response.body["routing_table_version"].is_null(), "{}", response.text);

        let response = evaluate_draft(&app, "haidilao", "wechat_pay", 10_000, &draft).await;
        response.assert_status(200);
        assert_priced(&response, Some(0), "wechat-pay-discount", 5000);
    }

    async fn a_draft_naming_an_unpublished_function_is_rejected(app: TestApp) {
        let draft = json!({"rules": [{"when": {"method": "alipay"}, "function": "ghost-discount"}],
                           "default": {"action": "cancel"}});
        let response = evaluate_draft(&app, "haidilao", "alipay", 10_000, &draft).await;
        response.assert_violations(&["/routing_table/rules/0/function"]);
        assert!(response.text.contains("ghost-discount"), "{}", response.text);

        let draft = json!({"rules": [], "default": {"function": "ghost-discount"}});
        let response = evaluate_draft(&app, "haidilao", "alipay", 10_000, &draft).await;
        response.assert_violations(&["/routing_table/default/function"]);

        // A function that is only a draft is not published either.
        app.put("/v1/merchants/haidilao/metadata/discount-function/draft-only/draft",
                &json!({"description": "d", "script": "order.amount_minor"}))
            .await
            .assert_status(200);
        let draft = json!({"rules": [{"when": {"method": "alipay"}, "function": "draft-only"}]});
        evaluate_draft(&app, "haidilao", "alipay", 10_000, &draft)
            .await
            .assert_violations(&["/routing_table/rules/0/function"]);

        // Another merchant's function does not count.
        let scope = fresh_merchant(&app, "other").await;
        let function = json!({"description": "Only other's.", "script": "order.amount_minor"});
        app.publish(&scope, "discount-function", "others-only", &function).await;
        let draft = json!({"rules": [{"when": {"method": "alipay"}, "function": "others-only"}]});
        evaluate_draft(&app, "haidilao", "alipay", 10_000, &draft)
            .await
            .assert_violations(&["/routing_table/rules/0/function"]);
    }

    async fn a_draft_violating_the_schema_points_into_routing_table(app: TestApp) {
        let draft = json!({"rules": [{"when": {}, "function": "BAD NAME"}]});
        let response = evaluate_draft(&app, "haidilao", "alipay", 10_000, &draft).await;
        response.assert_violations(&["/routing_table/rules/0/function", "/routing_table/rules/0/when"]);

        let response = evaluate_draft(&app, "haidilao", "alipay", 10_000, &json!({"default": {"action": "cancel"}})).await;
        response.assert_problem(422, "validation-failed");
        let pointers = response.error_pointers();
        assert!(!pointers.is_empty(), "{}", response.text);
        assert!(pointers.iter().all(|p| p.starts_with("/routing_table")), "{}", response.text);

        let response = evaluate_draft(&app, "haidilao", "alipay", 10_000, &json!({"rules": [], "default": {"action": "refund"}})).await;
        response.assert_problem(422, "validation-failed");
        let pointers = response.error_pointers();
        assert!(!pointers.is_empty(), "{}", response.text);
        assert!(pointers.iter().all(|p| p.starts_with("/routing_table/default")), "{}", response.text);

        // A condition that does not compile.
        let draft = json!({"rules": [
            {"when": {"method": "alipay"}, "function": "alipay-discount"},
            {"when": {"method": "alipay", "condition": "order.amount_minor >"}, "function": "alipay-discount"}
        ]});
        let response = evaluate_draft(&app, "haidilao", "alipay", 10_000, &draft).await;
        response.assert_violations(&["/routing_table/rules/1/when/condition"]);

        // Conditions are expressions: statements do not compile.
        let draft = json!({"rules": [
            {"when": {"method": "alipay", "condition": "print(\"x\"); true"}, "function": "alipay-discount"}
        ]});
        evaluate_draft(&app, "haidilao", "alipay", 10_000, &draft)
            .await
            .assert_violations(&["/routing_table/rules/0/when/condition"]);

        let response = evaluate_draft(&app, "haidilao", "alipay", 10_000, &json!([1])).await;
        response.assert_problem(422, "validation-failed");
        assert!(response.error_pointers().iter().all(|p| p.starts_with("/routing_table")), "{}", response.text);
    }

    async fn the_order_needs_an_amount(app: TestApp) {
        let path = evaluate_path("haidilao");
        let response = app.post(&path, &json!({"order": {"currency": "CNY"}, "payment_method": "alipay"})).await;
        response.assert_violations(&["/order/amount_minor"]);
        // 2^53 and i64::MAX are beyond the largest amount, which ScriptOrder declares.
        for amount in [json!(-1), json!("10000"), json!(12.5), Value::Null, json!(9_007_199_254_740_992u64), json!(i64::MAX)] {
            let response = app.post(&path, &json!({"order": {"amount_minor": amount}, "payment_method": "alipay"})).await;
            response.assert_violations(&["/order/amount_minor"]);
        }
        let response = app.post(&path, &json!({"order": [1], "payment_method": "alipay"})).await;
        response.assert_problem(422, "validation-failed");
        assert_eq!(response.error_pointers(), ["/order"], "{}", response.text);
        // A zero amount is fine and stays free.
        let response = evaluate(&app, "haidilao", "alipay", 0).await;
        assert_priced(&response, Some(0), "alipay-discount", 0);
    }

    async fn a_merchant_without_a_published_table_is_not_configured(app: TestApp) {
        app.create_merchant("bare").await;
        let response = app.post(&evaluate_path("bare"), &json!({"order": order(10_000), "payment_method": "alipay"})).await;
        // 409 like an order of the merchant's: it exists, it has not published what is needed.
        response.assert_problem(409, "merchant-not-configured");
        // A draft alone is not published ...
        app.put("/v1/merchants/bare/metadata/routing-table/default/draft",
                &json!({"rules": [], "default": {"action": "cancel"}}))
            .await
            .assert_status(200);
        app.post(&evaluate_path("bare"), &json!({"order": order(10_000), "payment_method": "alipay"}))
            .await
            .assert_problem(409, "merchant-not-configured");
        // ... but it can be passed in the request.
        let response = evaluate_draft(&app, "bare", "alipay", 10_000, &json!({"rules": [], "default": {"action": "cancel"}})).await;
        response.assert_status(200);
        assert_eq!(response.body["route"], "cancel", "{}", response.text);
        // An unknown merchant is a 404 too.
        app.post(&evaluate_path("nobody"), &json!({"order": order(10_000), "payment_method": "alipay"}))
            .await
            .assert_problem(404, "not-found");
    }

    async fn evaluating_needs_the_merchants_admin(app: TestApp) {
        let body = json!({"order": order(10_000), "payment_method": "alipay"});
        let storefront = app.create_key("haidilao", "storefront").await;
        app.send(Method::POST, &evaluate_path("haidilao"), Some(&storefront), Some(&body))
            .await
            .assert_problem(403, "forbidden");
        let other_admin = app.create_key("xibei", "merchant_admin").await;
        app.send(Method::POST, &evaluate_path("haidilao"), Some(&other_admin), Some(&body))
            .await
            .assert_problem(404, "not-found");
        app.send(Method::POST, &evaluate_path("haidilao"), None, Some(&body))
            .await
            .assert_problem(401, "unauthorized");
    }

    async fn publishing_rejects_a_shadowed_rule(app: TestApp) {
        let draft = json!({"rules": [
            {"when": {"method": "alipay"}, "function": "alipay-discount"},
            {"when": {"method": "wechat_pay"}, "function": "wechat-pay-discount"},
            {"when": {"method": "alipay", "min_amount_minor": 100}, "function": "unionpay-discount"}
        ], "default": {"action": "cancel"}});
        let rejected = publish_is_rejected(&app, &draft, &["/rules/2"]).await;
        let text = rejected.body["errors"][0]["message"].as_str().unwrap();
        // Rules are counted from 1 in messages, like the console's table (pointers from 0).
        assert!(text.contains("rule 1 "), "{text}");
        // A conditional earlier rule shadows nothing.
        let ok = json!({"rules": [
            {"when": {"method": "alipay", "condition": "order.amount_minor > 5000"}, "function": "unionpay-discount"},
            {"when": {"method": "alipay"}, "function": "alipay-discount"},
            {"when": {"method": "wechat_pay"}, "function": "wechat-pay-discount"}
        ], "default": {"action": "cancel"}});
        assert_eq!(app.publish("/v1/merchants/haidilao", TABLE, "default", &ok).await, 2);
    }

    async fn publishing_rejects_a_method_not_in_the_catalog(app: TestApp) {
        let draft = json!({"rules": [
            {"when": {"method": "alipay"}, "function": "alipay-discount"},
            {"when": {"method": "paypal"}, "function": "alipay-discount"}
        ], "default": {"action": "cancel"}});
        let rejected = publish_is_rejected(&app, &draft, &["/rules/1/when/method"]).await;
        assert!(rejected.text.contains("paypal"), "{}", rejected.text);
    }

    async fn publishing_rejects_an_unpublished_function(app: TestApp) {
        let draft = json!({"rules": [
            {"when": {"method": "alipay"}, "function": "alipay-discount"},
            {"when": {"method": "wechat_pay"}, "function": "ghost-discount"}
        ], "default": {"action": "cancel"}});
        let rejected = publish_is_rejected(&app, &draft, &["/rules/1/function"]).await;
        assert!(rejected.text.contains("ghost-discount"), "{}", rejected.text);
    }

    async fn publishing_without_a_default_needs_every_enabled_method_routed(app: TestApp) {
        // haidilao's combination enables alipay and wechat_pay.
        let draft = json!({"rules": [{"when": {"method": "alipay"}, "function": "alipay-discount"}]});
        let rejected = publish_is_rejected(&app, &draft, &["/default"]).await;
        assert!(rejected.text.contains("wechat_pay"), "{}", rejected.text);
        // Routing both (and nothing else) needs no default.
        let ok = json!({"rules": [
            {"when": {"method": "alipay"}, "function": "alipay-discount"},
            {"when": {"method": "wechat_pay"}, "function": "wechat-pay-discount"}
        ]});
        assert_eq!(app.publish("/v1/merchants/haidilao", TABLE, "default", &ok).await, 2);
    }

    async fn publishing_rejects_a_condition_that_does_not_compile(app: TestApp) {
        let draft = json!({"rules": [
            {"when": {"method": "alipay", "condition": "order.amount_minor >"}, "function": "alipay-discount"},
            {"when": {"method": "alipay"}, "function": "alipay-discount"}
        ], "default": {"action": "cancel"}});
        let rejected = publish_is_rejected(&app, &draft, &["/rules/0/when/condition"]).await;
        assert!(rejected.text.contains("line 1"), "{}", rejected.text);
    }

    async fn publishing_lists_every_problem_at_once(app: TestApp) {
        let draft = json!({"rules": [
            {"when": {"method": "alipay"}, "function": "alipay-discount"},
            {"when": {"method": "alipay", "max_amount_minor": 500}, "function": "alipay-discount"},
            {"when": {"method": "paypal"}, "function": "alipay-discount"},
            {"when": {"method": "unionpay"}, "function": "ghost-discount"},
            {"when": {"method": "cash_on_delivery", "condition": "(("}, "function": "unionpay-discount"}
        ]});
        let rejected = publish_is_rejected(&app, &draft, &[
            "/rules/1",
            "/rules/2/when/method",
            "/rules/3/function",
            "/default",
            "/rules/4/when/condition",
        ]).await;
        assert!(rejected.body["detail"].as_str().unwrap().contains('5'), "{}", rejected.text);
    }

    async fn a_valid_table_publishes_and_is_used(app: TestApp) {
        let table = json!({"rules": [
            {"when": {"method": "alipay", "min_amount_minor": 20000}, "function": "unionpay-discount"},
            {"when": {"method": "alipay"}, "function": "alipay-discount"},
            {"when": {"method": "wechat_pay"}, "function": "wechat-pay-discount"}
        ], "default": {"function": "alipay-discount"}});
        let doc = "/v1/merchants/haidilao/metadata/routing-table/default";
        app.put(&format!("{doc}/draft"), &table).await.assert_status(200);
        let published = app.post(&format!("{doc}/publish"), &json!({})).await;
        published.assert_status(201);
        assert_eq!(published.body["version"], 2);

        let response = evaluate(&app, "haidilao", "alipay", 30_000).await;
        assert_priced(&response, Some(0), "unionpay-discount", 21_000);
        assert_eq!(response.body["routing_table_version"], 2);
        let response = evaluate(&app, "haidilao", "alipay", 10_000).await;
        assert_priced(&response, Some(1), "alipay-discount", 8000);
        let response = evaluate(&app, "haidilao", "points", 10_000).await;
        assert_priced(&response, None, "alipay-discount", 8000);
        assert_eq!(response.body["routing_table_version"], 2);
    }
}
