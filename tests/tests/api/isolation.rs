//! The tenant isolation matrix, built from the router's own route list (the `paths` of the
//! served OpenAPI document). Every operation is classified in [`ROUTES`]; an operation missing
//! from the table fails the test, so a new route cannot ship without its authorization being
//! checked here.
//!
//! For every operation: no key → 401 and an unknown key → 401 (public routes: neither is
//! refused). Platform-admin-only routes → 403 for merchant keys; platform reads → 403 for
//! storefront keys; a merchant's admin routes → 404 for another merchant's admin key and 403
//! for storefront keys; checkout routes → 404 for another merchant's keys. Each refusal is
//! paired with a positive control (the right key is let through), so that a 404 cannot pass
//! merely because the path names nothing.

use std::collections::BTreeSet;

use reqwest::Method;
use serde_json::Value;
use tests::checkout::order_body;
use tests::{ADMIN_KEY, TestApp, TestResponse, json, on_both_databases};

/// Who may call an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Access {
    /// No key: operations probes, and task callbacks (which authenticate by their token).
    Public,
    /// Platform admin keys only; every merchant key gets 403.
    PlatformAdmin,
    /// Platform-wide configuration any admin may read; storefront keys get 403.
    AdminRead,
    /// One merchant's configuration and orders: its admins (another merchant's admin gets
    /// 404, storefront keys 403).
    MerchantAdmin,
    /// One merchant's checkout: its storefront and admin keys (another merchant's get 404).
    Storefront,
    /// Any valid key.
    AnyKey,
}

use Access::*;

/// Every operation of the API, as `(method, path template, access)`.
///
/// A test failure saying an operation is not classified means a route was added: decide who
/// may call it and add it here.
const ROUTES: &[(&str, &str, Access)] = &[
    // Operations.
    ("GET", "/healthz", Public),
    ("GET", "/readyz", Public),
    ("GET", "/metrics", Public),
    // Schemas.
    ("GET", "/v1/schemas", AnyKey),
    ("GET", "/v1/schemas/{kind}", AnyKey),
    // Merchants and keys.
    ("GET", "/v1/me", AnyKey),
    ("GET", "/v1/merchants", AdminRead),
    ("POST", "/v1/merchants", PlatformAdmin),
    ("GET", "/v1/merchants/{merchant_id}", MerchantAdmin),
    ("GET", "/v1/merchants/{merchant_id}/overview", MerchantAdmin),
    (
        "POST",
        "/v1/merchants/{merchant_id}/api-keys",
        MerchantAdmin,
    ),
    // Platform metadata.
    (
        "PUT",
        "/v1/platform/metadata/{kind}/{name}/draft",
        PlatformAdmin,
    ),
    (
        "DELETE",
        "/v1/platform/metadata/{kind}/{name}/draft",
        PlatformAdmin,
    ),
    ("GET", "/v1/platform/metadata/{kind}/{name}", AdminRead),
    ("GET", "/v1/platform/metadata/{kind}", AdminRead),
    (
        "POST",
        "/v1/platform/metadata/{kind}/{name}/publish",
        PlatformAdmin,
    ),
    (
        "GET",
        "/v1/platform/metadata/{kind}/{name}/versions",
        AdminRead,
    ),
    (
        "GET",
        "/v1/platform/metadata/{kind}/{name}/versions/{version}",
        AdminRead,
    ),
    (
        "POST",
        "/v1/platform/metadata/{kind}/{name}/check",
        PlatformAdmin,
    ),
    (
        "POST",
        "/v1/platform/metadata/{kind}/{name}/rollback",
        PlatformAdmin,
    ),
    ("GET", "/v1/platform/audit-log", AdminRead),
    // Merchant metadata.
    (
        "PUT",
        "/v1/merchants/{merchant_id}/metadata/{kind}/{name}/draft",
        MerchantAdmin,
    ),
    (
        "DELETE",
        "/v1/merchants/{merchant_id}/metadata/{kind}/{name}/draft",
        MerchantAdmin,
    ),
    (
        "GET",
        "/v1/merchants/{merchant_id}/metadata/{kind}/{name}",
        MerchantAdmin,
    ),
    (
        "GET",
        "/v1/merchants/{merchant_id}/metadata/{kind}",
        MerchantAdmin,
    ),
    (
        "POST",
        "/v1/merchants/{merchant_id}/metadata/{kind}/{name}/publish",
        MerchantAdmin,
    ),
    (
        "GET",
        "/v1/merchants/{merchant_id}/metadata/{kind}/{name}/versions",
        MerchantAdmin,
    ),
    (
        "GET",
        "/v1/merchants/{merchant_id}/metadata/{kind}/{name}/versions/{version}",
        MerchantAdmin,
    ),
    (
        "POST",
        "/v1/merchants/{merchant_id}/metadata/{kind}/{name}/check",
        MerchantAdmin,
    ),
    (
        "POST",
        "/v1/merchants/{merchant_id}/metadata/{kind}/{name}/impact",
        MerchantAdmin,
    ),
    (
        "POST",
        "/v1/merchants/{merchant_id}/metadata/{kind}/{name}/rollback",
        MerchantAdmin,
    ),
    (
        "POST",
        "/v1/merchants/{merchant_id}/metadata/{kind}/{name}/rollout",
        MerchantAdmin,
    ),
    (
        "GET",
        "/v1/merchants/{merchant_id}/metadata/{kind}/{name}/rollout",
        MerchantAdmin,
    ),
    (
        "PATCH",
        "/v1/merchants/{merchant_id}/metadata/{kind}/{name}/rollout",
        MerchantAdmin,
    ),
    (
        "POST",
        "/v1/merchants/{merchant_id}/metadata/{kind}/{name}/rollout/promote",
        MerchantAdmin,
    ),
    (
        "POST",
        "/v1/merchants/{merchant_id}/metadata/{kind}/{name}/rollout/abort",
        MerchantAdmin,
    ),
    (
        "GET",
        "/v1/merchants/{merchant_id}/audit-log",
        MerchantAdmin,
    ),
    // Functions and routing.
    (
        "POST",
        "/v1/merchants/{merchant_id}/functions/dry-run",
        MerchantAdmin,
    ),
    (
        "POST",
        "/v1/merchants/{merchant_id}/routing/evaluate",
        MerchantAdmin,
    ),
    // Storefront.
    (
        "GET",
        "/v1/storefront/merchants/{merchant_id}/checkout-page",
        Storefront,
    ),
    ("POST", "/v1/storefront/orders", Storefront),
    ("GET", "/v1/storefront/orders/{order_id}", Storefront),
    (
        "POST",
        "/v1/storefront/orders/{order_id}/payment",
        Storefront,
    ),
    (
        "POST",
        "/v1/storefront/orders/{order_id}/cancel",
        Storefront,
    ),
    // Orders (admin).
    ("GET", "/v1/merchants/{merchant_id}/orders", MerchantAdmin),
    (
        "GET",
        "/v1/merchants/{merchant_id}/orders/stats",
        MerchantAdmin,
    ),
    ("GET", "/v1/merchants/{merchant_id}/events", MerchantAdmin),
    (
        "POST",
        "/v1/merchants/{merchant_id}/webhook-endpoints",
        MerchantAdmin,
    ),
    (
        "GET",
        "/v1/merchants/{merchant_id}/webhook-endpoints",
        MerchantAdmin,
    ),
    (
        "GET",
        "/v1/merchants/{merchant_id}/webhook-endpoints/{endpoint_id}",
        MerchantAdmin,
    ),
    (
        "PATCH",
        "/v1/merchants/{merchant_id}/webhook-endpoints/{endpoint_id}",
        MerchantAdmin,
    ),
    (
        "DELETE",
        "/v1/merchants/{merchant_id}/webhook-endpoints/{endpoint_id}",
        MerchantAdmin,
    ),
    (
        "POST",
        "/v1/merchants/{merchant_id}/webhook-endpoints/{endpoint_id}/rotate-secret",
        MerchantAdmin,
    ),
    (
        "GET",
        "/v1/merchants/{merchant_id}/webhook-endpoints/{endpoint_id}/deliveries",
        MerchantAdmin,
    ),
    (
        "POST",
        "/v1/merchants/{merchant_id}/webhook-endpoints/{endpoint_id}/deliveries",
        MerchantAdmin,
    ),
    (
        "GET",
        "/v1/merchants/{merchant_id}/webhook-endpoints/{endpoint_id}/deliveries/{delivery_id}",
        MerchantAdmin,
    ),
    (
        "POST",
        "/v1/merchants/{merchant_id}/webhook-endpoints/{endpoint_id}/test",
        MerchantAdmin,
    ),
    ("GET", "/v1/orders/{order_id}", MerchantAdmin),
    ("GET", "/v1/orders/{order_id}/history", MerchantAdmin),
    // Task callbacks.
    ("POST", "/v1/tasks/{token}/success", Public),
    ("POST", "/v1/tasks/{token}/failure", Public),
    ("POST", "/v1/tasks/{token}/heartbeat", Public),
];

/// Public routes served outside the document's `paths`.
const OUTSIDE_THE_DOCUMENT: &[(&str, &str)] = &[
    ("GET", "/openapi.json"),
    ("GET", "/docs/"),
    ("GET", "/admin/"),
];

/// Operations whose tenant is known only from the body: a new order names its merchant, so
/// a body that cannot be read names no tenant to refuse, and is answered as it is to anyone
/// who may start orders.
const TENANT_AFTER_BODY: &[(&str, &str)] = &[("POST", "/v1/storefront/orders")];

/// Bodies no operation can read, as `(what, content type, bytes)`. Not one over 1 MiB: the
/// size limit is the edge's, answered 413 to every caller before any key is looked at
/// (`hostile_input`), so that no one can make the server buffer more.
const UNREADABLE_BODIES: [(&str, &str, &[u8]); 4] = [
    ("malformed JSON", "application/json", b"{\"scope\":"),
    ("a wrong content type", "text/plain", b"{}"),
    (
        "a NUL character",
        "application/json",
        b"{\"name\": \"a\\u0000b\"}",
    ),
    (
        "a number beyond 64 bits",
        "application/json",
        b"{\"version\": 123456789012345678901234567890}",
    ),
];

/// A well-formed key that no one was ever given.
const UNKNOWN_KEY: &str = "ofk_isolationMatrixUnknownKey0000000000000000";

const HTTP_METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "patch", "head", "options", "trace",
];

/// The merchant whose resources the paths name.
const OWNER: &str = "haidilao";
/// The other tenant.
const OTHER: &str = "xibei";

/// A request body valid enough to get past shape validation, for the routes that validate
/// their body before authorizing (typed JSON extractors run before the handler).
fn body_for(method: &str, template: &str) -> Option<Value> {
    let body = match (method, template) {
        ("GET" | "DELETE", _) => return None,
        ("POST", "/v1/merchants") => json!({"id": "matrix-merchant", "name": "Matrix"}),
        (_, t) if t.ends_with("/api-keys") => json!({"scope": "storefront"}),
        (_, t) if t.starts_with("/v1/platform/") && t.ends_with("/draft") => json!({
            "code": "alipay", "names": {"en": "Alipay"}, "online": true
        }),
        (_, t) if t.starts_with("/v1/platform/") && t.ends_with("/check") => json!({
            "code": "alipay", "names": {"en": "Alipay"}, "online": true
        }),
        (_, t) if t.ends_with("/draft") || t.ends_with("/check") => {
            json!({"methods": [{"method": "alipay"}]})
        }
        (_, t) if t.ends_with("/rollback") => json!({"version": 1}),
        (_, t) if t.ends_with("/rollout") => json!({"percent": 10}),
        ("POST", t) if t.ends_with("/webhook-endpoints") => json!({
            "url": "http://127.0.0.1:9/hook", "event_types": ["order.paid"],
        }),
        (_, t) if t.ends_with("/functions/dry-run") => json!({
            "name": "alipay-discount",
            "input": {"amount_minor": 10000, "currency": "CNY", "method": "alipay",
                      "merchant_id": OWNER, "items": [], "fields": {}},
        }),
        (_, t) if t.ends_with("/routing/evaluate") => json!({
            "order": {"amount_minor": 10000, "currency": "CNY", "items": [], "fields": {}},
            "payment_method": "alipay",
        }),
        ("POST", "/v1/storefront/orders") => order_body(OWNER),
        (_, t) if t.ends_with("/payment") => json!({"payment_method": "alipay"}),
        (_, t) if t.ends_with("/success") => json!({"output": {}}),
        (_, t) if t.ends_with("/failure") => {
            json!({"error": "Payment.Declined", "cause": "matrix"})
        }
        _ => json!({}),
    };
    Some(body)
}

/// Real resources of [`OWNER`]'s, to name in paths.
struct Owned {
    order_id: String,
    /// A webhook endpoint, and two more for the operation that deletes one (once per key
    /// let through).
    endpoint_id: String,
    doomed_endpoint_ids: [String; 2],
    /// An event of the order's, and a delivery of it to `endpoint_id`.
    event_id: String,
    delivery_id: String,
}

/// The path with its parameters filled in with real resources of [`OWNER`].
fn fill(method: &str, template: &str, owned: &Owned) -> Result<String, String> {
    let platform = template.starts_with("/v1/platform/");
    let mut path = String::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let close = rest[open..]
            .find('}')
            .map(|i| open + i)
            .ok_or_else(|| format!("unbalanced braces in {template}"))?;
        path.push_str(&rest[..open]);
        let value = match &rest[open + 1..close] {
            "merchant_id" => OWNER,
            "order_id" => owned.order_id.as_str(),
            "endpoint_id" if method == "DELETE" => owned.doomed_endpoint_ids[0].as_str(),
            "endpoint_id" => owned.endpoint_id.as_str(),
            "delivery_id" => owned.delivery_id.as_str(),
            "kind" if platform => "payment-method",
            "name" if platform => "alipay",
            "kind" => "payment-combination",
            "name" => "default",
            "version" => "1",
            "token" => "no-such-task-token",
            other => {
                return Err(format!(
                    "{template}: no value for the path parameter {{{other}}}; teach fill() one"
                ));
            }
        };
        path.push_str(value);
        rest = &rest[close + 1..];
    }
    path.push_str(rest);
    Ok(path)
}

/// One operation, concrete.
struct Route {
    method: Method,
    template: String,
    path: String,
    body: Option<Value>,
    access: Access,
}

/// What a cell expects.
#[derive(Debug, Clone, Copy)]
enum Expect {
    Status(u16),
    /// Let through: anything but 401, 403, 404 or a 5xx.
    Allowed,
    /// Not refused for want of a key: anything but 401, 403 or a 5xx.
    NotRefused,
}

struct Matrix<'a> {
    app: &'a TestApp,
    cells: usize,
    failures: Vec<String>,
}

impl Matrix<'_> {
    async fn check(&mut self, route: &Route, who: &str, key: Option<&str>, expect: Expect) {
        // Discarding a draft needs one: each positive control saves it first.
        if matches!(expect, Expect::Allowed)
            && route.method == Method::DELETE
            && route.template.ends_with("/draft")
        {
            let draft = body_for("PUT", &route.template);
            self.app
                .send(Method::PUT, &route.path, Some(ADMIN_KEY), draft.as_ref())
                .await
                .assert_status(200);
        }
        let response = self
            .app
            .send(route.method.clone(), &route.path, key, route.body.as_ref())
            .await;
        self.cells += 1;
        if let Some(problem) = mismatch(&response, expect) {
            self.failures.push(format!(
                "{} {} ({}, {:?}) as {who}: {problem}; body: {}",
                route.method,
                route.path,
                route.template,
                route.access,
                truncate(&response.text)
            ));
        }
    }
}

fn mismatch(response: &TestResponse, expect: Expect) -> Option<String> {
    let status = response.status;
    match expect {
        Expect::Status(expected) if status != expected => {
            Some(format!("expected {expected}, got {status}"))
        }
        Expect::Status(expected) => {
            let content_type = response.header("content-type").unwrap_or_default();
            if expected >= 400 && content_type != "application/problem+json" {
                return Some(format!(
                    "a {expected} that is not problem+json ({content_type:?})"
                ));
            }
            let problem_type = match expected {
                401 => Some("unauthorized"),
                403 => Some("forbidden"),
                404 => Some("not-found"),
                _ => None,
            }
            .map(|slug| format!("https://orderflow.dev/problems/{slug}"));
            if let Some(problem_type) = problem_type
                && response.body["type"] != problem_type.as_str()
            {
                return Some(format!("a {expected} whose type is not {problem_type}"));
            }
            if expected == 401 && response.header("www-authenticate") != Some("Bearer") {
                return Some("a 401 without `WWW-Authenticate: Bearer`".into());
            }
            None
        }
        Expect::Allowed if matches!(status, 401 | 403 | 404) || status >= 500 => {
            Some(format!("expected to be let through, got {status}"))
        }
        Expect::NotRefused if matches!(status, 401 | 403) || status >= 500 => {
            Some(format!("a public route answered {status}"))
        }
        _ => None,
    }
}

fn truncate(text: &str) -> String {
    text.chars().take(300).collect()
}

on_both_databases! {
    async fn every_route_refuses_other_tenants_and_missing_keys(app: TestApp) {
        // The route list, from the router itself.
        let document = app.send(Method::GET, "/openapi.json", None, None).await;
        document.assert_status(200);
        let paths = document.body["paths"].as_object().expect("paths in /openapi.json");
        let mut served = Vec::new();
        for (template, item) in paths {
            for method in HTTP_METHODS {
                if item.get(method).is_some() {
                    served.push((method.to_ascii_uppercase(), template.clone()));
                }
            }
        }
        let unclassified: Vec<String> = served
            .iter()
            .filter(|(m, t)| !ROUTES.iter().any(|(rm, rt, _)| rm == m && rt == t))
            .map(|(m, t)| format!("{m} {t}"))
            .collect();
        assert!(
            unclassified.is_empty(),
            "these operations are not in the isolation matrix: {unclassified:#?}\n\
             Classify each new route in ROUTES in tests/tests/isolation.rs (who may call it?)."
        );
        // What the document tells SDK users about who may call (each operation's security
        // requirement, with the key scopes as its roles) is what this matrix enforces.
        let mut misdeclared = Vec::new();
        for (method, template) in &served {
            let Some((_, _, access)) = ROUTES.iter().find(|(m, t, _)| m == method && t == template) else {
                continue;
            };
            let operation = &paths[template.as_str()][method.to_ascii_lowercase().as_str()];
            let declared: Option<BTreeSet<&str>> = operation["security"].as_array().map(|requirements| {
                requirements
                    .iter()
                    .flat_map(|r| r["bearer"].as_array().into_iter().flatten())
                    .filter_map(Value::as_str)
                    .collect()
            });
            let expected: Option<BTreeSet<&str>> = match access {
                Public => None,
                PlatformAdmin => Some(["platform_admin"].into()),
                AdminRead | MerchantAdmin => Some(["platform_admin", "merchant_admin"].into()),
                Storefront | AnyKey => Some(["platform_admin", "merchant_admin", "storefront"].into()),
            };
            if declared != expected {
                misdeclared.push(format!("{method} {template}: declares {declared:?}, the matrix enforces {expected:?}"));
            }
            // The generators carry descriptions into docstrings, not security requirements:
            // the description says the same.
            let description = operation["description"].as_str().unwrap_or_default();
            let says = match &expected {
                None => description.contains("Who may call: anyone; the operation takes no API key."),
                Some(scopes) => description.contains("Who may call: API keys with scope ")
                    && scopes.iter().all(|scope| description.contains(&format!("`{scope}`"))),
            };
            if !says {
                misdeclared.push(format!("{method} {template}: its description does not say who may call: {description:?}"));
            }
        }
        assert!(misdeclared.is_empty(), "{misdeclared:#?}");
        let served_set: BTreeSet<(&str, &str)> =
            served.iter().map(|(m, t)| (m.as_str(), t.as_str())).collect();
        let stale: Vec<String> = ROUTES
            .iter()
            .filter(|(m, t, _)| !served_set.contains(&(*m, *t)))
            .map(|(m, t, _)| format!("{m} {t}"))
            .collect();
        assert!(
            stale.is_empty(),
            "ROUTES in tests/tests/isolation.rs lists operations the router no longer has: \
             {stale:#?}; remove them"
        );

        // Keys of both tenants, and an order of the owner's.
        let owner_admin = app.create_key(OWNER, "merchant_admin").await;
        let owner_storefront = app.create_key(OWNER, "storefront").await;
        let other_admin = app.create_key(OTHER, "merchant_admin").await;
        let other_storefront = app.create_key(OTHER, "storefront").await;
        let created = app
            .send(Method::POST, "/v1/storefront/orders", Some(&owner_storefront), Some(&order_body(OWNER)))
            .await;
        created.assert_status(201);
        let endpoint = || async {
            let created = app
                .post(
                    &format!("/v1/merchants/{OWNER}/webhook-endpoints"),
                    &json!({"url": "http://127.0.0.1:9/hook", "event_types": ["order.paid"]}),
                )
                .await;
            created.assert_status(201);
            created.body["id"].as_str().expect("id").to_owned()
        };
        let order_id = created.body["order_id"].as_str().expect("order_id").to_owned();
        let endpoint_id = endpoint().await;
        let events = app.get(&format!("/v1/merchants/{OWNER}/events?order_id={order_id}")).await;
        let event_id = events.body["data"][0]["id"].as_str().expect("an event").to_owned();
        let delivery = app
            .post(
                &format!("/v1/merchants/{OWNER}/webhook-endpoints/{endpoint_id}/deliveries"),
                &json!({"event_id": event_id}),
            )
            .await;
        delivery.assert_status(201);
        // A rollout of the payment combination, so that reading it has something to find.
        let combination = format!("/v1/merchants/{OWNER}/metadata/payment-combination/default");
        app.put(&format!("{combination}/draft"), &json!({"methods": [{"method": "alipay"}]}))
            .await
            .assert_status(200);
        app.post(&format!("{combination}/rollout"), &json!({"percent": 10}))
            .await
            .assert_status(201);
        let owned = Owned {
            order_id,
            endpoint_id,
            doomed_endpoint_ids: [endpoint().await, endpoint().await],
            event_id,
            delivery_id: delivery.body["id"].as_str().expect("id").to_owned(),
        };

        let mut routes: Vec<Route> = served
            .iter()
            .map(|(method, template)| {
                let access = ROUTES
                    .iter()
                    .find(|(m, t, _)| m == method && t == template)
                    .map(|(_, _, access)| *access)
                    .expect("classified above");
                Route {
                    method: Method::from_bytes(method.as_bytes()).expect("an HTTP method"),
                    path: fill(method, template, &owned).unwrap_or_else(|e| panic!("{e}")),
                    body: match (method.as_str(), template.as_str()) {
                        // Any event of the owner's may be delivered by hand.
                        ("POST", t) if t.ends_with("/deliveries") => {
                            Some(json!({"event_id": owned.event_id}))
                        }
                        _ => body_for(method, template),
                    },
                    template: template.clone(),
                    access,
                }
            })
            .collect();
        for (method, path) in OUTSIDE_THE_DOCUMENT {
            routes.push(Route {
                method: Method::from_bytes(method.as_bytes()).expect("an HTTP method"),
                template: (*path).to_owned(),
                path: (*path).to_owned(),
                body: None,
                access: Public,
            });
        }

        let mut matrix = Matrix { app: &app, cells: 0, failures: Vec::new() };
        // Who is refused each kind of operation, and how.
        let refusals = |access: Access| -> Vec<(&str, Option<&str>, u16)> {
            let mut cells = vec![("no key", None, 401), ("an unknown key", Some(UNKNOWN_KEY), 401)];
            cells.extend(match access {
                Public | AnyKey => vec![],
                PlatformAdmin => vec![
                    ("the owner's merchant_admin key", Some(owner_admin.as_str()), 403),
                    ("the other merchant's merchant_admin key", Some(other_admin.as_str()), 403),
                    ("the owner's storefront key", Some(owner_storefront.as_str()), 403),
                ],
                AdminRead => vec![
                    ("the owner's storefront key", Some(owner_storefront.as_str()), 403),
                    ("the other merchant's storefront key", Some(other_storefront.as_str()), 403),
                ],
                MerchantAdmin => vec![
                    ("the other merchant's merchant_admin key", Some(other_admin.as_str()), 404),
                    ("the owner's storefront key", Some(owner_storefront.as_str()), 403),
                    ("the other merchant's storefront key", Some(other_storefront.as_str()), 403),
                ],
                Storefront => vec![
                    ("the other merchant's storefront key", Some(other_storefront.as_str()), 404),
                    ("the other merchant's merchant_admin key", Some(other_admin.as_str()), 404),
                ],
            });
            cells
        };
        // Refusals first: they change nothing, so every one sees the seeded state.
        for route in &routes {
            if route.access == Public {
                matrix.check(route, "no key", None, Expect::NotRefused).await;
                matrix.check(route, "an unknown key", Some(UNKNOWN_KEY), Expect::NotRefused).await;
                continue;
            }
            for (who, key, status) in refusals(route.access) {
                matrix.check(route, who, key, Expect::Status(status)).await;
            }
        }
        // The same refusals with a body that is wrong for the operation: who may call it is
        // decided before what they sent, so a refused caller learns nothing from a 422.
        // Except where only the body names the tenant (TENANT_AFTER_BODY).
        for route in routes.iter().filter(|r| {
            r.body.is_some()
                && r.access != Public
                && !TENANT_AFTER_BODY.contains(&(r.method.as_str(), r.template.as_str()))
        }) {
            let wrong_body = Route {
                method: route.method.clone(),
                template: route.template.clone(),
                path: route.path.clone(),
                body: Some(json!({"unexpected": [1]})),
                access: route.access,
            };
            for (who, key, status) in refusals(route.access) {
                matrix.check(&wrong_body, who, key, Expect::Status(status)).await;
            }
        }
        // And with bodies the server cannot even read: the same refusals, never the 400,
        // 413, 415 or 422 that would tell a refused caller how its body fared.
        for route in routes.iter().filter(|r| {
            r.body.is_some()
                && r.access != Public
                && !TENANT_AFTER_BODY.contains(&(r.method.as_str(), r.template.as_str()))
        }) {
            for (what, content_type, body) in UNREADABLE_BODIES {
                for (who, key, status) in refusals(route.access) {
                    let response = app
                        .send_raw_as(route.method.clone(), &route.path, key, Some(content_type), body.to_vec())
                        .await;
                    matrix.cells += 1;
                    if let Some(problem) = mismatch(&response, Expect::Status(status)) {
                        matrix.failures.push(format!(
                            "{} {} with {what} as {who}: {problem}; body: {}",
                            route.method,
                            route.path,
                            truncate(&response.text)
                        ));
                    }
                }
            }
        }
        // Positive controls: the right keys are let through, so the refusals above were
        // about the key, not about a path that names nothing. Some of these write (a draft,
        // a publish, a payment); later ones may then answer 409, which still lets them in.
        for route in &routes {
            match route.access {
                Public => {}
                PlatformAdmin => {
                    matrix.check(route, "the platform admin key", Some(ADMIN_KEY), Expect::Allowed).await;
                }
                AdminRead => {
                    matrix.check(route, "the owner's merchant_admin key", Some(&owner_admin), Expect::Allowed).await;
                    matrix.check(route, "the platform admin key", Some(ADMIN_KEY), Expect::Allowed).await;
                }
                MerchantAdmin => {
                    matrix.check(route, "the owner's merchant_admin key", Some(&owner_admin), Expect::Allowed).await;
                    // What the first key deleted is gone: the second deletes another.
                    let next = Route {
                        method: route.method.clone(),
                        template: route.template.clone(),
                        path: route.path.replace(&owned.doomed_endpoint_ids[0], &owned.doomed_endpoint_ids[1]),
                        body: route.body.clone(),
                        access: route.access,
                    };
                    matrix.check(&next, "the platform admin key", Some(ADMIN_KEY), Expect::Allowed).await;
                }
                Storefront => {
                    matrix.check(route, "the owner's storefront key", Some(&owner_storefront), Expect::Allowed).await;
                    matrix.check(route, "the owner's merchant_admin key", Some(&owner_admin), Expect::Allowed).await;
                    matrix.check(route, "the platform admin key", Some(ADMIN_KEY), Expect::Allowed).await;
                }
                AnyKey => {
                    for (who, key) in [
                        ("the owner's storefront key", owner_storefront.as_str()),
                        ("the other merchant's merchant_admin key", other_admin.as_str()),
                        ("the platform admin key", ADMIN_KEY),
                    ] {
                        matrix.check(route, who, Some(key), Expect::Status(200)).await;
                    }
                }
            }
        }

        println!(
            "isolation matrix ({:?}): {} operations ({} in the document), {} cells",
            app.backend,
            routes.len(),
            served.len(),
            matrix.cells
        );
        assert!(
            matrix.failures.is_empty(),
            "{} of {} cells failed:\n{}",
            matrix.failures.len(),
            matrix.cells,
            matrix.failures.join("\n")
        );
        assert!(
            matrix.cells >= routes.len() * 2,
            "only {} cells for {} operations",
            matrix.cells,
            routes.len()
        );
    }
}
