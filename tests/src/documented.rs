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

/// What breaks the shape the served OpenAPI document gives each history entry's `type`.
pub async fn history_violations(app: &TestApp, history: &[Value]) -> Vec<String> {
    union_violations(app, "HistoryEvent", history).await
}

/// Asserts that each value has exactly the shape the served OpenAPI document's union
/// `schema` (a `oneOf` with a discriminator) gives it.
pub async fn assert_union_documented(app: &TestApp, schema: &str, values: &[Value]) {
    let violations = union_violations(app, schema, values).await;
    assert!(
        violations.is_empty(),
        "{schema}s break their documented shapes: {violations:#?}"
    );
}

/// Asserts that `value` has exactly the shape of the served OpenAPI document's component
/// `schema`.
pub async fn assert_documented(app: &TestApp, schema: &str, value: &Value) {
    let document = served(app).await;
    let validator = validator_at(&document, &format!("#/components/schemas/{schema}"));
    let violations: Vec<String> = validator
        .iter_errors(value)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(
        violations.is_empty(),
        "{value} breaks the documented {schema}: {violations:#?}"
    );
}

async fn served(app: &TestApp) -> Value {
    let document = app
        .send(reqwest::Method::GET, "/openapi.json", None, None)
        .await;
    document.assert_status(200);
    document.body
}

/// A validator of the document's schema at `pointer` (`#/components/schemas/...`).
fn validator_at(document: &Value, pointer: &str) -> jsonschema::Validator {
    let mut schema = document.clone();
    schema["$ref"] = json!(pointer);
    jsonschema::validator_for(&schema).expect("the document's schema compiles")
}

/// What breaks the shape the served OpenAPI document's union `schema` gives each value: the
/// member its discriminator maps the value's discriminating property to, and so the union
/// itself. One line per violation, naming the value.
pub async fn union_violations(app: &TestApp, schema: &str, values: &[Value]) -> Vec<String> {
    let document = served(app).await;
    let validator_at = |pointer: &str| validator_at(&document, pointer);
    let union = validator_at(&format!("#/components/schemas/{schema}"));
    let discriminator = &document["components"]["schemas"][schema]["discriminator"];
    let property = discriminator["propertyName"]
        .as_str()
        .unwrap_or_else(|| panic!("{schema} has no discriminator"));
    let mut violations = Vec::new();
    for value in values {
        let member = value[property]
            .as_str()
            .and_then(|tag| discriminator["mapping"][tag].as_str());
        let Some(member) = member else {
            violations.push(format!(
                "{value}: the document maps no schema to its {property}"
            ));
            continue;
        };
        violations.extend(
            validator_at(member)
                .iter_errors(value)
                .map(|e| format!("{value}: {e} at {}", e.instance_path())),
        );
        if !union.is_valid(value) {
            violations.push(format!("{value}: not exactly one {schema}"));
        }
    }
    violations
}

/// Asserts that each event has exactly the shape the served OpenAPI document gives a
/// delivery of its type (its `webhooks` entry): envelope and data.
pub async fn assert_events_documented(app: &TestApp, events: &[Value]) {
    let document = served(app).await;
    for event in events {
        let validator = validator_at(
            &document,
            &format!(
                "#/webhooks/{}/post/requestBody/content/application~1json/schema",
                event["type"].as_str().expect("type")
            ),
        );
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
