//! Malformed, oversized, mistyped and adversarial input: always a 4xx problem+json, never a
//! 5xx, and the server keeps serving.

use reqwest::Method;
use serde_json::Value;
use tests::{TestApp, TestResponse, execute, json, on_both_databases};

const DRAFT: &str = "/v1/merchants/haidilao/metadata/payment-combination/default/draft";
const DOC: &str = "/v1/merchants/haidilao/metadata/payment-combination/default";

async fn still_serving(app: &TestApp) {
    let health = app.send(Method::GET, "/healthz", None, None).await;
    health.assert_status(200);
    assert_eq!(health.body["status"], "ok");
    app.get("/v1/merchants/haidilao").await.assert_status(200);
}

/// haidilao's combination is exactly as seeded: version 1, no draft.
async fn combination_untouched(app: &TestApp) {
    let doc = app.get(DOC).await;
    doc.assert_status(200);
    assert_eq!(doc.body["published_version"], 1);
    assert!(doc.body["draft"].is_null(), "{}", doc.text);
}

async fn put_draft_raw(app: &TestApp, body: impl Into<reqwest::Body>) -> TestResponse {
    app.send_raw(Method::PUT, DRAFT, Some("application/json"), body)
        .await
}

fn combination_with_min(amount: &str) -> String {
    format!(r#"{{"methods":[{{"method":"alipay","min_amount_minor":{amount}}}]}}"#)
}

on_both_databases! {
    async fn malformed_json_is_400(app: TestApp) {
        let bodies: [&[u8]; 9] = [
            br#"{"methods":[{"method":"alipay"}"#,
            br#"{"methods":[{"method":"alipay"}]} trailing"#,
            br#"{"methods":[{"method":"alipay"}]}{}"#,
            b"",
            b"   ",
            br#"{'methods': []}"#,
            br#"{"methods":[{"method":"alipay","min_amount_minor":NaN}]}"#,
            b"{\"methods\":[{\"method\":\"ali\xff\xfepay\"}]}",
            br#"{"methods":[{"method":"alipay",}]}"#,
        ];
        for body in bodies {
            let response = put_draft_raw(&app, body.to_vec()).await;
            response.assert_problem(400, "bad-request");
            assert!(response.body["detail"].as_str().unwrap().contains("JSON"), "{}", response.text);
        }
        for (method, path) in [
            (Method::POST, "/v1/merchants"),
            (Method::POST, "/v1/merchants/haidilao/api-keys"),
            (Method::POST, "/v1/merchants/haidilao/metadata/payment-combination/default/rollback"),
        ] {
            for body in [&br#"{"id":"trunc"#[..], b"", b"{} {}"] {
                app.send_raw(method.clone(), path, Some("application/json"), body.to_vec())
                    .await
                    .assert_problem(400, "bad-request");
            }
        }
        combination_untouched(&app).await;
        assert_eq!(app.get(&format!("{DOC}/versions")).await.body["data"].as_array().unwrap().len(), 1);
        still_serving(&app).await;
    }

    async fn wrong_json_types_for_the_body_are_422(app: TestApp) {
        // A well-formed body that is not an object: 422 (well-formed but invalid), pointing at
        // the whole body.
        for body in ["[]", "\"methods\"", "42", "null", "true", r#"[{"method":"alipay"}]"#] {
            let draft = put_draft_raw(&app, body).await;
            draft.assert_violations(&[""]);
            let merchant = app.send_raw(Method::POST, "/v1/merchants", Some("application/json"), body).await;
            merchant.assert_problem(422, "validation-failed");
            let key = app.send_raw(Method::POST, "/v1/merchants/haidilao/api-keys", Some("application/json"), body).await;
            key.assert_problem(422, "validation-failed");
        }
        for body in ["\"methods\"", "42", "null", "true"] {
            let merchant = app.send_raw(Method::POST, "/v1/merchants", Some("application/json"), body).await;
            merchant.assert_violations(&[""]);
        }
        // An object without the required fields: the pointer names the missing field.
        let merchant = app.send_raw(Method::POST, "/v1/merchants", Some("application/json"), "{}").await;
        merchant.assert_violations(&["/id"]);
        assert_eq!(app.get("/v1/merchants").await.body["data"].as_array().unwrap().len(), 2);
        combination_untouched(&app).await;
    }

    async fn an_array_is_never_taken_for_an_object(app: TestApp) {
        // The fields of an object given positionally, as an array, are still not an object.
        let merchant = app.send_raw(Method::POST, "/v1/merchants", Some("application/json"), r#"["from-array","From an array"]"#).await;
        merchant.assert_violations(&[""]);
        app.get("/v1/merchants/from-array").await.assert_problem(404, "not-found");

        let key = app.send_raw(Method::POST, "/v1/merchants/haidilao/api-keys", Some("application/json"), r#"["storefront"]"#).await;
        key.assert_violations(&[""]);

        let rollback = app
            .send_raw(Method::POST, &format!("{DOC}/rollback"), Some("application/json"), "[1]")
            .await;
        rollback.assert_violations(&[""]);
        let versions = app.get(&format!("{DOC}/versions")).await;
        assert_eq!(versions.body["data"].as_array().unwrap().len(), 1, "{}", versions.text);
    }

    async fn body_over_one_mebibyte_is_413(app: TestApp) {
        // 1.1 MiB of valid JSON.
        let label = "a".repeat(1_100 * 1024);
        let big = json!({"methods": [{"method": "alipay", "label": label}]}).to_string();
        assert!(big.len() > 1024 * 1024);
        let response = put_draft_raw(&app, big.clone()).await;
        response.assert_problem(413, "payload-too-large");
        let merchant = json!({"id": "huge", "name": label}).to_string();
        app.send_raw(Method::POST, "/v1/merchants", Some("application/json"), merchant)
            .await
            .assert_problem(413, "payload-too-large");
        // Whatever its Content-Type: the declared length is enough.
        app.send_raw(Method::PUT, DRAFT, None, big).await.assert_problem(413, "payload-too-large");
        // A large upload is read and dropped before the answer, so the client gets to read
        // the 413 instead of a connection reset halfway (reqwest would fail to send).
        let upload = format!(r#"{{"id":"huge","name":"{}"}}"#, "a".repeat(12 * 1024 * 1024));
        app.send_raw(Method::POST, "/v1/merchants", Some("application/json"), upload)
            .await
            .assert_problem(413, "payload-too-large");
        // Just under the limit, the body is read and judged on its content.
        let under = json!({"methods": [{"method": "alipay", "label": "a".repeat(1_000_000)}]}).to_string();
        assert!(under.len() < 1024 * 1024);
        put_draft_raw(&app, under).await.assert_violations(&["/methods/0/label"]);
        combination_untouched(&app).await;
        app.get("/v1/merchants/huge").await.assert_problem(404, "not-found");
        still_serving(&app).await;
    }

    async fn non_json_content_types_are_415(app: TestApp) {
        let body = r#"{"methods":[{"method":"alipay"}]}"#;
        for content_type in ["text/plain", "application/xml", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/jsonx"] {
            let response = app.send_raw(Method::PUT, DRAFT, Some(content_type), body).await;
            response.assert_problem(415, "unsupported-media-type");
        }
        app.send_raw(Method::POST, "/v1/merchants", Some("text/plain"), r#"{"id":"plain","name":"P"}"#)
            .await
            .assert_problem(415, "unsupported-media-type");
        combination_untouched(&app).await;
        app.get("/v1/merchants/plain").await.assert_problem(404, "not-found");
        // A body that does not say what it is is not guessed at.
        app.send_raw(Method::PUT, DRAFT, None, body).await.assert_problem(415, "unsupported-media-type");
        app.send_raw(Method::POST, "/v1/merchants", None, r#"{"id":"bare","name":"B"}"#)
            .await
            .assert_problem(415, "unsupported-media-type");
        app.get("/v1/merchants/bare").await.assert_problem(404, "not-found");
        // JSON with parameters, in any case, is JSON.
        for content_type in ["application/json; charset=utf-8", "Application/JSON", "application/merge-patch+json"] {
            app.send_raw(Method::PUT, DRAFT, Some(content_type), body).await.assert_status(200);
        }
    }

    async fn deeply_nested_json_is_a_client_error(app: TestApp) {
        let arrays = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
        let objects = format!("{}1{}", r#"{"a":"#.repeat(10_000), "}".repeat(10_000));
        let inside = format!(r#"{{"methods":[{{"method":"alipay","label":{arrays}}}]}}"#);
        let unclosed = "[".repeat(100_000);
        // Past the parser's recursion limit, the body is malformed JSON.
        for body in [arrays.clone(), objects.clone(), inside, unclosed] {
            let draft = put_draft_raw(&app, body.clone()).await;
            draft.assert_problem(400, "bad-request");
            let merchant = app.send_raw(Method::POST, "/v1/merchants", Some("application/json"), body).await;
            merchant.assert_problem(400, "bad-request");
        }
        // Nesting the parser accepts is judged by the schema.
        let nested = format!("{}{}", "[".repeat(100), "]".repeat(100));
        put_draft_raw(&app, format!(r#"{{"methods":{nested}}}"#)).await.assert_violations(&["/methods/0"]);
        combination_untouched(&app).await;
        still_serving(&app).await;
    }

    async fn money_must_be_a_non_negative_integer(app: TestApp) {
        for amount in [
            "-1",
            "-9223372036854775808",
            "1.5",
            "0.1",
            "9007199254740992",
            "9223372036854775807",
            "18446744073709551615",
            "123456789012345678901234567890",
            "\"100\"",
            "null",
            "true",
        ] {
            let response = put_draft_raw(&app, combination_with_min(amount)).await;
            response.assert_violations(&["/methods/0/min_amount_minor"]);
        }
        // Too large to be a number at all: malformed JSON, never a server error.
        put_draft_raw(&app, combination_with_min("1e400")).await.assert_problem(400, "bad-request");
        // Routing rules hold money too.
        let table = json!({"rules": [{"when": {"method": "alipay", "max_amount_minor": 10.25}, "function": "alipay-discount"}]});
        app.put("/v1/merchants/haidilao/metadata/routing-table/default/draft", &table)
            .await
            .assert_violations(&["/rules/0/when/max_amount_minor"]);
        combination_untouched(&app).await;
        // The largest safe integer is accepted.
        put_draft_raw(&app, combination_with_min("9007199254740991")).await.assert_status(200);
    }

    async fn numbers_beyond_64_bits_mean_the_same_in_yaml_as_in_json(app: TestApp) {
        // One rule for both: an integer beyond 64 bits is read as the nearest float, which
        // the schema refuses as money with its pointer (422), never as malformed YAML.
        for amount in [
            "18446744073709551616",
            "-9223372036854775809",
            "123456789012345678901234567890",
            "340282366920938463463374607431768211456",
        ] {
            let json = put_draft_raw(&app, combination_with_min(amount)).await;
            let yaml = app
                .send_raw(
                    Method::PUT,
                    DRAFT,
                    Some("application/yaml"),
                    format!("methods:\n  - method: alipay\n    min_amount_minor: {amount}\n"),
                )
                .await;
            json.assert_violations(&["/methods/0/min_amount_minor"]);
            assert_eq!(
                (yaml.status, yaml.error_pointers()),
                (json.status, json.error_pointers()),
                "{amount}: JSON answered {}, YAML {}",
                json.text,
                yaml.text
            );
            yaml.assert_violations(&["/methods/0/min_amount_minor"]);
        }
        // A number beyond a float's range is malformed JSON (400); the YAML parser reads the
        // same text as a string, which the schema refuses as money. Refused either way.
        put_draft_raw(&app, combination_with_min("1e400")).await.assert_problem(400, "bad-request");
        app.send_raw(Method::PUT, DRAFT, Some("application/yaml"), "methods:\n  - method: alipay\n    min_amount_minor: 1e400\n")
            .await
            .assert_violations(&["/methods/0/min_amount_minor"]);
        // YAML can write infinities and NaN, JSON cannot: neither is a number here.
        for amount in [".inf", "-.inf", ".nan"] {
            app.send_raw(
                Method::PUT,
                DRAFT,
                Some("application/yaml"),
                format!("methods:\n  - method: alipay\n    min_amount_minor: {amount}\n"),
            )
            .await
            .assert_problem(400, "bad-request");
        }
        combination_untouched(&app).await;
        // Within 64 bits, YAML integers are read exactly, as JSON ones are.
        let yaml = app
            .send_raw(Method::PUT, DRAFT, Some("application/yaml"), "methods:\n  - method: alipay\n    min_amount_minor: 9007199254740991\n")
            .await;
        yaml.assert_status(200);
        assert_eq!(yaml.body["draft"]["methods"][0]["min_amount_minor"], 9_007_199_254_740_991u64);
    }

    async fn a_float_with_a_zero_fraction_is_still_not_money(app: TestApp) {
        // API.md: money is an integer in minor units, never a float. `5.0` is a float literal;
        // it must be refused when the draft is saved (with its pointer), not accepted and then
        // refused at publish without one.
        for amount in ["5.0", "1e3"] {
            let response = put_draft_raw(&app, combination_with_min(amount)).await;
            response.assert_violations(&["/methods/0/min_amount_minor"]);
        }
        combination_untouched(&app).await;
    }

    async fn unicode_and_long_names(app: TestApp) {
        for (id, name) in [
            ("u-cjk", "海底捞火锅"),
            ("u-latin", "Café Ünïcødé 🍲🔥"),
            ("u-rtl", "مطعم"),
            ("u-invisible", "a\u{200B}b\u{FEFF}"),
            ("u-zwj", "\u{1F468}\u{200D}\u{1F373} chef"),
        ] {
            let created = app.post("/v1/merchants", &json!({"id": id, "name": name})).await;
            created.assert_status(201);
            assert_eq!(created.body["name"], name);
            assert_eq!(app.get(&format!("/v1/merchants/{id}")).await.body["name"], name);
        }
        // Names are limited in characters, not bytes.
        app.post("/v1/merchants", &json!({"id": "cjk-200", "name": "海".repeat(200)})).await.assert_status(201);
        app.post("/v1/merchants", &json!({"id": "cjk-201", "name": "海".repeat(201)}))
            .await
            .assert_violations(&["/name"]);
        app.post("/v1/merchants", &json!({"id": "long-name", "name": "n".repeat(100_000)}))
            .await
            .assert_violations(&["/name"]);
        app.post("/v1/merchants", &json!({"id": "海底捞", "name": "Haidilao"})).await.assert_violations(&["/id"]);
        app.post("/v1/merchants", &json!({"id": "x".repeat(10_000), "name": "Long"})).await.assert_violations(&["/id"]);
        // Labels in documents round-trip exactly.
        let label = "支付宝 — 扫码 🧧";
        let saved = app.put(DRAFT, &json!({"methods": [{"method": "alipay", "label": label}]})).await;
        saved.assert_status(200);
        assert_eq!(app.get(DOC).await.body["draft"]["methods"][0]["label"], label);
        // Non-ASCII and over-long names in paths are client errors: a merchant id that is
        // no slug names no merchant (404, as for any unknown one); a document name that
        // breaks its pattern, or a path that is not UTF-8, is malformed (400).
        for (path, status, problem) in [
            ("/v1/merchants/%E6%B5%B7%E5%BA%95%E6%8D%9E".to_owned(), 404, "not-found"),
            ("/v1/merchants/haidilao/metadata/payment-combination/%E6%B5%B7".to_owned(), 400, "bad-request"),
            (format!("/v1/merchants/haidilao/metadata/payment-combination/{}", "a".repeat(10_000)), 400, "bad-request"),
            (format!("/v1/merchants/{}", "a".repeat(10_000)), 404, "not-found"),
            ("/v1/merchants/%FF%FE".to_owned(), 400, "bad-request"),
        ] {
            app.get(&path).await.assert_problem(status, problem);
        }
        still_serving(&app).await;
    }

    async fn sql_metacharacters_in_customer_text_come_back_unchanged(app: TestApp) {
        // On PostgreSQL the writer sends a batch's writes as one simple query with the
        // values written in as literals: whatever a customer types must round-trip exactly.
        let notes = "O'Brien's \\ '' \"q\" $1 $$x$$ E'\\x41' ;DROP TABLE orders;-- 火锅 🍲\n\tend\\";
        let mut body = tests::checkout::order_body("haidilao");
        body["fields"]["notes"] = json!(notes);
        let id = app.create_order_from(&body).await["order_id"].as_str().expect("order_id").to_owned();
        app.pay(&id, "alipay").await.assert_status(200);
        let history = app.history(&id).await;
        assert_eq!(history[0]["type"], "ExecutionStarted");
        assert_eq!(history[0]["detail"]["input"]["fields"]["notes"], notes, "{}", history[0]);
        assert_eq!(app.order(&id).await["status"], "completed");
        let label = "Ali'pay \\ $2 ;-- 支付";
        app.put(DRAFT, &json!({"methods": [{"method": "alipay", "label": label}]})).await.assert_status(200);
        assert_eq!(app.get(DOC).await.body["draft"]["methods"][0]["label"], label);
        still_serving(&app).await;
    }

    async fn control_characters_in_names_are_stored_or_refused_never_500(app: TestApp) {
        // NUL cannot be stored in a PostgreSQL text column; it must be refused (422 at /name)
        // or stored faithfully, never answered with a 500.
        for (id, name) in [("ctl-nul", "a\u{0}b"), ("ctl-bell", "a\u{7}b\u{1b}[31m")] {
            let response = app.post("/v1/merchants", &json!({"id": id, "name": name})).await;
            if response.status == 201 {
                assert_eq!(response.body["name"], name);
                assert_eq!(app.get(&format!("/v1/merchants/{id}")).await.body["name"], name);
            } else {
                response.assert_violations(&["/name"]);
            }
        }
        still_serving(&app).await;
    }

    async fn traversal_like_paths_are_client_errors(app: TestApp) {
        // Sent on the wire as written: an HTTP client would normalise these away. A document
        // name with dots or slashes breaks its pattern (400); what matches no route, or a
        // merchant id that is no slug, is not found (404).
        let malformed = (400, "https://orderflow.dev/problems/bad-request");
        let not_found = (404, "https://orderflow.dev/problems/not-found");
        for (target, (status, problem_type)) in [
            ("/v1/merchants/haidilao/metadata/payment-combination/..", malformed),
            ("/v1/merchants/haidilao/metadata/payment-combination/%2e%2e", malformed),
            ("/v1/merchants/haidilao/metadata/payment-combination/%2E%2E/versions", malformed),
            ("/v1/merchants/haidilao/metadata/payment-combination/..%2f..%2fplatform", malformed),
            ("/v1/merchants/haidilao/metadata/payment-combination/default%2f..%2fother", malformed),
            ("/v1/merchants/haidilao/metadata/payment-combination/%00", not_found),
            ("/v1/merchants/haidilao/metadata/..%2f..%2fplatform%2fmetadata%2fpayment-method/alipay", not_found),
            ("/v1/merchants/..", not_found),
            ("/v1/merchants/%2e%2e", not_found),
            ("/v1/merchants/..%2fhaidilao", not_found),
            ("/v1/merchants/haidilao%2f..%2fxibei", not_found),
            ("/v1/merchants/../merchants/haidilao/metadata/payment-combination/default/../..", not_found),
            ("/v1/platform/metadata/payment-method/..%5c..%5cetc%5cpasswd", malformed),
        ] {
            let response = app.raw_request("GET", target).await;
            assert_eq!(response.status, status, "{target}: {}", response.body);
            assert_eq!(response.header("content-type"), Some("application/problem+json"), "{target}: {}", response.body);
            let problem: Value = serde_json::from_str(&response.body).unwrap_or_else(|e| panic!("{target}: {e}: {}", response.body));
            assert_eq!(problem["status"], response.status);
            assert_eq!(problem["type"], problem_type, "{target}: {}", response.body);
        }
        // A PUT through a traversal-like name writes nothing.
        let response = app.raw_request("PUT", "/v1/merchants/haidilao/metadata/payment-combination/%2e%2e/draft").await;
        assert_eq!(response.status, 400, "{}", response.body);
        assert!(response.body.contains(malformed.1), "{}", response.body);
        combination_untouched(&app).await;
        still_serving(&app).await;
    }

    async fn ten_thousand_methods_are_refused(app: TestApp) {
        let methods: Vec<Value> = (0..10_000).map(|_| json!({"method": "alipay"})).collect();
        let response = app.put(DRAFT, &json!({"methods": methods})).await;
        response.assert_violations(&["/methods"]);
        // Ten thousand invalid entries: still a 422, located, and a bounded answer (the first
        // 100 violations and a count of the rest).
        let methods: Vec<Value> = (0..10_000).map(|_| json!({"method": 7})).collect();
        let response = app.put(DRAFT, &json!({"methods": methods})).await;
        response.assert_problem(422, "validation-failed");
        let pointers = response.error_pointers();
        assert!(pointers.contains(&"/methods".to_owned()));
        assert!(pointers.contains(&"/methods/0/method".to_owned()));
        assert_eq!(pointers.len(), 101, "100 violations and a summary");
        assert!(response.text.contains("more violations"), "{}", response.text);
        assert!(response.text.len() < 100_000, "the answer stays small: {} bytes", response.text.len());
        combination_untouched(&app).await;
        still_serving(&app).await;
    }

    async fn odd_headers_and_parameters_are_client_errors(app: TestApp) {
        // A non-ASCII Authorization header is no key at all.
        let response = execute(
            app.client
                .get(app.url("/v1/merchants"))
                .header("authorization", reqwest::header::HeaderValue::from_bytes(b"Bearer \xff\xfe").unwrap()),
        )
        .await;
        response.assert_problem(401, "unauthorized");
        // A non-ASCII If-Match is malformed.
        let response = execute(
            app.admin_request(Method::PUT, DRAFT)
                .header("if-match", reqwest::header::HeaderValue::from_bytes(b"\"r\xff\"").unwrap())
                .json(&json!({"methods": [{"method": "alipay"}]})),
        )
        .await;
        response.assert_problem(400, "bad-request");
        combination_untouched(&app).await;
        // Absurd pagination parameters are malformed; an empty cursor is the first page.
        for query in ["limit=99999999999999999999999", "limit=1.5", "limit=", "limit=1&limit=2"] {
            app.get(&format!("/v1/merchants?{query}")).await.assert_problem(400, "bad-request");
        }
        app.get("/v1/merchants?cursor=").await.assert_status(200);
        // A version that is not a 32-bit number is malformed; one below 1 names no version.
        app.get(&format!("{DOC}/versions/99999999999")).await.assert_problem(400, "bad-request");
        app.get(&format!("{DOC}/versions/-1")).await.assert_problem(404, "not-found");
        app.send(Method::GET, "/v1/merchants", Some(&"k".repeat(8_000)), None)
            .await
            .assert_problem(401, "unauthorized");
        still_serving(&app).await;
    }

    async fn a_uri_over_64_kib_is_refused_and_the_server_keeps_serving(app: TestApp) {
        // hyper refuses request targets over 64 KiB itself (414, empty body), before any of the
        // app's layers run, so this one answer cannot be problem+json; it is still a 4xx. (HTTP
        // clients refuse to send such a URI, hence the raw request.)
        let target = format!("/v1/merchants/haidilao/metadata/payment-combination/{}", "a".repeat(70_000));
        let response = app.raw_request("GET", &target).await;
        assert_eq!(response.status, 414, "{:?}", response.headers);
        // Just under it, the app itself answers.
        let path = format!("/v1/merchants/haidilao/metadata/payment-combination/{}", "a".repeat(60_000));
        app.get(&path).await.assert_problem(400, "bad-request");
        still_serving(&app).await;
    }
}
