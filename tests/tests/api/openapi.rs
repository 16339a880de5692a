//! The served OpenAPI document is the committed one: SDKs are generated from the file.

use tests::{Backend, TestApp};

const COMMITTED: &str = include_str!("../../../openapi/openapi.json");

#[tokio::test]
async fn served_document_matches_the_committed_file() {
    let app = TestApp::spawn_with(Backend::Sqlite, false)
        .await
        .expect("app");
    let served = app
        .send(reqwest::Method::GET, "/openapi.json", None, None)
        .await;
    served.assert_status(200);
    let committed: serde_json::Value =
        serde_json::from_str(COMMITTED).expect("openapi/openapi.json is JSON");
    assert!(
        served.body == committed,
        "openapi/openapi.json is out of date with the router.\n\
         Regenerate it with:  cargo run -- openapi > openapi/openapi.json"
    );
}

#[tokio::test]
async fn docs_ui_is_served_without_network() {
    let app = TestApp::spawn_with(Backend::Sqlite, false)
        .await
        .expect("app");
    let page = app.send(reqwest::Method::GET, "/docs/", None, None).await;
    page.assert_status(200);
    assert!(page.text.contains("swagger-ui"), "{}", page.text);
    assert!(
        !page.text.contains("://cdn"),
        "the docs page must not load from a CDN"
    );
}
