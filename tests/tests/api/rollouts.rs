//! Staged rollouts: a publish to a share of new orders, ramped, promoted or aborted, with
//! orders keeping the versions they started with, and outcomes counted per version.

use reqwest::Method;
use serde_json::Value;
use tests::checkout::{order_body, percent_discount};
use tests::{ADMIN_KEY, TestApp, TestResponse, execute, json, on_both_databases};

const FUNCTION: &str = "/v1/merchants/haidilao/metadata/discount-function/alipay-discount";

fn order_id(order: &Value) -> String {
    order["order_id"].as_str().expect("order_id").to_owned()
}

/// Saves a draft of the Alipay function that makes the customer pay `percent`%.
async fn draft_alipay(app: &TestApp, percent: i64) {
    let label = format!("Alipay: pay {percent}%");
    app.put(
        &format!("{FUNCTION}/draft"),
        &percent_discount("alipay", percent, &label),
    )
    .await
    .assert_status(200);
}

async fn patch(app: &TestApp, path: &str, body: &Value) -> TestResponse {
    app.send(Method::PATCH, path, Some(ADMIN_KEY), Some(body))
        .await
}

/// Places an order (with `customer_ref` when given) and pays it with Alipay; returns the
/// order id, the final amount, and the function version its history says it pinned.
async fn checkout(app: &TestApp, customer_ref: Option<&str>) -> (String, i64, i64) {
    let mut body = order_body("haidilao");
    if let Some(customer_ref) = customer_ref {
        body["customer_ref"] = json!(customer_ref);
    }
    let id = order_id(&app.create_order_from(&body).await);
    let paid = app.pay(&id, "alipay").await;
    paid.assert_status(200);
    let final_amount = paid.body["final_amount_minor"]
        .as_i64()
        .expect("final amount");
    let history = app.history(&id).await;
    let pinned = history[0]["detail"]["pinned"]["functions"]["alipay-discount"]
        .as_i64()
        .expect("the pinned function version");
    (id, final_amount, pinned)
}

/// The value of the alipay-discount rollout's gauge for a version and status, if exported.
fn rollout_gauge(metrics: &str, version: i64, status: &str) -> Option<i64> {
    metrics
        .lines()
        .filter(|line| line.starts_with("orderflow_rollout_orders{"))
        .filter(|line| line.contains("document=\"discount-function/alipay-discount\""))
        .filter(|line| line.contains("merchant=\"haidilao\""))
        .filter(|line| line.contains(&format!("version=\"{version}\"")))
        .find(|line| line.contains(&format!("status=\"{status}\"")))
        .and_then(|line| line.rsplit(' ').next()?.parse().ok())
}

on_both_databases! {
    async fn a_rollout_splits_new_orders_and_counts_each_versions_outcomes(app: TestApp) {
        // Version 1 (seeded) makes the customer pay 80%; version 2 pays 90%.
        draft_alipay(&app, 90).await;
        let started = app.post(&format!("{FUNCTION}/rollout"), &json!({"percent": 50})).await;
        started.assert_status(201);
        let rollout = &started.body["rollout"];
        assert_eq!(rollout["state"], "active");
        assert_eq!(rollout["stable_version"], 1);
        assert_eq!(rollout["candidate_version"], 2);
        assert_eq!(rollout["percent"], 50);

        let mut by_version = [0i64; 2];
        let mut paid_by_version = [0i64; 2];
        for _ in 0..40 {
            let (_, final_amount, pinned) = checkout(&app, None).await;
            // Each order paid what the version it pinned says.
            let expected = if pinned == 1 { 8000 } else { 9000 };
            assert_eq!(final_amount, expected, "version {pinned}");
            by_version[usize::try_from(pinned - 1).unwrap()] += 1;
            paid_by_version[usize::try_from(pinned - 1).unwrap()] += final_amount;
        }
        assert!(by_version[0] > 0 && by_version[1] > 0, "{by_version:?}");

        // One order left awaiting payment, for the counts by status.
        let waiting = app.create_order("haidilao").await;
        let history = app.history(&order_id(&waiting)).await;
        let waiting_version = history[0]["detail"]["pinned"]["functions"]["alipay-discount"]
            .as_i64()
            .unwrap();

        let read = app.get(&format!("{FUNCTION}/rollout")).await;
        read.assert_status(200);
        for (arm, version) in [("stable", 1), ("candidate", 2)] {
            let outcome = &read.body["outcomes"][arm];
            let i = usize::try_from(version - 1).unwrap();
            let waiting = i64::from(waiting_version == version);
            assert_eq!(outcome["version"], version);
            assert_eq!(outcome["started"], by_version[i] + waiting, "{arm}: {outcome}");
            assert_eq!(outcome["by_status"]["completed"], by_version[i], "{arm}");
            assert_eq!(outcome["by_status"]["awaiting_payment"], waiting, "{arm}");
            assert_eq!(outcome["discount_total_minor"], by_version[i] * 10000 - paid_by_version[i], "{arm}");
            assert_eq!(outcome["average_final_amount_minor"], if version == 1 { 8000 } else { 9000 });
        }
        // The same counts in Prometheus, labelled by version, while the rollout is active.
        let metrics = app.get("/metrics").await.text;
        for (version, completed) in [(1, by_version[0]), (2, by_version[1])] {
            assert_eq!(
                rollout_gauge(&metrics, version, "completed"),
                Some(completed),
                "version {version}:\n{metrics}"
            );
        }
        let comparison = &read.body["outcomes"]["comparison"];
        assert_eq!(comparison["sample_sizes"][0], read.body["outcomes"]["stable"]["started"]);
        assert!(comparison["p_value"].as_f64().unwrap() > 0.0, "{comparison}");
    }

    async fn ramp_promote_and_abort_change_new_orders_only(app: TestApp) {
        draft_alipay(&app, 90).await;
        app.post(&format!("{FUNCTION}/rollout"), &json!({"percent": 1})).await.assert_status(201);
        // Started at 1%: an order waiting for payment now keeps what it pinned, whatever
        // happens to the rollout.
        let mut waiting = Vec::new();
        for _ in 0..5 {
            let order = app.create_order("haidilao").await;
            let history = app.history(&order_id(&order)).await;
            let pinned = history[0]["detail"]["pinned"]["functions"]["alipay-discount"].as_i64().unwrap();
            waiting.push((order_id(&order), pinned));
        }

        let ramped = patch(&app, &format!("{FUNCTION}/rollout"), &json!({"percent": 99})).await;
        ramped.assert_status(200);
        assert_eq!(ramped.body["percent"], 99);
        let stable_waiting = waiting.iter().filter(|(_, pinned)| *pinned == 1).count();
        let metrics = app.get("/metrics").await.text;
        assert_eq!(
            rollout_gauge(&metrics, 1, "awaiting_payment"),
            (stable_waiting > 0).then(|| i64::try_from(stable_waiting).unwrap()),
            "{metrics}"
        );

        let promoted = app.post(&format!("{FUNCTION}/rollout/promote"), &json!({})).await;
        promoted.assert_status(200);
        // An ended rollout leaves no series behind.
        let metrics = app.get("/metrics").await.text;
        assert_eq!(rollout_gauge(&metrics, 1, "awaiting_payment"), None, "{metrics}");
        assert_eq!(promoted.body["state"], "promoted");
        assert_eq!(promoted.body["percent"], 100);
        for _ in 0..5 {
            let (_, final_amount, pinned) = checkout(&app, None).await;
            assert_eq!((final_amount, pinned), (9000, 2));
        }
        for (id, pinned) in &waiting {
            let paid = app.pay(id, "alipay").await;
            paid.assert_status(200);
            assert_eq!(paid.body["final_amount_minor"], if *pinned == 1 { 8000 } else { 9000 });
        }

        // A second rollout (version 3 pays 70%), aborted: new orders get version 2 again.
        draft_alipay(&app, 70).await;
        let started = app.post(&format!("{FUNCTION}/rollout"), &json!({"percent": 99})).await;
        started.assert_status(201);
        assert_eq!(started.body["rollout"]["stable_version"], 2);
        let aborted = app.post(&format!("{FUNCTION}/rollout/abort"), &json!({})).await;
        aborted.assert_status(200);
        assert_eq!((aborted.body["state"].clone(), aborted.body["percent"].clone()), (json!("aborted"), json!(0)));
        for _ in 0..5 {
            let (_, final_amount, pinned) = checkout(&app, None).await;
            assert_eq!((final_amount, pinned), (9000, 2));
        }
        let document = app.get(FUNCTION).await;
        assert_eq!(document.body["published_version"], 2);
        // The aborted candidate keeps its number: the next publish is version 4.
        draft_alipay(&app, 60).await;
        let published = app.post(&format!("{FUNCTION}/publish"), &json!({})).await;
        published.assert_status(201);
        assert_eq!(published.body["version"], 4);
        let (_, final_amount, pinned) = checkout(&app, None).await;
        assert_eq!((final_amount, pinned), (6000, 4));

        let audit = app.get("/v1/merchants/haidilao/audit-log?limit=200").await;
        let actions: Vec<&str> = audit.body["data"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["name"] == "alipay-discount")
            .map(|e| e["action"].as_str().unwrap())
            .collect();
        for action in ["rollout_started", "rollout_ramped", "rollout_promoted", "rollout_aborted"] {
            assert!(actions.contains(&action), "{action} missing from {actions:?}");
        }
    }

    async fn a_customer_sees_one_version(app: TestApp) {
        draft_alipay(&app, 90).await;
        app.post(&format!("{FUNCTION}/rollout"), &json!({"percent": 50})).await.assert_status(201);
        for customer in ["customer-1", "customer-2", "customer-3"] {
            let mut versions = Vec::new();
            for _ in 0..4 {
                versions.push(checkout(&app, Some(customer)).await.2);
            }
            versions.dedup();
            assert_eq!(versions.len(), 1, "{customer} saw {versions:?}");
        }
        let mut body = order_body("haidilao");
        body["customer_ref"] = json!("x".repeat(129));
        let refused = app.post("/v1/storefront/orders", &body).await;
        refused.assert_problem(422, "validation-failed");
    }

    async fn one_rollout_at_a_time_and_clear_refusals(app: TestApp) {
        // Never had one.
        app.get(&format!("{FUNCTION}/rollout")).await.assert_status(404);
        app.post(&format!("{FUNCTION}/rollout/promote"), &json!({})).await.assert_problem(409, "no-active-rollout");
        // Nothing published for the other orders to keep.
        app.put(
            "/v1/merchants/haidilao/metadata/discount-function/new-promo/draft",
            &percent_discount("alipay", 50, "Half"),
        )
        .await
        .assert_status(200);
        app.post(
            "/v1/merchants/haidilao/metadata/discount-function/new-promo/rollout",
            &json!({"percent": 10}),
        )
        .await
        .assert_problem(409, "nothing-to-roll-out-against");

        for bad in [json!({"percent": 0}), json!({"percent": 100}), json!({"percent": "10"}), json!({})] {
            draft_alipay(&app, 90).await;
            let refused = app.post(&format!("{FUNCTION}/rollout"), &bad).await;
            assert!(matches!(refused.status, 400 | 422), "{bad}: {}", refused.text);
        }
        app.post(&format!("{FUNCTION}/rollout"), &json!({"percent": 10})).await.assert_status(201);
        draft_alipay(&app, 70).await;
        app.post(&format!("{FUNCTION}/rollout"), &json!({"percent": 10})).await.assert_problem(409, "rollout-in-progress");
        app.post(&format!("{FUNCTION}/publish"), &json!({})).await.assert_problem(409, "rollout-in-progress");
        app.post(&format!("{FUNCTION}/rollback"), &json!({"version": 1})).await.assert_problem(409, "rollout-in-progress");
        patch(&app, &format!("{FUNCTION}/rollout"), &json!({"percent": 100})).await.assert_status(422);

        // A stale ETag is refused; the current one goes through.
        let document = app.get(FUNCTION).await;
        let etag = document.body["etag"].as_str().unwrap().to_owned();
        let abort = || app.admin_request(Method::POST, &format!("{FUNCTION}/rollout/abort"));
        execute(abort().header("if-match", "\"r1\"")).await.assert_problem(412, "precondition-failed");
        execute(abort().header("if-match", &etag)).await.assert_status(200);
        app.post(&format!("{FUNCTION}/rollout/abort"), &json!({})).await.assert_problem(409, "no-active-rollout");
    }
}
