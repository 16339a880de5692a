//! The storefront's checkout: the resolved checkout page, and starting orders (validation
//! against the checkout page, amounts, `order_num`).

use reqwest::Method;
use serde_json::Value;
use tests::checkout::{address, now_millis, order_body, timestamp_millis};
use tests::{ADMIN_KEY, json, on_both_databases};

const PAGE: &str = "/v1/storefront/merchants/haidilao/checkout-page";

fn method_codes(methods: &Value) -> Vec<&str> {
    methods
        .as_array()
        .expect("payment_methods is an array")
        .iter()
        .map(|m| m["code"].as_str().expect("code"))
        .collect()
}

on_both_databases! {
    async fn checkout_page_is_resolved_from_the_published_documents(app: TestApp) {
        let page = app.get(PAGE).await;
        page.assert_status(200);
        tests::documented::assert_documented(&app, "ResolvedCheckoutPage", &page.body).await;
        assert_eq!(page.body["merchant_id"], "haidilao");
        assert_eq!(
            page.body["versions"],
            json!({"checkout_page": 1, "payment_combination": 1}),
            "{}",
            page.text
        );
        assert_eq!(page.body["title"], "Checkout · Haidilao Hot Pot");

        // The sections are the published checkout page's, as they are.
        let published = app
            .get("/v1/merchants/haidilao/metadata/checkout-page/default")
            .await;
        published.assert_status(200);
        assert_eq!(page.body["sections"], published.body["published"]["sections"]);
        let section_ids: Vec<&str> = page.body["sections"]
            .as_array()
            .expect("sections")
            .iter()
            .map(|s| s["id"].as_str().expect("section id"))
            .collect();
        assert_eq!(
            section_ids,
            ["address", "delivery_time", "notes", "items_summary", "payment_methods"]
        );
        let address_fields: Vec<&str> = page.body["sections"][0]["fields"]
            .as_array()
            .expect("address fields")
            .iter()
            .map(|f| f["name"].as_str().expect("field name"))
            .collect();
        assert_eq!(address_fields, ["recipient", "phone", "street"]);

        // The enabled methods in display order, labelled from the catalog.
        assert_eq!(
            page.body["payment_methods"],
            json!([
                {"code": "alipay", "label": "Alipay", "icon": "https://orderflow.dev/icons/alipay.svg"},
                {"code": "wechat_pay", "label": "WeChat Pay", "icon": "https://orderflow.dev/icons/wechat_pay.svg"}
            ]),
            "{}",
            page.text
        );

        let xibei = app
            .get("/v1/storefront/merchants/xibei/checkout-page")
            .await;
        xibei.assert_status(200);
        assert_eq!(
            method_codes(&xibei.body["payment_methods"]),
            ["alipay", "wechat_pay", "unionpay"]
        );
        assert_eq!(xibei.body["payment_methods"][2]["label"], "UnionPay");
    }

    async fn checkout_page_is_only_for_the_merchants_own_keys(app: TestApp) {
        let haidilao_key = app.create_key("haidilao", "storefront").await;
        let xibei_key = app.create_key("xibei", "storefront").await;

        let own = app.send(Method::GET, PAGE, Some(&haidilao_key), None).await;
        own.assert_status(200);
        assert_eq!(own.body["merchant_id"], "haidilao");
        assert_eq!(method_codes(&own.body["payment_methods"]), ["alipay", "wechat_pay"]);

        let other = app.send(Method::GET, PAGE, Some(&xibei_key), None).await;
        other.assert_problem(404, "not-found");
        assert!(
            other.body.get("sections").is_none() && other.body.get("payment_methods").is_none(),
            "another tenant's page must not leak: {}",
            other.text
        );

        app.send(Method::GET, PAGE, None, None)
            .await
            .assert_problem(401, "unauthorized");
        app.send(Method::GET, PAGE, Some("not-a-real-key"), None)
            .await
            .assert_problem(401, "unauthorized");
        app.get("/v1/storefront/merchants/no-such-merchant/checkout-page")
            .await
            .assert_problem(404, "not-found");
    }

    async fn creating_an_order_prices_it_and_waits_for_payment(app: TestApp) {
        let key = app.create_key("haidilao", "storefront").await;
        let before = now_millis();
        let created = app.create_order_as(&key, &order_body("haidilao")).await;
        created.assert_status(201);
        let order = &created.body;
        let order_id = order["order_id"].as_str().expect("order_id");
        assert!(!order_id.is_empty());
        assert_eq!(order["merchant_id"], "haidilao");
        assert_eq!(order["status"], "awaiting_payment");
        assert_eq!(order["cancel_reason"], Value::Null);
        assert_eq!(order["amount_minor"], 10000);
        assert_eq!(order["final_amount_minor"], Value::Null);
        assert_eq!(order["discount"], Value::Null);
        assert_eq!(order["currency"], "CNY");
        assert_eq!(order["address"], address());
        assert_eq!(order["fields"]["delivery_time"], "asap");
        assert_eq!(order["items"][0]["quantity"], 2);
        assert_eq!(
            order["payment_methods"],
            json!([
                {"code": "alipay", "label": "Alipay", "icon": "https://orderflow.dev/icons/alipay.svg"},
                {"code": "wechat_pay", "label": "WeChat Pay", "icon": "https://orderflow.dev/icons/wechat_pay.svg"}
            ]),
            "{}",
            created.text
        );

        // The payment step of the default flow waits 300 s.
        let deadline = timestamp_millis(order["payment_deadline"].as_str().expect("payment_deadline"));
        let after = now_millis();
        assert!(
            deadline >= before + 295_000 && deadline <= after + 305_000,
            "payment_deadline {} is not ~300 s ahead: {}",
            order["payment_deadline"],
            created.text
        );

        // The storefront reads it back the same.
        let read = app
            .send(Method::GET, &format!("/v1/storefront/orders/{order_id}"), Some(&key), None)
            .await;
        read.assert_status(200);
        assert_eq!(read.body["order_id"], order_id);
        assert_eq!(read.body["status"], "awaiting_payment");
        assert_eq!(read.body["amount_minor"], 10000);
        assert_eq!(read.body["payment_deadline"], order["payment_deadline"]);

        // The amount is the sum of every line.
        let mut body = order_body("haidilao");
        body["items"] = json!([
            {"sku": "beef", "name": "Beef slices", "quantity": 3, "unit_price_minor": 5000},
            {"sku": "tofu", "name": "Frozen tofu", "quantity": 1, "unit_price_minor": 1299},
            {"sku": "tea", "name": "Free tea", "quantity": 4, "unit_price_minor": 0}
        ]);
        let several = app.create_order_as(&key, &body).await;
        several.assert_status(201);
        assert_eq!(several.body["amount_minor"], 16299);
        assert_ne!(several.body["order_id"], order_id);
    }

    async fn address_and_fields_are_validated_against_the_checkout_page(app: TestApp) {
        let key = app.create_key("haidilao", "storefront").await;
        let mut body = order_body("haidilao");
        body["address"] = json!({"phone": "call me maybe", "street": "1 Chaoyang Road"});
        body["fields"] = json!({"typo": "x", "notes": "ok"});
        app.create_order_as(&key, &body)
            .await
            .assert_violations(&["/address/phone", "/address/recipient", "/fields/typo"]);

        // A select must hold one of its options; a field type must match.
        let mut body = order_body("haidilao");
        body["fields"] = json!({"delivery_time": "tomorrow", "notes": 42});
        app.create_order_as(&key, &body)
            .await
            .assert_violations(&["/fields/delivery_time", "/fields/notes"]);

        // A missing address is three missing fields.
        let mut body = order_body("haidilao");
        body.as_object_mut().expect("object").remove("address");
        app.create_order_as(&key, &body).await.assert_violations(&[
            "/address/phone",
            "/address/recipient",
            "/address/street",
        ]);

        // Nothing was created by the rejected requests.
        let orders = app.list_all("/v1/merchants/haidilao/orders").await;
        assert!(orders.is_empty(), "rejected requests created orders: {orders:?}");
    }

    async fn order_bodies_are_validated(app: TestApp) {
        let key = app.create_key("haidilao", "storefront").await;
        let mut body = order_body("haidilao");
        body["currency"] = json!("cny");
        body["items"] = json!([
            {"sku": "beef", "name": "Beef slices", "quantity": 0, "unit_price_minor": 5000},
            {"sku": "tofu", "name": "Frozen tofu", "quantity": 1, "unit_price_minor": -1}
        ]);
        app.create_order_as(&key, &body).await.assert_violations(&[
            "/currency",
            "/items/0/quantity",
            "/items/1/unit_price_minor",
        ]);

        let mut body = order_body("haidilao");
        body["items"] = json!([]);
        app.create_order_as(&key, &body).await.assert_violations(&["/items"]);

        let mut body = order_body("haidilao");
        body["currency"] = json!("RMB1");
        body["items"][0]["quantity"] = json!(-2);
        app.create_order_as(&key, &body)
            .await
            .assert_violations(&["/currency", "/items/0/quantity"]);

        // Wrong shapes are 422 with the field's pointer too.
        let mut body = order_body("haidilao");
        body["items"][0]["quantity"] = json!("two");
        app.create_order_as(&key, &body)
            .await
            .assert_violations(&["/items/0/quantity"]);
        let mut body = order_body("haidilao");
        body["surprise"] = json!(true);
        app.create_order_as(&key, &body).await.assert_problem(422, "validation-failed");

        let orders = app.list_all("/v1/merchants/haidilao/orders").await;
        assert!(orders.is_empty(), "rejected requests created orders: {orders:?}");
    }

    async fn amounts_that_overflow_are_rejected_not_a_server_error(app: TestApp) {
        let key = app.create_key("haidilao", "storefront").await;
        let max_amount: i64 = 9_007_199_254_740_991;
        let cases = [
            // quantity × unit price overflows i64
            json!([{"sku": "gold", "name": "Gold", "quantity": 100000, "unit_price_minor": max_amount}]),
            // every line fits, their sum does not fit the amount range
            json!([
                {"sku": "gold", "name": "Gold", "quantity": 1, "unit_price_minor": max_amount},
                {"sku": "gold2", "name": "More gold", "quantity": 1, "unit_price_minor": max_amount}
            ]),
            // every line fits i64, their sum does not
            json!([
                {"sku": "a", "name": "A", "quantity": 100000, "unit_price_minor": 92_233_720_368_547_i64},
                {"sku": "b", "name": "B", "quantity": 100000, "unit_price_minor": 92_233_720_368_547_i64}
            ]),
            // the largest i64 as a price, and a quantity beyond every limit
            json!([{"sku": "a", "name": "A", "quantity": i64::MAX, "unit_price_minor": i64::MAX}]),
        ];
        for items in cases {
            let mut body = order_body("haidilao");
            body["items"] = items.clone();
            let response = app.create_order_as(&key, &body).await;
            response.assert_problem(422, "validation-failed");
            let pointers = response.error_pointers();
            assert!(
                !pointers.is_empty() && pointers.iter().all(|p| p.starts_with("/items/")),
                "{items}: {}",
                response.text
            );
        }
        // An integer beyond i64 does not even deserialize: still a 422 with its pointer.
        let raw = serde_json::to_string(&order_body("haidilao"))
            .expect("json")
            .replace("\"unit_price_minor\":5000", "\"unit_price_minor\":100000000000000000000000");
        let response = tests::execute(
            app.client
                .post(app.url("/v1/storefront/orders"))
                .bearer_auth(&key)
                .header("content-type", "application/json")
                .body(raw),
        )
        .await;
        response.assert_violations(&["/items/0/unit_price_minor"]);

        let orders = app.list_all("/v1/merchants/haidilao/orders").await;
        assert!(orders.is_empty(), "rejected requests created orders: {orders:?}");
    }

    async fn orders_for_unknown_or_foreign_merchants_are_not_found(app: TestApp) {
        app.create_order_as(ADMIN_KEY, &order_body("no-such-merchant"))
            .await
            .assert_problem(404, "not-found");
        app.create_order_as(ADMIN_KEY, &order_body("Not A Slug!"))
            .await
            .assert_problem(404, "not-found");
        let xibei_key = app.create_key("xibei", "storefront").await;
        app.create_order_as(&xibei_key, &order_body("haidilao"))
            .await
            .assert_problem(404, "not-found");
        app.send(Method::POST, "/v1/storefront/orders", None, Some(&order_body("haidilao")))
            .await
            .assert_problem(401, "unauthorized");
        let orders = app.list_all("/v1/merchants/haidilao/orders").await;
        assert!(orders.is_empty(), "{orders:?}");
    }

    async fn order_num_returns_the_existing_order_or_conflicts(app: TestApp) {
        let key = app.create_key("haidilao", "storefront").await;
        let mut body = order_body("haidilao");
        body["order_num"] = json!("table-12-0001");
        let first = app.create_order_as(&key, &body).await;
        first.assert_status(201);
        assert_eq!(first.body["order_num"], "table-12-0001");
        let order_id = first.body["order_id"].as_str().expect("order_id").to_owned();

        let again = app.create_order_as(&key, &body).await;
        again.assert_status(200);
        assert_eq!(again.body["order_id"], order_id.as_str());
        assert_eq!(again.body["order_num"], "table-12-0001");
        assert_eq!(again.body["status"], "awaiting_payment");
        assert_eq!(again.body["amount_minor"], 10000);
        assert_eq!(again.body["payment_methods"], first.body["payment_methods"]);

        let mut different = body.clone();
        different["items"][0]["quantity"] = json!(3);
        let conflict = app.create_order_as(&key, &different).await;
        conflict.assert_problem(409, "order-num-conflict");
        assert!(
            conflict.body["detail"].as_str().unwrap_or_default().contains(&order_id),
            "{}",
            conflict.text
        );

        // The order_num is per merchant: xibei may use it too.
        let mut xibei = body.clone();
        xibei["merchant_id"] = json!("xibei");
        let xibei_order = app.create_order_as(ADMIN_KEY, &xibei).await;
        xibei_order.assert_status(201);
        assert_ne!(xibei_order.body["order_id"], order_id.as_str());

        let orders = app.list_all("/v1/merchants/haidilao/orders").await;
        assert_eq!(orders.len(), 1, "{orders:?}");
        assert_eq!(orders[0]["order_id"], order_id.as_str());

        // After it was paid, the same body still answers with the (now completed) order.
        app.pay(&order_id, "alipay").await.assert_status(200);
        let after = app.create_order_as(&key, &body).await;
        after.assert_status(200);
        assert_eq!(after.body["order_id"], order_id.as_str());
        assert_eq!(after.body["status"], "completed");
    }
}
