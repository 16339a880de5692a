//! A merchant at a glance (`GET /v1/merchants/{id}/overview`): its documents, what is live
//! and its recent orders, in one request, agreeing with the operations it summarises.

use reqwest::Method;
use serde_json::Value;
use tests::{TestApp, json, on_both_databases};

async fn overview(app: &TestApp, merchant: &str) -> Value {
    let response = app.get(&format!("/v1/merchants/{merchant}/overview")).await;
    response.assert_status(200);
    tests::documented::assert_documented(app, "MerchantOverview", &response.body).await;
    response.body
}

fn order_id(order: &Value) -> String {
    order["order_id"].as_str().expect("order_id").to_owned()
}

/// The documents of one kind, as `(name, published_version, has_draft)`.
fn documents(overview: &Value, kind: &str) -> Vec<(String, Value, bool)> {
    let kinds = overview["documents"].as_array().expect("documents");
    let entry = kinds
        .iter()
        .find(|k| k["kind"] == kind)
        .expect("the kind is listed");
    assert_eq!(entry["next_cursor"], Value::Null);
    entry["documents"]
        .as_array()
        .expect("documents of the kind")
        .iter()
        .map(|d| {
            (
                d["name"].as_str().unwrap().to_owned(),
                d["published_version"].clone(),
                d["has_draft"].as_bool().unwrap(),
            )
        })
        .collect()
}

on_both_databases! {
    async fn the_overview_shows_what_is_live_for_the_seeded_merchant(app: TestApp) {
        let body = overview(&app, "haidilao").await;
        assert_eq!(body["merchant"]["id"], "haidilao");
        assert_eq!(body["merchant"]["name"], app.get("/v1/merchants/haidilao").await.body["name"]);

        // Every kind a merchant may hold, and none of the platform's.
        let kinds: Vec<&str> = body["documents"].as_array().unwrap().iter().map(|k| k["kind"].as_str().unwrap()).collect();
        assert_eq!(kinds, ["payment-combination", "checkout-page", "discount-function", "routing-table", "order-flow"]);
        assert_eq!(
            documents(&body, "discount-function"),
            [
                ("alipay-discount".to_owned(), json!(1), false),
                ("unionpay-discount".to_owned(), json!(1), false),
                ("wechat-pay-discount".to_owned(), json!(1), false),
            ]
        );
        assert_eq!(documents(&body, "order-flow"), []);

        // Alipay and WeChat Pay, in display order, named by the catalog and priced on the
        // example order by the routing table: 80% and 50% of 10000.
        assert_eq!(body["payment_combination_version"], 1);
        assert_eq!(body["example_order"], json!({"amount_minor": 10000, "currency": "CNY"}));
        let methods = body["payment_methods"].as_array().unwrap();
        assert_eq!(methods.len(), 2, "{body}");
        assert_eq!(methods[0]["method"], "alipay");
        assert_eq!(methods[0]["names"]["en"], "Alipay");
        assert_eq!(methods[0]["label"], Value::Null);
        assert_eq!(methods[0]["storefront_label"], "Alipay");
        assert_eq!(methods[0]["route"]["route"], "rule");
        assert_eq!(methods[0]["route"]["rule_index"], 0);
        assert_eq!(methods[0]["route"]["routing_table_version"], 1);
        assert_eq!(methods[0]["route"]["function"], json!({"name": "alipay-discount", "version": 1}));
        assert_eq!(methods[0]["route"]["result"]["output"]["amount_minor"], 8000);
        assert_eq!(methods[0]["function_description"], "Alipay promotion: the customer pays 80% of the order.");
        assert_eq!(methods[1]["method"], "wechat_pay");
        assert_eq!(methods[1]["route"]["result"]["output"]["amount_minor"], 5000);
        assert_eq!(methods[1]["route_problem"], Value::Null);
        // The same answer as the routing evaluate operation.
        let evaluated = app
            .post(
                "/v1/merchants/haidilao/routing/evaluate",
                &json!({"payment_method": "wechat_pay", "order": {"amount_minor": 10000, "currency": "CNY", "items": [], "fields": {}}}),
            )
            .await;
        assert_eq!(methods[1]["route"]["function"], evaluated.body["function"]);
        assert_eq!(methods[1]["route"]["result"]["output"], evaluated.body["result"]["output"]);

        // The published documents the home shows; the flow is the platform's.
        assert_eq!(body["routing_table"]["version"], 1);
        assert_eq!(body["routing_table"]["body"]["default"], json!({"action": "cancel"}));
        assert_eq!(body["checkout_page"]["version"], 1);
        assert!(body["checkout_page"]["body"]["sections"].is_array(), "{body}");
        assert_eq!(body["order_flow"]["scope"], "platform");
        assert_eq!(body["order_flow"]["version"], 1);
        assert_eq!(body["order_flow"]["body"]["steps"][1]["timeoutSeconds"], 300);

        // No orders yet.
        for window in ["last_24h", "last_7d"] {
            assert_eq!(body["orders"][window]["orders"], 0);
            assert_eq!(body["orders"][window]["discount_given"], json!([]));
        }
        assert_eq!(body["orders"]["last_24h"]["window"], "24h");
        assert_eq!(body["orders"]["last_24h"]["buckets"].as_array().unwrap().len(), 24);
        assert_eq!(body["orders"]["last_7d"]["window"], "7d");
        assert_eq!(body["orders"]["last_7d"]["buckets"].as_array().unwrap().len(), 7);
    }

    async fn the_overviews_order_counts_follow_placing_paying_and_canceling(app: TestApp) {
        let waiting = app.create_order("haidilao").await;
        let body = overview(&app, "haidilao").await;
        assert_eq!(body["orders"]["last_24h"]["by_status"]["awaiting_payment"], 1, "{body}");
        assert_eq!(body["orders"]["last_7d"]["orders"], 1);

        app.pay(&order_id(&waiting), "alipay").await.assert_status(200);
        let paid_wechat = app.create_order("haidilao").await;
        app.pay(&order_id(&paid_wechat), "wechat_pay").await.assert_status(200);
        let canceled = app.create_order("haidilao").await;
        app.post(&format!("/v1/storefront/orders/{}/cancel", order_id(&canceled)), &json!({}))
            .await
            .assert_status(200);
        // Another merchant's order is never counted here.
        let other = app.create_order("xibei").await;
        app.pay(&order_id(&other), "alipay").await.assert_status(200);

        let body = overview(&app, "haidilao").await;
        for window in ["last_24h", "last_7d"] {
            let stats = &body["orders"][window];
            assert_eq!(stats["orders"], 3, "{window}: {stats}");
            assert_eq!(stats["by_status"], json!({"awaiting_payment": 0, "processing": 0, "completed": 2, "canceled": 1}), "{window}");
            assert_eq!(stats["by_cancel_reason"]["merchant_canceled"], 1, "{window}");
            assert_eq!(stats["by_cancel_reason"]["no_route"], 0, "{window}");
            // 10000 − 8000 and 10000 − 5000.
            assert_eq!(stats["discount_given"], json!([{"currency": "CNY", "amount_minor": 7000}]), "{window}");
        }
        let hours: i64 = body["orders"]["last_24h"]["buckets"].as_array().unwrap().iter().map(|b| b["orders"].as_i64().unwrap()).sum();
        assert_eq!(hours, 3);
        // The same numbers as the stats operation.
        let stats = app.get("/v1/merchants/haidilao/orders/stats?window=7d").await.body;
        assert_eq!(body["orders"]["last_7d"]["by_status"], stats["by_status"]);
        assert_eq!(body["orders"]["last_7d"]["by_cancel_reason"], stats["by_cancel_reason"]);
        assert_eq!(overview(&app, "xibei").await["orders"]["last_24h"]["by_status"]["completed"], 1);
    }

    async fn the_overview_follows_drafts_publishes_and_a_merchants_own_flow(app: TestApp) {
        let scope = "/v1/merchants/haidilao";
        // A draft of the routing table that routes only Alipay; the live one is unchanged.
        app.put(
            &format!("{scope}/metadata/routing-table/default/draft"),
            &json!({"rules": [{"when": {"method": "alipay"}, "function": "alipay-discount"}], "default": {"action": "cancel"}}),
        )
        .await
        .assert_status(200);
        let body = overview(&app, "haidilao").await;
        assert_eq!(documents(&body, "routing-table"), [("default".to_owned(), json!(1), true)]);
        assert_eq!(body["payment_methods"][1]["route"]["route"], "rule");

        // Published, WeChat Pay has no rule left and the default cancels.
        app.post(&format!("{scope}/metadata/routing-table/default/publish"), &json!({})).await.assert_status(201);
        let body = overview(&app, "haidilao").await;
        assert_eq!(documents(&body, "routing-table"), [("default".to_owned(), json!(2), false)]);
        assert_eq!(body["routing_table"]["version"], 2);
        assert_eq!(body["payment_methods"][1]["route"]["route"], "cancel");
        assert_eq!(body["payment_methods"][1]["route"]["routing_table_version"], 2);
        assert_eq!(body["payment_methods"][1]["route"]["function"], Value::Null);
        assert_eq!(body["payment_methods"][1]["function_description"], Value::Null);

        // A label of the combination's own; a never-published draft is listed as such.
        app.publish(scope, "payment-combination", "default", &json!({"methods": [{"method": "alipay", "label": "Alipay (20% off)"}]})).await;
        app.put(&format!("{scope}/metadata/discount-function/new-promo/draft"), &json!({"script": "order.amount_minor", "description": "d", "tests": []}))
            .await
            .assert_status(200);
        let body = overview(&app, "haidilao").await;
        assert_eq!(body["payment_combination_version"], 2);
        assert_eq!(body["payment_methods"].as_array().unwrap().len(), 1);
        assert_eq!(body["payment_methods"][0]["label"], "Alipay (20% off)");
        assert_eq!(body["payment_methods"][0]["storefront_label"], "Alipay (20% off)");
        assert!(documents(&body, "discount-function").contains(&("new-promo".to_owned(), Value::Null, true)));

        // The merchant's own flow replaces the platform's.
        app.publish(scope, "order-flow", "default", &tests::checkout::flow_with_payment_timeout(60)).await;
        let body = overview(&app, "haidilao").await;
        assert_eq!(body["order_flow"]["scope"], "merchants/haidilao");
        assert_eq!(body["order_flow"]["body"]["steps"][1]["timeoutSeconds"], 60);
    }

    async fn a_new_merchant_has_an_empty_overview(app: TestApp) {
        app.create_merchant("bare").await;
        let body = overview(&app, "bare").await;
        assert_eq!(body["merchant"]["id"], "bare");
        assert_eq!(body["payment_methods"], json!([]));
        assert_eq!(body["payment_combination_version"], Value::Null);
        assert_eq!(body["routing_table"], Value::Null);
        assert_eq!(body["checkout_page"], Value::Null);
        assert_eq!(body["order_flow"]["scope"], "platform");
        for kind in body["documents"].as_array().unwrap() {
            assert_eq!(kind["documents"], json!([]), "{kind}");
        }
        assert_eq!(body["orders"]["last_7d"]["orders"], 0);
    }

    async fn only_the_merchants_admins_and_platform_admins_see_the_overview(app: TestApp) {
        let own = app.create_key("haidilao", "merchant_admin").await;
        let response = app.send(Method::GET, "/v1/merchants/haidilao/overview", Some(&own), None).await;
        response.assert_status(200);
        assert_eq!(response.body["merchant"]["id"], "haidilao");
        // Another tenant's admin: as if it did not exist.
        let other = app.create_key("xibei", "merchant_admin").await;
        app.send(Method::GET, "/v1/merchants/haidilao/overview", Some(&other), None)
            .await
            .assert_problem(404, "not-found");
        let storefront = app.create_key("haidilao", "storefront").await;
        app.send(Method::GET, "/v1/merchants/haidilao/overview", Some(&storefront), None)
            .await
            .assert_problem(403, "forbidden");
        app.send(Method::GET, "/v1/merchants/haidilao/overview", None, None).await.assert_status(401);
        app.get("/v1/merchants/nobody/overview").await.assert_problem(404, "not-found");
    }
}
