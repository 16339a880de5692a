//! The order workflow end to end: the seed scenario (haidilao and xibei, one discount per
//! method), routing defaults, customer cancels, payment timeouts, version pinning,
//! concurrent payments, and the admin's view of orders and their histories.

use std::sync::Arc;

use reqwest::Method;
use serde_json::Value;
use tests::checkout::{
    POLL_LIMIT, events, flow_with_payment_timeout, percent_discount, plain_order_body,
};
use tests::{ADMIN_KEY, Backend, TestApp, json, on_both_databases};

fn order_id(order: &Value) -> String {
    order["order_id"].as_str().expect("order_id").to_owned()
}

/// Asserts a completed order paid with `method` and discounted by `function` v`version`.
#[track_caller]
fn assert_completed(
    order: &Value,
    method: &str,
    final_amount: i64,
    function: &str,
    version: i64,
    label: &str,
) {
    assert_eq!(order["status"], "completed", "{order}");
    assert_eq!(order["cancel_reason"], Value::Null, "{order}");
    assert_eq!(order["amount_minor"], 10000, "{order}");
    assert_eq!(order["final_amount_minor"], final_amount, "{order}");
    assert_eq!(order["payment_method"], method, "{order}");
    assert_eq!(
        order["discount"],
        json!({"function": function, "version": version, "label": label}),
        "{order}"
    );
    assert_eq!(order["payment_deadline"], Value::Null, "{order}");
}

on_both_databases! {
    async fn the_seed_scenario_prices_each_method(app: TestApp) {
        let key = app.create_key("haidilao", "storefront").await;
        let order = app.create_order("haidilao").await;
        let paid = app.pay_as(&key, &order_id(&order), "alipay").await;
        paid.assert_status(200);
        assert_completed(&paid.body, "alipay", 8000, "alipay-discount", 1, "Alipay: 20% off");
        assert_eq!(paid.body["order_id"], order["order_id"]);
        // The storefront reads the same.
        let read = app.order(&order_id(&order)).await;
        assert_completed(&read, "alipay", 8000, "alipay-discount", 1, "Alipay: 20% off");

        let order = app.create_order("haidilao").await;
        let paid = app.pay_as(&key, &order_id(&order), "wechat_pay").await;
        paid.assert_status(200);
        assert_completed(
            &paid.body,
            "wechat_pay",
            5000,
            "wechat-pay-discount",
            1,
            "WeChat Pay: 50% off",
        );

        let xibei_key = app.create_key("xibei", "storefront").await;
        let created = app.create_order_as(&xibei_key, &tests::checkout::order_body("xibei")).await;
        created.assert_status(201);
        assert_eq!(
            created.body["payment_methods"]
                .as_array()
                .expect("methods")
                .iter()
                .map(|m| m["code"].as_str().unwrap_or_default())
                .collect::<Vec<_>>(),
            ["alipay", "wechat_pay", "unionpay"]
        );
        let paid = app.pay_as(&xibei_key, &order_id(&created.body), "unionpay").await;
        paid.assert_status(200);
        assert_completed(
            &paid.body,
            "unionpay",
            7000,
            "unionpay-discount",
            1,
            "UnionPay: 30% off",
        );
        assert_eq!(paid.body["merchant_id"], "xibei");
    }

    async fn a_method_the_merchant_does_not_offer_is_rejected_and_the_order_keeps_waiting(app: TestApp) {
        let order = app.create_order("haidilao").await;
        let id = order_id(&order);
        for method in ["unionpay", "bitcoin", ""] {
            let rejected = app.pay(&id, method).await;
            rejected.assert_violations(&["/payment_method"]);
        }
        let waiting = app.order(&id).await;
        assert_eq!(waiting["status"], "awaiting_payment", "{waiting}");
        assert_eq!(waiting["payment_method"], Value::Null);
        assert_eq!(waiting["final_amount_minor"], Value::Null);
        assert_eq!(waiting["payment_deadline"], order["payment_deadline"]);

        let paid = app.pay(&id, "alipay").await;
        paid.assert_status(200);
        assert_completed(&paid.body, "alipay", 8000, "alipay-discount", 1, "Alipay: 20% off");

        // A completed order cannot be paid again, with any method.
        for method in ["alipay", "wechat_pay"] {
            app.pay(&id, method)
                .await
                .assert_problem(409, "order-not-awaiting-payment");
        }
        let after = app.order(&id).await;
        assert_completed(&after, "alipay", 8000, "alipay-discount", 1, "Alipay: 20% off");
        let history = app.history(&id).await;
        assert_eq!(events(&history, "FunctionEvaluated").len(), 1);

        // Malformed payment bodies.
        let other = order_id(&app.create_order("haidilao").await);
        // A missing field is reported on the object that lacks it (pointer ""), naming it.
        let missing = app
            .post(&format!("/v1/storefront/orders/{other}/payment"), &json!({}))
            .await;
        missing.assert_problem(422, "validation-failed");
        assert_eq!(missing.body["errors"].as_array().map(Vec::len), Some(1));
        assert!(
            missing.body["errors"][0]["message"]
                .as_str()
                .is_some_and(|m| m.contains("payment_method")),
            "{}",
            missing.text
        );
        app.post(
            &format!("/v1/storefront/orders/{other}/payment"),
            &json!({"payment_method": 7}),
        )
        .await
        .assert_violations(&["/payment_method"]);
        app.post("/v1/storefront/orders/no-such-order/payment", &json!({"payment_method": "alipay"}))
            .await
            .assert_problem(404, "not-found");
        assert_eq!(app.order(&other).await["status"], "awaiting_payment");
    }

    async fn the_history_records_what_the_order_pinned_and_ran(app: TestApp) {
        let order = app.create_order("haidilao").await;
        let id = order_id(&order);
        app.pay(&id, "alipay").await.assert_status(200);
        let history = app.history(&id).await;
        assert!(history.len() >= 5, "{history:?}");

        let seqs: Vec<i64> = history.iter().map(|e| e["seq"].as_i64().expect("seq")).collect();
        assert!(
            seqs.windows(2).all(|w| w[0] < w[1]),
            "seq must strictly increase: {seqs:?}"
        );
        assert_eq!(seqs[0], 1);
        for event in &history {
            assert!(event["at"].is_string(), "{event}");
            tests::checkout::timestamp_millis(event["at"].as_str().unwrap_or_default());
        }

        let started = &history[0];
        assert_eq!(started["type"], "ExecutionStarted");
        assert_eq!(started["step"], Value::Null);
        assert_eq!(
            started["detail"]["pinned"],
            json!({
                "flow": {"scope": "platform", "name": "default", "version": 1},
                "payment_combination": {"scope": "merchant", "name": "default", "version": 1},
                "checkout_page": {"scope": "merchant", "name": "default", "version": 1},
                "routing_table": {"scope": "merchant", "name": "default", "version": 1},
                "functions": {"alipay-discount": 1, "unionpay-discount": 1, "wechat-pay-discount": 1}
            }),
            "{started}"
        );

        let evaluated = events(&history, "FunctionEvaluated");
        assert_eq!(evaluated.len(), 1, "{history:?}");
        let evaluated = evaluated[0];
        assert_eq!(evaluated["step"], "paymentCombination");
        let detail = &evaluated["detail"];
        assert_eq!(detail["function"], "alipay-discount");
        assert_eq!(detail["version"], 1);
        assert_eq!(detail["routing_table_version"], 1);
        assert_eq!(detail["rule"], 0);
        assert_eq!(detail["input"]["amount_minor"], 10000);
        assert_eq!(detail["input"]["method"], "alipay");
        assert_eq!(detail["input"]["currency"], "CNY");
        assert_eq!(detail["input"]["merchant_id"], "haidilao");
        assert_eq!(detail["input"]["items"][0]["sku"], "beef");
        assert_eq!(
            detail["output"],
            json!({"amount_minor": 8000, "label": "Alipay: 20% off"}),
            "{evaluated}"
        );

        // The steps ran in the default flow's order.
        let entered: Vec<&str> = events(&history, "StepEntered")
            .iter()
            .map(|e| e["step"].as_str().unwrap_or_default())
            .collect();
        assert_eq!(
            entered,
            ["generateInfo", "payment", "paymentCombination", "orderCompleted"]
        );
        assert!(events(&history, "TaskScheduled")
            .iter()
            .any(|e| e["step"] == "payment" && e["detail"]["action"] == "await_payment"));
        assert!(events(&history, "TaskSucceeded")
            .iter()
            .any(|e| e["step"] == "payment" && e["detail"]["output"]["payment_method"] == "alipay"));

        let last = history.last().expect("events");
        assert_eq!(last["type"], "ExecutionSucceeded", "{history:?}");

        // Paging the history gives the same events, pages ending inside an advance's
        // entries as well as between them.
        for limit in [1, 2, 5] {
            let mut paged = Vec::new();
            let mut cursor = String::new();
            loop {
                let page = app.get(&format!("/v1/orders/{id}/history?limit={limit}{cursor}")).await;
                page.assert_status(200);
                let data = page.body["data"].as_array().expect("data");
                assert!(data.len() <= limit, "{}", page.text);
                paged.extend(data.iter().cloned());
                match page.body["next_cursor"].as_str() {
                    Some(next) => cursor = format!("&cursor={next}"),
                    None => break,
                }
            }
            assert_eq!(paged, history, "pages of {limit}");
        }

        app.get("/v1/orders/no-such-order/history")
            .await
            .assert_problem(404, "not-found");
    }

    async fn a_merchant_without_a_routing_table_is_refused_before_anyone_pays(app: TestApp) {
        app.create_merchant("unrouted-shop").await;
        app.publish("/v1/merchants/unrouted-shop", "payment-combination", "default", &json!({"methods": [{"method": "alipay"}]}))
            .await;
        // The default flow prices the payment by the routing table: without one, every paid
        // order would be canceled with no_route, so the order is refused at checkout.
        let refused = app.create_order_as(tests::ADMIN_KEY, &plain_order_body("unrouted-shop")).await;
        refused.assert_problem(409, "merchant-not-configured");
        assert!(refused.body["detail"].as_str().unwrap_or_default().contains("routing-table"), "{}", refused.text);
        app.publish(
            "/v1/merchants/unrouted-shop",
            "routing-table",
            "default",
            &json!({"rules": [], "default": {"action": "cancel"}}),
        )
        .await;
        app.create_order_from(&plain_order_body("unrouted-shop")).await;
    }

    async fn an_offered_method_without_a_route_takes_the_default_and_cancels(app: TestApp) {
        app.create_alipay_only_routed_merchant("noroute-shop", &["alipay", "wechat_pay"])
            .await;
        let order = app.create_order_from(&plain_order_body("noroute-shop")).await;
        assert_eq!(order["amount_minor"], 10000);
        let canceled = app.pay(&order_id(&order), "wechat_pay").await;
        canceled.assert_status(200);
        assert_eq!(canceled.body["status"], "canceled", "{}", canceled.text);
        assert_eq!(canceled.body["cancel_reason"], "no_route", "{}", canceled.text);
        assert_eq!(canceled.body["final_amount_minor"], Value::Null, "{}", canceled.text);
        assert_eq!(canceled.body["discount"], Value::Null, "{}", canceled.text);
        assert_eq!(canceled.body["payment_method"], "wechat_pay");

        let history = app.history(&order_id(&order)).await;
        assert!(events(&history, "FunctionEvaluated").is_empty(), "{history:?}");
        assert!(events(&history, "TaskFailed")
            .iter()
            .any(|e| e["step"] == "paymentCombination" && e["detail"]["error"] == "Route.NotFound"));
        assert!(events(&history, "StepEntered").iter().any(|e| e["step"] == "orderCanceled"));

        app.pay(&order_id(&order), "alipay")
            .await
            .assert_problem(409, "order-not-awaiting-payment");

        // The routed method still works for the merchant.
        let routed = app.create_order_from(&plain_order_body("noroute-shop")).await;
        let paid = app.pay(&order_id(&routed), "alipay").await;
        paid.assert_status(200);
        assert_completed(&paid.body, "alipay", 8000, "alipay-discount", 1, "Alipay: 20% off");
    }

    async fn a_customer_can_cancel_an_order_once(app: TestApp) {
        let key = app.create_key("haidilao", "storefront").await;
        let order = app.create_order("haidilao").await;
        let id = order_id(&order);
        let canceled = app.cancel_as(&key, &id).await;
        canceled.assert_status(200);
        assert_eq!(canceled.body["order_id"], id.as_str());
        assert_eq!(canceled.body["status"], "canceled");
        assert_eq!(canceled.body["cancel_reason"], "customer_canceled");
        assert_eq!(canceled.body["payment_deadline"], Value::Null);
        assert_eq!(canceled.body["final_amount_minor"], Value::Null);

        app.cancel_as(&key, &id).await.assert_problem(409, "order-final");
        app.pay_as(&key, &id, "alipay")
            .await
            .assert_problem(409, "order-not-awaiting-payment");
        let read = app.order(&id).await;
        assert_eq!(read["status"], "canceled");
        assert_eq!(read["cancel_reason"], "customer_canceled");

        let history = app.history(&id).await;
        let last = history.last().expect("events");
        assert_eq!(last["type"], "ExecutionCanceled", "{history:?}");
        assert_eq!(last["detail"]["reason"], "customer_canceled");

        // A completed order cannot be canceled.
        let paid = app.create_order("haidilao").await;
        app.pay(&order_id(&paid), "alipay").await.assert_status(200);
        app.cancel_as(&key, &order_id(&paid))
            .await
            .assert_problem(409, "order-final");
        assert_eq!(app.order(&order_id(&paid)).await["status"], "completed");

        app.cancel_as(&key, "no-such-order")
            .await
            .assert_problem(404, "not-found");
    }

    async fn a_merchant_cancel_says_the_merchant_canceled(app: TestApp) {
        let admin = app.create_key("haidilao", "merchant_admin").await;
        let id = order_id(&app.create_order("haidilao").await);
        let canceled = app.cancel_as(&admin, &id).await;
        canceled.assert_status(200);
        assert_eq!(canceled.body["cancel_reason"], "merchant_canceled", "{}", canceled.text);
        let last = app.history(&id).await.pop().expect("events");
        assert_eq!(last["type"], "ExecutionCanceled", "{last}");
        assert_eq!(last["detail"]["reason"], "merchant_canceled");
        // Another merchant's admin cannot cancel it.
        let xibei_admin = app.create_key("xibei", "merchant_admin").await;
        let other = order_id(&app.create_order("haidilao").await);
        app.cancel_as(&xibei_admin, &other).await.assert_problem(404, "not-found");
        assert_eq!(app.order(&other).await["status"], "awaiting_payment");
    }

    async fn an_unpaid_order_is_canceled_when_the_payment_step_times_out(app: TestApp) {
        assert_eq!(app.publish_flow("haidilao", &flow_with_payment_timeout(2)).await, 1);
        let before = tests::checkout::now_millis();
        let order = app.create_order("haidilao").await;
        let id = order_id(&order);
        let deadline = tests::checkout::timestamp_millis(
            order["payment_deadline"].as_str().expect("payment_deadline"),
        );
        assert!(
            (before + 1_000..=tests::checkout::now_millis() + 3_000).contains(&deadline),
            "the deadline is not ~2 s ahead: {order}"
        );

        let canceled = app.wait_for_status(&id, "canceled", POLL_LIMIT).await;
        assert_eq!(canceled["cancel_reason"], "payment_timeout", "{canceled}");
        assert_eq!(canceled["payment_deadline"], Value::Null, "{canceled}");
        assert_eq!(canceled["final_amount_minor"], Value::Null, "{canceled}");

        app.pay(&id, "alipay")
            .await
            .assert_problem(409, "task-timed-out");
        assert_eq!(app.order(&id).await["status"], "canceled");

        let history = app.history(&id).await;
        let timed_out = events(&history, "TaskTimedOut");
        assert_eq!(timed_out.len(), 1, "{history:?}");
        assert_eq!(timed_out[0]["step"], "payment");
        assert!(events(&history, "FunctionEvaluated").is_empty());
        assert_eq!(
            history[0]["detail"]["pinned"]["flow"],
            json!({"scope": "merchant", "name": "default", "version": 1})
        );

        // xibei keeps the platform's 300 s payment step.
        let xibei = app.create_order("xibei").await;
        let xibei_deadline = tests::checkout::timestamp_millis(
            xibei["payment_deadline"].as_str().expect("payment_deadline"),
        );
        assert!(xibei_deadline > tests::checkout::now_millis() + 250_000, "{xibei}");
    }

    async fn an_order_keeps_the_function_version_it_pinned(app: TestApp) {
        let pinned_order = app.create_order("haidilao").await;

        let version = app
            .publish(
                "/v1/merchants/haidilao",
                "discount-function",
                "alipay-discount",
                &percent_discount("alipay", 60, "Alipay: 40% off"),
            )
            .await;
        assert_eq!(version, 2);

        let paid = app.pay(&order_id(&pinned_order), "alipay").await;
        paid.assert_status(200);
        assert_completed(&paid.body, "alipay", 8000, "alipay-discount", 1, "Alipay: 20% off");

        let new_order = app.create_order("haidilao").await;
        let paid = app.pay(&order_id(&new_order), "alipay").await;
        paid.assert_status(200);
        assert_completed(&paid.body, "alipay", 6000, "alipay-discount", 2, "Alipay: 40% off");

        let old_history = app.history(&order_id(&pinned_order)).await;
        assert_eq!(
            old_history[0]["detail"]["pinned"]["functions"]["alipay-discount"],
            1
        );
        let new_history = app.history(&order_id(&new_order)).await;
        assert_eq!(
            new_history[0]["detail"]["pinned"]["functions"]["alipay-discount"],
            2
        );
        assert_eq!(events(&new_history, "FunctionEvaluated")[0]["detail"]["version"], 2);
    }

    async fn payments_cancels_and_the_timeout_racing_on_one_order_have_one_winner(app: TestApp) {
        // Payments and cancels arrive together, right at the payment deadline, so the
        // timeout races them too. Every racer goes through the batched writer; exactly one
        // may change the order, and the order shows which.
        const RACERS: usize = 20;
        app.publish_flow("haidilao", &flow_with_payment_timeout(1)).await;
        let key = app.create_key("haidilao", "storefront").await;
        let order = app.create_order("haidilao").await;
        let id = order_id(&order);
        let deadline = tests::checkout::timestamp_millis(
            order["payment_deadline"].as_str().expect("payment_deadline"),
        );
        let wait = deadline - tests::checkout::now_millis();
        tokio::time::sleep(std::time::Duration::from_millis(wait.max(0) as u64)).await;
        let barrier = Arc::new(tokio::sync::Barrier::new(2 * RACERS));
        let mut racers = Vec::new();
        for i in 0..2 * RACERS {
            let path = if i % 2 == 0 { "payment" } else { "cancel" };
            let mut request = app
                .client
                .post(app.url(&format!("/v1/storefront/orders/{id}/{path}")))
                .bearer_auth(&key);
            if path == "payment" {
                request = request.json(&json!({"payment_method": "alipay"}));
            }
            let barrier = barrier.clone();
            racers.push(tokio::spawn(async move {
                barrier.wait().await;
                (path, tests::execute(request).await)
            }));
        }
        let mut winners = Vec::new();
        for racer in racers {
            let (path, response) = racer.await.expect("racer task");
            match response.status {
                200 => winners.push((path, response.body)),
                _ => {
                    response.assert_problem(409, "");
                }
            }
        }
        assert!(winners.len() <= 1, "more than one winner: {winners:?}");
        let stored = app
            .wait_for_status(&id, if winners.first().is_some_and(|(p, _)| *p == "payment") { "completed" } else { "canceled" }, POLL_LIMIT)
            .await;
        match winners.first() {
            Some(("payment", body)) => {
                assert_completed(body, "alipay", 8000, "alipay-discount", 1, "Alipay: 20% off");
                assert_eq!(stored["status"], "completed");
            }
            Some((_, body)) => {
                assert_eq!(body["cancel_reason"], "customer_canceled", "{body}");
                assert_eq!(stored["cancel_reason"], "customer_canceled");
            }
            None => assert_eq!(stored["cancel_reason"], "payment_timeout", "{stored}"),
        }
        let history = app.history(&id).await;
        let endings = ["ExecutionSucceeded", "ExecutionFailed", "ExecutionCanceled"]
            .iter()
            .map(|kind| events(&history, kind).len())
            .sum::<usize>();
        assert_eq!(endings, 1, "the execution ends once: {history:?}");
        let seqs: Vec<i64> = history.iter().map(|e| e["seq"].as_i64().expect("seq")).collect();
        assert_eq!(seqs, (1..=seqs.len() as i64).collect::<Vec<_>>(), "no event lost or doubled");
    }

    async fn concurrent_payments_pay_an_order_once(app: TestApp) {
        const PAYERS: usize = 50;
        let key = app.create_key("haidilao", "storefront").await;
        let id = order_id(&app.create_order("haidilao").await);
        let barrier = Arc::new(tokio::sync::Barrier::new(PAYERS));
        let mut payers = Vec::with_capacity(PAYERS);
        for _ in 0..PAYERS {
            let request = app
                .client
                .post(app.url(&format!("/v1/storefront/orders/{id}/payment")))
                .bearer_auth(&key)
                .json(&json!({"payment_method": "alipay"}));
            let barrier = barrier.clone();
            payers.push(tokio::spawn(async move {
                barrier.wait().await;
                tests::execute(request).await
            }));
        }
        let mut responses = Vec::with_capacity(PAYERS);
        for payer in payers {
            responses.push(payer.await.expect("payer task"));
        }
        let statuses: std::collections::BTreeMap<u16, usize> =
            responses.iter().fold(Default::default(), |mut counts, r| {
                *counts.entry(r.status).or_default() += 1;
                counts
            });
        let unexpected: std::collections::BTreeSet<&str> = responses
            .iter()
            .filter(|r| r.status != 200 && r.status != 409)
            .map(|r| r.text.as_str())
            .collect();
        assert!(
            unexpected.is_empty(),
            "{PAYERS} concurrent payments must answer one 200 and 409s, got {statuses:?}; \
             the other bodies: {unexpected:?}"
        );
        let ok: Vec<_> = responses.iter().filter(|r| r.status == 200).collect();
        assert_eq!(ok.len(), 1, "exactly one payment must win: {statuses:?}");
        for conflict in responses.iter().filter(|r| r.status == 409) {
            conflict.assert_client_problem();
        }
        assert_completed(&ok[0].body, "alipay", 8000, "alipay-discount", 1, "Alipay: 20% off");

        let read = app.order(&id).await;
        assert_completed(&read, "alipay", 8000, "alipay-discount", 1, "Alipay: 20% off");
        let history = app.history(&id).await;
        assert_eq!(events(&history, "FunctionEvaluated").len(), 1, "{history:?}");
        assert_eq!(events(&history, "ExecutionSucceeded").len(), 1, "{history:?}");
        assert_eq!(
            events(&history, "TaskSucceeded")
                .iter()
                .filter(|e| e["step"] == "payment")
                .count(),
            1
        );
    }

    async fn admins_list_and_read_orders_within_their_tenancy(app: TestApp) {
        let completed = order_id(&app.create_order("haidilao").await);
        app.pay(&completed, "alipay").await.assert_status(200);
        let waiting = order_id(&app.create_order("haidilao").await);
        let canceled = order_id(&app.create_order("haidilao").await);
        app.cancel_as(ADMIN_KEY, &canceled).await.assert_status(200);
        let xibei_order = order_id(&app.create_order("xibei").await);

        let ids = |orders: &[Value]| -> Vec<String> { orders.iter().map(order_id).collect() };
        let done = app.list_all("/v1/merchants/haidilao/orders?status=completed").await;
        assert_eq!(ids(&done), [completed.as_str()]);
        assert_eq!(done[0]["final_amount_minor"], 8000);
        assert_eq!(done[0]["status"], "completed");
        let open = app.list_all("/v1/merchants/haidilao/orders?status=awaiting_payment").await;
        assert_eq!(ids(&open), [waiting.as_str()]);
        let gone = app.list_all("/v1/merchants/haidilao/orders?status=canceled").await;
        assert_eq!(ids(&gone), [canceled.as_str()]);
        assert_eq!(gone[0]["cancel_reason"], "merchant_canceled");
        let mut all = ids(&app.list_all("/v1/merchants/haidilao/orders").await);
        all.sort();
        let mut expected = vec![completed.clone(), waiting.clone(), canceled.clone()];
        expected.sort();
        assert_eq!(all, expected, "xibei's order must not be listed for haidilao");
        app.get("/v1/merchants/haidilao/orders?status=shipped")
            .await
            .assert_problem(400, "bad-request");

        // Tenancy: another merchant's admin sees nothing; storefront keys are not admins.
        let haidilao_admin = app.create_key("haidilao", "merchant_admin").await;
        let xibei_admin = app.create_key("xibei", "merchant_admin").await;
        let storefront = app.create_key("haidilao", "storefront").await;
        let get = |key: String, path: String| {
            let app = &app;
            async move { app.send(Method::GET, &path, Some(&key), None).await }
        };
        let own = get(haidilao_admin.clone(), format!("/v1/orders/{completed}")).await;
        own.assert_status(200);
        assert_eq!(own.body["order_id"], completed.as_str());
        assert_eq!(own.body["final_amount_minor"], 8000);
        get(haidilao_admin.clone(), format!("/v1/orders/{completed}/history"))
            .await
            .assert_status(200);
        let listed = app
            .list_all_as("/v1/merchants/haidilao/orders", &haidilao_admin)
            .await;
        assert_eq!(listed.len(), 3);

        get(xibei_admin.clone(), format!("/v1/orders/{completed}"))
            .await
            .assert_problem(404, "not-found");
        get(xibei_admin.clone(), format!("/v1/orders/{completed}/history"))
            .await
            .assert_problem(404, "not-found");
        get(xibei_admin.clone(), "/v1/merchants/haidilao/orders".to_owned())
            .await
            .assert_problem(404, "not-found");
        let xibei_own = get(xibei_admin.clone(), format!("/v1/orders/{xibei_order}")).await;
        xibei_own.assert_status(200);
        assert_eq!(xibei_own.body["merchant_id"], "xibei");

        get(storefront.clone(), format!("/v1/orders/{completed}"))
            .await
            .assert_problem(403, "forbidden");
        get(storefront.clone(), format!("/v1/orders/{completed}/history"))
            .await
            .assert_problem(403, "forbidden");
        get(storefront.clone(), "/v1/merchants/haidilao/orders".to_owned())
            .await
            .assert_problem(403, "forbidden");
        // …but reads its own orders at checkout, and not another merchant's.
        get(storefront.clone(), format!("/v1/storefront/orders/{completed}"))
            .await
            .assert_status(200);
        get(storefront.clone(), format!("/v1/storefront/orders/{xibei_order}"))
            .await
            .assert_problem(404, "not-found");
        let xibei_storefront = app.create_key("xibei", "storefront").await;
        app.pay_as(&xibei_storefront, &waiting, "alipay")
            .await
            .assert_problem(404, "not-found");
        app.cancel_as(&xibei_storefront, &waiting)
            .await
            .assert_problem(404, "not-found");
        assert_eq!(app.order(&waiting).await["status"], "awaiting_payment");
        get(ADMIN_KEY.to_owned(), "/v1/orders/no-such-order".to_owned())
            .await
            .assert_problem(404, "not-found");
    }
}

/// Instances sharing one database: a publish through one reaches the other's new orders
/// within a second (each reuses what it read of the published versions for 1 s).
async fn a_publish_through_one_instance_reaches_another_within_a_second(backend: Backend) {
    let Some(first) = TestApp::spawn(backend).await else {
        eprintln!("ORDERFLOW_TEST_DATABASE_URL is not set: PostgreSQL half skipped");
        return;
    };
    let second = TestApp::spawn_on(backend, first.database_url(), false).await;
    let payment_seconds = |order: &Value| {
        let at =
            |field: &str| tests::checkout::timestamp_millis(order[field].as_str().expect(field));
        (at("payment_deadline") - at("created_at")) / 1000
    };
    // The second instance has read the published versions: the default 300 s timeout.
    assert_eq!(payment_seconds(&second.create_order("haidilao").await), 300);
    first
        .publish_flow("haidilao", &flow_with_payment_timeout(30))
        .await;
    tokio::time::sleep(std::time::Duration::from_millis(1_100)).await;
    assert_eq!(payment_seconds(&second.create_order("haidilao").await), 30);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_publish_through_one_instance_reaches_another_within_a_second_sqlite() {
    a_publish_through_one_instance_reaches_another_within_a_second(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_publish_through_one_instance_reaches_another_within_a_second_postgres() {
    a_publish_through_one_instance_reaches_another_within_a_second(Backend::Postgres).await;
}

/// Each instance keeps a copy of the executions it last wrote and stages their next change
/// from it. A copy that another instance made stale is never trusted: a change staged from
/// it is refused by the compare-and-set and staged again from the database, and an error
/// answered from it is checked against the database.
async fn a_copy_another_instance_made_stale_is_not_trusted(backend: Backend) {
    let Some(first) = TestApp::spawn(backend).await else {
        eprintln!("ORDERFLOW_TEST_DATABASE_URL is not set: PostgreSQL half skipped");
        return;
    };
    let second = TestApp::spawn_on(backend, first.database_url(), false).await;
    let id = |order: &Value| order["order_id"].as_str().expect("order_id").to_owned();
    let (paid, refused) = (
        id(&first.create_order("haidilao").await),
        id(&first.create_order("haidilao").await),
    );
    for order in [&paid, &refused] {
        second.cancel_as(ADMIN_KEY, order).await.assert_status(200);
    }
    // The copy still awaits payment: paying would commit, were it not refused.
    first
        .pay(&paid, "alipay")
        .await
        .assert_problem(409, "order-not-awaiting-payment");
    // The copy would answer that haidilao does not take UnionPay; the order is canceled.
    first
        .pay(&refused, "unionpay")
        .await
        .assert_problem(409, "order-not-awaiting-payment");
    for order in [&paid, &refused] {
        assert_eq!(first.order(order).await["status"], "canceled");
    }
    let metrics = first.get("/metrics").await.text;
    let refusals = metrics
        .lines()
        .find_map(|line| line.strip_prefix("orderflow_writer_refused_total "))
        .and_then(|value| value.parse::<f64>().ok());
    assert!(refusals.is_some_and(|n| n >= 1.0), "{metrics}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_copy_another_instance_made_stale_is_not_trusted_sqlite() {
    a_copy_another_instance_made_stale_is_not_trusted(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_copy_another_instance_made_stale_is_not_trusted_postgres() {
    a_copy_another_instance_made_stale_is_not_trusted(Backend::Postgres).await;
}
