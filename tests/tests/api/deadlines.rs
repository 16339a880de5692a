//! A callback after its task's deadline is refused, whether or not the timeout timer has
//! fired: timers can be late (a busy timer loop, a restart with overdue timers). These apps
//! fire no timers (`ORDERFLOW_TIMERS=false`), so every timeout here is the request's doing.

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};
use tests::checkout::{events, flow_exposing_payment_token, review_flow, task_token};
use tests::{Backend, TestApp};

async fn app_without_timers(backend: Backend) -> Option<TestApp> {
    let app = TestApp::spawn_configured(backend, |config| config.timers = false).await;
    if app.is_none() {
        eprintln!("ORDERFLOW_TEST_DATABASE_URL is not set: PostgreSQL half skipped");
    }
    app
}

fn order_id(order: &Value) -> String {
    order["order_id"].as_str().expect("order_id").to_owned()
}

/// The flow whose payment times out after one second, exposing its token.
fn one_second_payment() -> Value {
    let mut flow = flow_exposing_payment_token();
    flow["steps"][1]["timeoutSeconds"] = json!(1);
    flow
}

async fn past_the_deadline() {
    tokio::time::sleep(Duration::from_millis(1_200)).await;
}

/// The order is canceled for the payment timeout, with one `TaskTimedOut`, and no discount.
async fn assert_timed_out(app: &TestApp, id: &str, step: &str) {
    let order = app.order(id).await;
    assert_eq!(order["status"], "canceled", "{order}");
    assert_eq!(order["cancel_reason"], "payment_timeout", "{order}");
    assert_eq!(order["final_amount_minor"], Value::Null, "{order}");
    let history = app.history(id).await;
    let timed_out = events(&history, "TaskTimedOut");
    assert_eq!(timed_out.len(), 1, "{history:?}");
    assert_eq!(timed_out[0]["step"], step);
    assert!(
        events(&history, "FunctionEvaluated").is_empty(),
        "{history:?}"
    );
}

async fn a_late_payment_is_refused_and_times_the_order_out(backend: Backend) {
    let Some(app) = app_without_timers(backend).await else {
        return;
    };
    app.publish_flow("haidilao", &one_second_payment()).await;
    let on_time = order_id(&app.create_order("haidilao").await);
    let late = order_id(&app.create_order("haidilao").await);
    app.pay(&on_time, "alipay").await.assert_status(200);
    past_the_deadline().await;

    app.pay(&late, "alipay")
        .await
        .assert_problem(409, "task-timed-out");
    assert_timed_out(&app, &late, "payment").await;
    // A retry meets the same answer, now that the order is canceled.
    app.pay(&late, "alipay")
        .await
        .assert_problem(409, "task-timed-out");
    assert_eq!(app.order(&on_time).await["status"], "completed");
}

async fn a_late_task_callback_or_heartbeat_is_refused(backend: Backend) {
    let Some(app) = app_without_timers(backend).await else {
        return;
    };
    app.publish_flow("haidilao", &one_second_payment()).await;
    for callback in ["success", "heartbeat"] {
        let id = order_id(&app.create_order("haidilao").await);
        let token = task_token(&app.history(&id).await, "payment").expect("payment token");
        past_the_deadline().await;
        let body = (callback == "success").then(|| json!({"output": {"payment_method": "alipay"}}));
        app.send(
            Method::POST,
            &format!("/v1/tasks/{token}/{callback}"),
            None,
            body.as_ref(),
        )
        .await
        .assert_problem(409, "task-timed-out");
        assert_timed_out(&app, &id, "payment").await;
    }
}

async fn a_late_review_callback_takes_the_review_timeout_path(backend: Backend) {
    let Some(app) = app_without_timers(backend).await else {
        return;
    };
    app.publish_flow("haidilao", &review_flow(1)).await;
    let id = order_id(&app.create_order("haidilao").await);
    app.pay(&id, "alipay").await.assert_status(200);
    let token = task_token(&app.history(&id).await, "review").expect("review token");
    past_the_deadline().await;
    app.send(
        Method::POST,
        &format!("/v1/tasks/{token}/success"),
        None,
        Some(&json!({"output": {}})),
    )
    .await
    .assert_problem(409, "task-timed-out");
    let history = app.history(&id).await;
    let timed_out = events(&history, "TaskTimedOut");
    assert_eq!(timed_out.len(), 1, "{history:?}");
    assert_eq!(timed_out[0]["step"], "review");
    // The review step catches no timeout: the execution fails and the order is canceled.
    assert_eq!(app.order(&id).await["status"], "canceled");
}

macro_rules! on_both {
    ($($name:ident),*) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$name(tests::Backend::Sqlite).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::$name(tests::Backend::Postgres).await;
            }
        }
    )*};
}

on_both!(
    a_late_payment_is_refused_and_times_the_order_out,
    a_late_task_callback_or_heartbeat_is_refused,
    a_late_review_callback_takes_the_review_timeout_path
);
