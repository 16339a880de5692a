//! Webhook delivery to a real receiver: signed the Standard Webhooks way, in order per
//! order, retried after failures, delivered after a restart or when an attempt's record
//! could not commit, redelivered by hand, sent as a test event, and never to disabled
//! endpoints or another merchant.

use std::time::Duration;

use app::persistence::leases::{DeliveryLease, Lease, Sink};
use app::persistence::{Pool, SqliteSync};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{Hmac, KeyInit, Mac};
use reqwest::Method;
use sea_orm::{ConnectionTrait, DbBackend};
use serde_json::Value;
use sha2::Sha256;
use tests::checkout::{flow_with_payment_timeout, order_body, review_flow};
use tests::documented::assert_events_documented;
use tests::receiver::{Received, Receiver};
use tests::{ADMIN_KEY, Backend, TestApp, json, on_both_databases};

const ENDPOINTS: &str = "/v1/merchants/haidilao/webhook-endpoints";
const ARRIVAL: Duration = Duration::from_secs(15);

/// Registers an endpoint for `types`; returns its id and secret.
async fn subscribe(app: &TestApp, url: &str, types: &[&str]) -> (String, String) {
    let created = app
        .post(ENDPOINTS, &json!({"url": url, "event_types": types}))
        .await;
    created.assert_status(201);
    (
        created.body["id"].as_str().expect("id").to_owned(),
        created.body["secret"].as_str().expect("secret").to_owned(),
    )
}

/// The Standard Webhooks signature, computed here independently of the server.
fn expected_signature(secret: &str, received: &Received) -> String {
    let key = BASE64
        .decode(secret.strip_prefix("whsec_").expect("whsec_"))
        .expect("base64");
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).expect("any key length");
    mac.update(format!("{}.{}.", received.id, received.timestamp).as_bytes());
    mac.update(&received.body);
    format!("v1,{}", BASE64.encode(mac.finalize().into_bytes()))
}

fn order_id(order: &Value) -> String {
    order["order_id"].as_str().expect("order_id").to_owned()
}

fn types(received: &[Received]) -> Vec<String> {
    received.iter().map(Received::event_type).collect()
}

async fn deliveries(app: &TestApp, endpoint: &str, query: &str) -> Vec<Value> {
    app.list_all(&format!("{ENDPOINTS}/{endpoint}/deliveries{query}"))
        .await
}

on_both_databases! {
    async fn an_order_reaches_its_endpoint_signed_and_in_order(app: TestApp) {
        let receiver = Receiver::start(&[]).await;
        let every = ["order.created", "order.awaiting_payment", "order.paid", "order.completed"];
        let (endpoint, secret) = subscribe(&app, &receiver.url, &every).await;
        let id = order_id(&app.create_order("haidilao").await);
        app.pay(&id, "alipay").await.assert_status(200);

        let received = receiver.wait_for(4, ARRIVAL).await;
        assert_eq!(types(&received), every);
        for delivery in &received {
            assert_eq!(delivery.signature, expected_signature(&secret, delivery));
            let body = delivery.json();
            assert_eq!(body["id"], delivery.id.as_str(), "webhook-id is the event id");
            assert_eq!(body["order_id"], id.as_str());
            assert_eq!(body["merchant_id"], "haidilao");
            let sent_at: i64 = delivery.timestamp.parse().expect("unix seconds");
            assert!((chrono::Utc::now().timestamp() - sent_at).abs() < 60);
        }
        assert_eq!(received[2].json()["data"]["payment_method"], "alipay", "{:?}", received[2].json());
        // The feed and the deliveries tell the same events.
        let feed = app.list_all(&format!("/v1/merchants/haidilao/events?order_id={id}")).await;
        let feed_ids: Vec<&str> = feed.iter().map(|e| e["id"].as_str().expect("id")).collect();
        let delivered_ids: Vec<&str> = received.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(feed_ids, delivered_ids);

        // Every delivery is recorded, with its attempt (the record commits just after the
        // receiver's answer).
        let mut listed = deliveries(&app, &endpoint, "").await;
        for _ in 0..100 {
            if listed.iter().all(|d| d["status"] == "succeeded") {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
            listed = deliveries(&app, &endpoint, "").await;
        }
        assert_eq!(listed.len(), 4);
        assert!(listed.iter().all(|d| d["status"] == "succeeded" && d["attempt_count"] == 1), "{listed:?}");
        assert_eq!(listed[0]["event_type"], "order.completed", "newest first");
        let one = listed[0]["id"].as_str().expect("id");
        let detail = app.get(&format!("{ENDPOINTS}/{endpoint}/deliveries/{one}")).await;
        detail.assert_status(200);
        assert_eq!(detail.body["attempts"][0]["response_status"], 200, "{}", detail.text);
        assert_eq!(detail.body["next_attempt_at"], Value::Null);
        assert_eq!(deliveries(&app, &endpoint, "?status=pending").await, Vec::<Value>::new());
    }

    async fn a_failing_receiver_gets_the_event_later_and_the_order_waits_for_it(app: TestApp) {
        // The first attempt fails; the retry comes about 5 s later.
        let receiver = Receiver::start(&[500]).await;
        let (endpoint, _) = subscribe(&app, &receiver.url, &["order.created", "order.canceled"]).await;
        let id = order_id(&app.create_order("haidilao").await);
        app.cancel_as(ADMIN_KEY, &id).await.assert_status(200);

        let received = receiver.wait_for(3, ARRIVAL).await;
        let answered: Vec<(String, u16)> = received.iter().map(|r| (r.event_type(), r.status)).collect();
        assert_eq!(
            answered,
            [("order.created".into(), 500), ("order.created".into(), 200), ("order.canceled".into(), 200)],
            "the cancel is not delivered before the creation went through"
        );
        assert_eq!(received[0].id, received[1].id, "a retry is the same event");
        let listed = deliveries(&app, &endpoint, "?status=succeeded").await;
        let created = listed.iter().find(|d| d["event_type"] == "order.created").expect("the creation");
        assert_eq!(created["attempt_count"], 2);
        let detail = app
            .get(&format!("{ENDPOINTS}/{endpoint}/deliveries/{}", created["id"].as_str().expect("id")))
            .await;
        let attempts = detail.body["attempts"].as_array().expect("attempts");
        assert_eq!(attempts.len(), 2);
        assert_eq!(attempts[0]["response_status"], 500);
        assert_eq!(attempts[0]["error"], "the receiver answered 500");
        assert_eq!(attempts[1]["response_status"], 200);
    }

    async fn events_of_no_order_are_delivered_and_hold_up_no_order(app: TestApp) {
        let receiver = Receiver::start(&[]).await;
        subscribe(&app, &receiver.url, &["metadata.published", "order.created"]).await;
        let first = app.publish_flow("haidilao", &flow_with_payment_timeout(30)).await;
        let second = app.publish_flow("haidilao", &flow_with_payment_timeout(60)).await;
        app.create_order("haidilao").await;
        let received = receiver.wait_for(3, ARRIVAL).await;
        let mut published: Vec<i64> = received
            .iter()
            .filter(|r| r.event_type() == "metadata.published")
            .map(|r| r.json()["data"]["version"].as_i64().expect("a version"))
            .collect();
        published.sort_unstable();
        assert_eq!(published, [first, second]);
        assert_eq!(received.iter().filter(|r| r.event_type() == "order.created").count(), 1);
    }

    async fn events_are_redelivered_by_hand_and_test_events_sent(app: TestApp) {
        let receiver = Receiver::start(&[]).await;
        let (endpoint, secret) = subscribe(&app, &receiver.url, &["order.created"]).await;
        app.create_order("haidilao").await;
        let first = receiver.wait_for(1, ARRIVAL).await;

        // Any event, even one the endpoint does not subscribe to.
        let feed = app.list_all("/v1/merchants/haidilao/events?type=order.awaiting_payment").await;
        let other = feed[0]["id"].as_str().expect("id");
        for event in [first[0].id.as_str(), other] {
            let made = app
                .post(&format!("{ENDPOINTS}/{endpoint}/deliveries"), &json!({"event_id": event}))
                .await;
            made.assert_status(201);
            assert_eq!(made.body["event_id"], event);
            assert!(made.body["id"].as_str().expect("id").starts_with("dlv_"));
        }
        let received = receiver.wait_for(3, ARRIVAL).await;
        assert_eq!(received[1].id, first[0].id);
        assert_eq!(received[2].id, other);
        app.post(&format!("{ENDPOINTS}/{endpoint}/deliveries"), &json!({"event_id": "evt_none"}))
            .await
            .assert_violations(&["/event_id"]);

        let test = app.post(&format!("{ENDPOINTS}/{endpoint}/test"), &json!({})).await;
        test.assert_status(200);
        assert_eq!(test.body["delivered"], true, "{}", test.text);
        assert_eq!(test.body["response_status"], 200);
        let received = receiver.wait_for(4, ARRIVAL).await;
        assert_eq!(received[3].event_type(), "webhook.test");
        assert_eq!(received[3].signature, expected_signature(&secret, &received[3]));
        assert_events_documented(&app, &[received[3].json()]).await;
        // A test of a dead receiver says why.
        let (dead, _) = subscribe(&app, "http://127.0.0.1:9/hooks", &["order.created"]).await;
        let failed = app.post(&format!("{ENDPOINTS}/{dead}/test"), &json!({})).await;
        failed.assert_status(200);
        assert_eq!(failed.body["delivered"], false);
        assert_eq!(failed.body["response_status"], Value::Null);
        assert!(failed.body["error"].as_str().is_some_and(|e| e.contains("connect")), "{}", failed.text);
    }

    async fn disabled_endpoints_and_other_merchants_get_nothing(app: TestApp) {
        let receiver = Receiver::start(&[]).await;
        let silent = Receiver::start(&[]).await;
        let (endpoint, _) = subscribe(&app, &receiver.url, &["order.created"]).await;
        let (disabled, _) = subscribe(&app, &silent.url, &["order.created"]).await;
        app.send(Method::PATCH, &format!("{ENDPOINTS}/{disabled}"), Some(ADMIN_KEY), Some(&json!({"enabled": false})))
            .await
            .assert_status(200);
        let elsewhere = app
            .post("/v1/merchants/xibei/webhook-endpoints", &json!({"url": silent.url, "event_types": ["order.created"]}))
            .await;
        elsewhere.assert_status(201);
        app.create_order("haidilao").await;
        let received = receiver.wait_for(1, ARRIVAL).await;
        assert_eq!(types(&received), ["order.created"]);
        // The enabled endpoint got it; give the others as long again.
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert!(silent.received().is_empty(), "{:?}", types(&silent.received()));
        assert!(deliveries(&app, &disabled, "").await.is_empty());

        // Another merchant's admin sees none of this endpoint's deliveries.
        let other = app.create_key("xibei", "merchant_admin").await;
        app.send(Method::GET, &format!("{ENDPOINTS}/{endpoint}/deliveries"), Some(&other), None)
            .await
            .assert_problem(404, "not-found");
        let xibei_endpoint = elsewhere.body["id"].as_str().expect("id");
        app.get(&format!("{ENDPOINTS}/{xibei_endpoint}/deliveries")).await.assert_problem(404, "not-found");
        app.get(&format!("{ENDPOINTS}/{endpoint}/deliveries/dlv_999999")).await.assert_problem(404, "not-found");
        app.get(&format!("{ENDPOINTS}/{endpoint}/deliveries/nonsense")).await.assert_problem(404, "not-found");
        app.get(&format!("{ENDPOINTS}/{endpoint}/deliveries?status=lost")).await.assert_problem(400, "bad-request");
    }

    async fn a_receiver_that_never_answers_holds_up_no_other_endpoint_nor_checkout(app: TestApp) {
        // Its attempts wait out their 10 s timeout; meanwhile the other endpoint gets every
        // event and the checkouts answer as usual.
        let hanging = Receiver::start_slow(Duration::from_secs(60)).await;
        let prompt = Receiver::start(&[]).await;
        subscribe(&app, &hanging.url, &["order.created", "order.paid"]).await;
        subscribe(&app, &prompt.url, &["order.created", "order.paid"]).await;
        for _ in 0..5 {
            let started = std::time::Instant::now();
            let id = order_id(&app.create_order("haidilao").await);
            app.pay(&id, "alipay").await.assert_status(200);
            assert!(started.elapsed() < Duration::from_secs(5), "a checkout took {:?}", started.elapsed());
        }
        let received = prompt.wait_for(10, Duration::from_secs(5)).await;
        assert_eq!(received.len(), 10, "{:?}", types(&received));
        // The hanging receiver got the first event of each order and is still answering it:
        // the orders' later events wait for those, in order.
        let hung = hanging.received();
        assert!(!hung.is_empty() && hung.iter().all(|r| r.event_type() == "order.created"), "{:?}", types(&hung));
    }

    async fn a_rotated_secret_signs_alongside_the_new_one(app: TestApp) {
        let receiver = Receiver::start(&[]).await;
        let (endpoint, old) = subscribe(&app, &receiver.url, &["order.created"]).await;
        let rotated = app.post(&format!("{ENDPOINTS}/{endpoint}/rotate-secret"), &json!({})).await;
        let new = rotated.body["secret"].as_str().expect("the new secret");
        app.create_order("haidilao").await;
        let received = receiver.wait_for(1, ARRIVAL).await;
        let signatures: Vec<&str> = received[0].signature.split(' ').collect();
        assert_eq!(
            signatures,
            [expected_signature(new, &received[0]), expected_signature(&old, &received[0])]
        );
    }

    async fn a_receiver_completes_a_callback_step_with_the_token_it_was_sent(app: TestApp) {
        let receiver = Receiver::start(&[]).await;
        subscribe(&app, &receiver.url, &["task.awaiting_callback", "order.completed"]).await;
        app.publish_flow("haidilao", &review_flow(60)).await;
        let id = order_id(&app.create_order("haidilao").await);
        app.pay(&id, "alipay").await.assert_status(200);
        let awaiting = receiver.wait_for(1, ARRIVAL).await;
        let event = awaiting[0].json();
        assert_eq!(event["type"], "task.awaiting_callback");
        let token = event["data"]["token"].as_str().expect("the task token");
        // What the outside system does: take the token from its webhook and call back.
        app.post(&format!("/v1/tasks/{token}/success"), &json!({"output": {"approved": true}}))
            .await
            .assert_status(200);
        let done = receiver.wait_for(2, ARRIVAL).await;
        assert_eq!(done[1].event_type(), "order.completed");
        assert_eq!(done[1].json()["order_id"], id.as_str());
    }
}

/// Events committed while no instance delivered are delivered by the next one to start.
async fn committed_events_are_delivered_after_a_restart(backend: Backend) {
    let Some(first) = TestApp::spawn_configured(backend, |config| config.webhooks = false).await
    else {
        eprintln!("ORDERFLOW_TEST_DATABASE_URL is not set: PostgreSQL half skipped");
        return;
    };
    let receiver = Receiver::start(&[]).await;
    subscribe(&first, &receiver.url, &["order.created"]).await;
    let ids: Vec<String> = [
        first.create_order("haidilao").await,
        first.create_order("haidilao").await,
    ]
    .iter()
    .map(order_id)
    .collect();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        receiver.received().is_empty(),
        "this instance does not deliver"
    );

    let second = TestApp::spawn_on(backend, first.database_url(), false).await;
    let received = receiver.wait_for(2, ARRIVAL).await;
    let mut delivered: Vec<String> = received
        .iter()
        .map(|r| r.json()["order_id"].as_str().expect("order").to_owned())
        .collect();
    delivered.sort();
    let mut expected = ids.clone();
    expected.sort();
    assert_eq!(delivered, expected);
    drop(second);
}

/// A backlog larger than every slot of the delivery loop (256 attempts in flight), all for
/// one receiver that never answers, leaves room for another endpoint: one endpoint holds at
/// most its share (64) of the attempts in flight, however much of it is due at once.
async fn a_backlog_for_a_hanging_receiver_leaves_room_for_other_endpoints(backend: Backend) {
    let Some(first) = TestApp::spawn_configured(backend, |config| config.webhooks = false).await
    else {
        eprintln!("ORDERFLOW_TEST_DATABASE_URL is not set: PostgreSQL half skipped");
        return;
    };
    let hanging = Receiver::start_slow(Duration::from_secs(60)).await;
    subscribe(&first, &hanging.url, &["order.created"]).await;
    for _ in 0..260 {
        first.create_order("haidilao").await;
    }
    // An instance that delivers finds all 260 due at once.
    let second = TestApp::spawn_on(backend, first.database_url(), false).await;
    let prompt = Receiver::start(&[]).await;
    subscribe(&second, &prompt.url, &["order.created"]).await;
    let id = order_id(&second.create_order("haidilao").await);
    // Well within the hanging attempts' 10 s timeout, which would free their slots.
    let received = prompt.wait_for(1, Duration::from_secs(5)).await;
    assert_eq!(
        received.len(),
        1,
        "the other endpoint waited for the hanging one's slots"
    );
    assert_eq!(received[0].json()["order_id"], id.as_str());
    assert!(
        !hanging.received().is_empty(),
        "the hanging receiver is being attempted"
    );
}

on_both_databases! {
    // The receiver answered, but the database could not take the attempt's record: the
    // event is not lost. The delivery stays leased, is attempted again when its lease
    // ends, and then recorded as delivered (at least once: the receiver sees it twice).
    async fn an_attempt_whose_record_cannot_commit_is_made_again(app: TestApp) {
        let receiver = Receiver::start_slow(Duration::from_secs(2)).await;
        let (endpoint, _) = subscribe(&app, &receiver.url, &["order.created"]).await;
        let id = order_id(&app.create_order("haidilao").await);
        receiver.wait_for(1, ARRIVAL).await;
        // The receiver answers 2 s after the request arrived. The loop's next lease waits
        // for the lock and fails after the writer's 5 s lock timeout; the record, queued
        // after it, waits and fails 5 s later.
        let lock = app.hold_write_lock("webhook_deliveries").await;
        tokio::time::sleep(Duration::from_secs(14)).await;
        assert_eq!(
            deliveries(&app, &endpoint, "").await[0]["status"],
            "pending",
            "the record must not have committed"
        );
        lock.rollback().await.expect("release the lock");

        // Made again once the 20 s lease ends, and recorded this time.
        let received = receiver.wait_for(2, Duration::from_secs(40)).await;
        assert_eq!(received[0].id, received[1].id, "the same event, again");
        assert_eq!(received[1].json()["order_id"], id.as_str());
        let deadline = tokio::time::Instant::now() + ARRIVAL;
        loop {
            let delivery = deliveries(&app, &endpoint, "").await.remove(0);
            if delivery["status"] == "succeeded" {
                // The attempt whose record was lost is not counted: what is counted is
                // what committed.
                assert_eq!(delivery["attempt_count"], 1, "{delivery}");
                break;
            }
            assert!(tokio::time::Instant::now() < deadline, "never recorded: {delivery}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// An app on PostgreSQL that delivers nothing itself; `None` without a test database.
async fn postgres_not_delivering() -> Option<TestApp> {
    let app = TestApp::spawn_configured(Backend::Postgres, |config| config.webhooks = false).await;
    if app.is_none() {
        eprintln!("ORDERFLOW_TEST_DATABASE_URL is not set: skipped");
    }
    app
}

/// PostgreSQL drops every connection of the server (a restart, a failover) while it
/// delivers: the leases, which run on connections of their own beside the writer's, go on
/// once PostgreSQL is back, and events committed after the drop arrive.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deliveries_go_on_after_postgres_drops_the_connections() {
    let Some(app) = TestApp::spawn(Backend::Postgres).await else {
        eprintln!("ORDERFLOW_TEST_DATABASE_URL is not set: skipped");
        return;
    };
    let receiver = Receiver::start(&[]).await;
    subscribe(&app, &receiver.url, &["order.created"]).await;
    app.create_order("haidilao").await;
    receiver.wait_for(1, ARRIVAL).await;

    app.drop_database_connections().await;
    // The writer reconnects too: a write may answer 503 meanwhile.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let created = loop {
        let response = app
            .create_order_as(ADMIN_KEY, &order_body("haidilao"))
            .await;
        if response.status == 201 {
            break response.body;
        }
        response.assert_problem(503, "unavailable");
        assert!(
            tokio::time::Instant::now() < deadline,
            "no write succeeded after the drop"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let received = receiver.wait_for(2, ARRIVAL).await;
    assert_eq!(received[1].json()["order_id"], order_id(&created).as_str());
}

/// Two instances on one PostgreSQL database share a backlog of deliveries: each is taken by
/// one of them (their leases skip each other's rows), so every event arrives, and, with a
/// receiver that answers at once, arrives once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn instances_on_one_postgres_share_deliveries_without_sending_twice() {
    let Some(first) = postgres_not_delivering().await else {
        return;
    };
    let receiver = Receiver::start(&[]).await;
    subscribe(&first, &receiver.url, &["order.created"]).await;
    const ORDERS: usize = 150;
    for _ in 0..ORDERS {
        first.create_order("haidilao").await;
    }
    // Both find the whole backlog due at once.
    let (a, b) = tokio::join!(
        TestApp::spawn_on(Backend::Postgres, first.database_url(), false),
        TestApp::spawn_on(Backend::Postgres, first.database_url(), false)
    );
    receiver.wait_for(ORDERS, ARRIVAL).await;
    // Time for a second copy of anything to arrive.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let mut ids: Vec<String> = receiver.received().iter().map(|r| r.id.clone()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), ORDERS, "every event, once");
    assert_eq!(receiver.received().len(), ORDERS, "no event sent twice");
    drop((a, b));
}

/// On PostgreSQL a lease walks the due index in due order and stops at its limit, whatever
/// the table's statistics. Left to plan from guesses, on a table autovacuum has not analyzed
/// yet (a backlog built in its first minute), PostgreSQL gathered every due delivery in a
/// bitmap and sorted them all: 610 ms a lease with 100,000 due.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lease_on_a_table_never_analyzed_walks_the_due_queue_in_order() {
    let Some(app) = postgres_not_delivering().await else {
        return;
    };
    let (endpoint, _) = subscribe(&app, "http://127.0.0.1:9/hooks", &["order.created"]).await;
    let db = connect(app.database_url(), Pool::Requests { size: Some(2) })
        .await
        .expect("a connection");
    db.execute_unprepared(&format!(
        "ALTER TABLE webhook_deliveries SET (autovacuum_enabled = false); \
         INSERT INTO webhook_deliveries (endpoint_id, merchant_id, event_id, event_type, \
           event_position, order_id, status, attempt_count, next_attempt_at, created_at, updated_at) \
         SELECT '{endpoint}', 'haidilao', 'ev_' || g, 'order.created', g, 'ord_' || (g / 4), \
           'pending', 0, now() - interval '1 minute' + g * interval '1 millisecond', now(), now() \
         FROM generate_series(1, 20000) AS g"
    ))
    .await
    .expect("a backlog inserted");
    let now = app::persistence::now();
    let lease = Lease::Deliveries(DeliveryLease {
        now,
        until: now + chrono::Duration::seconds(20),
        limit: 64,
        busy_endpoints: vec![],
        sink: Sink::Webhooks,
    });
    let mut explain = lease.statement(DbBackend::Postgres);
    explain.sql = format!("EXPLAIN (FORMAT JSON) {}", explain.sql);
    let leases = connect(app.database_url(), Pool::Leases)
        .await
        .expect("a lease connection");
    let plan: Value = leases
        .query_one_raw(explain)
        .await
        .expect("a plan")
        .expect("a row")
        .try_get_by_index(0)
        .expect("JSON");
    let nodes = plan_nodes(&plan);
    let gathers = |node: &String| {
        node.starts_with("Sort ")
            || node.starts_with("Bitmap Heap Scan ")
            || node == "Seq Scan webhook_deliveries"
    };
    assert!(
        !nodes.iter().any(gathers),
        "the lease reads every due delivery: {nodes:?}"
    );
    assert!(
        nodes.iter().any(|node| node.starts_with("Limit ")),
        "{nodes:?}"
    );
}

/// The nodes of a JSON plan, depth first, each as its type and the table it reads.
fn plan_nodes(plan: &Value) -> Vec<String> {
    let mut nodes = vec![];
    let mut stack = vec![&plan[0]["Plan"]];
    while let Some(node) = stack.pop() {
        nodes.push(format!(
            "{} {}",
            node["Node Type"].as_str().unwrap_or_default(),
            node["Relation Name"].as_str().unwrap_or_default()
        ));
        stack.extend(node["Plans"].as_array().into_iter().flatten());
    }
    nodes
}

async fn connect(url: &str, pool: Pool) -> Result<sea_orm::DatabaseConnection, sea_orm::DbErr> {
    app::persistence::connect(url, SqliteSync::Full, pool).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backlog_for_a_hanging_receiver_leaves_room_for_other_endpoints_sqlite() {
    a_backlog_for_a_hanging_receiver_leaves_room_for_other_endpoints(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backlog_for_a_hanging_receiver_leaves_room_for_other_endpoints_postgres() {
    a_backlog_for_a_hanging_receiver_leaves_room_for_other_endpoints(Backend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn committed_events_are_delivered_after_a_restart_sqlite() {
    committed_events_are_delivered_after_a_restart(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn committed_events_are_delivered_after_a_restart_postgres() {
    committed_events_are_delivered_after_a_restart(Backend::Postgres).await;
}
