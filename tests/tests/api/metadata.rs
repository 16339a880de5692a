//! Metadata documents: drafts, ETags, publishing, versions, rollback, listings, the audit
//! log, scopes and kinds, and the schemas endpoint.

use reqwest::Method;
use serde_json::Value;
use tests::{TestApp, TestResponse, execute, json, on_both_databases};

const DOC: &str = "/v1/merchants/life/metadata/payment-combination/default";

/// The keys of a JSON object, in document order.
fn keys(value: &Value) -> Vec<&str> {
    value
        .as_object()
        .expect("an object")
        .keys()
        .map(String::as_str)
        .collect()
}

fn etag_of(response: &TestResponse) -> String {
    let field = response.body["etag"]
        .as_str()
        .expect("etag field")
        .to_owned();
    assert_eq!(
        response.header("etag"),
        Some(field.as_str()),
        "the ETag header and the etag field differ: {}",
        response.text
    );
    field
}

async fn put_if_match(app: &TestApp, path: &str, etag: &str, body: &Value) -> TestResponse {
    execute(
        app.admin_request(Method::PUT, path)
            .header("if-match", etag)
            .json(body),
    )
    .await
}

/// `(action, from_version, to_version)` of each audit entry, newest first, for one document.
fn audit_trail(entries: &[Value], kind: &str, name: &str) -> Vec<(String, Value, Value)> {
    entries
        .iter()
        .filter(|e| e["kind"] == kind && e["name"] == name)
        .map(|e| {
            (
                e["action"].as_str().unwrap().to_owned(),
                e["from_version"].clone(),
                e["to_version"].clone(),
            )
        })
        .collect()
}

on_both_databases! {
    async fn a_flow_draft_may_be_written_in_yaml(app: TestApp) {
        let yaml = "version: v1\ntype: flow\ntimeoutSeconds: 600\nsteps:\n  - type: task\n    name: generateInfo\n    action: resolve_payment_combination\n  - type: task\n    name: payment\n    action: await_payment\n    pattern: waitForCallback\n    timeoutSeconds: 120\n    catch:\n      - errors: [Task.Timeout]\n        goto: orderCanceled\n  - type: task\n    name: paymentCombination\n    action: apply_discount\n  - type: task\n    name: orderCompleted\n    action: complete_order\n    end: true\n  - type: task\n    name: orderCanceled\n    action: cancel_order\n";
        let path = "/v1/merchants/haidilao/metadata/order-flow/default";
        let saved = app
            .send_raw(reqwest::Method::PUT, &format!("{path}/draft"), Some("application/yaml"), yaml)
            .await;
        saved.assert_status(200);
        // Stored and answered as JSON.
        assert_eq!(saved.body["draft"]["steps"][1]["timeoutSeconds"], 120, "{}", saved.text);
        assert_eq!(saved.body["draft"]["steps"][1]["catch"][0]["errors"][0], "Task.Timeout");
        app.post(&format!("{path}/publish"), &json!({})).await.assert_status(201);
        // Malformed YAML is a 400; YAML that is not a valid flow a 422 with pointers.
        app.send_raw(reqwest::Method::PUT, &format!("{path}/draft"), Some("text/yaml"), "steps: [unclosed")
            .await
            .assert_problem(400, "bad-request");
        let invalid = app
            .send_raw(reqwest::Method::PUT, &format!("{path}/draft"), Some("application/yaml"), "version: v1\ntype: flow\nsteps: []\n")
            .await;
        invalid.assert_problem(422, "validation-failed");
        assert_eq!(invalid.error_pointers(), ["/steps"]);
    }

    async fn draft_save_get_and_etags(app: TestApp) {
        app.create_merchant("life").await;
        let first = json!({"methods": [{"method": "wechat_pay", "label": "WeChat"}, {"method": "alipay"}]});
        let saved = app.put(&format!("{DOC}/draft"), &first).await;
        saved.assert_status(200);
        assert_eq!(saved.body["kind"], "payment-combination");
        assert_eq!(saved.body["name"], "default");
        assert_eq!(saved.body["scope"], "merchants/life");
        assert_eq!(saved.body["draft"], first);
        assert!(saved.body["published_version"].is_null());
        assert!(saved.body["published"].is_null());
        let etag1 = etag_of(&saved);

        let got = app.get(DOC).await;
        got.assert_status(200);
        assert_eq!(got.body["draft"], first);
        // The saved document reads back exactly as the save reported it.
        assert_eq!(got.body, saved.body);
        assert!(got.body["published_version"].is_null());
        assert_eq!(etag_of(&got), etag1);

        // A save based on the current ETag succeeds and changes the ETag.
        let second = json!({"methods": [{"method": "alipay"}]});
        let updated = put_if_match(&app, &format!("{DOC}/draft"), &etag1, &second).await;
        updated.assert_status(200);
        let etag2 = etag_of(&updated);
        assert_ne!(etag1, etag2);
        assert_eq!(updated.body["draft"], second);
        assert_eq!(app.get(DOC).await.body, updated.body);

        // A save based on the old ETag is refused and changes nothing.
        let stale = put_if_match(&app, &format!("{DOC}/draft"), &etag1, &first).await;
        stale.assert_problem(412, "precondition-failed");
        let after = app.get(DOC).await;
        assert_eq!(after.body["draft"], second);
        assert_eq!(etag_of(&after), etag2);

        // `*` and a list containing the current tag are honoured (RFC 9110).
        put_if_match(&app, &format!("{DOC}/draft"), "*", &second).await.assert_status(200);
        let current = etag_of(&app.get(DOC).await);
        put_if_match(&app, &format!("{DOC}/draft"), &format!("\"r999\", {current}"), &second)
            .await
            .assert_status(200);
    }

    async fn if_match_on_a_missing_document_is_412(app: TestApp) {
        app.create_merchant("life").await;
        let body = json!({"methods": [{"method": "alipay"}]});
        put_if_match(&app, &format!("{DOC}/draft"), "\"r1\"", &body)
            .await
            .assert_problem(412, "precondition-failed");
        put_if_match(&app, &format!("{DOC}/draft"), "*", &body)
            .await
            .assert_problem(412, "precondition-failed");
        // Nothing was created.
        app.get(DOC).await.assert_problem(404, "not-found");
    }

    async fn publish_lifecycle_versions_and_rollback(app: TestApp) {
        app.create_merchant("life").await;
        // Keys deliberately not in alphabetical order: published bodies keep the order.
        let v1 = json!({"methods": [
            {"method": "wechat_pay", "max_amount_minor": 100000, "label": "WeChat"},
            {"method": "alipay", "min_amount_minor": 0}
        ]});
        app.put(&format!("{DOC}/draft"), &v1).await.assert_status(200);
        let published = app.post(&format!("{DOC}/publish"), &json!({})).await;
        published.assert_status(201);
        assert_eq!(published.body["version"], 1);
        assert_eq!(published.body["kind"], "payment-combination");
        assert_eq!(published.body["name"], "default");

        let doc = app.get(DOC).await;
        doc.assert_status(200);
        assert_eq!(doc.body["published_version"], 1);
        assert!(doc.body["draft"].is_null(), "publishing consumes the draft: {}", doc.text);
        assert_eq!(doc.body["published"], v1);
        assert_eq!(keys(&doc.body["published"]["methods"][0]), ["method", "max_amount_minor", "label"]);
        assert_eq!(keys(&doc.body["published"]["methods"][1]), ["method", "min_amount_minor"]);

        // Nothing to publish now.
        let again = app.post(&format!("{DOC}/publish"), &json!({})).await;
        again.assert_problem(409, "no-draft");
        assert_eq!(app.get(DOC).await.body["published_version"], 1);

        let v2 = json!({"methods": [{"method": "alipay"}]});
        assert_eq!(app.publish("/v1/merchants/life", "payment-combination", "default", &v2).await, 2);

        let versions = app.get(&format!("{DOC}/versions")).await;
        versions.assert_status(200);
        let data = versions.body["data"].as_array().unwrap();
        let numbers: Vec<i64> = data.iter().map(|v| v["version"].as_i64().unwrap()).collect();
        assert_eq!(numbers, [2, 1], "newest first");
        for version in data {
            assert_eq!(version["published_by"], "env-admin-key");
            assert!(version["rolled_back_from"].is_null());
            assert!(version["published_at"].is_string());
        }
        assert!(versions.body["next_cursor"].is_null());

        let one = app.get(&format!("{DOC}/versions/1")).await;
        one.assert_status(200);
        assert_eq!(one.body["version"], 1);
        assert_eq!(one.body["body"], v1);
        assert_eq!(keys(&one.body["body"]["methods"][0]), ["method", "max_amount_minor", "label"]);
        assert_eq!(one.body["published_by"], "env-admin-key");
        assert_eq!(one.body["kind"], "payment-combination");
        assert_eq!(app.get(&format!("{DOC}/versions/2")).await.body["body"], v2);
        app.get(&format!("{DOC}/versions/3")).await.assert_problem(404, "not-found");
        app.get(&format!("{DOC}/versions/0")).await.assert_problem(404, "not-found");
        app.get(&format!("{DOC}/versions/two")).await.assert_problem(400, "bad-request");

        // Rollback publishes version 1's body again, as version 3.
        let rolled = app.post(&format!("{DOC}/rollback"), &json!({"version": 1})).await;
        rolled.assert_status(201);
        assert_eq!(rolled.body["version"], 3);
        let three = app.get(&format!("{DOC}/versions/3")).await;
        assert_eq!(three.body["body"], v1);
        assert_eq!(three.body["rolled_back_from"], 1);
        let doc = app.get(DOC).await;
        assert_eq!(doc.body["published_version"], 3);
        assert_eq!(doc.body["published"], v1);
        let versions = app.get(&format!("{DOC}/versions")).await;
        let numbers: Vec<i64> = versions.body["data"].as_array().unwrap().iter().map(|v| v["version"].as_i64().unwrap()).collect();
        assert_eq!(numbers, [3, 2, 1]);
        assert_eq!(versions.body["data"][0]["rolled_back_from"], 1);

        // Rolling back to a version that does not exist is a 422 at /version; nothing changes.
        app.post(&format!("{DOC}/rollback"), &json!({"version": 9}))
            .await
            .assert_violations(&["/version"]);
        app.post(&format!("{DOC}/rollback"), &json!({"version": "1"}))
            .await
            .assert_violations(&["/version"]);
        app.post(&format!("{DOC}/rollback"), &json!({}))
            .await
            .assert_violations(&["/version"]);
        assert_eq!(app.get(DOC).await.body["published_version"], 3);

        // Rollback leaves a pending draft alone.
        let pending = json!({"methods": [{"method": "unionpay"}]});
        app.put(&format!("{DOC}/draft"), &pending).await.assert_status(200);
        let rolled = app.post(&format!("{DOC}/rollback"), &json!({"version": 2})).await;
        rolled.assert_status(201);
        assert_eq!(rolled.body["version"], 4);
        let doc = app.get(DOC).await;
        assert_eq!(doc.body["published"], v2);
        assert_eq!(doc.body["draft"], pending);
    }

    async fn versions_are_paginated(app: TestApp) {
        app.create_merchant("life").await;
        for method in ["alipay", "wechat_pay", "unionpay"] {
            app.publish("/v1/merchants/life", "payment-combination", "default", &json!({"methods": [{"method": method}]})).await;
        }
        let first = app.get(&format!("{DOC}/versions?limit=2")).await;
        first.assert_status(200);
        let numbers: Vec<i64> = first.body["data"].as_array().unwrap().iter().map(|v| v["version"].as_i64().unwrap()).collect();
        assert_eq!(numbers, [3, 2]);
        let cursor = first.body["next_cursor"].as_str().expect("more versions").to_owned();
        let rest = app.get(&format!("{DOC}/versions?limit=2&cursor={cursor}")).await;
        let numbers: Vec<i64> = rest.body["data"].as_array().unwrap().iter().map(|v| v["version"].as_i64().unwrap()).collect();
        assert_eq!(numbers, [1]);
        assert!(rest.body["next_cursor"].is_null());
        app.get(&format!("{DOC}/versions?limit=0")).await.assert_problem(400, "bad-request");
        app.get(&format!("{DOC}/versions?cursor=***")).await.assert_problem(400, "bad-request");
    }

    async fn publish_honours_if_match(app: TestApp) {
        app.create_merchant("life").await;
        let saved = app.put(&format!("{DOC}/draft"), &json!({"methods": [{"method": "alipay"}]})).await;
        let etag = etag_of(&saved);
        execute(app.admin_request(Method::POST, &format!("{DOC}/publish")).header("if-match", "\"r12345\""))
            .await
            .assert_problem(412, "precondition-failed");
        assert!(app.get(DOC).await.body["published_version"].is_null());
        let published = execute(app.admin_request(Method::POST, &format!("{DOC}/publish")).header("if-match", etag.as_str())).await;
        published.assert_status(201);
        assert_eq!(published.body["version"], 1);
    }

    async fn missing_documents_are_404(app: TestApp) {
        app.create_merchant("life").await;
        app.get(DOC).await.assert_problem(404, "not-found");
        app.get(&format!("{DOC}/versions")).await.assert_problem(404, "not-found");
        app.get(&format!("{DOC}/versions/1")).await.assert_problem(404, "not-found");
        app.post(&format!("{DOC}/publish"), &json!({})).await.assert_problem(404, "not-found");
        app.post(&format!("{DOC}/rollback"), &json!({"version": 1})).await.assert_problem(404, "not-found");
        // An unknown merchant is a 404 too, on every document route.
        let ghost = "/v1/merchants/ghost/metadata/payment-combination/default";
        app.get(ghost).await.assert_problem(404, "not-found");
        app.put(&format!("{ghost}/draft"), &json!({"methods": [{"method": "alipay"}]})).await.assert_problem(404, "not-found");
        app.get("/v1/merchants/ghost/metadata/payment-combination").await.assert_problem(404, "not-found");
        app.get("/v1/merchants/ghost/audit-log").await.assert_problem(404, "not-found");
    }

    async fn list_documents_of_a_kind(app: TestApp) {
        let path = "/v1/merchants/haidilao/metadata/discount-function";
        let listed = app.get(path).await;
        listed.assert_status(200);
        let names: Vec<&str> = listed.body["data"].as_array().unwrap().iter().map(|d| d["name"].as_str().unwrap()).collect();
        assert_eq!(names, ["alipay-discount", "unionpay-discount", "wechat-pay-discount"]);
        for doc in listed.body["data"].as_array().unwrap() {
            assert_eq!(doc["published_version"], 1);
            assert_eq!(doc["has_draft"], false);
        }
        assert!(listed.body["next_cursor"].is_null());

        // A new draft is listed, unpublished, with its draft.
        let draft = json!({"description": "Pays in full.", "script": "order.amount_minor"});
        app.put(&format!("{path}/zero-discount/draft"), &draft).await.assert_status(200);
        // A draft on an existing document shows as has_draft.
        let seeded = app.get(&format!("{path}/alipay-discount")).await.body["published"].clone();
        app.put(&format!("{path}/alipay-discount/draft"), &seeded).await.assert_status(200);

        let first = app.get(&format!("{path}?limit=2")).await;
        first.assert_status(200);
        let data = first.body["data"].as_array().unwrap();
        assert_eq!(data.len(), 2);
        assert_eq!(data[0]["name"], "alipay-discount");
        assert_eq!(data[0]["has_draft"], true);
        assert_eq!(data[0]["published_version"], 1);
        assert_eq!(data[1]["name"], "unionpay-discount");
        let cursor = first.body["next_cursor"].as_str().expect("another page").to_owned();
        let second = app.get(&format!("{path}?limit=2&cursor={cursor}")).await;
        let data = second.body["data"].as_array().unwrap();
        let names: Vec<&str> = data.iter().map(|d| d["name"].as_str().unwrap()).collect();
        assert_eq!(names, ["wechat-pay-discount", "zero-discount"]);
        assert_eq!(data[1]["has_draft"], true);
        assert!(data[1]["published_version"].is_null());
        assert!(second.body["next_cursor"].is_null());

        // Listings are per merchant and per kind.
        app.create_merchant("life").await;
        let empty = app.get("/v1/merchants/life/metadata/discount-function").await;
        empty.assert_status(200);
        assert_eq!(empty.body["data"], json!([]));
        assert!(empty.body["next_cursor"].is_null());
        let routing = app.get("/v1/merchants/haidilao/metadata/routing-table").await;
        assert_eq!(routing.body["data"].as_array().unwrap().len(), 1);
        assert_eq!(routing.body["data"][0]["name"], "default");

        app.get(&format!("{path}?limit=201")).await.assert_problem(400, "bad-request");
    }

    async fn audit_log_records_every_change(app: TestApp) {
        app.create_merchant("life").await;
        let empty = app.get("/v1/merchants/life/audit-log").await;
        empty.assert_status(200);
        assert_eq!(empty.body["data"], json!([]));

        let a = json!({"methods": [{"method": "alipay"}]});
        let b = json!({"methods": [{"method": "wechat_pay"}]});
        app.put(&format!("{DOC}/draft"), &a).await.assert_status(200);
        app.post(&format!("{DOC}/publish"), &json!({})).await.assert_status(201);
        app.put(&format!("{DOC}/draft"), &b).await.assert_status(200);
        app.post(&format!("{DOC}/publish"), &json!({})).await.assert_status(201);
        app.post(&format!("{DOC}/rollback"), &json!({"version": 1})).await.assert_status(201);
        // Refused changes leave no trace.
        app.post(&format!("{DOC}/publish"), &json!({})).await.assert_problem(409, "no-draft");
        app.post(&format!("{DOC}/rollback"), &json!({"version": 7})).await.assert_status(422);
        app.put(&format!("{DOC}/draft"), &json!({"methods": []})).await.assert_status(422);

        let log = app.get("/v1/merchants/life/audit-log").await;
        log.assert_status(200);
        let entries = log.body["data"].as_array().unwrap().clone();
        assert_eq!(
            audit_trail(&entries, "payment-combination", "default"),
            [
                ("rolled_back".to_owned(), json!(2), json!(3)),
                ("published".to_owned(), json!(1), json!(2)),
                ("draft_saved".to_owned(), json!(1), Value::Null),
                ("published".to_owned(), Value::Null, json!(1)),
                ("draft_saved".to_owned(), Value::Null, Value::Null),
            ]
        );
        assert_eq!(entries.len(), 5, "{}", log.text);
        let ids: Vec<i64> = entries.iter().map(|e| e["id"].as_i64().unwrap()).collect();
        assert!(ids.windows(2).all(|w| w[0] > w[1]), "newest first: {ids:?}");
        for entry in &entries {
            assert_eq!(entry["actor"], "env-admin-key");
            assert!(entry["at"].is_string());
        }
        // The merchant's log is its own: other merchants' logs do not show these changes.
        let other = app.list_all("/v1/merchants/haidilao/audit-log").await;
        assert!(other.iter().all(|e| e["actor"] == "seed"), "{other:?}");

        // Paginated, newest first.
        let page = app.get("/v1/merchants/life/audit-log?limit=2").await;
        assert_eq!(page.body["data"].as_array().unwrap().len(), 2);
        assert_eq!(page.body["data"][0]["action"], "rolled_back");
        let cursor = page.body["next_cursor"].as_str().expect("more").to_owned();
        let next = app.get(&format!("/v1/merchants/life/audit-log?limit=2&cursor={cursor}")).await;
        assert_eq!(next.body["data"][0]["action"], "draft_saved");
        assert_eq!(next.body["data"][0]["from_version"], 1);
        app.get("/v1/merchants/life/audit-log?limit=0").await.assert_problem(400, "bad-request");
    }

    async fn platform_catalog_entry_is_usable_once_published(app: TestApp) {
        let combination = json!({"methods": [{"method": "alipay"}, {"method": "paypal"}]});
        let xibei = "/v1/merchants/xibei/metadata/payment-combination/default";
        // Before PayPal is in the catalog, a combination naming it cannot be published.
        app.put(&format!("{xibei}/draft"), &combination).await.assert_status(200);
        app.post(&format!("{xibei}/publish"), &json!({}))
            .await
            .assert_violations(&["/methods/1/method"]);

        let paypal = json!({"code": "paypal", "names": {"en": "PayPal", "zh-CN": "贝宝"}, "online": true});
        let version = app.publish("/v1/platform", "payment-method", "paypal", &paypal).await;
        assert_eq!(version, 1);
        let doc = app.get("/v1/platform/metadata/payment-method/paypal").await;
        doc.assert_status(200);
        assert_eq!(doc.body["scope"], "platform");
        assert_eq!(doc.body["published"], paypal);
        let catalog = app.get("/v1/platform/metadata/payment-method").await;
        let names: Vec<&str> = catalog.body["data"].as_array().unwrap().iter().map(|d| d["name"].as_str().unwrap()).collect();
        assert_eq!(names, ["alipay", "cash_on_delivery", "paypal", "points", "unionpay", "wechat_pay"]);

        // Now the combination publishes.
        let published = app.post(&format!("{xibei}/publish"), &json!({})).await;
        published.assert_status(201);
        assert_eq!(published.body["version"], 2);
        assert_eq!(app.get(xibei).await.body["published"], combination);

        // The platform audit log shows the platform change, newest first, by the admin key.
        let log = app.get("/v1/platform/audit-log").await;
        log.assert_status(200);
        let entries = log.body["data"].as_array().unwrap().clone();
        assert_eq!(
            audit_trail(&entries[..2], "payment-method", "paypal"),
            [
                ("published".to_owned(), Value::Null, json!(1)),
                ("draft_saved".to_owned(), Value::Null, Value::Null),
            ]
        );
        assert_eq!(entries[0]["actor"], "env-admin-key");
        // And the merchant change is in the merchant's log, not the platform's.
        assert!(entries.iter().all(|e| e["kind"] != "payment-combination"));
        let xibei_log = app.get("/v1/merchants/xibei/audit-log?limit=1").await;
        assert_eq!(xibei_log.body["data"][0]["action"], "published");
        assert_eq!(xibei_log.body["data"][0]["kind"], "payment-combination");
        assert_eq!(xibei_log.body["data"][0]["to_version"], 2);
    }

    async fn platform_order_flow_versions_and_rollback(app: TestApp) {
        let path = "/v1/platform/metadata/order-flow/default";
        let seeded = app.get(path).await;
        seeded.assert_status(200);
        assert_eq!(seeded.body["published_version"], 1);
        let mut shorter = seeded.body["published"].clone();
        shorter["steps"][1]["timeoutSeconds"] = json!(120);
        assert_eq!(app.publish("/v1/platform", "order-flow", "default", &shorter).await, 2);
        assert_eq!(app.get(path).await.body["published"]["steps"][1]["timeoutSeconds"], 120);
        let rolled = app.post(&format!("{path}/rollback"), &json!({"version": 1})).await;
        rolled.assert_status(201);
        assert_eq!(rolled.body["version"], 3);
        assert_eq!(app.get(path).await.body["published"], seeded.body["published"]);
        // A merchant may have its own order flow, separate from the platform's.
        let own = app.publish("/v1/merchants/haidilao", "order-flow", "default", &shorter).await;
        assert_eq!(own, 1);
        assert_eq!(app.get(path).await.body["published_version"], 3);
    }

    async fn kinds_outside_their_scope_are_404(app: TestApp) {
        let method = json!({"code": "alipay", "names": {"en": "Alipay"}, "online": true});
        app.get("/v1/merchants/haidilao/metadata/payment-method/alipay").await.assert_problem(404, "not-found");
        app.put("/v1/merchants/haidilao/metadata/payment-method/alipay/draft", &method).await.assert_problem(404, "not-found");
        app.get("/v1/merchants/haidilao/metadata/payment-method").await.assert_problem(404, "not-found");
        let table = json!({"rules": [], "default": {"action": "cancel"}});
        app.get("/v1/platform/metadata/routing-table/default").await.assert_problem(404, "not-found");
        app.put("/v1/platform/metadata/routing-table/default/draft", &table).await.assert_problem(404, "not-found");
        app.get("/v1/platform/metadata/routing-table").await.assert_problem(404, "not-found");
        for kind in ["payment-combination", "checkout-page", "discount-function"] {
            app.get(&format!("/v1/platform/metadata/{kind}")).await.assert_problem(404, "not-found");
        }
        // Nothing was written.
        let audit = app.get("/v1/platform/audit-log?limit=1").await;
        assert_eq!(audit.body["data"][0]["actor"], "seed");
    }

    async fn unknown_kind_is_404(app: TestApp) {
        let response = app.get("/v1/merchants/haidilao/metadata/widget/default").await;
        response.assert_problem(404, "not-found");
        assert!(response.body["detail"].as_str().unwrap().contains("payment-combination"), "{}", response.text);
        app.put("/v1/merchants/haidilao/metadata/widget/default/draft", &json!({})).await.assert_problem(404, "not-found");
        app.get("/v1/platform/metadata/widget").await.assert_problem(404, "not-found");
        app.get("/v1/platform/metadata/payment_method/alipay").await.assert_problem(404, "not-found");
    }

    async fn invalid_document_name_is_400(app: TestApp) {
        let body = json!({"methods": [{"method": "alipay"}]});
        for name in ["Bad_Name!", "_leading", "UPPER", &"a".repeat(65)] {
            let base = format!("/v1/merchants/haidilao/metadata/payment-combination/{name}");
            app.get(&base).await.assert_problem(400, "bad-request");
            app.put(&format!("{base}/draft"), &body).await.assert_problem(400, "bad-request");
            app.post(&format!("{base}/publish"), &json!({})).await.assert_problem(400, "bad-request");
        }
        // 64 characters is the longest name.
        let longest = "a".repeat(64);
        app.put(&format!("/v1/merchants/haidilao/metadata/payment-combination/{longest}/draft"), &body)
            .await
            .assert_status(200);
    }

    async fn schemas_are_served(app: TestApp) {
        let listed = app.get("/v1/schemas").await;
        listed.assert_status(200);
        let data = listed.body["data"].as_array().unwrap();
        let kinds: Vec<&str> = data.iter().map(|k| k["kind"].as_str().unwrap()).collect();
        assert_eq!(
            kinds,
            ["payment-method", "payment-combination", "checkout-page", "discount-function", "routing-table", "order-flow"]
        );
        for kind in data {
            assert!(kind["title"].as_str().is_some_and(|t| !t.is_empty()), "{kind}");
            assert!(kind["description"].as_str().is_some_and(|t| !t.is_empty()), "{kind}");
            assert_eq!(kind["schema_url"], format!("/v1/schemas/{}", kind["kind"].as_str().unwrap()));
        }
        assert_eq!(data[0]["scopes"], json!(["platform"]));
        assert_eq!(data[1]["scopes"], json!(["merchant"]));
        assert_eq!(data[5]["scopes"], json!(["platform", "merchant"]));

        for kind in kinds {
            let schema = app.get(&format!("/v1/schemas/{kind}")).await;
            schema.assert_status(200);
            assert_eq!(schema.body["$schema"], "https://json-schema.org/draft/2020-12/schema");
            assert_eq!(schema.body["type"], "object");
            assert_eq!(schema.body["title"], data.iter().find(|k| k["kind"] == kind).unwrap()["title"]);
        }
        let combination = app.get("/v1/schemas/payment-combination").await;
        assert_eq!(combination.body["required"], json!(["methods"]));
        assert!(combination.body["properties"]["methods"].is_object());

        app.get("/v1/schemas/widget").await.assert_problem(404, "not-found");
        app.send(Method::GET, "/v1/schemas/payment-combination", None, None)
            .await
            .assert_problem(401, "unauthorized");
    }

    async fn merchant_order_flow_and_checkout_page_round_trip(app: TestApp) {
        app.create_merchant("life").await;
        let page = app.get("/v1/merchants/haidilao/metadata/checkout-page/default").await.body["published"].clone();
        assert!(page.is_object());
        assert_eq!(app.publish("/v1/merchants/life", "checkout-page", "default", &page).await, 1);
        let copied = app.get("/v1/merchants/life/metadata/checkout-page/default").await;
        assert_eq!(copied.body["published"], page);
        let flow = app.get("/v1/platform/metadata/order-flow/default").await.body["published"].clone();
        assert_eq!(app.publish("/v1/merchants/life", "order-flow", "default", &flow).await, 1);
        let listed = app.get("/v1/merchants/life/metadata/order-flow").await;
        assert_eq!(listed.body["data"][0]["name"], "default");
        assert_eq!(listed.body["data"][0]["published_version"], 1);
    }
}

on_both_databases! {
    async fn publishing_a_draft_equal_to_the_published_version_is_409(app: TestApp) {
        app.create_merchant("life").await;
        let body = json!({"methods": [{"method": "alipay"}, {"method": "wechat_pay", "label": "WeChat"}]});
        assert_eq!(app.publish("/v1/merchants/life", "payment-combination", "default", &body).await, 1);
        // The same body again, with its keys in another order: still the same document.
        let reordered = json!({"methods": [{"method": "alipay"}, {"label": "WeChat", "method": "wechat_pay"}]});
        app.put(&format!("{DOC}/draft"), &reordered).await.assert_status(200);
        let refused = app.post(&format!("{DOC}/publish"), &json!({})).await;
        refused.assert_problem(409, "nothing-to-publish");
        assert!(refused.body["detail"].as_str().unwrap().contains("version 1"), "{}", refused.text);
        // Nothing moved, and the draft is kept.
        let doc = app.get(DOC).await;
        assert_eq!(doc.body["published_version"], 1);
        assert_eq!(doc.body["draft"], reordered);
        // A different draft publishes.
        app.put(&format!("{DOC}/draft"), &json!({"methods": [{"method": "alipay"}]})).await.assert_status(200);
        app.post(&format!("{DOC}/publish"), &json!({})).await.assert_status(201);
        // Platform documents too.
        let alipay = "/v1/platform/metadata/payment-method/alipay";
        let published = app.get(alipay).await.body["published"].clone();
        app.put(&format!("{alipay}/draft"), &published).await.assert_status(200);
        app.post(&format!("{alipay}/publish"), &json!({})).await.assert_problem(409, "nothing-to-publish");
    }

    async fn a_saved_draft_can_be_discarded(app: TestApp) {
        app.create_merchant("life").await;
        let v1 = json!({"methods": [{"method": "alipay"}]});
        app.publish("/v1/merchants/life", "payment-combination", "default", &v1).await;
        // No draft: 404.
        app.send(Method::DELETE, &format!("{DOC}/draft"), Some(tests::ADMIN_KEY), None)
            .await
            .assert_problem(404, "not-found");
        let draft = json!({"methods": [{"method": "wechat_pay"}]});
        let saved = app.put(&format!("{DOC}/draft"), &draft).await;
        saved.assert_status(200);
        // A stale If-Match is refused and changes nothing.
        let stale = execute(app.admin_request(Method::DELETE, &format!("{DOC}/draft")).header("if-match", "\"r1\"")).await;
        stale.assert_problem(412, "precondition-failed");
        let discarded = execute(app.admin_request(Method::DELETE, &format!("{DOC}/draft")).header("if-match", etag_of(&saved))).await;
        discarded.assert_status(204);
        assert_eq!(discarded.text, "");
        let doc = app.get(DOC).await;
        assert_eq!((&doc.body["draft"], &doc.body["published_version"], &doc.body["published"]), (&Value::Null, &json!(1), &v1));
        assert_ne!(etag_of(&doc), etag_of(&saved), "discarding changes the ETag");
        app.send(Method::DELETE, &format!("{DOC}/draft"), Some(tests::ADMIN_KEY), None)
            .await
            .assert_problem(404, "not-found");
        let entries = app.list_all("/v1/merchants/life/audit-log").await;
        assert_eq!(audit_trail(&entries, "payment-combination", "default")[0], ("draft_discarded".to_owned(), json!(1), Value::Null));

        // A document never published is only its draft: it goes.
        let flow_doc = "/v1/merchants/life/metadata/discount-function/sketch";
        app.put(&format!("{flow_doc}/draft"), &json!({"description": "d", "script": "order.amount_minor"})).await.assert_status(200);
        app.send(Method::DELETE, &format!("{flow_doc}/draft"), Some(tests::ADMIN_KEY), None).await.assert_status(204);
        app.get(flow_doc).await.assert_problem(404, "not-found");
        // ...and can be created again.
        app.put(&format!("{flow_doc}/draft"), &json!({"description": "d", "script": "order.amount_minor"})).await.assert_status(200);

        // Platform documents, and who may: a merchant admin may not touch the platform's.
        let alipay = "/v1/platform/metadata/payment-method/alipay";
        let published = app.get(alipay).await.body["published"].clone();
        let mut changed = published.clone();
        changed["names"]["en"] = json!("Alipay!");
        app.put(&format!("{alipay}/draft"), &changed).await.assert_status(200);
        let merchant_admin = app.create_key("life", "merchant_admin").await;
        app.send(Method::DELETE, &format!("{alipay}/draft"), Some(&merchant_admin), None).await.assert_problem(403, "forbidden");
        app.send(Method::DELETE, &format!("{DOC}/draft"), None, None).await.assert_problem(401, "unauthorized");
        app.send(Method::DELETE, &format!("{alipay}/draft"), Some(tests::ADMIN_KEY), None).await.assert_status(204);
        assert_eq!(app.get(alipay).await.body["draft"], Value::Null);
        let platform_log = app.list_all("/v1/platform/audit-log").await;
        assert_eq!(platform_log[0]["action"], "draft_discarded");
        // Another tenant's document is a 404.
        app.create_merchant("other").await;
        let other_admin = app.create_key("other", "merchant_admin").await;
        app.put(&format!("{DOC}/draft"), &draft).await.assert_status(200);
        app.send(Method::DELETE, &format!("{DOC}/draft"), Some(&other_admin), None).await.assert_problem(404, "not-found");
        assert_eq!(app.get(DOC).await.body["draft"], draft);
    }
}
