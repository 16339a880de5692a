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

#[tokio::test]
async fn a_list_item_is_the_schema_a_single_read_returns() {
    let document: serde_json::Value =
        serde_json::from_str(COMMITTED).expect("openapi/openapi.json is JSON");
    let schemas = document["components"]["schemas"]
        .as_object()
        .expect("components.schemas");
    let lists: Vec<&String> = schemas.keys().filter(|n| n.starts_with("List_")).collect();
    assert!(lists.len() >= 8, "{lists:?}");
    for list in lists {
        let item = list.trim_start_matches("List_");
        assert_eq!(
            schemas[list]["properties"]["data"]["items"],
            serde_json::json!({"$ref": format!("#/components/schemas/{item}")}),
            "{list} should refer to {item}, not inline a copy"
        );
        assert!(schemas.contains_key(item), "{item} is not a component");
    }
}

/// Issue #13: the document is as strict as the server. Each check reads the served document
/// and holds the server to it, so that a request generated from the document is not refused.
mod as_strict_as_the_server {
    use reqwest::Method;
    use serde_json::Value;
    use tests::{ADMIN_KEY, TestApp, TestResponse, execute, json, on_both_databases};

    /// An operation of the served document.
    struct Operation {
        method: Method,
        template: String,
        id: String,
        spec: Value,
    }

    impl Operation {
        fn parameters(&self) -> impl Iterator<Item = &Value> {
            self.spec["parameters"].as_array().into_iter().flatten()
        }

        fn parameter(&self, name: &str, location: &str) -> Option<&Value> {
            self.parameters()
                .find(|p| p["name"] == name && p["in"] == location)
        }
    }

    async fn served(app: &TestApp) -> Value {
        let served = app.send(Method::GET, "/openapi.json", None, None).await;
        served.assert_status(200);
        served.body
    }

    fn operations(doc: &Value) -> Vec<Operation> {
        let mut operations = Vec::new();
        for (template, item) in doc["paths"].as_object().expect("paths") {
            for (method, spec) in item.as_object().expect("path item") {
                let Ok(method) = method.to_ascii_uppercase().parse::<Method>() else {
                    continue;
                };
                operations.push(Operation {
                    method,
                    template: template.clone(),
                    id: spec["operationId"].as_str().unwrap_or(template).to_owned(),
                    spec: spec.clone(),
                });
            }
        }
        operations
    }

    /// A `#/components/schemas/...` reference, resolved; any other schema as it is.
    fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
        match schema["$ref"].as_str() {
            Some(reference) => {
                let pointer = reference.trim_start_matches('#');
                doc.pointer(pointer)
                    .unwrap_or_else(|| panic!("dangling reference {reference}"))
            }
            None => schema,
        }
    }

    /// Real values from the demo data for path parameters, and an order, an event and a
    /// webhook endpoint made for the purpose.
    struct Demo {
        order_id: String,
        event_id: String,
        endpoint_id: String,
    }

    impl Demo {
        async fn new(app: &TestApp) -> Demo {
            let order_id = app.create_order("haidilao").await["order_id"]
                .as_str()
                .expect("order_id")
                .to_owned();
            let events = app.get("/v1/merchants/haidilao/events").await;
            events.assert_status(200);
            let event_id = events.body["data"][0]["id"]
                .as_str()
                .expect("an event of the new order")
                .to_owned();
            let endpoint = app
                .post(
                    "/v1/merchants/haidilao/webhook-endpoints",
                    &json!({"url": "https://kitchen.example.com/orderflow", "event_types": ["order.paid"]}),
                )
                .await;
            endpoint.assert_status(201);
            let endpoint_id = endpoint.body["id"]
                .as_str()
                .expect("endpoint id")
                .to_owned();
            Demo {
                order_id,
                event_id,
                endpoint_id,
            }
        }

        /// `template` with every `{parameter}` filled; `overrides` wins over the demo values.
        fn path(&self, template: &str, overrides: &[(&str, &str)]) -> String {
            let platform = template.starts_with("/v1/platform/");
            let mut path = String::new();
            let mut rest = template;
            while let Some(start) = rest.find('{') {
                let end = rest[start..].find('}').expect("closing brace") + start;
                let name = &rest[start + 1..end];
                let value = match overrides.iter().find(|(n, _)| *n == name) {
                    Some((_, value)) => (*value).to_owned(),
                    None => match name {
                        "merchant_id" => "haidilao".into(),
                        "kind" if platform => "payment-method".into(),
                        "kind" => "payment-combination".into(),
                        "name" if platform => "alipay".into(),
                        "name" => "default".into(),
                        "version" => "1".into(),
                        "order_id" => self.order_id.clone(),
                        "endpoint_id" => self.endpoint_id.clone(),
                        "delivery_id" => "dlv_00000000000000000000000000000000".into(),
                        "token" => "no-such-task-token".into(),
                        other => {
                            panic!("no demo value for path parameter {{{other}}} of {template}")
                        }
                    },
                };
                path.push_str(&rest[..start]);
                path.push_str(&value);
                rest = &rest[end + 1..];
            }
            path.push_str(rest);
            path
        }
    }

    /// What `DocumentName::parse` and `MerchantId::parse` accept (domain/src/ids.rs, where a
    /// property test holds each pattern to its parser).
    const DOCUMENT_NAME: &str = "^[a-z0-9][a-z0-9_-]{0,63}$";
    const MERCHANT_ID: &str = "^[a-z0-9][a-z0-9-]{1,62}$";

    /// Asserts that every operation with the path parameter `parameter` declares `pattern`
    /// for it, and answers `refusal` (status, problem type) to each value `outside` it.
    /// Returns those operations.
    async fn assert_path_pattern(
        app: &TestApp,
        demo: &Demo,
        parameter: &str,
        pattern: &str,
        outside: &[&str],
        (status, problem_type): (u16, &str),
    ) -> Vec<Operation> {
        let doc = served(app).await;
        let mut taking = Vec::new();
        for operation in operations(&doc) {
            let Some(declared) = operation.parameter(parameter, "path") else {
                continue;
            };
            assert_eq!(
                resolve(&doc, &declared["schema"])["pattern"],
                pattern,
                "{}: {declared}",
                operation.id
            );
            assert!(
                operation.spec["responses"]
                    .get(status.to_string())
                    .is_some(),
                "{} answers {status} to a {parameter} outside the pattern but does not document it",
                operation.id
            );
            for value in outside {
                let path = demo.path(&operation.template, &[(parameter, value)]);
                send(
                    app,
                    operation.method.clone(),
                    &path,
                    &[],
                    body_of(&operation).as_ref(),
                )
                .await
                .assert_problem(status, problem_type);
            }
            taking.push(operation);
        }
        taking
    }

    /// An empty object for the operations that take a body.
    fn body_of(operation: &Operation) -> Option<Value> {
        matches!(operation.method, Method::POST | Method::PUT | Method::PATCH).then(|| json!({}))
    }

    async fn send(
        app: &TestApp,
        method: Method,
        path: &str,
        headers: &[(String, String)],
        body: Option<&Value>,
    ) -> TestResponse {
        let mut request = app
            .client
            .request(method, app.url(path))
            .bearer_auth(ADMIN_KEY);
        for (name, value) in headers {
            request = request.header(name, value);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        execute(request).await
    }

    on_both_databases! {
        async fn every_list_takes_the_limits_it_documents(app: TestApp) {
            let doc = served(&app).await;
            let demo = Demo::new(&app).await;
            let mut lists = 0;
            for operation in operations(&doc) {
                let Some(limit) = operation.parameter("limit", "query") else { continue };
                lists += 1;
                let schema = resolve(&doc, &limit["schema"]);
                assert_eq!(
                    (&schema["minimum"], &schema["maximum"]),
                    (&json!(1), &json!(200)),
                    "{}: limit is documented {schema}",
                    operation.id
                );
                let path = demo.path(&operation.template, &[]);
                for (limit, refused) in [(0, true), (1, false), (200, false), (201, true)] {
                    let response = app.get(&format!("{path}?limit={limit}")).await;
                    if refused {
                        response.assert_problem(400, "bad-request");
                    } else {
                        response.assert_status(200);
                    }
                }
            }
            assert!(lists >= 11, "only {lists} lists take a limit");
        }

        async fn every_enumerated_query_parameter_takes_exactly_its_values(app: TestApp) {
            let doc = served(&app).await;
            let demo = Demo::new(&app).await;
            let mut enumerated = Vec::new();
            for operation in operations(&doc) {
                for parameter in operation.parameters().filter(|p| p["in"] == "query") {
                    let schema = resolve(&doc, &parameter["schema"]);
                    let Some(values) = schema["enum"].as_array() else { continue };
                    let name = parameter["name"].as_str().expect("name");
                    enumerated.push(format!("{}.{name}", operation.id));
                    let path = demo.path(&operation.template, &[]);
                    for value in values {
                        let value = value.as_str().expect("a string enum");
                        app.get(&format!("{path}?{name}={value}")).await.assert_status(200);
                    }
                    app.get(&format!("{path}?{name}=not-one-of-them"))
                        .await
                        .assert_problem(400, "bad-request");
                }
            }
            for expected in ["list_orders.status", "list_events.type", "list_deliveries.status"] {
                assert!(enumerated.iter().any(|e| e == expected), "{expected} is not an enum: {enumerated:?}");
            }
            // The order statuses are the domain's four.
            let list_orders = operations(&doc).into_iter().find(|o| o.id == "list_orders").expect("list_orders");
            let status = list_orders.parameter("status", "query").expect("status");
            assert_eq!(
                status["schema"]["enum"],
                json!(["awaiting_payment", "processing", "completed", "canceled"])
            );
        }

        async fn every_document_name_is_declared_with_the_pattern_the_server_enforces(app: TestApp) {
            // Names outside the pattern are malformed whatever the operation…
            let demo = Demo::new(&app).await;
            let outside = ["-x", "Default", "a.b", &"a".repeat(65)];
            let refusal = (400, "bad-request");
            let named = assert_path_pattern(&app, &demo, "name", DOCUMENT_NAME, &outside, refusal).await;
            assert_eq!(named.len(), 22, "the metadata operations that take a document name");
            // …and the longest name inside it is not.
            for operation in named {
                let path = demo.path(&operation.template, &[("name", &"a".repeat(64))]);
                let response = send(&app, operation.method.clone(), &path, &[], body_of(&operation).as_ref()).await;
                assert_ne!(response.status, 400, "{path}: {}", response.text);
            }
        }

        async fn every_merchant_id_is_declared_with_the_pattern_the_server_enforces(app: TestApp) {
            // An id outside the pattern names no merchant, whatever the operation: a 404 like
            // any unknown merchant's, decided before the body is read.
            let demo = Demo::new(&app).await;
            let outside = ["-x", "Haidilao", "a", "hai_dilao", &"a".repeat(64)];
            let refusal = (404, "not-found");
            let with_merchant = assert_path_pattern(&app, &demo, "merchant_id", MERCHANT_ID, &outside, refusal).await;
            assert_eq!(with_merchant.len(), 35, "the operations under /v1/merchants/{{merchant_id}} and the checkout page");
        }

        async fn every_kind_parameter_is_the_enum_the_server_takes(app: TestApp) {
            let doc = served(&app).await;
            let demo = Demo::new(&app).await;
            let every_kind = ["payment-method", "payment-combination", "checkout-page", "discount-function", "routing-table", "order-flow"];
            let mut with_kind = 0;
            for operation in operations(&doc) {
                let Some(declared) = operation.parameter("kind", "path") else { continue };
                with_kind += 1;
                let taken = resolve(&doc, &declared["schema"])["enum"].clone();
                let taken = taken.as_array().unwrap_or_else(|| panic!("{}: kind is not an enum", operation.id));
                // A kind outside the operation's enum is not there (404), whatever the body.
                for kind in every_kind.iter().chain(&["no-such-kind"]).filter(|kind| !taken.contains(&json!(kind))) {
                    let path = demo.path(&operation.template, &[("kind", kind)]);
                    send(&app, operation.method.clone(), &path, &[], body_of(&operation).as_ref())
                        .await
                        .assert_problem(404, "not-found");
                }
            }
            assert_eq!(with_kind, 25, "the document operations, the schema read and the impact preview");
        }

        async fn the_idempotency_key_is_declared_as_the_server_takes_it(app: TestApp) {
            let doc = served(&app).await;
            let mut keyed = Vec::new();
            for operation in operations(&doc) {
                let Some(header) = operation.parameter("Idempotency-Key", "header") else { continue };
                keyed.push(operation.id.clone());
                assert_eq!(header["required"], false);
                let schema = resolve(&doc, &header["schema"]);
                assert_eq!(schema["type"], "string", "{}", operation.id);
                assert_eq!(schema["minLength"], 1, "{}", operation.id);
                assert_eq!(schema["maxLength"], 255, "{}", operation.id);
                assert_eq!(schema["pattern"], "^[\\x21-\\x7E]{1,255}$", "{}", operation.id);
            }
            assert_eq!(keyed, ["create_order", "pay_order", "cancel_order"]);
            // The server's side is in `idempotency`: keys_longer_than_255_characters_are_refused,
            // keys_are_visible_ascii_characters.
        }
    }

    // The document's own examples make requests the server takes.

    impl Demo {
        /// An example that names a resource cannot exist in every database: put a real one
        /// of the same kind in its place.
        fn real_ids(&self, value: &mut Value) {
            match value {
                Value::String(s) if s.starts_with("evt_") => *s = self.event_id.clone(),
                Value::Array(items) => items.iter_mut().for_each(|v| self.real_ids(v)),
                Value::Object(fields) => fields.values_mut().for_each(|v| self.real_ids(v)),
                _ => {}
            }
        }
    }

    /// The example a schema declares, or one built from its properties' examples (an enum's
    /// first value stands in for a property without one). `None` when it declares none.
    fn example_of(doc: &Value, schema: &Value, what: &str) -> Option<Value> {
        if let Some(example) = schema.get("example") {
            return Some(example.clone());
        }
        if let Some(first) = schema["examples"].as_array().and_then(|e| e.first()) {
            return Some(first.clone());
        }
        if schema.get("$ref").is_some() {
            return example_of(doc, resolve(doc, schema), what);
        }
        if let Some(first) = schema["enum"].as_array().and_then(|e| e.first()) {
            return Some(first.clone());
        }
        if let Some(properties) = schema["properties"].as_object() {
            let mut object = serde_json::Map::new();
            for (name, property) in properties {
                if let Some(value) = example_of(doc, property, &format!("{what}/{name}")) {
                    object.insert(name.clone(), value);
                }
            }
            for required in schema["required"].as_array().into_iter().flatten() {
                let required = required.as_str().expect("property name");
                assert!(
                    object.contains_key(required),
                    "{what}: the required property `{required}` has no example to build a request from"
                );
            }
            return Some(Value::Object(object));
        }
        if schema["items"].is_object() {
            return example_of(doc, &schema["items"], &format!("{what}/0")).map(|v| json!([v]));
        }
        None
    }

    /// Whether a schema, or one it references, declares an example anywhere.
    fn declares_examples(doc: &Value, schema: &Value, depth: usize) -> bool {
        if depth > 16 {
            return false;
        }
        match schema {
            Value::Object(fields) => {
                fields.contains_key("example")
                    || fields.contains_key("examples")
                    || fields
                        .get("$ref")
                        .is_some_and(|_| declares_examples(doc, resolve(doc, schema), depth + 1))
                    || fields
                        .values()
                        .any(|v| declares_examples(doc, v, depth + 1))
            }
            Value::Array(items) => items.iter().any(|v| declares_examples(doc, v, depth + 1)),
            _ => false,
        }
    }

    fn parameter_example(parameter: &Value) -> Option<Value> {
        parameter
            .get("example")
            .or_else(|| parameter["schema"].get("example"))
            .or_else(|| parameter["schema"]["examples"].get(0))
            .cloned()
    }

    fn query_value(value: &Value) -> String {
        match value {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        }
    }
    on_both_databases! {
        async fn a_request_built_from_the_documents_examples_is_not_refused(app: TestApp) {
            let doc = served(&app).await;
            let demo = Demo::new(&app).await;
            let mut tried = Vec::new();
            for operation in operations(&doc) {
                let body_schema = operation.spec["requestBody"]["content"]["application/json"].clone();
                let parameters_declare = operation.parameters().any(|p| parameter_example(p).is_some());
                if !parameters_declare && !declares_examples(&doc, &body_schema, 0) {
                    continue;
                }
                let mut query = Vec::new();
                let mut headers = Vec::new();
                for parameter in operation.parameters() {
                    let Some(mut example) = parameter_example(parameter) else { continue };
                    demo.real_ids(&mut example);
                    let name = parameter["name"].as_str().expect("name").to_owned();
                    match parameter["in"].as_str() {
                        Some("query") => query.push(format!("{name}={}", query_value(&example))),
                        Some("header") => headers.push((name, query_value(&example))),
                        _ => {}
                    }
                }
                let body = match body_schema.get("example") {
                    Some(example) => Some(example.clone()),
                    None => body_schema
                        .get("schema")
                        .and_then(|schema| example_of(&doc, schema, &operation.id)),
                };
                let body = body.map(|mut body| {
                    demo.real_ids(&mut body);
                    body
                });
                let mut path = demo.path(&operation.template, &[]);
                if !query.is_empty() {
                    path = format!("{path}?{}", query.join("&"));
                }
                let response = send(&app, operation.method.clone(), &path, &headers, body.as_ref()).await;
                assert!(
                    response.status != 400 && response.status != 422,
                    "{} {path} ({}), built from the document's examples with body {}, was refused: {} {}",
                    operation.method,
                    operation.id,
                    body.map(|b| b.to_string()).unwrap_or_default(),
                    response.status,
                    response.text
                );
                tried.push(operation.id);
            }
            // The operations whose examples matter most are among those tried.
            for id in ["create_order", "pay_order", "list_orders", "list_events", "dry_run", "evaluate_routing"] {
                assert!(tried.iter().any(|t| t == id), "{id} declares no examples: tried {tried:?}");
            }
        }
    }
}
