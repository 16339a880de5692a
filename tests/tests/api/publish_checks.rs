//! What publishing demands beyond a well-formed body: schema violations at draft save (one
//! pointer each), and the cross-document checks at publish, every problem listed. A rejected
//! publish loses nothing.

use serde_json::Value;
use tests::{TestApp, json, on_both_databases};

const HAIDILAO: &str = "/v1/merchants/haidilao/metadata";

/// The default flow of the demo data, as DESIGN.md gives it.
fn default_flow() -> Value {
    json!({
      "version": "v1", "type": "flow", "timeoutSeconds": 3600,
      "steps": [
        {"type": "task", "name": "generateInfo", "action": "resolve_payment_combination"},
        {"type": "task", "name": "payment", "action": "await_payment",
         "pattern": "waitForCallback", "timeoutSeconds": 300,
         "catch": [{"errors": ["Task.Timeout"], "goto": "orderCanceled"}]},
        {"type": "task", "name": "paymentCombination", "action": "apply_discount",
         "catch": [{"errors": ["Route.NotFound", "Function.Error"], "goto": "orderCanceled"}]},
        {"type": "task", "name": "orderCompleted", "action": "complete_order", "end": true},
        {"type": "task", "name": "orderCanceled", "action": "cancel_order"}
      ]
    })
}

fn order_input(amount: i64) -> Value {
    json!({"amount_minor": amount, "currency": "CNY", "method": "alipay",
           "merchant_id": "haidilao", "items": [], "fields": {}})
}

/// Saves `draft`, expects its publish to be rejected with exactly `pointers`, then checks
/// that the draft is kept and the published version did not move.
async fn publish_is_rejected(app: &TestApp, doc: &str, draft: &Value, pointers: &[&str]) {
    let before = app.get(doc).await;
    let published_before = if before.status == 404 {
        Value::Null
    } else {
        before.body["published_version"].clone()
    };
    app.put(&format!("{doc}/draft"), draft)
        .await
        .assert_status(200);
    let rejected = app.post(&format!("{doc}/publish"), &json!({})).await;
    rejected.assert_violations(pointers);
    if pointers.len() > 1 {
        assert!(
            rejected.body["detail"]
                .as_str()
                .unwrap()
                .contains(&pointers.len().to_string()),
            "the detail should count the problems: {}",
            rejected.text
        );
    }
    let after = app.get(doc).await;
    after.assert_status(200);
    assert_eq!(
        &after.body["draft"], draft,
        "the draft must survive a rejected publish"
    );
    assert_eq!(after.body["published_version"], published_before);
    if !published_before.is_null() {
        assert_eq!(after.body["published"], before.body["published"]);
    }
}

on_both_databases! {
    async fn schema_violations_at_draft_save_have_one_pointer_each(app: TestApp) {
        let doc = format!("{HAIDILAO}/payment-combination/default");
        let bad = json!({"methods": [{"method": 7}, {"label": "x"}]});
        let response = app.put(&format!("{doc}/draft"), &bad).await;
        response.assert_violations(&["/methods/0/method", "/methods/1"]);
        assert!(response.body["detail"].as_str().unwrap().contains('2'));

        app.put(&format!("{doc}/draft"), &json!({"methods": []}))
            .await
            .assert_violations(&["/methods"]);
        app.put(&format!("{doc}/draft"), &json!({}))
            .await
            .assert_violations(&[""]);
        app.put(&format!("{doc}/draft"), &json!({"methods": [{"method": "alipay"}], "extra": 1}))
            .await
            .assert_violations(&[""]);
        app.put(&format!("{doc}/draft"), &json!({"methods": [{"method": "Ali Pay"}]}))
            .await
            .assert_violations(&["/methods/0/method"]);
        app.put(&format!("{doc}/draft"), &json!({"methods": [
                {"method": "alipay", "label": ""},
                {"method": "wechat_pay", "min_amount_minor": -5},
                {"method": "unionpay", "max_amount_minor": "100"},
            ]}))
            .await
            .assert_violations(&["/methods/0/label", "/methods/1/min_amount_minor", "/methods/2/max_amount_minor"]);

        // Other kinds point into their own shapes.
        app.put(&format!("{HAIDILAO}/routing-table/default/draft"), &json!({"rules": [{"when": {}, "function": "BAD NAME"}]}))
            .await
            .assert_violations(&["/rules/0/function", "/rules/0/when"]);
        app.put("/v1/platform/metadata/payment-method/paypal/draft", &json!({"code": "paypal", "names": {}, "online": "yes"}))
            .await
            .assert_violations(&["/names", "/online"]);
        app.put(&format!("{HAIDILAO}/discount-function/nothing/draft"), &json!({"script": 42}))
            .await
            .assert_violations(&["", "/script"]);

        // Nothing was saved by the rejected requests.
        let doc_now = app.get(&doc).await;
        assert!(doc_now.body["draft"].is_null());
        app.get(&format!("{HAIDILAO}/discount-function/nothing")).await.assert_problem(404, "not-found");
        app.get("/v1/platform/metadata/payment-method/paypal").await.assert_problem(404, "not-found");
    }

    async fn combination_methods_must_be_in_the_catalog_and_listed_once(app: TestApp) {
        let doc = format!("{HAIDILAO}/payment-combination/default");
        let draft = json!({"methods": [
            {"method": "alipay"},
            {"method": "bitcoin"},
            {"method": "alipay"},
            {"method": "unionpay", "min_amount_minor": 500, "max_amount_minor": 100}
        ]});
        publish_is_rejected(&app, &doc, &draft, &["/methods/1/method", "/methods/2/method", "/methods/3/max_amount_minor"]).await;
        // Fixing the draft makes it publishable.
        let fixed = json!({"methods": [{"method": "alipay"}, {"method": "unionpay", "min_amount_minor": 100, "max_amount_minor": 500}]});
        assert_eq!(app.publish("/v1/merchants/haidilao", "payment-combination", "default", &fixed).await, 2);
    }

    async fn an_unpublished_catalog_entry_does_not_count(app: TestApp) {
        // A payment method that is only a draft is not in the catalog.
        app.put("/v1/platform/metadata/payment-method/paypal/draft", &json!({"code": "paypal", "names": {"en": "PayPal"}, "online": true}))
            .await
            .assert_status(200);
        let doc = format!("{HAIDILAO}/payment-combination/default");
        publish_is_rejected(&app, &doc, &json!({"methods": [{"method": "paypal"}]}), &["/methods/0/method"]).await;
    }

    async fn routing_table_functions_must_be_published_and_methods_known(app: TestApp) {
        let doc = format!("{HAIDILAO}/routing-table/default");
        let draft = json!({"rules": [
            {"when": {"method": "alipay"}, "function": "ghost-discount"},
            {"when": {"method": "paypal"}, "function": "alipay-discount"},
            {"when": {"method": "wechat_pay"}, "function": "wechat-pay-discount"}
        ], "default": {"function": "also-missing"}});
        publish_is_rejected(&app, &doc, &draft, &["/rules/0/function", "/rules/1/when/method", "/default/function"]).await;

        // A function that is only a draft is not published either.
        app.put(&format!("{HAIDILAO}/discount-function/draft-only/draft"), &json!({"description": "d", "script": "order.amount_minor"}))
            .await
            .assert_status(200);
        let draft = json!({"rules": [{"when": {"method": "alipay"}, "function": "draft-only"}], "default": {"action": "cancel"}});
        publish_is_rejected(&app, &doc, &draft, &["/rules/0/function"]).await;
    }

    async fn routing_table_shadowed_rules_and_uncovered_methods(app: TestApp) {
        let doc = format!("{HAIDILAO}/routing-table/default");
        // No default: haidilao's combination enables wechat_pay, which no rule routes; the
        // second alipay rule can never match; the condition does not compile.
        let draft = json!({"rules": [
            {"when": {"method": "alipay"}, "function": "alipay-discount"},
            {"when": {"method": "alipay", "min_amount_minor": 100}, "function": "alipay-discount"},
            {"when": {"method": "unionpay", "condition": "order.amount_minor >"}, "function": "unionpay-discount"}
        ]});
        publish_is_rejected(&app, &doc, &draft, &["/rules/1", "/default", "/rules/2/when/condition"]).await;
    }

    async fn flow_must_be_well_formed(app: TestApp) {
        app.create_merchant("flowy").await;
        let doc = "/v1/merchants/flowy/metadata/order-flow/default";
        let draft = json!({"version": "v1", "type": "flow", "timeoutSeconds": 3600, "steps": [
            {"type": "task", "name": "generateInfo", "action": "resolve_payment_combination"},
            {"type": "task", "name": "payment", "action": "await_payment", "timeoutSeconds": 300,
             "catch": [{"errors": ["Task.Timeout"], "goto": "nowhere"}]},
            {"type": "task", "name": "orderCompleted", "action": "complete_order", "end": true},
            {"type": "task", "name": "payment", "action": "cancel_order"},
            {"type": "succeed", "name": "orphan"}
        ]});
        // A goto to a missing step, await_payment without its pattern, a duplicate name, and
        // two steps nothing leads to.
        publish_is_rejected(&app, doc, &draft, &[
            "/steps/1/catch/0/goto",
            "/steps/1/pattern",
            "/steps/3/name",
            "/steps/3",
            "/steps/4",
        ]).await;

        // A waiting step with no timeout anywhere, and run_function without a function.
        let mut flow = default_flow();
        flow.as_object_mut().unwrap().remove("timeoutSeconds");
        flow["steps"][1].as_object_mut().unwrap().remove("timeoutSeconds");
        flow["steps"][2]["action"] = json!("run_function");
        publish_is_rejected(&app, doc, &flow, &["/steps/1/timeoutSeconds", "/steps/2/function"]).await;

        // The default flow itself is fine.
        assert_eq!(app.publish("/v1/merchants/flowy", "order-flow", "default", &default_flow()).await, 1);
    }

    async fn platform_flow_is_checked_too(app: TestApp) {
        let doc = "/v1/platform/metadata/order-flow/default";
        let mut flow = default_flow();
        flow["steps"][2]["catch"][0]["goto"] = json!("cancelled");
        publish_is_rejected(&app, doc, &flow, &["/steps/2/catch/0/goto"]).await;
    }

    async fn payment_method_code_must_equal_its_name(app: TestApp) {
        let doc = "/v1/platform/metadata/payment-method/paypal";
        let draft = json!({"code": "pay_pal", "names": {"en": "PayPal"}, "online": true});
        publish_is_rejected(&app, doc, &draft, &["/code"]).await;
        // The catalog did not gain an entry.
        let catalog = app.get("/v1/platform/metadata/payment-method").await;
        let paypal = catalog.body["data"].as_array().unwrap().iter().find(|d| d["name"] == "paypal").cloned().expect("listed as a draft");
        assert!(paypal["published_version"].is_null());
        assert_eq!(paypal["has_draft"], true);
        // And an existing entry cannot be republished under a different code.
        let alipay = "/v1/platform/metadata/payment-method/alipay";
        let renamed = json!({"code": "wechat_pay", "names": {"en": "Alipay"}, "online": true});
        publish_is_rejected(&app, alipay, &renamed, &["/code"]).await;
    }

    async fn discount_function_must_compile_and_pass_its_tests(app: TestApp) {
        let doc = format!("{HAIDILAO}/discount-function/half-price");
        let failing = json!({"description": "Half price.", "script": "order.amount_minor / 2", "tests": [
            {"input": order_input(100), "expect": 50},
            {"input": order_input(100), "expect": 70}
        ]});
        publish_is_rejected(&app, &doc, &failing, &["/tests/1"]).await;
        // The message counts test cases from 1, like the console's table; the pointer is 0-based.
        let rejected = app.post(&format!("{doc}/publish"), &json!({})).await;
        let message = rejected.body["errors"][0]["message"].as_str().unwrap_or_default();
        assert!(message.starts_with("test 2 failed: expected 70"), "{}", rejected.text);
        let broken = json!({"description": "Broken.", "script": "let x = ;", "tests": []});
        publish_is_rejected(&app, &doc, &broken, &["/script"]).await;
        // The problem's position in the script is given as fields, for an editor to mark.
        let rejected = app.post(&format!("{doc}/publish"), &json!({})).await;
        rejected.assert_status(422);
        assert_eq!((&rejected.body["errors"][0]["line"], &rejected.body["errors"][0]["column"]), (&json!(1), &json!(9)), "{}", rejected.text);
        let failing_at_runtime = json!({"description": "Boom.", "script": "let x = 0;\norder.amount_minor / x", "tests": [
            {"input": order_input(100), "expect": 1}
        ]});
        let checked = app.post(&format!("{doc}/check"), &failing_at_runtime).await;
        assert_eq!(checked.body["problems"][0]["pointer"], "/tests/0");
        assert_eq!((&checked.body["problems"][0]["line"], &checked.body["problems"][0]["column"]), (&json!(2), &json!(20)), "{}", checked.text);
        // Problems outside a script carry no position.
        assert!(checked.body["problems"][0].get("line").is_some());
        let schema_problem = app.post(&format!("{doc}/check"), &json!({"description": 7, "script": "1"})).await;
        assert!(schema_problem.body["problems"][0].get("line").is_none(), "{}", schema_problem.text);
        let passing = json!({"description": "Half price.", "script": "order.amount_minor / 2", "tests": [
            {"input": order_input(100), "expect": 50},
            {"input": order_input(3), "expect": 1}
        ]});
        assert_eq!(app.publish("/v1/merchants/haidilao", "discount-function", "half-price", &passing).await, 1);
    }

    async fn checkout_field_patterns_must_compile(app: TestApp) {
        let doc = format!("{HAIDILAO}/checkout-page/default");
        let seeded = app.get(&doc).await;
        seeded.assert_status(200);
        let mut page = seeded.body["published"].clone();
        // The seed's address section: recipient, phone (with a pattern), street.
        assert_eq!(page["sections"][0]["fields"][1]["name"], "phone");
        page["sections"][0]["fields"][1]["constraints"]["pattern"] = json!("[a-");
        page["sections"][0]["fields"][2]["constraints"]["pattern"] = json!("^(unclosed");

        // Check names the field at its pattern's pointer; nothing is saved.
        let checked = app.post(&format!("{doc}/check"), &page).await;
        checked.assert_status(200);
        assert_eq!(checked.body["publishable"], false, "{}", checked.text);
        let problems = checked.body["problems"].as_array().expect("problems");
        let found: Vec<(&str, &str)> = problems.iter()
            .map(|p| (p["pointer"].as_str().unwrap(), p["message"].as_str().unwrap()))
            .collect();
        assert_eq!(found.len(), 2, "{}", checked.text);
        assert_eq!(found[0].0, "/sections/0/fields/1/constraints/pattern");
        assert!(found[0].1.contains("field 'phone'") && found[0].1.contains("not a valid regular expression"), "{}", found[0].1);
        assert_eq!(found[1].0, "/sections/0/fields/2/constraints/pattern");
        assert!(found[1].1.contains("field 'street'"), "{}", found[1].1);

        // Publish refuses it too, and the published page keeps taking orders.
        publish_is_rejected(&app, &doc, &page, &[
            "/sections/0/fields/1/constraints/pattern",
            "/sections/0/fields/2/constraints/pattern",
        ]).await;
        let order = app.post("/v1/storefront/orders", &tests::checkout::order_body("haidilao")).await;
        order.assert_status(201);

        // A valid pattern is enforced on orders, by the published version.
        page["sections"][0]["fields"][1]["constraints"]["pattern"] = json!("^[0-9]{11}$");
        page["sections"][0]["fields"][2]["constraints"].as_object_mut().unwrap().remove("pattern");
        assert_eq!(app.publish("/v1/merchants/haidilao", "checkout-page", "default", &page).await, 2);
        let rejected = app.post("/v1/storefront/orders", &tests::checkout::order_body("haidilao")).await;
        rejected.assert_violations(&["/address/phone"]);
        assert!(rejected.text.contains("must match the pattern ^[0-9]{11}$"), "{}", rejected.text);
        let mut body = tests::checkout::order_body("haidilao");
        body["address"]["phone"] = json!("13800000000");
        app.post("/v1/storefront/orders", &body).await.assert_status(201);
    }

    async fn publish_warns_of_methods_the_default_cancels(app: TestApp) {
        app.create_alipay_only_routed_merchant("warny", &["alipay"]).await;
        let scope = "/v1/merchants/warny/metadata";
        let warning_pointers = |body: &Value| -> Vec<String> {
            body["warnings"].as_array().expect("warnings").iter()
                .map(|w| w["pointer"].as_str().expect("pointer").to_owned()).collect()
        };
        // Every method routed: nothing to warn of.
        let table = app.get(&format!("{scope}/routing-table/default")).await.body["published"].clone();
        let checked = app.post(&format!("{scope}/routing-table/default/check"), &table).await;
        checked.assert_status(200);
        assert_eq!(warning_pointers(&checked.body), Vec::<String>::new(), "{}", checked.text);

        // Enabling WeChat Pay, which no rule routes while the default cancels: the
        // combination is publishable, with a warning at the method.
        let combination = json!({"methods": [{"method": "alipay"}, {"method": "wechat_pay"}]});
        let checked = app.post(&format!("{scope}/payment-combination/default/check"), &combination).await;
        assert_eq!(checked.body["publishable"], true, "{}", checked.text);
        assert_eq!(warning_pointers(&checked.body), ["/methods/1/method"], "{}", checked.text);
        assert!(checked.body["warnings"][0]["message"].as_str().unwrap().contains("'wechat_pay'"), "{}", checked.text);
        app.put(&format!("{scope}/payment-combination/default/draft"), &combination).await.assert_status(200);
        let published = app.post(&format!("{scope}/payment-combination/default/publish"), &json!({})).await;
        published.assert_status(201);
        assert_eq!(published.body["version"], 2);
        assert_eq!(warning_pointers(&published.body), ["/methods/1/method"], "{}", published.text);

        // The routing table's side of the pair says so too, at its default.
        let checked = app.post(&format!("{scope}/routing-table/default/check"), &table).await;
        assert_eq!(checked.body["publishable"], true, "{}", checked.text);
        assert_eq!(warning_pointers(&checked.body), ["/default"], "{}", checked.text);
        let message = checked.body["warnings"][0]["message"].as_str().unwrap();
        assert!(message.contains("'wechat_pay'") && message.contains("no_route"), "{message}");
        let rolled_back = app.post(&format!("{scope}/routing-table/default/rollback"), &json!({"version": 1})).await;
        rolled_back.assert_status(201);
        assert_eq!(warning_pointers(&rolled_back.body), ["/default"], "{}", rolled_back.text);

        // The method is still offered (the merchant chose the default), and a payment with
        // it is canceled: what the warning said.
        let order = app.create_order_from(&tests::checkout::plain_order_body("warny")).await;
        let offered: Vec<&str> = order["payment_methods"].as_array().unwrap().iter()
            .map(|m| m["code"].as_str().unwrap()).collect();
        assert_eq!(offered, ["alipay", "wechat_pay"]);
        let paid = app.pay(order["order_id"].as_str().unwrap(), "wechat_pay").await;
        paid.assert_status(200);
        assert_eq!((&paid.body["status"], &paid.body["cancel_reason"]), (&json!("canceled"), &json!("no_route")), "{}", paid.text);

        // A rule for it, or a default function, ends the warnings.
        let routed = json!({"rules": [{"when": {"method": "alipay"}, "function": "alipay-discount"}],
                            "default": {"function": "alipay-discount"}});
        app.put(&format!("{scope}/routing-table/default/draft"), &routed).await.assert_status(200);
        let published = app.post(&format!("{scope}/routing-table/default/publish"), &json!({})).await;
        published.assert_status(201);
        assert_eq!(warning_pointers(&published.body), Vec::<String>::new(), "{}", published.text);
        let checked = app.post(&format!("{scope}/payment-combination/default/check"), &combination).await;
        assert_eq!(warning_pointers(&checked.body), Vec::<String>::new(), "{}", checked.text);
        // A document that fails its schema has problems and no warnings.
        let checked = app.post(&format!("{scope}/payment-combination/default/check"), &json!({"methods": 1})).await;
        assert_eq!(checked.body["publishable"], false);
        assert_eq!(warning_pointers(&checked.body), Vec::<String>::new(), "{}", checked.text);
    }

    async fn rollback_is_checked_against_todays_documents(app: TestApp) {
        app.create_merchant("rolly").await;
        let scope = "/v1/merchants/rolly";
        app.publish(scope, "payment-combination", "default", &json!({"methods": [{"method": "alipay"}]})).await;
        app.publish(scope, "discount-function", "full", &json!({"description": "Full price.", "script": "order.amount_minor"})).await;
        // Version 1 has no default: fine while alipay is the only enabled method.
        let alipay_only = json!({"rules": [{"when": {"method": "alipay"}, "function": "full"}]});
        assert_eq!(app.publish(scope, "routing-table", "default", &alipay_only).await, 1);
        let both = json!({"rules": [
            {"when": {"method": "alipay"}, "function": "full"},
            {"when": {"method": "wechat_pay"}, "function": "full"}
        ]});
        assert_eq!(app.publish(scope, "routing-table", "default", &both).await, 2);
        // Rolling back to version 1 while nothing has changed around it works ...
        let doc = "/v1/merchants/rolly/metadata/routing-table/default";
        let rolled = app.post(&format!("{doc}/rollback"), &json!({"version": 1})).await;
        rolled.assert_status(201);
        assert_eq!(rolled.body["version"], 3);
        // ... but once the combination enables wechat_pay, version 1 would leave it unrouted.
        app.publish(scope, "payment-combination", "default", &json!({"methods": [{"method": "alipay"}, {"method": "wechat_pay"}]})).await;
        app.post(&format!("{doc}/rollback"), &json!({"version": 2})).await.assert_status(201);
        let refused = app.post(&format!("{doc}/rollback"), &json!({"version": 1})).await;
        refused.assert_violations(&["/default"]);
        let now = app.get(doc).await;
        assert_eq!(now.body["published_version"], 4);
        assert_eq!(now.body["published"], both);
        let versions = app.get(&format!("{doc}/versions")).await;
        assert_eq!(versions.body["data"].as_array().unwrap().len(), 4);
    }

    async fn check_lists_the_problems_without_publishing_or_saving(app: TestApp) {
        let doc = format!("{HAIDILAO}/routing-table/default");
        let before = app.get(&doc).await;
        before.assert_status(200);
        let table = json!({"rules": [
            {"when": {"method": "alipay"}, "function": "alipay-discount"},
            {"when": {"method": "alipay", "min_amount_minor": 100}, "function": "alipay-discount"},
            {"when": {"method": "unionpay", "condition": "order.amount_minor >"}, "function": "unionpay-discount"}
        ]});
        let checked = app.post(&format!("{doc}/check"), &table).await;
        checked.assert_status(200);
        assert_eq!(checked.body["publishable"], false);
        let mut pointers: Vec<&str> = checked.body["problems"].as_array().expect("problems")
            .iter().map(|p| p["pointer"].as_str().expect("pointer")).collect();
        pointers.sort_unstable();
        assert_eq!(pointers, ["/default", "/rules/1", "/rules/2/when/condition"], "{}", checked.text);
        assert!(checked.body["problems"][0]["message"].as_str().is_some_and(|m| !m.is_empty()));

        // Nothing was saved or published.
        let after = app.get(&doc).await;
        assert_eq!(after.body, before.body);

        // The published table passes; a schema violation is a problem too, not a 422.
        let published = before.body["published"].clone();
        let ok = app.post(&format!("{doc}/check"), &published).await;
        ok.assert_status(200);
        assert_eq!(ok.body, json!({"publishable": true, "problems": [], "warnings": []}));
        let wrong_type = app.post(&format!("{doc}/check"), &json!({"rules": "none"})).await;
        wrong_type.assert_status(200);
        assert_eq!(wrong_type.body["publishable"], false);
        assert_eq!(wrong_type.body["problems"][0]["pointer"], "/rules");
    }

    async fn check_runs_a_functions_test_cases_and_platform_checks(app: TestApp) {
        let function = json!({"description": "Half price.", "script": "order.amount_minor / 2", "tests": [
            {"input": order_input(100), "expect": 70}
        ]});
        let checked = app.post(&format!("{HAIDILAO}/discount-function/half-price/check"), &function).await;
        checked.assert_status(200);
        assert_eq!(checked.body["problems"][0]["pointer"], "/tests/0");
        // The document need not exist: nothing is stored.
        app.get(&format!("{HAIDILAO}/discount-function/half-price")).await.assert_status(404);

        let method = json!({"code": "pay_pal", "names": {"en": "PayPal"}, "online": true});
        let checked = app.post("/v1/platform/metadata/payment-method/paypal/check", &method).await;
        checked.assert_status(200);
        assert_eq!(checked.body["problems"][0]["pointer"], "/code");
        // A kind that does not exist in the scope is a 404, as for every other operation.
        app.post(&format!("{HAIDILAO}/payment-method/alipay/check"), &method)
            .await
            .assert_problem(404, "not-found");
    }
}
