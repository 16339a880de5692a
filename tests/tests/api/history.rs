//! Every kind of history entry, produced by real flows and checked against the served
//! document (`TestApp::history` validates each entry it reads): a choice, a pass, a wait, a
//! retried, heartbeaten callback, a discount function that throws, and a `fail` step.

use std::collections::BTreeSet;

use migrations::MigratorTrait;
use sea_orm::{ConnectionTrait, Statement};
use serde_json::Value;
use tests::checkout::{POLL_INTERVAL, POLL_LIMIT, order_body, percent_discount};
use tests::documented::history_violations;
use tests::{TestApp, json, on_both_databases};

/// An order of this amount makes the merchant's Alipay function throw.
const THROWING_AMOUNT: i64 = 4321;

/// A flow with one step of each type, a retry on `Review.Busy` and a catch for function
/// errors; an order whose notes say `big` ends at the `fail` step.
fn every_step_flow() -> Value {
    json!({
        "version": "v1", "type": "flow", "timeoutSeconds": 3600,
        "steps": [
            {"type": "task", "name": "generateInfo", "action": "resolve_payment_combination"},
            {"type": "task", "name": "payment", "action": "await_payment",
             "pattern": "waitForCallback", "timeoutSeconds": 300,
             "catch": [{"errors": ["Task.Timeout"], "goto": "orderCanceled"}]},
            {"type": "choice", "name": "size",
             "choices": [{"condition": "order.fields.notes == \"big\"", "goto": "tooBig"}],
             "default": "note"},
            {"type": "pass", "name": "note",
             "outputMappings": [{"target": "noted", "source": "$context.step.name"}]},
            {"type": "wait", "name": "pause", "seconds": 1},
            {"type": "task", "name": "review", "action": "await_callback",
             "pattern": "waitForCallback", "timeoutSeconds": 60,
             "inputMappings": [{"target": "token", "source": "$context.task.token"}],
             "retry": [{"errors": ["Review.Busy"], "maxAttempts": 2, "intervalSeconds": 0}]},
            {"type": "task", "name": "paymentCombination", "action": "apply_discount",
             "catch": [{"errors": ["Function.Error"], "goto": "orderCanceled"}]},
            {"type": "task", "name": "orderCompleted", "action": "complete_order", "goto": "done"},
            {"type": "succeed", "name": "done"},
            {"type": "fail", "name": "tooBig", "error": "Order.TooBig", "cause": "too big to serve"},
            {"type": "task", "name": "orderCanceled", "action": "cancel_order"}
        ]
    })
}

/// Reads the history until `step`'s task token of attempt `attempt` shows, and returns it.
async fn review_token(app: &TestApp, id: &str, attempt: i64) -> String {
    let started = std::time::Instant::now();
    loop {
        let history = app.history(id).await;
        let token = history.iter().find_map(|e| {
            (e["type"] == "TaskScheduled"
                && e["step"] == "review"
                && e["detail"]["attempt"] == attempt)
                .then(|| e["detail"]["input"]["token"].as_str().map(str::to_owned))
                .flatten()
        });
        if let Some(token) = token {
            return token;
        }
        assert!(
            started.elapsed() < POLL_LIMIT,
            "no review attempt {attempt}: {history:?}"
        );
        tokio::time::sleep(POLL_INTERVAL).await;
    }
}

async fn callback(app: &TestApp, token: &str, outcome: &str, body: Option<&Value>) {
    app.send(
        reqwest::Method::POST,
        &format!("/v1/tasks/{token}/{outcome}"),
        None,
        body,
    )
    .await
    .assert_status(200);
}

/// The check each history read makes does catch a detail that drifts from its schema.
async fn assert_drift_is_caught(app: &TestApp, history: &[Value]) {
    let evaluated = history
        .iter()
        .find(|e| e["type"] == "FunctionEvaluated")
        .expect("a FunctionEvaluated entry");
    let mut unknown_field = evaluated.clone();
    unknown_field["detail"]["surprise"] = json!(1);
    let mut wrong_type = evaluated.clone();
    wrong_type["detail"]["rule"] = json!("first");
    let mut renamed = evaluated.clone();
    renamed["type"] = json!("FunctionRan");
    for entry in [unknown_field, wrong_type, renamed] {
        assert!(
            !history_violations(app, std::slice::from_ref(&entry))
                .await
                .is_empty(),
            "{entry} passed the check"
        );
    }
}

/// Creates a haidilao order with `notes` and `amount`, pays it with Alipay, and runs its
/// review (failing it once with `Review.Busy`, then a heartbeat and success) unless the
/// choice ends it first; returns its history.
async fn run_order(app: &TestApp, notes: &str, amount: i64) -> Vec<Value> {
    let mut body = order_body("haidilao");
    body["fields"]["notes"] = json!(notes);
    body["items"] =
        json!([{"sku": "beef", "name": "Beef slices", "quantity": 1, "unit_price_minor": amount}]);
    let id = app.create_order_from(&body).await["order_id"]
        .as_str()
        .expect("order_id")
        .to_owned();
    app.pay(&id, "alipay").await.assert_status(200);
    if notes != "big" {
        let token = review_token(app, &id, 1).await;
        callback(
            app,
            &token,
            "failure",
            Some(&json!({"error": "Review.Busy", "cause": "later"})),
        )
        .await;
        let token = review_token(app, &id, 2).await;
        callback(app, &token, "heartbeat", None).await;
        callback(
            app,
            &token,
            "success",
            Some(&json!({"output": {"approved": true}})),
        )
        .await;
    }
    let order = app.order(&id).await;
    assert!(
        matches!(order["status"].as_str(), Some("completed" | "canceled")),
        "{order}"
    );
    app.history(&id).await
}

fn kinds_of(history: &[Value]) -> BTreeSet<String> {
    history
        .iter()
        .map(|e| e["type"].as_str().expect("type").to_owned())
        .collect()
}

on_both_databases! {
    async fn every_kind_of_history_entry_matches_the_document(app: TestApp) {
        app.publish_flow("haidilao", &every_step_flow()).await;
        let mut function = percent_discount("alipay", 80, "Alipay: 20% off");
        function["script"] = json!(format!(
            "if order.amount_minor == {THROWING_AMOUNT} {{ throw \"boom\" }}\n{}",
            function["script"].as_str().expect("script")
        ));
        app.publish("/v1/merchants/haidilao", "discount-function", "alipay-discount", &function).await;

        let completed = run_order(&app, "asap", 10_000).await;
        assert_drift_is_caught(&app, &completed).await;
        let mut kinds = kinds_of(&completed);
        kinds.extend(kinds_of(&run_order(&app, "asap", THROWING_AMOUNT).await));
        kinds.extend(kinds_of(&run_order(&app, "big", 10_000).await));
        // The rest (timeouts, cancels, the history's cap) come from the tests of those.
        for kind in [
            "ExecutionStarted", "StepEntered", "TaskScheduled", "TaskSucceeded", "TaskFailed",
            "TaskHeartbeat", "TaskRetryScheduled", "ChoiceSelected", "FunctionEvaluated",
            "ErrorCaught", "ExecutionSucceeded", "ExecutionFailed",
        ] {
            assert!(kinds.contains(kind), "no {kind} in {kinds:?}");
        }
    }
}

on_both_databases! {
    async fn history_recorded_before_the_upgrade_reads_the_same_after_it(app: TestApp) {
        let order = app.create_order("haidilao").await;
        let id = order["order_id"].as_str().expect("order_id");
        app.pay(id, "alipay").await.assert_status(200);
        let before = app.history(id).await;
        assert!(before.len() > 5, "{before:?}");

        // The database as the previous version left it: one row per history entry.
        let db = sea_orm::Database::connect(app.database_url()).await.expect("connect");
        migrations::Migrator::down(&db, Some(1)).await.expect("one step down");
        assert_eq!(count_rows(&db, "execution_events").await.ok(), Some(before.len()));

        // A move that fails half-way (here on an entry whose detail is not JSON) leaves the
        // database as it was, so that the next start can try again.
        let backend = db.get_database_backend();
        let set_detail = |detail: &str| {
            Statement::from_sql_and_values(
                backend,
                match backend {
                    sea_orm::DbBackend::Postgres => {
                        "UPDATE execution_events SET detail = $1 WHERE seq = (SELECT MAX(seq) FROM execution_events)"
                    }
                    _ => "UPDATE execution_events SET detail = ? WHERE seq = (SELECT MAX(seq) FROM execution_events)",
                },
                [detail.into()],
            )
        };
        let last = before.last().expect("an entry");
        db.execute_raw(set_detail("not JSON")).await.expect("spoil an entry");
        assert!(migrations::Migrator::up(&db, None).await.is_err(), "the move must fail");
        assert_eq!(count_rows(&db, "execution_events").await.ok(), Some(before.len()));
        assert!(count_rows(&db, "execution_history").await.is_err(), "no half-made table");
        db.execute_raw(set_detail(&last["detail"].to_string())).await.expect("mend it");
        let _ = db.close().await;

        // Starting the new version again moves them.
        let upgraded = TestApp::spawn_on(app.backend, app.database_url(), false).await;
        assert_eq!(upgraded.history(id).await, before);
        let more = upgraded.create_order("haidilao").await;
        let more = more["order_id"].as_str().expect("order_id");
        upgraded.pay(more, "alipay").await.assert_status(200);
        assert_eq!(upgraded.history(more).await.len(), before.len());
    }
}

/// How many rows `table` holds; an error when it does not exist.
async fn count_rows(
    db: &sea_orm::DatabaseConnection,
    table: &str,
) -> Result<usize, sea_orm::DbErr> {
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            format!("SELECT COUNT(*) FROM {table}"),
        ))
        .await?
        .ok_or_else(|| sea_orm::DbErr::RecordNotFound(table.to_owned()))?;
    Ok(usize::try_from(row.try_get_by_index::<i64>(0)?).unwrap_or(usize::MAX))
}
