//! An execution's history is capped: reaching the cap (here lowered with
//! `ORDERFLOW_HISTORY_LIMIT`) fails the execution with `Execution.HistoryLimit`.

use tests::checkout::{events, flow_exposing_payment_token, task_token};
use tests::{Backend, TestApp};

const LIMIT: i32 = 100;

async fn history_stops_at_its_cap(backend: Backend) {
    let Some(app) = TestApp::spawn_configured(backend, |config| config.history_limit = LIMIT).await
    else {
        eprintln!("ORDERFLOW_TEST_DATABASE_URL is not set: PostgreSQL half skipped");
        return;
    };
    app.publish_flow("haidilao", &flow_exposing_payment_token())
        .await;
    let order = app.create_order("haidilao").await;
    let id = order["order_id"].as_str().expect("order id").to_owned();
    let token = task_token(&app.history(&id).await, "payment").expect("the payment token");

    // Each heartbeat adds one event; the one that reaches the cap ends the execution.
    let mut answered = 0;
    loop {
        let response = app
            .send(
                reqwest::Method::POST,
                &format!("/v1/tasks/{token}/heartbeat"),
                None,
                None,
            )
            .await;
        if response.status == 409 {
            response.assert_problem(409, "task-timed-out");
            break;
        }
        response.assert_status(200);
        answered += 1;
        assert!(answered <= LIMIT, "the history grew past its cap");
    }
    let history = app.history(&id).await;
    assert!(
        history.len() as i32 <= LIMIT + 1,
        "{} events",
        history.len()
    );
    let last = history.last().expect("events");
    assert_eq!(last["type"], "ExecutionFailed", "{last}");
    assert_eq!(last["detail"]["error"], "Execution.HistoryLimit", "{last}");
    assert_eq!(events(&history, "ExecutionFailed").len(), 1);
    let order = app.order(&id).await;
    assert_eq!(order["status"], "canceled", "{order}");
    assert_eq!(order["cancel_reason"], "rejected", "{order}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_stops_at_its_cap_on_sqlite() {
    history_stops_at_its_cap(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_stops_at_its_cap_on_postgres() {
    history_stops_at_its_cap(Backend::Postgres).await;
}
