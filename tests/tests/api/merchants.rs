//! Merchants and their API keys: `POST/GET /v1/merchants`, `GET /v1/merchants/{id}`,
//! `POST /v1/merchants/{id}/api-keys`.

use reqwest::Method;
use tests::{ADMIN_KEY, json, on_both_databases};

fn ids(body: &serde_json::Value) -> Vec<String> {
    body["data"]
        .as_array()
        .expect("data is an array")
        .iter()
        .map(|m| m["id"].as_str().expect("id").to_owned())
        .collect()
}

on_both_databases! {
    async fn create_returns_the_merchant(app: TestApp) {
        let created = app
            .post("/v1/merchants", &json!({"id": "new-shop-1", "name": "New Shop"}))
            .await;
        created.assert_status(201);
        assert_eq!(created.body["id"], "new-shop-1");
        assert_eq!(created.body["name"], "New Shop");
        let at = created.body["created_at"].as_str().expect("created_at");
        assert!(at.ends_with('Z') && at.contains('T'), "not RFC 3339 UTC: {at}");

        let fetched = app.get("/v1/merchants/new-shop-1").await;
        fetched.assert_status(200);
        assert_eq!(fetched.body["id"], "new-shop-1");
        assert_eq!(fetched.body["name"], "New Shop");
    }

    async fn created_merchant_reads_back_identically(app: TestApp) {
        // What the 201 says was created is what is stored: the same id, name and timestamp
        // (not a more precise clock reading than the database keeps).
        let created = app
            .post("/v1/merchants", &json!({"id": "read-back", "name": "Read Back"}))
            .await;
        created.assert_status(201);
        let fetched = app.get("/v1/merchants/read-back").await;
        fetched.assert_status(200);
        assert_eq!(fetched.body, created.body);
        let listed = app.get("/v1/merchants").await;
        let in_list = listed.body["data"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["id"] == "read-back")
            .cloned()
            .expect("listed");
        assert_eq!(in_list, created.body);
    }

    async fn create_trims_the_name(app: TestApp) {
        let created = app
            .post("/v1/merchants", &json!({"id": "trimmed", "name": "  Spaces around  "}))
            .await;
        created.assert_status(201);
        assert_eq!(created.body["name"], "Spaces around");
    }

    async fn duplicate_id_is_a_conflict(app: TestApp) {
        app.create_merchant("twice").await;
        let again = app
            .post("/v1/merchants", &json!({"id": "twice", "name": "Other"}))
            .await;
        again.assert_problem(409, "merchant-exists");
        assert!(again.body["detail"].as_str().unwrap().contains("twice"));
        // The seeded merchants are taken too, and the first one is unchanged.
        app.post("/v1/merchants", &json!({"id": "haidilao", "name": "Impostor"}))
            .await
            .assert_problem(409, "merchant-exists");
        assert_eq!(app.get("/v1/merchants/haidilao").await.body["name"], "Haidilao Hot Pot");
        assert_eq!(app.get("/v1/merchants/twice").await.body["name"], "Merchant twice");
    }

    async fn invalid_id_and_name_are_reported_together(app: TestApp) {
        app.post("/v1/merchants", &json!({"id": "Bad_Id!", "name": "   "}))
            .await
            .assert_violations(&["/id", "/name"]);
        for bad_id in ["a", "-leading-dash", "UPPER", "has space", "é-accent", &"a".repeat(64)] {
            app.post("/v1/merchants", &json!({"id": bad_id, "name": "ok"}))
                .await
                .assert_violations(&["/id"]);
        }
        app.post("/v1/merchants", &json!({"id": "good-id", "name": ""}))
            .await
            .assert_violations(&["/name"]);
        app.post("/v1/merchants", &json!({"id": "good-id", "name": "x".repeat(201)}))
            .await
            .assert_violations(&["/name"]);
        // Nothing was created by the rejected requests.
        app.get("/v1/merchants/good-id").await.assert_problem(404, "not-found");
        // The limits themselves are accepted: 63-character id, 200-character name.
        let longest = "a".repeat(63);
        app.post("/v1/merchants", &json!({"id": longest, "name": "n".repeat(200)}))
            .await
            .assert_status(201);
    }

    async fn wrong_types_and_unknown_fields_are_422_with_pointers(app: TestApp) {
        app.post("/v1/merchants", &json!({"id": 5, "name": "Five"}))
            .await
            .assert_violations(&["/id"]);
        app.post("/v1/merchants", &json!({"id": "typed", "name": ["a"]}))
            .await
            .assert_violations(&["/name"]);
        app.post("/v1/merchants", &json!({"id": "typed", "name": null}))
            .await
            .assert_violations(&["/name"]);
        let unknown = app
            .post("/v1/merchants", &json!({"id": "typed", "name": "T", "owner": "me"}))
            .await;
        unknown.assert_violations(&["/owner"]);
        assert!(unknown.body["errors"][0]["message"].as_str().unwrap().contains("owner"));
        // A missing field is reported at the field itself.
        let missing = app.post("/v1/merchants", &json!({"id": "typed"})).await;
        missing.assert_violations(&["/name"]);
        assert!(missing.body["errors"][0]["message"].as_str().unwrap().contains("name"));
        app.get("/v1/merchants/typed").await.assert_problem(404, "not-found");
    }

    async fn list_is_paginated(app: TestApp) {
        app.create_merchant("zz-last").await;
        let all = app.get("/v1/merchants").await;
        all.assert_status(200);
        assert_eq!(ids(&all.body), ["haidilao", "xibei", "zz-last"]);
        assert!(all.body["next_cursor"].is_null());

        let first = app.get("/v1/merchants?limit=1").await;
        first.assert_status(200);
        assert_eq!(ids(&first.body), ["haidilao"]);
        let cursor = first.body["next_cursor"].as_str().expect("a next cursor").to_owned();
        let second = app.get(&format!("/v1/merchants?limit=1&cursor={cursor}")).await;
        second.assert_status(200);
        assert_eq!(ids(&second.body), ["xibei"]);
        let cursor = second.body["next_cursor"].as_str().expect("a next cursor").to_owned();
        let third = app.get(&format!("/v1/merchants?limit=1&cursor={cursor}")).await;
        assert_eq!(ids(&third.body), ["zz-last"]);
        assert!(third.body["next_cursor"].is_null(), "{}", third.text);

        let two = app.get("/v1/merchants?limit=2").await;
        assert_eq!(ids(&two.body), ["haidilao", "xibei"]);
        let cursor = two.body["next_cursor"].as_str().expect("a next cursor").to_owned();
        let rest = app.get(&format!("/v1/merchants?limit=2&cursor={cursor}")).await;
        assert_eq!(ids(&rest.body), ["zz-last"]);
        assert!(rest.body["next_cursor"].is_null());

        // The maximum is accepted.
        assert_eq!(ids(&app.get("/v1/merchants?limit=200").await.body).len(), 3);
    }

    async fn bad_pagination_parameters_are_400(app: TestApp) {
        for query in [
            "limit=0",
            "limit=201",
            "limit=-1",
            "limit=ten",
            "cursor=!!not-a-cursor!!",
            "cursor=%FF%FE",
        ] {
            let response = app.get(&format!("/v1/merchants?{query}")).await;
            response.assert_problem(400, "bad-request");
            assert!(response.body["detail"].as_str().is_some_and(|d| !d.is_empty()));
        }
    }

    async fn get_unknown_merchant_is_404(app: TestApp) {
        let response = app.get("/v1/merchants/no-such-merchant").await;
        response.assert_problem(404, "not-found");
        assert!(response.body["detail"].as_str().unwrap().contains("no-such-merchant"));
        // An id that is not even a valid slug is simply not found.
        app.get("/v1/merchants/Not_A_Slug").await.assert_problem(404, "not-found");
    }

    async fn api_keys_for_each_merchant_scope(app: TestApp) {
        app.create_merchant("keyed").await;
        for scope in ["merchant_admin", "storefront"] {
            let created = app
                .post("/v1/merchants/keyed/api-keys", &json!({"scope": scope}))
                .await;
            created.assert_status(201);
            assert_eq!(created.body["scope"], scope);
            assert_eq!(created.body["merchant_id"], "keyed");
            let id = created.body["id"].as_str().expect("id");
            let key = created.body["key"].as_str().expect("key");
            assert!(!id.is_empty());
            assert!(key.len() >= 32, "the key is too short to be unguessable: {key}");
            assert_ne!(id, key, "the id must not be the secret");
            assert!(created.body["created_at"].is_string());
            // The key works right away, for its own merchant.
            let status = if scope == "merchant_admin" { 200 } else { 403 };
            app.send(Method::GET, "/v1/merchants/keyed", Some(key), None)
                .await
                .assert_status(status);
        }
        // Two keys are never the same.
        let a = app.create_key("keyed", "storefront").await;
        let b = app.create_key("keyed", "storefront").await;
        assert_ne!(a, b);
    }

    async fn api_key_scope_must_be_a_merchant_scope(app: TestApp) {
        let response = app
            .post("/v1/merchants/haidilao/api-keys", &json!({"scope": "platform_admin"}))
            .await;
        response.assert_violations(&["/scope"]);
        app.post("/v1/merchants/haidilao/api-keys", &json!({"scope": "root"}))
            .await
            .assert_violations(&["/scope"]);
        app.post("/v1/merchants/haidilao/api-keys", &json!({"scope": 1}))
            .await
            .assert_violations(&["/scope"]);
        app.post("/v1/merchants/haidilao/api-keys", &json!({}))
            .await
            .assert_violations(&["/scope"]);
        app.post("/v1/merchants/haidilao/api-keys", &json!({"scope": "storefront", "ttl": 5}))
            .await
            .assert_violations(&["/ttl"]);
    }

    async fn api_key_for_unknown_merchant_is_404(app: TestApp) {
        app.post("/v1/merchants/ghost/api-keys", &json!({"scope": "storefront"}))
            .await
            .assert_problem(404, "not-found");
    }

    async fn the_admin_key_is_required_to_create(app: TestApp) {
        app.send(Method::POST, "/v1/merchants", None, Some(&json!({"id": "anon", "name": "A"})))
            .await
            .assert_problem(401, "unauthorized");
        app.send(Method::POST, "/v1/merchants", Some("wrong-key"), Some(&json!({"id": "anon", "name": "A"})))
            .await
            .assert_problem(401, "unauthorized");
        app.send(Method::GET, "/v1/merchants/anon", Some(ADMIN_KEY), None)
            .await
            .assert_problem(404, "not-found");
    }

    async fn me_describes_the_calling_key(app: TestApp) {
        let me = app.get("/v1/me").await;
        me.assert_status(200);
        assert_eq!(me.body, json!({"key_id": "env-admin-key", "scope": "platform_admin", "merchant_id": null}));

        app.create_merchant("whoami").await;
        for scope in ["merchant_admin", "storefront"] {
            let created = app
                .post("/v1/merchants/whoami/api-keys", &json!({"scope": scope}))
                .await;
            created.assert_status(201);
            let key = created.body["key"].as_str().expect("key");
            let me = app.send(Method::GET, "/v1/me", Some(key), None).await;
            me.assert_status(200);
            assert_eq!(me.body["key_id"], created.body["id"]);
            assert_eq!(me.body["scope"], scope);
            assert_eq!(me.body["merchant_id"], "whoami");
        }

        app.send(Method::GET, "/v1/me", None, None).await.assert_problem(401, "unauthorized");
        app.send(Method::GET, "/v1/me", Some("ofk_nobody"), None).await.assert_problem(401, "unauthorized");
    }
}
