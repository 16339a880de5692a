//! Webhook endpoints: registering one (its secret shown once), reading, changing, rotating
//! the secret, deleting, and the URLs the server refuses to call.

use reqwest::Method;
use tests::{Backend, TestApp, json, on_both_databases};

const ENDPOINTS: &str = "/v1/merchants/haidilao/webhook-endpoints";

fn endpoint(url: &str) -> serde_json::Value {
    json!({"url": url, "event_types": ["order.paid", "order.canceled", "order.paid"], "description": "kitchen"})
}

on_both_databases! {
    async fn an_endpoint_is_registered_read_changed_rotated_and_deleted(app: TestApp) {
        let created = app.post(ENDPOINTS, &endpoint("http://127.0.0.1:9/hooks")).await;
        created.assert_status(201);
        let id = created.body["id"].as_str().expect("id").to_owned();
        assert!(id.starts_with("we_"), "{id}");
        let secret = created.body["secret"].as_str().expect("the secret, once").to_owned();
        assert!(secret.starts_with("whsec_"), "{secret}");
        use base64::Engine as _;
        let key = base64::engine::general_purpose::STANDARD
            .decode(&secret["whsec_".len()..])
            .expect("base64 after whsec_");
        assert_eq!(key.len(), 32);
        assert_eq!(created.body["event_types"], json!(["order.canceled", "order.paid"]));
        assert_eq!(created.body["enabled"], true);

        // Never shown again.
        let read = app.get(&format!("{ENDPOINTS}/{id}")).await;
        read.assert_status(200);
        assert_eq!(read.body.get("secret"), None, "{}", read.text);
        let listed = app.get(ENDPOINTS).await;
        assert_eq!(listed.body["data"].as_array().expect("data").len(), 1);
        assert_eq!(listed.body["data"][0].get("secret"), None);

        let changed = app
            .send(Method::PATCH, &format!("{ENDPOINTS}/{id}"), Some(tests::ADMIN_KEY),
                Some(&json!({"enabled": false, "event_types": ["task.awaiting_callback"], "description": null})))
            .await;
        changed.assert_status(200);
        assert_eq!(changed.body["enabled"], false);
        assert_eq!(changed.body["event_types"], json!(["task.awaiting_callback"]));
        assert_eq!(changed.body["description"], serde_json::Value::Null);
        assert_eq!(changed.body["url"], "http://127.0.0.1:9/hooks");

        let rotated = app.post(&format!("{ENDPOINTS}/{id}/rotate-secret"), &json!({})).await;
        rotated.assert_status(200);
        let new_secret = rotated.body["secret"].as_str().expect("the new secret");
        assert!(new_secret.starts_with("whsec_") && new_secret != secret);
        let overlap = rotated.body["previous_secret_expires_at"].as_str().expect("until when the old one signs");
        let minutes = (chrono::DateTime::parse_from_rfc3339(overlap).expect("a time").with_timezone(&chrono::Utc)
            - chrono::Utc::now()).num_minutes();
        assert!((23 * 60..=24 * 60).contains(&minutes), "{overlap}");

        app.send(Method::DELETE, &format!("{ENDPOINTS}/{id}"), Some(tests::ADMIN_KEY), None)
            .await
            .assert_status(204);
        app.get(&format!("{ENDPOINTS}/{id}")).await.assert_problem(404, "not-found");
        app.send(Method::DELETE, &format!("{ENDPOINTS}/{id}"), Some(tests::ADMIN_KEY), None)
            .await
            .assert_problem(404, "not-found");
        // Another merchant's endpoint is not found under this one.
        let other = app.post("/v1/merchants/xibei/webhook-endpoints", &endpoint("http://127.0.0.1:9/x")).await;
        let other_id = other.body["id"].as_str().expect("id");
        app.get(&format!("{ENDPOINTS}/{other_id}")).await.assert_problem(404, "not-found");
    }

    async fn bad_endpoints_are_refused_at_their_field(app: TestApp) {
        for (body, pointer) in [
            (json!({"url": "ftp://127.0.0.1/x", "event_types": ["order.paid"]}), "/url"),
            (json!({"url": "not a url", "event_types": ["order.paid"]}), "/url"),
            (json!({"url": "http://user:pw@127.0.0.1/x", "event_types": ["order.paid"]}), "/url"),
            (json!({"url": format!("http://127.0.0.1/{}", "a".repeat(2100)), "event_types": ["order.paid"]}), "/url"),
            (json!({"url": "http://127.0.0.1/x", "event_types": []}), "/event_types"),
            (json!({"url": "http://127.0.0.1/x", "event_types": ["order.paid", "order.shipped"]}), "/event_types/1"),
            // Only the send-test operation sends it.
            (json!({"url": "http://127.0.0.1/x", "event_types": ["webhook.test"]}), "/event_types/0"),
            (json!({"url": "http://127.0.0.1/x", "event_types": ["order.paid"], "description": "d".repeat(300)}), "/description"),
        ] {
            app.post(ENDPOINTS, &body).await.assert_violations(&[pointer]);
        }
        app.post(ENDPOINTS, &json!({"url": "http://127.0.0.1/x"})).await.assert_status(422);
        assert_eq!(app.get(ENDPOINTS).await.body["data"], json!([]));
        for i in 0..16 {
            app.post(ENDPOINTS, &endpoint(&format!("http://127.0.0.1:9/{i}"))).await.assert_status(201);
        }
        app.post(ENDPOINTS, &endpoint("http://127.0.0.1:9/17"))
            .await
            .assert_problem(409, "too-many-endpoints");
    }
}

async fn private_addresses_are_refused_unless_allowed(backend: Backend) {
    let Some(app) =
        TestApp::spawn_configured(backend, |config| config.webhook_allow_private = false).await
    else {
        eprintln!("ORDERFLOW_TEST_DATABASE_URL is not set: PostgreSQL half skipped");
        return;
    };
    for url in [
        "http://127.0.0.1:8080/hook",
        "http://localhost/hook",
        "http://10.1.2.3/hook",
        "http://192.168.0.10/hook",
        "http://172.16.5.4/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://100.64.0.1/hook",
        "http://0.0.0.0/hook",
        "http://[::1]/hook",
        "http://[fd00::1]/hook",
        "http://[fe80::1]/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "http://no-such-host.invalid/hook",
    ] {
        let refused = app
            .post(
                ENDPOINTS,
                &json!({"url": url, "event_types": ["order.paid"]}),
            )
            .await;
        refused.assert_violations(&["/url"]);
    }
    // A public address literal needs no lookup.
    app.post(
        ENDPOINTS,
        &json!({"url": "https://93.184.216.34/hook", "event_types": ["order.paid"]}),
    )
    .await
    .assert_status(201);
    // Changing the URL is checked the same way.
    let id = app.get(ENDPOINTS).await.body["data"][0]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    app.send(
        Method::PATCH,
        &format!("{ENDPOINTS}/{id}"),
        Some(tests::ADMIN_KEY),
        Some(&json!({"url": "http://127.0.0.1/x"})),
    )
    .await
    .assert_violations(&["/url"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn private_addresses_are_refused_unless_allowed_sqlite() {
    private_addresses_are_refused_unless_allowed(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn private_addresses_are_refused_unless_allowed_postgres() {
    private_addresses_are_refused_unless_allowed(Backend::Postgres).await;
}
