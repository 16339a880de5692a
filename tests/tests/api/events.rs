//! The events feed: order, task and publish events, written in the commit of the change
//! they tell of, listed per merchant in commit order.

use serde_json::Value;
use tests::checkout::{flow_with_payment_timeout, review_flow};
use tests::documented::assert_events_documented;
use tests::{TestApp, json, on_both_databases};

fn order_id(order: &Value) -> String {
    order["order_id"].as_str().expect("order_id").to_owned()
}

/// Every event of the merchant that `query` selects, two a page (so paging is exercised),
/// following `next_cursor` until the last page's null.
async fn feed(app: &TestApp, merchant: &str, query: &str) -> Vec<Value> {
    let mut events = Vec::new();
    let mut path = format!("/v1/merchants/{merchant}/events?limit=2{query}");
    loop {
        let page = app.get(&path).await;
        page.assert_status(200);
        events.extend(page.body["data"].as_array().expect("data").iter().cloned());
        match page.body["next_cursor"].as_str() {
            Some(cursor) => {
                path = format!("/v1/merchants/{merchant}/events?limit=2{query}&cursor={cursor}");
            }
            None => return events,
        }
    }
}

fn types(events: &[Value]) -> Vec<&str> {
    events
        .iter()
        .map(|e| e["type"].as_str().expect("type"))
        .collect()
}

on_both_databases! {
    async fn a_checkout_tells_created_awaiting_paid_and_completed_in_order(app: TestApp) {
        let id = order_id(&app.create_order("haidilao").await);
        app.pay(&id, "alipay").await.assert_status(200);

        let events = feed(&app, "haidilao", &format!("&order_id={id}")).await;
        assert_eq!(
            types(&events),
            ["order.created", "order.awaiting_payment", "order.paid", "order.completed"]
        );
        let sequences: Vec<i64> = events.iter().map(|e| e["sequence"].as_i64().expect("sequence")).collect();
        assert!(sequences.windows(2).all(|w| w[0] < w[1]), "{sequences:?}");
        // Each sequence is the history position of the step the event tells of.
        let history = app.history(&id).await;
        let at = |seq: i64| history[usize::try_from(seq - 1).unwrap()]["type"].clone();
        assert_eq!(at(sequences[0]), "ExecutionStarted");
        assert_eq!(at(sequences[1]), "TaskScheduled");
        assert_eq!(at(sequences[2]), "TaskSucceeded");
        for event in &events {
            assert!(event["id"].as_str().expect("id").starts_with("evt_"), "{event}");
            assert_eq!(event["merchant_id"], "haidilao");
            assert_eq!(event["order_id"], id.as_str());
        }
        assert_eq!(events[1]["data"]["amount_minor"], 10000, "{}", events[1]);
        assert!(events[1]["data"]["payment_deadline"].is_string(), "{}", events[1]);
        assert_eq!(events[2]["data"]["payment_method"], "alipay");
        assert_eq!(events[3]["data"]["final_amount_minor"], 8000, "{}", events[3]);
    }

    async fn refused_changes_tell_nothing_and_a_raced_payment_is_told_once(app: TestApp) {
        let id = order_id(&app.create_order("haidilao").await);
        // Refused: a method the merchant does not offer.
        app.pay(&id, "unionpay").await.assert_status(422);
        assert_eq!(types(&feed(&app, "haidilao", &format!("&order_id={id}")).await), ["order.created", "order.awaiting_payment"]);

        let payments: Vec<_> = (0..6)
            .map(|_| {
                let request = app
                    .admin_request(reqwest::Method::POST, &format!("/v1/storefront/orders/{id}/payment"))
                    .json(&json!({"payment_method": "alipay"}));
                tokio::spawn(tests::execute(request))
            })
            .collect();
        let mut paid = 0;
        for payment in payments {
            if payment.await.expect("a payment").status == 200 {
                paid += 1;
            }
        }
        assert_eq!(paid, 1);
        let paid_events = feed(&app, "haidilao", &format!("&order_id={id}&type=order.paid")).await;
        assert_eq!(paid_events.len(), 1, "{paid_events:?}");
    }

    async fn a_reader_following_the_feed_while_checkouts_commit_misses_none(app: TestApp) {
        // On PostgreSQL the checkouts commit in several transactions at once.
        let checkouts: Vec<_> = (0..24)
            .map(|_| {
                let create = app
                    .admin_request(reqwest::Method::POST, "/v1/storefront/orders")
                    .json(&tests::checkout::order_body("haidilao"));
                let (client, base) = (app.client.clone(), app.base.clone());
                tokio::spawn(async move {
                    let created = tests::execute(create).await;
                    created.assert_status(201);
                    let pay = client
                        .post(format!("{base}/v1/storefront/orders/{}/payment", order_id(&created.body)))
                        .bearer_auth(tests::ADMIN_KEY)
                        .json(&json!({"payment_method": "alipay"}));
                    tests::execute(pay).await.assert_status(200);
                })
            })
            .collect();
        // Reads on after the last event seen, as a consumer catching up does.
        let mut seen: Vec<String> = Vec::new();
        let read = async |seen: &mut Vec<String>| {
            let after = seen.last().map(|id| format!("&after={id}")).unwrap_or_default();
            let page = app.get(&format!("/v1/merchants/haidilao/events?limit=200{after}")).await;
            page.assert_status(200);
            for event in page.body["data"].as_array().expect("data") {
                seen.push(event["id"].as_str().expect("id").to_owned());
            }
        };
        while !checkouts.iter().all(tokio::task::JoinHandle::is_finished) {
            read(&mut seen).await;
        }
        for checkout in checkouts {
            checkout.await.expect("a checkout");
        }
        // Everything committed now: what is left fits in one page.
        read(&mut seen).await;

        let all = feed(&app, "haidilao", "").await;
        let paid = types(&all).iter().filter(|t| **t == "order.paid").count();
        assert_eq!(paid, 24);
        let all: Vec<&str> = all.iter().map(|e| e["id"].as_str().expect("id")).collect();
        assert_eq!(seen, all, "the reader missed or repeated events");
    }

    async fn cancellations_say_why_and_callbacks_carry_their_token(app: TestApp) {
        app.publish_flow("haidilao", &flow_with_payment_timeout(1)).await;
        let timed_out = order_id(&app.create_order("haidilao").await);
        app.wait_for_status(&timed_out, "canceled", std::time::Duration::from_secs(20)).await;
        let events = feed(&app, "haidilao", &format!("&order_id={timed_out}")).await;
        assert_eq!(
            types(&events),
            ["order.created", "order.awaiting_payment", "task.timed_out", "order.canceled"]
        );
        assert_eq!(events[2]["data"]["step"], "payment");
        assert_eq!(events[3]["data"]["cancel_reason"], "payment_timeout");

        app.publish_flow("haidilao", &review_flow(60)).await;
        let reviewed = order_id(&app.create_order("haidilao").await);
        app.pay(&reviewed, "alipay").await.assert_status(200);
        let awaiting = feed(&app, "haidilao", &format!("&order_id={reviewed}&type=task.awaiting_callback")).await;
        assert_eq!(awaiting.len(), 1, "{awaiting:?}");
        assert_eq!(awaiting[0]["data"]["step"], "review");
        // The token in the event is the one the task waits on: calling back with it works.
        let token = awaiting[0]["data"]["token"].as_str().expect("token");
        assert_eq!(awaiting[0]["data"]["input"]["token"], token);
        app.post(&format!("/v1/tasks/{token}/success"), &json!({"output": {}})).await.assert_status(200);
        let order = app.order(&reviewed).await;
        assert_eq!(order["status"], "completed", "{order}");
        let last = feed(&app, "haidilao", &format!("&order_id={reviewed}")).await;
        assert_eq!(types(&last).last(), Some(&"order.completed"));

        let canceled = order_id(&app.create_order("haidilao").await);
        app.post(&format!("/v1/storefront/orders/{canceled}/cancel"), &json!({})).await.assert_status(200);
        let events = feed(&app, "haidilao", &format!("&order_id={canceled}&type=order.canceled")).await;
        assert_eq!(events[0]["data"]["cancel_reason"], "merchant_canceled", "{events:?}");

        // Every type of order and task event met above (and the demo data's publishes).
        let all = feed(&app, "haidilao", "").await;
        assert_events_documented(&app, &all).await;
    }

    async fn publishes_are_told_and_the_feed_is_paged_filtered_and_private(app: TestApp) {
        let before = feed(&app, "xibei", "&type=metadata.published").await;
        let version = app.publish_flow("xibei", &flow_with_payment_timeout(30)).await;
        let published = feed(&app, "xibei", "&type=metadata.published").await;
        assert_eq!(published.len(), before.len() + 1);
        let last = published.last().expect("the publish");
        assert_eq!(last["data"]["kind"], "order-flow");
        assert_eq!(last["data"]["name"], "default");
        assert_eq!(last["data"]["version"], version);
        assert_eq!(last["order_id"], Value::Null);

        // The last event seen reads on from there: nothing new, nothing again.
        let all = feed(&app, "xibei", "").await;
        let last = all.last().expect("events")["id"].as_str().expect("id").to_owned();
        let again = app.get(&format!("/v1/merchants/xibei/events?after={last}")).await;
        assert_eq!(again.body["data"], json!([]));
        assert_eq!(again.body["next_cursor"], Value::Null, "the last page's cursor is null");
        let id = order_id(&app.create_order("xibei").await);
        let new = app.get(&format!("/v1/merchants/xibei/events?after={last}")).await;
        assert_eq!(types(new.body["data"].as_array().expect("data")), ["order.created", "order.awaiting_payment"]);
        assert_eq!(new.body["data"][0]["order_id"], id.as_str());
        app.get(&format!("/v1/merchants/xibei/events?after={last}&cursor=MQ")).await.assert_problem(400, "bad-request");
        app.get("/v1/merchants/xibei/events?after=evt_nothing").await.assert_problem(400, "bad-request");

        // Another merchant's admin sees none of it; a storefront key is not an admin.
        let other = app.create_key("haidilao", "merchant_admin").await;
        app.send(reqwest::Method::GET, "/v1/merchants/xibei/events", Some(&other), None)
            .await
            .assert_problem(404, "not-found");
        let storefront = app.create_key("xibei", "storefront").await;
        app.send(reqwest::Method::GET, "/v1/merchants/xibei/events", Some(&storefront), None)
            .await
            .assert_problem(403, "forbidden");
        app.get("/v1/merchants/xibei/events?type=order.shipped").await.assert_problem(400, "bad-request");
        app.get("/v1/merchants/xibei/events?cursor=%%%").await.assert_problem(400, "bad-request");
    }
}
