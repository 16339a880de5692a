//! The merchant's orders in numbers (`GET /v1/merchants/{id}/orders/stats`) and the order
//! list's search filters (order_num, order_id_prefix, payment_method, created_from/to).

use serde_json::Value;
use tests::checkout::order_body;
use tests::{TestApp, json, on_both_databases};

fn order_id(order: &Value) -> String {
    order["order_id"].as_str().expect("order_id").to_owned()
}

/// The ids of every order a listing query finds.
async fn found(app: &TestApp, query: &str) -> Vec<String> {
    app.list_all(&format!("/v1/merchants/haidilao/orders?{query}"))
        .await
        .iter()
        .map(order_id)
        .collect()
}

/// haidilao's seed: Alipay pays 80%, WeChat Pay 50%; UnionPay is not offered. Three orders
/// of 10000: one paid with Alipay (discount 2000), one with WeChat Pay (5000), one canceled
/// by the customer; and one of xibei's, which haidilao's numbers never count.
async fn four_orders(app: &TestApp) -> (Value, Value, Value) {
    let alipay = app.create_order("haidilao").await;
    app.pay(&order_id(&alipay), "alipay")
        .await
        .assert_status(200);
    let mut numbered = order_body("haidilao");
    numbered["order_num"] = json!("table-7");
    let wechat = app.create_order_from(&numbered).await;
    app.pay(&order_id(&wechat), "wechat_pay")
        .await
        .assert_status(200);
    let canceled = app.create_order("haidilao").await;
    app.post(
        &format!("/v1/storefront/orders/{}/cancel", order_id(&canceled)),
        &json!({}),
    )
    .await
    .assert_status(200);
    let other = app.create_order("xibei").await;
    app.pay(&order_id(&other), "alipay")
        .await
        .assert_status(200);
    (alipay, wechat, canceled)
}

on_both_databases! {
    async fn stats_count_by_status_and_reason_and_sum_the_discount(app: TestApp) {
        let empty = app.get("/v1/merchants/haidilao/orders/stats?window=24h").await;
        empty.assert_status(200);
        assert_eq!(empty.body["orders"], 0);
        assert_eq!(empty.body["by_status"], json!({"awaiting_payment": 0, "processing": 0, "completed": 0, "canceled": 0}));
        assert_eq!(empty.body["discount_given"], json!([]));
        let open = app.create_order("haidilao").await;
        four_orders(&app).await;

        for window in ["24h", "7d"] {
            let stats = app.get(&format!("/v1/merchants/haidilao/orders/stats?window={window}")).await;
            stats.assert_status(200);
            let body = &stats.body;
            assert_eq!(body["window"], window);
            assert_eq!(body["orders"], 4, "{}", stats.text);
            assert_eq!(body["by_status"], json!({"awaiting_payment": 1, "processing": 0, "completed": 2, "canceled": 1}), "{}", stats.text);
            assert_eq!(body["by_cancel_reason"]["merchant_canceled"], 1, "{}", stats.text);
            assert_eq!(body["by_cancel_reason"]["no_route"], 0);
            // 10000 − 8000 and 10000 − 5000; the canceled and the waiting order add nothing.
            assert_eq!(body["discount_given"], json!([{"currency": "CNY", "amount_minor": 7000}]), "{}", stats.text);
            let buckets = body["buckets"].as_array().expect("buckets");
            assert_eq!(buckets.len(), if window == "24h" { 24 } else { 7 });
            assert_eq!(buckets[0]["start"], body["from"]);
            assert_eq!(buckets[buckets.len() - 1]["end"], body["to"]);
            for pair in buckets.windows(2) {
                assert_eq!(pair[0]["end"], pair[1]["start"]);
            }
            let counts: Vec<i64> = buckets.iter().map(|b| b["orders"].as_i64().unwrap()).collect();
            // Every order was made just now: all in the newest bucket.
            assert_eq!(counts.last(), Some(&4), "{counts:?}");
            assert_eq!(counts.iter().sum::<i64>(), 4);
        }
        // The default window is 24 hours.
        assert_eq!(app.get("/v1/merchants/haidilao/orders/stats").await.body["window"], "24h");
        // A payment refused (a method not offered) leaves the order waiting.
        app.pay(&order_id(&open), "unionpay").await.assert_status(422);
        let stats = app.get("/v1/merchants/haidilao/orders/stats?window=24h").await;
        assert_eq!(stats.body["by_status"]["awaiting_payment"], 1, "{}", stats.text);
        // Each merchant's numbers are its own.
        let stats = app.get("/v1/merchants/xibei/orders/stats?window=7d").await;
        assert_eq!(stats.body["by_status"]["completed"], 1, "{}", stats.text);
        assert_eq!(stats.body["discount_given"], json!([{"currency": "CNY", "amount_minor": 2000}]));

        // Hostile or wrong windows are a 400 problem, never a 5xx.
        for bad in ["1y", "", "24H", "%00"] {
            app.get(&format!("/v1/merchants/haidilao/orders/stats?window={bad}")).await.assert_problem(400, "bad-request");
        }
        // Another tenant's numbers are a 404; a storefront key may not read them.
        let other_admin = app.create_key("xibei", "merchant_admin").await;
        app.send(reqwest::Method::GET, "/v1/merchants/haidilao/orders/stats", Some(&other_admin), None)
            .await
            .assert_problem(404, "not-found");
        let storefront = app.create_key("haidilao", "storefront").await;
        app.send(reqwest::Method::GET, "/v1/merchants/haidilao/orders/stats", Some(&storefront), None)
            .await
            .assert_problem(403, "forbidden");
    }

    async fn the_order_list_searches_by_number_id_prefix_method_and_time(app: TestApp) {
        let (alipay, wechat, canceled) = four_orders(&app).await;
        let (alipay, wechat, canceled) = (order_id(&alipay), order_id(&wechat), order_id(&canceled));

        assert_eq!(found(&app, "order_num=table-7").await, [wechat.as_str()]);
        assert_eq!(found(&app, "order_num=table-8").await, Vec::<String>::new());
        assert_eq!(found(&app, "payment_method=alipay").await, [alipay.as_str()]);
        assert_eq!(found(&app, "payment_method=wechat_pay&status=completed").await, [wechat.as_str()]);
        assert_eq!(found(&app, "payment_method=wechat_pay&status=canceled").await, Vec::<String>::new());
        // An id prefix, in any case; several orders may share a short one.
        let prefix = &canceled[..13];
        assert!(found(&app, &format!("order_id_prefix={prefix}")).await.contains(&canceled));
        assert_eq!(found(&app, &format!("order_id_prefix={}", canceled.to_uppercase())).await, [canceled.as_str()]);
        assert_eq!(found(&app, "order_id_prefix=ffffffff").await, Vec::<String>::new());

        // Created between two instants: [from, to).
        let created = app.get(&format!("/v1/orders/{wechat}")).await.body["created_at"].as_str().unwrap().to_owned();
        let at = chrono::DateTime::parse_from_rfc3339(&created).unwrap().with_timezone(&chrono::Utc);
        let rfc = |t: chrono::DateTime<chrono::Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
        let from = rfc(at);
        let to = rfc(at + chrono::Duration::microseconds(1));
        assert_eq!(found(&app, &format!("created_from={from}&created_to={to}")).await, [wechat.as_str()]);
        let all = found(&app, "").await;
        assert_eq!(all.len(), 3);
        assert_eq!(found(&app, &format!("created_to={from}")).await, [alipay.as_str()]);
        assert_eq!(found(&app, &format!("created_from={to}")).await, [canceled.as_str()]);
        // Another offset names the same instant.
        let shifted = (at + chrono::Duration::hours(8)).format("%Y-%m-%dT%H:%M:%S%.6f+08:00").to_string();
        assert_eq!(found(&app, &format!("created_from={}&created_to={to}", shifted.replace('+', "%2B"))).await, [wechat.as_str()]);
        // Paging through a filtered list keeps the filter.
        let first = app.get("/v1/merchants/haidilao/orders?limit=1&order_id_prefix=0").await;
        first.assert_problem(400, "bad-request");
        let page = app.get("/v1/merchants/haidilao/orders?limit=1&created_from=2000-01-01T00:00:00Z").await;
        assert_eq!(page.body["data"][0]["order_id"], json!(canceled));
        let cursor = page.body["next_cursor"].as_str().unwrap();
        let next = app.get(&format!("/v1/merchants/haidilao/orders?limit=1&created_from=2000-01-01T00:00:00Z&cursor={cursor}")).await;
        assert_eq!(next.body["data"][0]["order_id"], json!(wechat));

        // Malformed filters are a 400 problem, never a 5xx.
        for bad in [
            "order_id_prefix=abc",
            "order_id_prefix=zzzz",
            "order_id_prefix=0193%25",
            "order_id_prefix=0193_",
            "created_from=yesterday",
            "created_to=2026-11-28",
            "created_from=2026-13-01T00:00:00Z",
        ] {
            app.get(&format!("/v1/merchants/haidilao/orders?{bad}")).await.assert_problem(400, "bad-request");
        }
    }
}
