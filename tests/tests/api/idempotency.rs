//! `Idempotency-Key` on the storefront's POSTs: replays, conflicting reuse, rejected requests
//! storing nothing, key length, and scoping per API key and endpoint.

use reqwest::Method;
use serde_json::Value;
use tests::checkout::{events, order_body};
use tests::{TestApp, TestResponse, json, on_both_databases};

const ORDERS: &str = "/v1/storefront/orders";

async fn create_with_key(
    app: &TestApp,
    key: &str,
    idempotency_key: &str,
    body: &Value,
) -> TestResponse {
    app.send_with_idempotency(Method::POST, ORDERS, key, Some(idempotency_key), Some(body))
        .await
}

async fn pay_with_key(
    app: &TestApp,
    key: &str,
    idempotency_key: &str,
    order_id: &str,
    method: &str,
) -> TestResponse {
    app.send_with_idempotency(
        Method::POST,
        &format!("/v1/storefront/orders/{order_id}/payment"),
        key,
        Some(idempotency_key),
        Some(&json!({"payment_method": method})),
    )
    .await
}

async fn order_ids(app: &TestApp) -> Vec<String> {
    app.list_all("/v1/merchants/haidilao/orders")
        .await
        .iter()
        .map(|o| o["order_id"].as_str().expect("order_id").to_owned())
        .collect()
}

on_both_databases! {
    async fn a_retried_order_creation_is_replayed(app: TestApp) {
        let key = app.create_key("haidilao", "storefront").await;
        let body = order_body("haidilao");
        let first = create_with_key(&app, &key, "k1", &body).await;
        first.assert_status(201);
        assert_eq!(first.header("idempotent-replayed"), None);
        assert_eq!(first.body["status"], "awaiting_payment");

        let second = create_with_key(&app, &key, "k1", &body).await;
        second.assert_status(201);
        assert_eq!(second.header("idempotent-replayed"), Some("true"));
        assert_eq!(second.body, first.body, "the replay must be the original response");
        assert_eq!(
            second.header("content-type"),
            Some("application/json"),
            "{}",
            second.text
        );
        assert_eq!(order_ids(&app).await, [first.body["order_id"].as_str().expect("id")]);

        // The same key with another body is refused and creates nothing.
        let mut other = body.clone();
        other["items"][0]["quantity"] = json!(3);
        let misuse = create_with_key(&app, &key, "k1", &other).await;
        misuse.assert_problem(422, "validation-failed");
        assert_eq!(order_ids(&app).await.len(), 1);

        // …and the original is still replayed afterwards.
        let third = create_with_key(&app, &key, "k1", &body).await;
        third.assert_status(201);
        assert_eq!(third.header("idempotent-replayed"), Some("true"));
        assert_eq!(third.body, first.body);

        // Without a key, every request creates an order.
        app.create_order_as(&key, &body).await.assert_status(201);
        app.create_order_as(&key, &body).await.assert_status(201);
        assert_eq!(order_ids(&app).await.len(), 3);
    }

    async fn a_retried_payment_is_replayed_without_paying_twice(app: TestApp) {
        let key = app.create_key("haidilao", "storefront").await;
        let created = create_with_key(&app, &key, "k1", &order_body("haidilao")).await;
        created.assert_status(201);
        let id = created.body["order_id"].as_str().expect("order_id").to_owned();

        // The key is scoped to the endpoint: "k1" is free for the payment.
        let paid = pay_with_key(&app, &key, "k1", &id, "alipay").await;
        paid.assert_status(200);
        assert_eq!(paid.header("idempotent-replayed"), None);
        assert_eq!(paid.body["status"], "completed", "{}", paid.text);
        assert_eq!(paid.body["final_amount_minor"], 8000);

        let replay = pay_with_key(&app, &key, "k1", &id, "alipay").await;
        replay.assert_status(200);
        assert_eq!(replay.header("idempotent-replayed"), Some("true"));
        assert_eq!(replay.body, paid.body);

        // Another method under the same key is misuse; a fresh key meets the paid order.
        pay_with_key(&app, &key, "k1", &id, "wechat_pay")
            .await
            .assert_problem(422, "validation-failed");
        pay_with_key(&app, &key, "k2", &id, "alipay")
            .await
            .assert_problem(409, "order-not-awaiting-payment");

        let history = app.history(&id).await;
        assert_eq!(events(&history, "FunctionEvaluated").len(), 1, "{history:?}");
        assert_eq!(events(&history, "ExecutionSucceeded").len(), 1);
        let order = app.order(&id).await;
        assert_eq!(order["final_amount_minor"], 8000);
        assert_eq!(order["payment_method"], "alipay");

        // A payment key is per order: the same key pays another order.
        let other = app.create_order_as(&key, &order_body("haidilao")).await;
        other.assert_status(201);
        let other_id = other.body["order_id"].as_str().expect("order_id");
        let paid_other = pay_with_key(&app, &key, "k1", other_id, "wechat_pay").await;
        paid_other.assert_status(200);
        assert_eq!(paid_other.header("idempotent-replayed"), None);
        assert_eq!(paid_other.body["order_id"], other_id);
        assert_eq!(paid_other.body["final_amount_minor"], 5000);
    }

    async fn rejected_requests_store_nothing(app: TestApp) {
        let key = app.create_key("haidilao", "storefront").await;

        // Rejected by the checkout page (inside the idempotent section).
        let mut bad_phone = order_body("haidilao");
        bad_phone["address"]["phone"] = json!("call me");
        create_with_key(&app, &key, "retry-me", &bad_phone)
            .await
            .assert_violations(&["/address/phone"]);
        // Rejected by the body's own checks.
        let mut bad_quantity = order_body("haidilao");
        bad_quantity["items"][0]["quantity"] = json!(0);
        create_with_key(&app, &key, "retry-me", &bad_quantity)
            .await
            .assert_violations(&["/items/0/quantity"]);
        assert!(order_ids(&app).await.is_empty());

        let fixed = create_with_key(&app, &key, "retry-me", &order_body("haidilao")).await;
        fixed.assert_status(201);
        assert_eq!(fixed.header("idempotent-replayed"), None);
        let replay = create_with_key(&app, &key, "retry-me", &order_body("haidilao")).await;
        assert_eq!(replay.header("idempotent-replayed"), Some("true"));
        assert_eq!(replay.body, fixed.body);
        assert_eq!(order_ids(&app).await.len(), 1);

        // A rejected payment (a method the order does not offer) stores nothing either.
        let id = fixed.body["order_id"].as_str().expect("order_id");
        pay_with_key(&app, &key, "pay", id, "unionpay")
            .await
            .assert_violations(&["/payment_method"]);
        let paid = pay_with_key(&app, &key, "pay", id, "alipay").await;
        paid.assert_status(200);
        assert_eq!(paid.header("idempotent-replayed"), None);
        assert_eq!(paid.body["final_amount_minor"], 8000);
    }

    async fn keys_longer_than_255_characters_are_refused(app: TestApp) {
        let key = app.create_key("haidilao", "storefront").await;
        let too_long = "k".repeat(256);
        create_with_key(&app, &key, &too_long, &order_body("haidilao"))
            .await
            .assert_problem(400, "bad-request");
        assert!(order_ids(&app).await.is_empty());

        let longest = "k".repeat(255);
        let created = create_with_key(&app, &key, &longest, &order_body("haidilao")).await;
        created.assert_status(201);
        let replay = create_with_key(&app, &key, &longest, &order_body("haidilao")).await;
        assert_eq!(replay.header("idempotent-replayed"), Some("true"));
        assert_eq!(replay.body, created.body);
        assert_eq!(order_ids(&app).await.len(), 1);

        let id = created.body["order_id"].as_str().expect("order_id");
        pay_with_key(&app, &key, &too_long, id, "alipay")
            .await
            .assert_problem(400, "bad-request");
        assert_eq!(app.order(id).await["status"], "awaiting_payment");
    }

    async fn keys_are_visible_ascii_characters(app: TestApp) {
        // As the document declares: `^[\x21-\x7E]{1,255}$`. A space or a tab inside the key,
        // or an empty key, is refused and stores nothing.
        let key = app.create_key("haidilao", "storefront").await;
        for refused in ["two words", "tab\there", ""] {
            create_with_key(&app, &key, refused, &order_body("haidilao"))
                .await
                .assert_problem(400, "bad-request");
        }
        assert!(order_ids(&app).await.is_empty());

        // Every visible character is taken, and the key replays.
        let visible: String = ('!'..='~').collect();
        let created = create_with_key(&app, &key, &visible, &order_body("haidilao")).await;
        created.assert_status(201);
        let replay = create_with_key(&app, &key, &visible, &order_body("haidilao")).await;
        assert_eq!(replay.header("idempotent-replayed"), Some("true"));
        assert_eq!(replay.body, created.body);
    }

    async fn keys_are_scoped_per_api_key(app: TestApp) {
        let first_key = app.create_key("haidilao", "storefront").await;
        let second_key = app.create_key("haidilao", "storefront").await;
        let body = order_body("haidilao");
        let first = create_with_key(&app, &first_key, "shared", &body).await;
        first.assert_status(201);
        let second = create_with_key(&app, &second_key, "shared", &body).await;
        second.assert_status(201);
        assert_eq!(second.header("idempotent-replayed"), None);
        assert_ne!(second.body["order_id"], first.body["order_id"]);

        let mut ids = order_ids(&app).await;
        ids.sort();
        let mut expected = vec![
            first.body["order_id"].as_str().expect("id").to_owned(),
            second.body["order_id"].as_str().expect("id").to_owned(),
        ];
        expected.sort();
        assert_eq!(ids, expected);

        // Each key still replays its own response.
        let replay = create_with_key(&app, &second_key, "shared", &body).await;
        assert_eq!(replay.header("idempotent-replayed"), Some("true"));
        assert_eq!(replay.body, second.body);
        assert_eq!(order_ids(&app).await.len(), 2);
    }

    async fn concurrent_requests_with_one_key_act_once_and_all_get_its_answer(app: TestApp) {
        // No request waits on another's claim: all stage, one commits with the key, and the
        // others, refused, replay its answer. None is told to retry later.
        let body = order_body("haidilao");
        let before = order_ids(&app).await.len();
        let racers: Vec<_> = (0..8)
            .map(|_| {
                let request = app
                    .admin_request(Method::POST, ORDERS)
                    .header("Idempotency-Key", "raced-key")
                    .json(&body);
                tokio::spawn(tests::execute(request))
            })
            .collect();
        let mut answers = Vec::new();
        for racer in racers {
            answers.push(racer.await.expect("a racing request"));
        }
        for answer in &answers {
            answer.assert_status(201);
        }
        let fresh: Vec<_> = answers
            .iter()
            .filter(|a| a.header("idempotent-replayed").is_none())
            .collect();
        assert_eq!(fresh.len(), 1, "exactly one request acts");
        for answer in &answers {
            assert_eq!(answer.body, fresh[0].body, "every answer is the one that committed");
        }
        assert_eq!(order_ids(&app).await.len(), before + 1, "one order, not eight");
    }

    async fn a_claim_left_by_an_earlier_version_counts_until_it_is_abandoned(app: TestApp) {
        // Earlier versions claimed a key as `in_flight` before acting, and completed it
        // after. Such a claim may still belong to a running request of an old instance, so
        // it stays a conflict for two minutes, then is cleared. Staged by writing the row.
        let body = order_body("haidilao");
        let db = sea_orm::Database::connect(app.database_url()).await.expect("connect");
        let claim = |key: &str, age_seconds: i64| app::persistence::entities::idempotency_key::Model {
            principal: app::http::auth::ENV_ADMIN_KEY_ID.into(),
            endpoint: "POST /v1/storefront/orders".into(),
            key: key.into(),
            fingerprint: app::services::orders::fingerprint(&body),
            status: "in_flight".into(),
            response_status: None,
            response_body: None,
            created_at: app::persistence::now() - chrono::Duration::seconds(age_seconds),
        };
        let before = order_ids(&app).await;

        let stage = |row: app::persistence::entities::idempotency_key::Model| {
            use sea_orm::{EntityTrait, IntoActiveModel};
            app::persistence::entities::idempotency_key::Entity::insert(row.into_active_model())
                .exec_without_returning(&db)
        };
        stage(claim("busy-key", 1)).await.expect("stage claim");
        create_with_key(&app, tests::ADMIN_KEY, "busy-key", &body)
            .await
            .assert_problem(409, "idempotency-key-in-flight");
        assert_eq!(order_ids(&app).await, before, "a conflict must not act");

        // Older than two minutes: its request is taken to have died before it wrote
        // anything (its answer would have committed with its write), so a retry acts.
        stage(claim("dead-key", 180)).await.expect("stage claim");
        let taken_over = create_with_key(&app, tests::ADMIN_KEY, "dead-key", &body).await;
        taken_over.assert_status(201);
        assert_eq!(order_ids(&app).await.len(), before.len() + 1);
        let replayed = create_with_key(&app, tests::ADMIN_KEY, "dead-key", &body).await;
        replayed.assert_status(201);
        assert_eq!(replayed.header("idempotent-replayed"), Some("true"));
        assert_eq!(replayed.body, taken_over.body);
    }

    async fn a_retried_cancel_is_replayed(app: TestApp) {
        let created = app.post(ORDERS, &order_body("haidilao")).await;
        created.assert_status(201);
        let id = created.body["order_id"].as_str().expect("order_id");
        let path = format!("/v1/storefront/orders/{id}/cancel");
        let cancel = |key: &'static str| {
            app.send_with_idempotency(Method::POST, &path, tests::ADMIN_KEY, Some(key), None)
        };
        let first = cancel("cancel-1").await;
        first.assert_status(200);
        assert_eq!(first.body["cancel_reason"], "merchant_canceled");
        let again = cancel("cancel-1").await;
        again.assert_status(200);
        assert_eq!(again.header("idempotent-replayed"), Some("true"));
        assert_eq!(again.body, first.body);
        // A new key is a new request: the order is already final.
        cancel("cancel-2").await.assert_problem(409, "order-final");
    }
}
