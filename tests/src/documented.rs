//! Holds what the server sends to what its OpenAPI document says it sends.

use serde_json::{Value, json};

use crate::TestApp;

/// Asserts that each entry of an execution's history has exactly the shape the served
/// OpenAPI document gives its `type`.
pub async fn assert_history_documented(app: &TestApp, history: &[Value]) {
    let violations = history_violations(app, history).await;
    assert!(
        violations.is_empty(),
        "history entries break their documented shapes: {violations:#?}"
    );
}

/// What breaks the shape the served OpenAPI document gives each history entry's `type`: the
/// member of the `HistoryEvent` union that its discriminator maps the type to, and so the
/// union itself. One line per violation, naming the entry.
pub async fn history_violations(app: &TestApp, history: &[Value]) -> Vec<String> {
    let document = app
        .send(reqwest::Method::GET, "/openapi.json", None, None)
        .await;
    document.assert_status(200);
    let validator_at = |pointer: &str| {
        let mut schema = document.body.clone();
        schema["$ref"] = json!(pointer);
        jsonschema::validator_for(&schema).expect("the document's schema compiles")
    };
    let union = validator_at("#/components/schemas/HistoryEvent");
    let mapping =
        &document.body["components"]["schemas"]["HistoryEvent"]["discriminator"]["mapping"];
    let mut violations = Vec::new();
    for entry in history {
        let Some(member) = entry["type"]
            .as_str()
            .and_then(|kind| mapping[kind].as_str())
        else {
            violations.push(format!("{entry}: the document maps no schema to its type"));
            continue;
        };
        violations.extend(
            validator_at(member)
                .iter_errors(entry)
                .map(|e| format!("{entry}: {e} at {}", e.instance_path())),
        );
        if !union.is_valid(entry) {
            violations.push(format!("{entry}: not exactly one HistoryEvent"));
        }
    }
    violations
}

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
