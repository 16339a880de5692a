//! Holds what the server sends to what its OpenAPI document says it sends.

use serde_json::{Value, json};

use crate::TestApp;

/// Asserts that each event has exactly the shape the served OpenAPI document gives a
/// delivery of its type (its `webhooks` entry): envelope and data.
pub async fn assert_events_documented(app: &TestApp, events: &[Value]) {
    let document = app
        .send(reqwest::Method::GET, "/openapi.json", None, None)
        .await;
    document.assert_status(200);
    for event in events {
        let mut schema = document.body.clone();
        schema["$ref"] = json!(format!(
            "#/webhooks/{}/post/requestBody/content/application~1json/schema",
            event["type"].as_str().expect("type")
        ));
        let validator = jsonschema::validator_for(&schema).expect("the document's schema compiles");
        let errors: Vec<String> = validator
            .iter_errors(event)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        assert!(
            errors.is_empty(),
            "{event} breaks its documented shape: {errors:?}"
        );
    }
}
