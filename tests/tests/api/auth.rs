//! Authentication (who is calling) and authorization (what the key's scope and tenant allow).

use reqwest::Method;
use serde_json::Value;
use tests::{ADMIN_KEY, TestResponse, execute, json, on_both_databases};

fn combination() -> Value {
    json!({"methods": [{"method": "alipay"}]})
}

#[track_caller]
fn assert_unauthorized(response: &TestResponse) {
    response.assert_problem(401, "unauthorized");
    assert_eq!(
        response.header("www-authenticate"),
        Some("Bearer"),
        "a 401 must say how to authenticate: {:?}",
        response.headers
    );
}

on_both_databases! {
    async fn no_key_is_401_with_a_bearer_challenge(app: TestApp) {
        for (method, path, body) in [
            (Method::GET, "/v1/merchants", None),
            (Method::POST, "/v1/merchants", Some(json!({"id": "anon", "name": "A"}))),
            (Method::GET, "/v1/merchants/haidilao", None),
            (Method::GET, "/v1/merchants/haidilao/metadata/payment-combination/default", None),
            (Method::PUT, "/v1/merchants/haidilao/metadata/payment-combination/default/draft", Some(combination())),
            (Method::GET, "/v1/platform/metadata/payment-method", None),
            (Method::GET, "/v1/platform/audit-log", None),
            (Method::POST, "/v1/merchants/haidilao/api-keys", Some(json!({"scope": "storefront"}))),
            (Method::GET, "/v1/schemas", None),
            (Method::GET, "/v1/schemas/payment-combination", None),
        ] {
            let response = app.send(method.clone(), path, None, body.as_ref()).await;
            assert_unauthorized(&response);
        }
        // Nothing happened.
        app.get("/v1/merchants/anon").await.assert_problem(404, "not-found");
    }

    async fn unknown_or_malformed_keys_are_401(app: TestApp) {
        for key in ["not-a-real-key", "ofk_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", &format!("{ADMIN_KEY}x")] {
            let response = app.send(Method::GET, "/v1/merchants", Some(key), None).await;
            assert_unauthorized(&response);
        }
        for header in [
            format!("Basic {ADMIN_KEY}"),
            "Basic dXNlcjpwYXNz".to_owned(),
            ADMIN_KEY.to_owned(),
            "Bearer".to_owned(),
            "Bearer ".to_owned(),
            format!("Token {ADMIN_KEY}"),
        ] {
            let response = execute(
                app.client
                    .get(app.url("/v1/merchants"))
                    .header("authorization", header.as_str()),
            )
            .await;
            assert_unauthorized(&response);
        }
        // The scheme is case-insensitive (RFC 9110 §11.1).
        let lower = execute(
            app.client
                .get(app.url("/v1/merchants"))
                .header("authorization", format!("bearer {ADMIN_KEY}")),
        )
        .await;
        lower.assert_status(200);
    }

    async fn schemas_need_any_key(app: TestApp) {
        assert_unauthorized(&app.send(Method::GET, "/v1/schemas", None, None).await);
        let storefront = app.create_key("haidilao", "storefront").await;
        let merchant_admin = app.create_key("haidilao", "merchant_admin").await;
        for key in [storefront.as_str(), merchant_admin.as_str(), ADMIN_KEY] {
            let response = app.send(Method::GET, "/v1/schemas", Some(key), None).await;
            response.assert_status(200);
            assert_eq!(response.body["data"].as_array().unwrap().len(), 6);
        }
    }

    async fn storefront_key_cannot_use_admin_routes(app: TestApp) {
        let key = app.create_key("haidilao", "storefront").await;
        let doc = "/v1/merchants/haidilao/metadata/payment-combination/default";
        for (method, path, body) in [
            (Method::GET, "/v1/merchants".to_owned(), None),
            (Method::GET, "/v1/merchants/haidilao".to_owned(), None),
            (Method::GET, doc.to_owned(), None),
            (Method::PUT, format!("{doc}/draft"), Some(combination())),
            (Method::POST, format!("{doc}/publish"), Some(json!({}))),
            (Method::GET, format!("{doc}/versions"), None),
            (Method::POST, format!("{doc}/rollback"), Some(json!({"version": 1}))),
            (Method::GET, "/v1/merchants/haidilao/metadata/payment-combination".to_owned(), None),
            (Method::GET, "/v1/merchants/haidilao/audit-log".to_owned(), None),
            (Method::POST, "/v1/merchants/haidilao/api-keys".to_owned(), Some(json!({"scope": "storefront"}))),
            (Method::POST, "/v1/merchants/haidilao/api-keys".to_owned(), Some(json!({"scope": "merchant_admin"}))),
            (Method::GET, "/v1/platform/metadata/payment-method/alipay".to_owned(), None),
            (Method::GET, "/v1/platform/audit-log".to_owned(), None),
            (Method::POST, "/v1/merchants".to_owned(), Some(json!({"id": "by-storefront", "name": "S"}))),
        ] {
            let response = app.send(method.clone(), &path, Some(&key), body.as_ref()).await;
            response.assert_problem(403, "forbidden");
        }
        // Nothing was written.
        let doc_now = app.get(doc).await;
        assert_eq!(doc_now.body["published_version"], 1);
        assert!(doc_now.body["draft"].is_null());
        let log = app.get("/v1/merchants/haidilao/audit-log?limit=1").await;
        assert_eq!(log.body["data"][0]["actor"], "seed");
    }

    async fn merchant_admin_is_confined_to_its_merchant(app: TestApp) {
        app.create_merchant("tenant-a").await;
        let key_a = app.create_key("tenant-a", "merchant_admin").await;
        let b_doc = "/v1/merchants/haidilao/metadata/payment-combination/default";
        for (method, path, body) in [
            (Method::GET, "/v1/merchants/haidilao".to_owned(), None),
            (Method::GET, b_doc.to_owned(), None),
            (Method::PUT, format!("{b_doc}/draft"), Some(combination())),
            (Method::POST, format!("{b_doc}/publish"), Some(json!({}))),
            (Method::GET, format!("{b_doc}/versions"), None),
            (Method::GET, format!("{b_doc}/versions/1"), None),
            (Method::POST, format!("{b_doc}/rollback"), Some(json!({"version": 1}))),
            (Method::GET, "/v1/merchants/haidilao/metadata/discount-function".to_owned(), None),
            (Method::GET, "/v1/merchants/haidilao/audit-log".to_owned(), None),
            (Method::POST, "/v1/merchants/haidilao/api-keys".to_owned(), Some(json!({"scope": "merchant_admin"}))),
            (Method::POST, "/v1/merchants/haidilao/api-keys".to_owned(), Some(json!({"scope": "storefront"}))),
        ] {
            let response = app.send(method.clone(), &path, Some(&key_a), body.as_ref()).await;
            response.assert_problem(404, "not-found");
            // Another tenant's resources are indistinguishable from missing ones.
            let missing = path.replace("haidilao", "no-such-merchant");
            let absent = app.send(method.clone(), &missing, Some(&key_a), body.as_ref()).await;
            absent.assert_problem(404, "not-found");
            assert_eq!(
                response.body["detail"].as_str().unwrap().replace("haidilao", "X"),
                absent.body["detail"].as_str().unwrap().replace("no-such-merchant", "X"),
                "the 404 for another tenant must not differ from a missing merchant's"
            );
        }
        // The other merchant is untouched.
        let doc = app.get(b_doc).await;
        assert_eq!(doc.body["published_version"], 1);
        assert!(doc.body["draft"].is_null());
        let versions = app.get(&format!("{b_doc}/versions")).await;
        assert_eq!(versions.body["data"].as_array().unwrap().len(), 1);
    }

    async fn merchant_admin_manages_its_own_merchant(app: TestApp) {
        app.create_merchant("tenant-a").await;
        let created = app
            .post("/v1/merchants/tenant-a/api-keys", &json!({"scope": "merchant_admin"}))
            .await;
        created.assert_status(201);
        let key = created.body["key"].as_str().unwrap().to_owned();
        let key_id = created.body["id"].as_str().unwrap().to_owned();
        let doc = "/v1/merchants/tenant-a/metadata/payment-combination/default";

        let merchant = app.send(Method::GET, "/v1/merchants/tenant-a", Some(&key), None).await;
        merchant.assert_status(200);
        assert_eq!(merchant.body["id"], "tenant-a");

        let saved = app.send(Method::PUT, &format!("{doc}/draft"), Some(&key), Some(&combination())).await;
        saved.assert_status(200);
        assert_eq!(saved.body["draft"], combination());
        app.send(Method::GET, doc, Some(&key), None).await.assert_status(200);
        let published = app.send(Method::POST, &format!("{doc}/publish"), Some(&key), Some(&json!({}))).await;
        published.assert_status(201);
        assert_eq!(published.body["version"], 1);
        let versions = app.send(Method::GET, &format!("{doc}/versions"), Some(&key), None).await;
        versions.assert_status(200);
        // The publisher is recorded by key id, never by secret.
        assert_eq!(versions.body["data"][0]["published_by"], key_id.as_str());
        let rolled = app.send(Method::POST, &format!("{doc}/rollback"), Some(&key), Some(&json!({"version": 1}))).await;
        rolled.assert_status(201);
        assert_eq!(rolled.body["version"], 2);
        let listed = app.send(Method::GET, "/v1/merchants/tenant-a/metadata/payment-combination", Some(&key), None).await;
        listed.assert_status(200);
        assert_eq!(listed.body["data"][0]["name"], "default");

        let log = app.send(Method::GET, "/v1/merchants/tenant-a/audit-log", Some(&key), None).await;
        log.assert_status(200);
        let entries = log.body["data"].as_array().unwrap();
        assert_eq!(entries.len(), 3);
        assert!(entries.iter().all(|e| e["actor"] == key_id.as_str()), "{}", log.text);
        assert!(!log.text.contains(&key), "the audit log must not contain the secret");

        // It may make keys for its own merchant, but not a platform key.
        let storefront = app
            .send(Method::POST, "/v1/merchants/tenant-a/api-keys", Some(&key), Some(&json!({"scope": "storefront"})))
            .await;
        storefront.assert_status(201);
        assert_eq!(storefront.body["merchant_id"], "tenant-a");
        assert_eq!(storefront.body["scope"], "storefront");
        app.send(Method::POST, "/v1/merchants/tenant-a/api-keys", Some(&key), Some(&json!({"scope": "merchant_admin"})))
            .await
            .assert_status(201);
        app.send(Method::POST, "/v1/merchants/tenant-a/api-keys", Some(&key), Some(&json!({"scope": "platform_admin"})))
            .await
            .assert_violations(&["/scope"]);
    }

    async fn merchant_admin_lists_only_its_own_merchant(app: TestApp) {
        let key = app.create_key("xibei", "merchant_admin").await;
        let listed = app.send(Method::GET, "/v1/merchants", Some(&key), None).await;
        listed.assert_status(200);
        let ids: Vec<&str> = listed.body["data"].as_array().unwrap().iter().map(|m| m["id"].as_str().unwrap()).collect();
        assert_eq!(ids, ["xibei"]);
        assert!(listed.body["next_cursor"].is_null());
        // Even when paging past its own merchant.
        let first = app.get("/v1/merchants?limit=1").await;
        let cursor = first.body["next_cursor"].as_str().unwrap().to_owned();
        let paged = app.send(Method::GET, &format!("/v1/merchants?cursor={cursor}"), Some(&key), None).await;
        paged.assert_status(200);
        let ids: Vec<&str> = paged.body["data"].as_array().unwrap().iter().map(|m| m["id"].as_str().unwrap()).collect();
        assert_eq!(ids, ["xibei"]);
        // The platform admin sees every merchant.
        assert_eq!(app.get("/v1/merchants").await.body["data"].as_array().unwrap().len(), 2);
    }

    async fn merchant_admin_reads_but_does_not_write_platform_metadata(app: TestApp) {
        let key = app.create_key("haidilao", "merchant_admin").await;
        let catalog = app.send(Method::GET, "/v1/platform/metadata/payment-method", Some(&key), None).await;
        catalog.assert_status(200);
        assert_eq!(catalog.body["data"].as_array().unwrap().len(), 5);
        let alipay = app.send(Method::GET, "/v1/platform/metadata/payment-method/alipay", Some(&key), None).await;
        alipay.assert_status(200);
        assert_eq!(alipay.body["published"]["code"], "alipay");
        app.send(Method::GET, "/v1/platform/metadata/payment-method/alipay/versions/1", Some(&key), None)
            .await
            .assert_status(200);
        app.send(Method::GET, "/v1/platform/metadata/order-flow/default", Some(&key), None)
            .await
            .assert_status(200);

        let paypal = json!({"code": "paypal", "names": {"en": "PayPal"}, "online": true});
        app.send(Method::PUT, "/v1/platform/metadata/payment-method/paypal/draft", Some(&key), Some(&paypal))
            .await
            .assert_problem(403, "forbidden");
        app.send(Method::PUT, "/v1/platform/metadata/payment-method/alipay/draft", Some(&key), Some(&alipay.body["published"]))
            .await
            .assert_problem(403, "forbidden");
        app.send(Method::POST, "/v1/platform/metadata/payment-method/alipay/publish", Some(&key), Some(&json!({})))
            .await
            .assert_problem(403, "forbidden");
        app.send(Method::POST, "/v1/platform/metadata/payment-method/alipay/rollback", Some(&key), Some(&json!({"version": 1})))
            .await
            .assert_problem(403, "forbidden");
        // Nothing changed on the platform.
        app.get("/v1/platform/metadata/payment-method/paypal").await.assert_problem(404, "not-found");
        let alipay_now = app.get("/v1/platform/metadata/payment-method/alipay").await;
        assert_eq!(alipay_now.body["published_version"], 1);
        assert!(alipay_now.body["draft"].is_null());
    }

    async fn merchant_admin_cannot_create_merchants(app: TestApp) {
        let key = app.create_key("haidilao", "merchant_admin").await;
        app.send(Method::POST, "/v1/merchants", Some(&key), Some(&json!({"id": "by-tenant", "name": "T"})))
            .await
            .assert_problem(403, "forbidden");
        app.get("/v1/merchants/by-tenant").await.assert_problem(404, "not-found");
    }

    async fn keys_of_one_merchant_do_not_leak_to_another(app: TestApp) {
        // Keys are bound to their merchant, in both directions.
        let xibei_admin = app.create_key("xibei", "merchant_admin").await;
        let haidilao_admin = app.create_key("haidilao", "merchant_admin").await;
        app.send(Method::GET, "/v1/merchants/xibei", Some(&xibei_admin), None).await.assert_status(200);
        app.send(Method::GET, "/v1/merchants/haidilao", Some(&haidilao_admin), None).await.assert_status(200);
        app.send(Method::GET, "/v1/merchants/haidilao", Some(&xibei_admin), None).await.assert_problem(404, "not-found");
        app.send(Method::GET, "/v1/merchants/xibei", Some(&haidilao_admin), None).await.assert_problem(404, "not-found");
    }
}
