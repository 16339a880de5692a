//! Task callbacks: whoever holds a task token finishes the waiting step.

use axum::extract::State;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::http::docs::{BodyErrors, NotFoundError, conflict_responses};
use crate::http::extract::{Deferred, Json, Path};
use crate::http::problem::{ApiError, ApiResult};
use crate::openapi_enums::{OrderStatusSchema, TaskStateSchema};
use crate::persistence::entities::task;
use crate::persistence::executions;
use crate::services::commit::commit;
use crate::services::orders::{self, TaskResult};
use crate::state::AppState;

conflict_responses! {
    /// 409 of a success callback: the task no longer waits. A payment step's success is a
    /// payment, so it meets a payment's conflicts too.
    SuccessConflicts: write = [TaskAlreadyCompleted, TaskTimedOut, OrderNotAwaitingPayment, InvalidState];
    /// 409 of a failure callback: the task no longer waits.
    FailureConflicts: write = [TaskAlreadyCompleted, TaskTimedOut, InvalidState];
    /// 409 of a heartbeat: the task no longer waits.
    HeartbeatConflicts: write = [TaskAlreadyCompleted, TaskTimedOut];
}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(task_success))
        .routes(routes!(task_failure))
        .routes(routes!(task_heartbeat))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TaskSuccess {
    /// The step's output, an object (`{}` when omitted): the flow's `outputMappings` read
    /// it by field. For a payment step: `{"payment_method": "alipay"}`.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub output: Map<String, Value>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TaskFailure {
    /// An error name the flow's `catch` and `retry` can match, e.g. `Payment.Declined`.
    #[schema(
        example = "Payment.Declined",
        pattern = "^[A-Z][A-Za-z]*(\\.[A-Z][A-Za-z]*)*$",
        max_length = 128
    )]
    pub error: String,
    #[serde(default)]
    pub cause: String,
}

/// The task after the callback, and its order.
#[derive(Debug, Serialize, ToSchema)]
pub struct TaskOutcome {
    /// `succeeded`, `failed` or (heartbeat) `waiting`.
    #[schema(value_type = TaskStateSchema, example = "succeeded")]
    pub state: &'static str,
    pub order_id: String,
    /// The order's status after the flow advanced.
    #[schema(value_type = OrderStatusSchema, example = "completed")]
    pub order_status: String,
}

/// Complete a waiting task successfully.
///
/// The execution advances inline through every step that needs no waiting. For a payment
/// step this is what the storefront's payment endpoint does, with the same checks.
#[utoipa::path(post, path = "/v1/tasks/{token}/success", tag = "tasks",
    params(("token" = String, Path, description = "The task token the waiting step issued")),
    request_body = TaskSuccess,
    responses(
        (status = 200, description = "Completed", body = TaskOutcome),
        BodyErrors, NotFoundError, SuccessConflicts,
    ))]
async fn task_success(
    State(state): State<AppState>,
    Path(token): Path<String>,
    body: Deferred<Json<TaskSuccess>>,
) -> ApiResult<axum::Json<TaskOutcome>> {
    let task = waiting_task(&state, &token).await?;
    let Json(body) = body.read()?;
    let order = if task.action == domain::documents::flow::Action::AwaitPayment.as_str() {
        let method = body
            .output
            .get("payment_method")
            .and_then(Value::as_str)
            .ok_or_else(|| {
                ApiError::invalid_field(
                    "/output/payment_method",
                    "a payment step's output names the payment_method",
                )
            })?;
        // The token is the authority: whoever holds it may complete the step.
        let stage = || async {
            orders::stage_pay(&state, &task.execution_id, method, Some(&token), |_| Ok(())).await
        };
        commit(&state, stage, |_| None).await?.0
    } else {
        let stage = || async {
            let result = TaskResult::Success(Value::Object(body.output.clone()));
            orders::stage_task_result(&state, &task.execution_id, &token, &result).await
        };
        commit(&state, stage, |_| None).await?
    };
    Ok(axum::Json(TaskOutcome {
        state: "succeeded",
        order_id: order.id,
        order_status: order.status,
    }))
}

/// The task a token names, if it still waits: 404 for an unknown token, 409 for a
/// finished one. The token is the caller's authority, so this is decided before the body is
/// read, as a key's scope and tenant are elsewhere: an unknown token is a 404 whatever it
/// sent.
async fn waiting_task(state: &AppState, token: &str) -> ApiResult<task::Model> {
    let task = executions::find_task(&state.db, token)
        .await?
        .ok_or_else(|| ApiError::not_found("no task has this token"))?;
    match task.state.parse() {
        Ok(domain::lifecycle::TaskState::Waiting) => Ok(task),
        state => Err(orders::task_conflict(state.ok()).into()),
    }
}

/// Fail a waiting task with an error the flow can catch or retry.
#[utoipa::path(post, path = "/v1/tasks/{token}/failure", tag = "tasks",
    params(("token" = String, Path, description = "The task token the waiting step issued")),
    request_body = TaskFailure,
    responses(
        (status = 200, description = "Failed; the flow handled the error", body = TaskOutcome),
        BodyErrors, NotFoundError, FailureConflicts,
    ))]
async fn task_failure(
    State(state): State<AppState>,
    Path(token): Path<String>,
    body: Deferred<Json<TaskFailure>>,
) -> ApiResult<axum::Json<TaskOutcome>> {
    let task = waiting_task(&state, &token).await?;
    let Json(body) = body.read()?;
    let valid_name = body.error.split('.').all(|part| {
        let mut chars = part.chars();
        chars.next().is_some_and(|c| c.is_ascii_uppercase())
            && chars.all(|c| c.is_ascii_alphabetic())
    });
    if !valid_name || body.error.len() > 128 {
        return Err(ApiError::invalid_field(
            "/error",
            "error must be a name such as Payment.Declined (dot-separated words, each capitalised), at most 128 characters",
        ));
    }
    let cause: String = body.cause.chars().take(2_000).collect();
    let stage = || async {
        let result = TaskResult::Failure {
            error: body.error.clone(),
            cause: cause.clone(),
        };
        orders::stage_task_result(&state, &task.execution_id, &token, &result).await
    };
    let order = commit(&state, stage, |_| None).await?;
    Ok(axum::Json(TaskOutcome {
        state: "failed",
        order_id: order.id,
        order_status: order.status,
    }))
}

/// Report that the task is still being worked on.
#[utoipa::path(post, path = "/v1/tasks/{token}/heartbeat", tag = "tasks",
    params(("token" = String, Path, description = "The task token the waiting step issued")),
    responses(
        (status = 200, description = "Recorded", body = TaskOutcome),
        NotFoundError, HeartbeatConflicts,
    ))]
async fn task_heartbeat(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> ApiResult<axum::Json<TaskOutcome>> {
    let task = waiting_task(&state, &token).await?;
    let stage = || orders::stage_heartbeat(&state, &task.execution_id, &token);
    let order = commit(&state, stage, |_| None).await?;
    Ok(axum::Json(TaskOutcome {
        state: "waiting",
        order_id: order.id,
        order_status: order.status,
    }))
}
