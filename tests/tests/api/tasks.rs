//! Task callbacks (the waitForCallback pattern): a merchant flow with a manual-review step
//! after payment, finished through `/v1/tasks/{token}/…`, and the payment step itself
//! finished through the raw callback.

use reqwest::Method;
use serde_json::Value;
use tests::checkout::{
    POLL_LIMIT, default_flow, events, flow_exposing_payment_token, review_flow, task_token,
};
use tests::{TestApp, TestResponse, json, on_both_databases};

fn order_id(order: &Value) -> String {
    order["order_id"].as_str().expect("order_id").to_owned()
}

async fn callback(app: &TestApp, token: &str, outcome: &str, body: Option<&Value>) -> TestResponse {
    app.send(
        Method::POST,
        &format!("/v1/tasks/{token}/{outcome}"),
        None,
        body,
    )
    .await
}

/// Creates a haidilao order, pays it with Alipay and returns its id and the review step's
/// token; the order is then `processing`, waiting for the review.
async fn paid_order_in_review(app: &TestApp) -> (String, String) {
    let id = order_id(&app.create_order("haidilao").await);
    let paid = app.pay(&id, "alipay").await;
    paid.assert_status(200);
    assert_eq!(paid.body["status"], "processing", "{}", paid.text);
    assert_eq!(paid.body["payment_method"], "alipay");
    assert_eq!(
        paid.body["final_amount_minor"],
        Value::Null,
        "{}",
        paid.text
    );
    assert_eq!(paid.body["payment_deadline"], Value::Null, "{}", paid.text);
    let history = app.history(&id).await;
    let token = task_token(&history, "review")
        .unwrap_or_else(|| panic!("no review token in the history: {history:?}"));
    (id, token)
}

on_both_databases! {
    async fn a_review_step_completes_the_order_on_success(app: TestApp) {
        assert_eq!(app.publish_flow("haidilao", &review_flow(60)).await, 1);
        let (id, token) = paid_order_in_review(&app).await;
        assert!(token.len() >= 22, "a token of at least 128 random bits: {token}");
        assert_eq!(app.order(&id).await["status"], "processing");

        let history = app.history(&id).await;
        let scheduled: Vec<&Value> = events(&history, "TaskScheduled")
            .into_iter()
            .filter(|e| e["step"] == "review")
            .collect();
        assert_eq!(scheduled.len(), 1);
        assert_eq!(scheduled[0]["detail"]["action"], "await_callback");
        assert_eq!(scheduled[0]["detail"]["input"], json!({"token": token}));
        assert_eq!(history.last().expect("events")["type"], "TaskScheduled");

        let beat = callback(&app, &token, "heartbeat", None).await;
        beat.assert_status(200);
        assert_eq!(
            beat.body,
            json!({"state": "waiting", "order_id": id, "order_status": "processing"})
        );
        assert_eq!(app.order(&id).await["status"], "processing");

        // A step's output is an object, as the document says; anything else is refused and
        // the task keeps waiting.
        for output in [json!("approved"), json!([true]), json!(null)] {
            callback(&app, &token, "success", Some(&json!({"output": output})))
                .await
                .assert_violations(&["/output"]);
        }
        assert_eq!(app.order(&id).await["status"], "processing");

        let done = callback(&app, &token, "success", Some(&json!({"output": {"approved": true}}))).await;
        done.assert_status(200);
        assert_eq!(
            done.body,
            json!({"state": "succeeded", "order_id": id, "order_status": "completed"})
        );
        let order = app.order(&id).await;
        assert_eq!(order["status"], "completed", "{order}");
        assert_eq!(order["amount_minor"], 10000);
        assert_eq!(order["final_amount_minor"], 8000, "{order}");
        assert_eq!(
            order["discount"],
            json!({"function": "alipay-discount", "version": 1, "label": "Alipay: 20% off"})
        );

        let history = app.history(&id).await;
        assert!(events(&history, "TaskSucceeded")
            .iter()
            .any(|e| e["step"] == "review" && e["detail"]["output"] == json!({"approved": true})));
        assert_eq!(events(&history, "FunctionEvaluated").len(), 1);
        assert_eq!(history.last().expect("events")["type"], "ExecutionSucceeded");

        // The task is finished: every further callback is a conflict and changes nothing.
        let again = callback(&app, &token, "success", Some(&json!({"output": {"approved": true}}))).await;
        again.assert_problem(409, "task-already-completed");
        callback(&app, &token, "failure", Some(&json!({"error": "Review.Rejected"})))
            .await
            .assert_problem(409, "task-already-completed");
        callback(&app, &token, "heartbeat", None)
            .await
            .assert_problem(409, "task-already-completed");
        let after = app.order(&id).await;
        assert_eq!(after["status"], "completed");
        assert_eq!(after["final_amount_minor"], 8000);
        assert_eq!(app.history(&id).await.len(), history.len());
    }

    async fn a_review_failure_cancels_the_order_as_rejected(app: TestApp) {
        app.publish_flow("haidilao", &review_flow(60)).await;
        let (id, token) = paid_order_in_review(&app).await;

        // A malformed error name, or one over the documented 128 characters, is refused and
        // the task keeps waiting.
        let too_long = format!("Review.{}", "Rejected".repeat(16));
        assert_eq!(too_long.len(), 135);
        for error in ["not-an-error-name", "review.rejected", "Review..Rejected", "", &too_long] {
            callback(&app, &token, "failure", Some(&json!({"error": error, "cause": "x"})))
                .await
                .assert_violations(&["/error"]);
        }
        callback(&app, &token, "failure", Some(&json!({"cause": "no error"})))
            .await
            .assert_problem(422, "validation-failed");
        assert_eq!(app.order(&id).await["status"], "processing");

        let failed = callback(
            &app,
            &token,
            "failure",
            Some(&json!({"error": "Review.Rejected", "cause": "fraud"})),
        )
        .await;
        failed.assert_status(200);
        assert_eq!(
            failed.body,
            json!({"state": "failed", "order_id": id, "order_status": "canceled"})
        );
        let order = app.order(&id).await;
        assert_eq!(order["status"], "canceled", "{order}");
        assert_eq!(order["cancel_reason"], "rejected", "{order}");
        assert_eq!(order["final_amount_minor"], Value::Null, "{order}");
        assert_eq!(order["discount"], Value::Null, "{order}");

        let history = app.history(&id).await;
        assert!(events(&history, "TaskFailed").iter().any(|e| e["step"] == "review"
            && e["detail"]["error"] == "Review.Rejected"
            && e["detail"]["cause"] == "fraud"));
        assert!(events(&history, "ErrorCaught")
            .iter()
            .any(|e| e["detail"]["goto"] == "orderCanceled"));
        assert!(events(&history, "FunctionEvaluated").is_empty());

        callback(&app, &token, "success", Some(&json!({"output": {}})))
            .await
            .assert_problem(409, "task-already-completed");
        assert_eq!(app.order(&id).await["status"], "canceled");
    }

    async fn unknown_tokens_are_not_found(app: TestApp) {
        let token = "tt_this-token-was-never-issued-by-anyone";
        callback(&app, token, "success", Some(&json!({"output": {}})))
            .await
            .assert_problem(404, "not-found");
        callback(&app, token, "failure", Some(&json!({"error": "Payment.Declined"})))
            .await
            .assert_problem(404, "not-found");
        callback(&app, token, "heartbeat", None)
            .await
            .assert_problem(404, "not-found");
        // The token decides before the body is read: an unknown one is a 404 whatever the
        // body, as an unknown key is a 401.
        for body in [json!({"output": {}, "extra": 1}), json!({"output": "x"}), json!([])] {
            callback(&app, token, "success", Some(&body)).await.assert_problem(404, "not-found");
        }
        callback(&app, token, "failure", Some(&json!({"error": "not a name"})))
            .await
            .assert_problem(404, "not-found");
        let malformed = app
            .send_raw(Method::POST, &format!("/v1/tasks/{token}/success"), Some("application/json"), "{\"output\":")
            .await;
        malformed.assert_problem(404, "not-found");
    }

    async fn a_callback_after_the_review_timed_out_is_a_conflict(app: TestApp) {
        app.publish_flow("haidilao", &review_flow(1)).await;
        let (id, token) = paid_order_in_review(&app).await;
        let canceled = app.wait_for_status(&id, "canceled", POLL_LIMIT).await;
        let reason = canceled["cancel_reason"].as_str().unwrap_or_default();
        assert!(
            ["rejected", "flow_timeout"].contains(&reason),
            "a review timeout is not a payment timeout: {canceled}"
        );
        assert_eq!(canceled["final_amount_minor"], Value::Null, "{canceled}");

        let history = app.history(&id).await;
        let timed_out = events(&history, "TaskTimedOut");
        assert_eq!(timed_out.len(), 1, "{history:?}");
        assert_eq!(timed_out[0]["step"], "review");

        let late = callback(&app, &token, "success", Some(&json!({"output": {"approved": true}}))).await;
        late.assert_problem(409, "task-timed-out");
        callback(&app, &token, "heartbeat", None)
            .await
            .assert_problem(409, "task-timed-out");
        callback(&app, &token, "failure", Some(&json!({"error": "Review.Rejected"})))
            .await
            .assert_problem(409, "task-timed-out");
        let after = app.order(&id).await;
        assert_eq!(after["status"], "canceled");
        assert_eq!(after["final_amount_minor"], Value::Null);
        assert_eq!(app.history(&id).await.len(), history.len());
    }

    async fn the_payment_task_token_in_the_default_flow(app: TestApp) {
        // The default flow gives its payment step no input mappings: the step receives the
        // execution's input, which ExecutionStarted records once, and the history shows no
        // token (the storefront's payment endpoint is the way to finish it).
        let id = order_id(&app.create_order("haidilao").await);
        let history = app.history(&id).await;
        let scheduled = events(&history, "TaskScheduled")
            .into_iter()
            .find(|e| e["step"] == "payment")
            .expect("the payment step was scheduled");
        assert_eq!(scheduled["detail"]["action"], "await_payment");
        assert!(scheduled["detail"].get("input").is_none(), "{scheduled}");
        let input = &events(&history, "ExecutionStarted")[0]["detail"]["input"];
        assert_eq!(input["order_id"], id.as_str());
        assert_eq!(input["amount_minor"], 10000);
        assert_eq!(input["merchant_id"], "haidilao");
        assert_eq!(
            input["payment_methods"]
                .as_array()
                .expect("methods")
                .iter()
                .map(|m| m["code"].as_str().unwrap_or_default())
                .collect::<Vec<_>>(),
            ["alipay", "wechat_pay"]
        );
        assert_eq!(task_token(&history, "payment"), None);
        assert_eq!(default_flow()["steps"][1]["name"], "payment");
    }

    async fn the_raw_success_callback_pays_an_order(app: TestApp) {
        // A merchant flow that maps the payment step's token into its input exposes it.
        app.publish_flow("haidilao", &flow_exposing_payment_token()).await;
        let id = order_id(&app.create_order("haidilao").await);
        let token = task_token(&app.history(&id).await, "payment").expect("the payment token");

        // The same checks as the storefront's payment endpoint.
        callback(&app, &token, "success", Some(&json!({"output": {}})))
            .await
            .assert_violations(&["/output/payment_method"]);
        callback(&app, &token, "success", Some(&json!({"output": {"payment_method": "unionpay"}})))
            .await
            .assert_violations(&["/payment_method"]);
        assert_eq!(app.order(&id).await["status"], "awaiting_payment");

        let beat = callback(&app, &token, "heartbeat", None).await;
        beat.assert_status(200);
        assert_eq!(beat.body["order_status"], "awaiting_payment");

        let paid = callback(
            &app,
            &token,
            "success",
            Some(&json!({"output": {"payment_method": "alipay"}})),
        )
        .await;
        paid.assert_status(200);
        assert_eq!(
            paid.body,
            json!({"state": "succeeded", "order_id": id, "order_status": "completed"})
        );
        let order = app.order(&id).await;
        assert_eq!(order["status"], "completed", "{order}");
        assert_eq!(order["payment_method"], "alipay");
        assert_eq!(order["final_amount_minor"], 8000, "{order}");
        assert_eq!(order["discount"]["function"], "alipay-discount");

        callback(&app, &token, "success", Some(&json!({"output": {"payment_method": "alipay"}})))
            .await
            .assert_problem(409, "task-already-completed");
        app.pay(&id, "alipay")
            .await
            .assert_problem(409, "order-not-awaiting-payment");
        assert_eq!(events(&app.history(&id).await, "FunctionEvaluated").len(), 1);

        // A payment task that the customer's cancel ended cannot be completed either.
        let other = order_id(&app.create_order("haidilao").await);
        let other_token =
            task_token(&app.history(&other).await, "payment").expect("the payment token");
        app.cancel_as(tests::ADMIN_KEY, &other).await.assert_status(200);
        let late = callback(
            &app,
            &other_token,
            "success",
            Some(&json!({"output": {"payment_method": "alipay"}})),
        )
        .await;
        late.assert_client_problem();
        assert_eq!(late.status, 409, "{}", late.text);
        let after = app.order(&other).await;
        assert_eq!(after["status"], "canceled");
        assert_eq!(after["cancel_reason"], "merchant_canceled");
    }
}
