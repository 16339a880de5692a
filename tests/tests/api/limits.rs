//! How requests are bounded: the per-key rate limit, and the headers every response carries.

use tests::{ADMIN_KEY, Backend, TestApp, on_both_databases};

on_both_databases! {
    async fn responses_carry_security_headers(app: TestApp) {
        for path in ["/v1/merchants", "/v1/nothing-here"] {
            let response = app.get(path).await;
            assert_eq!(response.header("x-content-type-options"), Some("nosniff"), "{path}");
            assert_eq!(response.header("x-frame-options"), Some("DENY"), "{path}");
            assert_eq!(response.header("referrer-policy"), Some("no-referrer"), "{path}");
            assert_eq!(response.header("cache-control"), Some("no-store"), "{path}");
            assert!(response.header("x-request-id").is_some_and(|id| !id.is_empty()), "{path}");
        }
    }
}

async fn limited_app(backend: Backend) -> Option<TestApp> {
    TestApp::spawn_configured(backend, |config| config.rate_limit_per_second = 5).await
}

async fn a_key_past_its_rate_gets_429(backend: Backend) {
    let Some(app) = limited_app(backend).await else {
        eprintln!("ORDERFLOW_TEST_DATABASE_URL is not set: PostgreSQL half skipped");
        return;
    };
    let storefront = app.create_key("haidilao", "storefront").await;
    let mut statuses = Vec::new();
    for _ in 0..20 {
        statuses.push(app.get("/v1/merchants").await);
    }
    let limited = statuses
        .iter()
        .find(|r| r.status == 429)
        .expect("20 quick requests at 5 a second reach the limit");
    limited.assert_problem(429, "rate-limited");
    let retry_after: u64 = limited
        .header("retry-after")
        .and_then(|v| v.parse().ok())
        .expect("Retry-After in whole seconds");
    assert!((1..=2).contains(&retry_after), "retry after {retry_after}");
    // Another key has its own budget.
    let other = app
        .send(
            reqwest::Method::GET,
            "/v1/storefront/merchants/haidilao/checkout-page",
            Some(&storefront),
            None,
        )
        .await;
    other.assert_status(200);
    assert_ne!(ADMIN_KEY, storefront);
    // The limit is in front of every route: callers without a key share one budget, probes
    // included, and every operation documents its 429.
    let document = app
        .send(reqwest::Method::GET, "/openapi.json", None, None)
        .await;
    document.assert_status(200);
    for (path, item) in document.body["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("path item") {
            assert!(
                operation["responses"].get("429").is_some(),
                "{method} {path} does not document its 429"
            );
        }
    }
    let mut probes = Vec::new();
    for _ in 0..20 {
        probes.push(app.send(reqwest::Method::GET, "/healthz", None, None).await);
    }
    probes
        .iter()
        .find(|r| r.status == 429)
        .expect("20 quick anonymous requests at 5 a second reach the limit")
        .assert_problem(429, "rate-limited");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_past_its_rate_gets_429_on_sqlite() {
    a_key_past_its_rate_gets_429(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_past_its_rate_gets_429_on_postgres() {
    a_key_past_its_rate_gets_429(Backend::Postgres).await;
}
