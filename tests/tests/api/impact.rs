//! Impact preview: replaying past orders through a candidate document. Each scenario places
//! orders, previews a candidate, checks the preview's numbers, then publishes the candidate
//! and places the same orders again: what actually happens must be what the preview said.

use std::collections::HashMap;

use reqwest::Method;
use serde_json::Value;
use tests::checkout::address;
use tests::{ADMIN_KEY, TestApp, TestResponse, json, on_both_databases};

const MERCHANT: &str = "haidilao";
const SCOPE: &str = "/v1/merchants/haidilao";

fn impact_path(kind: &str, name: &str) -> String {
    format!("{SCOPE}/metadata/{kind}/{name}/impact")
}

/// An order to place: quantity × unit price, the street of its address, the method it pays.
#[derive(Clone, Copy)]
struct Spec {
    quantity: i64,
    unit_price: i64,
    street: &'static str,
    method: &'static str,
}

const LONG_STREET: &str = "1 Chaoyang Road, Building 3, Floor 12";
const SHORT_STREET: &str = "1 Main St";

/// Alipay at 100.00, 33.33 and 5.00; WeChat Pay at 100.00 and 7.77.
const ORDERS: [Spec; 5] = [
    Spec {
        quantity: 2,
        unit_price: 5000,
        street: LONG_STREET,
        method: "alipay",
    },
    Spec {
        quantity: 1,
        unit_price: 3333,
        street: SHORT_STREET,
        method: "alipay",
    },
    Spec {
        quantity: 1,
        unit_price: 500,
        street: LONG_STREET,
        method: "alipay",
    },
    Spec {
        quantity: 2,
        unit_price: 5000,
        street: LONG_STREET,
        method: "wechat_pay",
    },
    Spec {
        quantity: 1,
        unit_price: 777,
        street: SHORT_STREET,
        method: "wechat_pay",
    },
];

fn order_body(spec: Spec) -> Value {
    let mut address = address();
    address["street"] = json!(spec.street);
    json!({
        "merchant_id": MERCHANT,
        "currency": "CNY",
        "items": [{"sku": "hotpot", "name": "Hot pot", "quantity": spec.quantity,
                   "unit_price_minor": spec.unit_price}],
        "address": address,
        "fields": {"delivery_time": "asap", "notes": "No cilantro, please"},
    })
}

/// What happened to an order placed and paid.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Fate {
    Completed {
        final_amount: i64,
    },
    Canceled(String),
    /// The order could not be created (422).
    CreateRefused,
    /// The payment was refused (422) and the order keeps waiting.
    PaymentRefused,
}

struct Placed {
    id: Option<String>,
    amount: i64,
    fate: Fate,
}

async fn place(app: &TestApp, spec: Spec) -> Placed {
    let amount = spec.quantity * spec.unit_price;
    let created = app
        .send(
            Method::POST,
            "/v1/storefront/orders",
            Some(ADMIN_KEY),
            Some(&order_body(spec)),
        )
        .await;
    if created.status == 422 {
        return Placed {
            id: None,
            amount,
            fate: Fate::CreateRefused,
        };
    }
    created.assert_status(201);
    let id = created.body["order_id"]
        .as_str()
        .expect("order_id")
        .to_owned();
    let paid = app.pay(&id, spec.method).await;
    if paid.status == 422 {
        return Placed {
            id: Some(id),
            amount,
            fate: Fate::PaymentRefused,
        };
    }
    paid.assert_status(200);
    let fate = match paid.body["status"].as_str() {
        Some("completed") => Fate::Completed {
            final_amount: paid.body["final_amount_minor"]
                .as_i64()
                .expect("final amount"),
        },
        Some("canceled") => Fate::Canceled(
            paid.body["cancel_reason"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
        ),
        _ => panic!("unexpected payment answer: {}", paid.text),
    };
    Placed {
        id: Some(id),
        amount,
        fate,
    }
}

async fn place_all(app: &TestApp) -> Vec<Placed> {
    let mut placed = Vec::new();
    for spec in ORDERS {
        placed.push(place(app, spec).await);
    }
    placed
}

async fn preview(app: &TestApp, kind: &str, name: &str, body: &Value) -> TestResponse {
    let response = app.post(&impact_path(kind, name), body).await;
    response.assert_status(200);
    response
}

/// What the preview says will happen to `order`: its fate under the candidate.
fn predicted(preview: &Value, order: &Placed) -> Fate {
    let id = order.id.as_deref().expect("a placed order");
    if let Some(failing) = preview["failing"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["order_id"] == id)
    {
        return match failing["reason"].as_str().unwrap() {
            "script_error" => Fate::Canceled("function_error".into()),
            "no_route" => Fate::Canceled("no_route".into()),
            "method_not_offered" => Fate::PaymentRefused,
            "checkout_rejected" => Fate::CreateRefused,
            other => panic!("unknown reason {other}"),
        };
    }
    if let Some(change) = preview["largest_changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["order_id"] == id)
    {
        return Fate::Completed {
            final_amount: change["after"]["final_amount_minor"].as_i64().unwrap(),
        };
    }
    order.fate.clone()
}

fn discount(order: &Placed) -> i64 {
    match order.fate {
        Fate::Completed { final_amount } => order.amount - final_amount,
        _ => 0,
    }
}

/// The preview's counts and totals agree with `originals`, and with what placing the same
/// orders again under the published candidate did (`again`).
#[track_caller]
fn assert_preview_matches(preview: &Value, originals: &[Placed], again: &[Placed]) {
    let text = preview.to_string();
    assert_eq!(preview["orders"]["evaluated"], originals.len(), "{text}");
    let mut counts: HashMap<&str, u64> = HashMap::new();
    for (original, placed) in originals.iter().zip(again) {
        let fate = predicted(preview, original);
        // A refused payment is a refusal whatever step refuses: a combination that offers no
        // method for the amount refuses the order itself.
        let refused = |f: &Fate| matches!(f, Fate::CreateRefused | Fate::PaymentRefused);
        if fate == Fate::PaymentRefused {
            assert!(
                refused(&placed.fate),
                "{:?} predicted refused, was {:?}: {text}",
                original.id,
                placed.fate
            );
        } else {
            assert_eq!(placed.fate, fate, "order {:?}: {text}", original.id);
        }
        let class = if fate == original.fate {
            "unchanged"
        } else if matches!(fate, Fate::Completed { .. }) {
            "changed"
        } else {
            "now_failing"
        };
        *counts.entry(class).or_default() += 1;
    }
    for class in ["unchanged", "changed", "now_failing"] {
        assert_eq!(
            preview["orders"][class],
            counts.get(class).copied().unwrap_or(0),
            "{class}: {text}"
        );
    }
    let before: i64 = originals.iter().map(discount).sum();
    let after: i64 = again.iter().map(discount).sum();
    let cny = &preview["by_currency"][0];
    assert_eq!(cny["currency"], "CNY", "{text}");
    assert_eq!(cny["discount_before_minor"], before, "{text}");
    assert_eq!(cny["discount_after_minor"], after, "{text}");
    assert_eq!(cny["discount_difference_minor"], after - before, "{text}");
    // Per method, the same sums.
    for method in ["alipay", "wechat_pay"] {
        let of_method = |orders: &[Placed]| -> i64 {
            orders
                .iter()
                .zip(ORDERS)
                .filter(|(_, s)| s.method == method)
                .map(|(o, _)| discount(o))
                .sum()
        };
        let row = preview["by_payment_method"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["payment_method"] == method)
            .unwrap_or_else(|| panic!("{method}: {text}"));
        assert_eq!(
            row["discount_before_minor"],
            of_method(originals),
            "{method}: {text}"
        );
        assert_eq!(
            row["discount_after_minor"],
            of_method(again),
            "{method}: {text}"
        );
    }
    // The histogram counts the orders priced both times.
    let priced_both = originals
        .iter()
        .zip(again)
        .filter(|(o, a)| {
            matches!(o.fate, Fate::Completed { .. }) && matches!(a.fate, Fate::Completed { .. })
        })
        .count() as u64;
    let in_histogram: u64 = preview["histogram"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["orders"].as_u64().unwrap())
        .sum();
    assert_eq!(in_histogram, priced_both, "{text}");
}

/// Orders are read, never changed, by a preview.
async fn snapshot_orders(app: &TestApp, orders: &[Placed]) -> Vec<(Value, usize)> {
    let mut seen = Vec::new();
    for order in orders {
        let id = order.id.as_deref().unwrap();
        let body = app.get(&format!("/v1/orders/{id}")).await;
        body.assert_status(200);
        seen.push((body.body, app.history(id).await.len()));
    }
    seen
}

on_both_databases! {
    async fn a_discount_function_draft_previews_what_publishing_it_does(app: TestApp) {
        let originals = place_all(&app).await;
        assert!(originals.iter().all(|o| matches!(o.fate, Fate::Completed { .. })));
        let script = "if order.amount_minor < 1000 { throw \"too small for this promotion\"; }\n\
                      #{ amount_minor: percent_of(order.amount_minor, 70), label: \"Alipay: 30% off\" }";
        let draft = json!({
            "description": "Alipay pays 70%, not below 10.00",
            "script": script,
            "tests": [{"input": {"amount_minor": 10000, "currency": "CNY"},
                       "expect": {"amount_minor": 7000, "label": "Alipay: 30% off"}}]
        });
        app.put(&format!("{SCOPE}/metadata/discount-function/alipay-discount/draft"), &draft)
            .await
            .assert_status(200);
        let before_preview = snapshot_orders(&app, &originals).await;

        let response = preview(&app, "discount-function", "alipay-discount", &json!({})).await;
        let body = &response.body;
        assert_eq!(body["candidate"], "draft", "{}", response.text);
        assert_eq!(body["orders"], json!({"evaluated": 5, "unchanged": 2, "changed": 2, "now_failing": 1}), "{}", response.text);
        assert_eq!(body["failing_by_reason"], json!([{"reason": "script_error", "orders": 1}]));
        assert_eq!(body["failing"][0]["order_id"], originals[2].id.as_deref().unwrap());
        assert!(body["failing"][0]["message"].as_str().unwrap().contains("too small"), "{}", response.text);
        // 100.00: 80.00 → 70.00; 33.33: 26.66 → 23.33 (70%, half up).
        let largest = body["largest_changes"].as_array().unwrap();
        assert_eq!(largest.len(), 2, "{}", response.text);
        assert_eq!(largest[0]["order_id"], originals[0].id.as_deref().unwrap());
        assert_eq!(largest[0]["price_change_minor"], -1000);
        assert_eq!(largest[0]["before"], json!({"final_amount_minor": 8000, "discount_minor": 2000, "function": "alipay-discount", "version": 1}));
        assert_eq!(largest[0]["after"], json!({"final_amount_minor": 7000, "discount_minor": 3000, "function": "alipay-discount", "version": null}));
        assert_eq!(largest[1]["after"]["final_amount_minor"], 2333);
        assert_eq!(largest[1]["price_change_minor"], 2333 - 2666);
        assert_eq!(body["histogram"], json!([
            {"currency": "CNY", "from_minor": -9999, "to_minor": -1000, "orders": 1},
            {"currency": "CNY", "from_minor": -999, "to_minor": -100, "orders": 1},
            {"currency": "CNY", "from_minor": 0, "to_minor": 0, "orders": 2},
        ]));
        let wechat = body["by_payment_method"].as_array().unwrap().iter().find(|r| r["payment_method"] == "wechat_pay").unwrap();
        assert_eq!((wechat["evaluated"].as_u64(), wechat["unchanged"].as_u64()), (Some(2), Some(2)));
        assert_eq!(wechat["discount_difference_minor"], 0);

        // Read-only: the sampled orders and their histories are as they were.
        assert_eq!(snapshot_orders(&app, &originals).await, before_preview);

        // Publish it, place the same orders again: the preview said what happens.
        app.post(&format!("{SCOPE}/metadata/discount-function/alipay-discount/publish"), &json!({}))
            .await
            .assert_status(201);
        let again = place_all(&app).await;
        assert_preview_matches(body, &originals, &again);
    }

    async fn a_routing_table_in_the_body_previews_what_publishing_it_does(app: TestApp) {
        let originals = place_all(&app).await;
        // WeChat Pay now earns Alipay's 80%; Alipay has no rule, and the default cancels.
        let table = json!({
            "rules": [{"when": {"method": "wechat_pay"}, "function": "alipay-discount"}],
            "default": {"action": "cancel"}
        });
        let response = preview(&app, "routing-table", "default", &json!({"document": table})).await;
        let body = &response.body;
        assert_eq!(body["candidate"], "request");
        assert_eq!(body["orders"], json!({"evaluated": 5, "unchanged": 0, "changed": 2, "now_failing": 3}), "{}", response.text);
        assert_eq!(body["failing_by_reason"], json!([{"reason": "no_route", "orders": 3}]));
        // No draft was saved: the body was the candidate.
        let document = app.get(&format!("{SCOPE}/metadata/routing-table/default")).await;
        assert!(document.body["draft"].is_null(), "{}", document.text);

        app.publish(SCOPE, "routing-table", "default", &table).await;
        let again = place_all(&app).await;
        assert_preview_matches(body, &originals, &again);
    }

    async fn a_payment_combination_previews_the_methods_it_stops_offering(app: TestApp) {
        let originals = place_all(&app).await;
        let combination = json!({"methods": [{"method": "alipay", "max_amount_minor": 5000}]});
        let response = preview(&app, "payment-combination", "default", &json!({"document": combination})).await;
        let body = &response.body;
        // 100.00 by Alipay, and both WeChat Pay orders, are no longer offered.
        assert_eq!(body["orders"], json!({"evaluated": 5, "unchanged": 2, "changed": 0, "now_failing": 3}), "{}", response.text);
        assert_eq!(body["failing_by_reason"], json!([{"reason": "method_not_offered", "orders": 3}]));
        let alipay = body["by_payment_method"].as_array().unwrap().iter().find(|r| r["payment_method"] == "alipay").unwrap();
        assert_eq!(alipay["now_failing"], 1);
        assert_eq!(alipay["discount_difference_minor"], -2000, "{}", response.text);

        app.publish(SCOPE, "payment-combination", "default", &combination).await;
        let again = place_all(&app).await;
        assert_preview_matches(body, &originals, &again);
    }

    async fn a_checkout_page_previews_the_addresses_it_would_reject(app: TestApp) {
        let originals = place_all(&app).await;
        let mut page = app.get(&format!("{SCOPE}/metadata/checkout-page/default")).await.body["published"].clone();
        let sections = page["sections"].as_array_mut().unwrap();
        let address = sections.iter_mut().find(|s| s["kind"] == "address").unwrap();
        let street = address["fields"].as_array_mut().unwrap().iter_mut().find(|f| f["name"] == "street").unwrap();
        street["constraints"]["max_length"] = json!(20);
        let response = preview(&app, "checkout-page", "default", &json!({"document": page})).await;
        let body = &response.body;
        assert_eq!(body["orders"], json!({"evaluated": 5, "unchanged": 2, "changed": 0, "now_failing": 3}), "{}", response.text);
        assert_eq!(body["failing_by_reason"], json!([{"reason": "checkout_rejected", "orders": 3}]));
        assert!(body["failing"][0]["message"].as_str().unwrap().contains("/address/street"), "{}", response.text);

        app.publish(SCOPE, "checkout-page", "default", &page).await;
        let again = place_all(&app).await;
        assert_preview_matches(body, &originals, &again);
    }

    async fn the_sample_is_the_newest_orders_within_the_range(app: TestApp) {
        let originals = place_all(&app).await;
        // An order that never reached pricing (not paid) is not sampled.
        app.create_order_from(&order_body(ORDERS[0])).await;
        let candidate = json!({"document": {"rules": [], "default": {"action": "cancel"}}});
        let all = preview(&app, "routing-table", "default", &candidate).await;
        assert_eq!(all.body["orders"]["evaluated"], 5, "{}", all.text);
        assert_eq!(all.body["sample"]["limit"], 1000);

        let mut limited = candidate.clone();
        limited["sample"] = json!({"limit": 2});
        let newest = preview(&app, "routing-table", "default", &limited).await;
        assert_eq!(newest.body["orders"]["evaluated"], 2, "{}", newest.text);
        let failing: Vec<&str> = newest.body["failing"].as_array().unwrap().iter().map(|f| f["order_id"].as_str().unwrap()).collect();
        let expected: Vec<&str> = originals[3..].iter().rev().map(|o| o.id.as_deref().unwrap()).collect();
        assert_eq!(failing, expected, "the newest two, newest first");

        let mut future = candidate.clone();
        future["sample"] = json!({"created_from": "2999-01-01T00:00:00Z"});
        let none = preview(&app, "routing-table", "default", &future).await;
        assert_eq!(none.body["orders"]["evaluated"], 0, "{}", none.text);
        assert_eq!(none.body["by_currency"], json!([]));

        let mut past = candidate;
        past["sample"] = json!({"created_from": "2000-01-01T00:00:00Z", "created_to": "2999-01-01T00:00:00Z", "limit": 10000});
        let everything = preview(&app, "routing-table", "default", &past).await;
        assert_eq!(everything.body["orders"]["evaluated"], 5, "{}", everything.text);
    }

    async fn previews_are_refused_as_documented(app: TestApp) {
        let ok_table = json!({"document": {"rules": [], "default": {"action": "cancel"}}});
        // Kinds without a preview, and documents orders do not use.
        app.post(&impact_path("order-flow", "default"), &json!({})).await.assert_problem(404, "not-found");
        app.post(&impact_path("routing-table", "other"), &ok_table).await.assert_problem(404, "not-found");
        app.post(&impact_path("no-such-kind", "default"), &json!({})).await.assert_problem(404, "not-found");
        // No draft saved and none given.
        app.post(&impact_path("discount-function", "alipay-discount"), &json!({})).await.assert_problem(409, "no-draft");
        // Out of range, and malformed candidates.
        let response = app.post(&impact_path("routing-table", "default"), &json!({"document": ok_table["document"], "sample": {"limit": 10001}})).await;
        response.assert_problem(422, "validation-failed");
        assert_eq!(response.error_pointers(), vec!["/sample/limit"]);
        let response = app.post(&impact_path("routing-table", "default"), &json!({"document": {"rules": "no"}})).await;
        response.assert_problem(422, "validation-failed");
        assert!(response.error_pointers().iter().all(|p| p.starts_with("/document")), "{}", response.text);
        let response = app.post(&impact_path("discount-function", "x"), &json!({"document": {"script": "let = ;", "description": "broken", "tests": []}})).await;
        response.assert_problem(422, "validation-failed");
        assert_eq!(response.error_pointers(), vec!["/document/script"], "{}", response.text);
        let response = app.post(&impact_path("routing-table", "default"), &json!({"sample": {"created_from": "2026-01-02T00:00:00Z", "created_to": "2026-01-01T00:00:00Z"}, "document": ok_table["document"]})).await;
        response.assert_problem(422, "validation-failed");

        // Who may call is decided before the body is read.
        let storefront = app.create_key(MERCHANT, "storefront").await;
        let other_admin = {
            app.create_merchant("other-shop").await;
            app.create_key("other-shop", "merchant_admin").await
        };
        let own_admin = app.create_key(MERCHANT, "merchant_admin").await;
        for (key, status) in [(storefront.as_str(), 403), (other_admin.as_str(), 404)] {
            let response = app
                .send_raw_as(Method::POST, &impact_path("routing-table", "default"), Some(key), Some("text/plain"), "not json")
                .await;
            assert_eq!(response.status, status, "{}", response.text);
        }
        let response = app
            .send(Method::POST, &impact_path("routing-table", "default"), Some(&own_admin), Some(&ok_table))
            .await;
        response.assert_status(200);
    }
}
