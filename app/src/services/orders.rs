//! Orders: starting one (resolving and pinning its metadata, then running its flow to the
//! first wait), paying, canceling and task callbacks. Each stages its changes (see
//! [`commit`](super::commit)); the caller applies them.

use std::sync::Arc;

use domain::documents::flow::Action;
use domain::documents::payment_combination::PaymentCombination;
use domain::lifecycle::{CancelReason, OrderStatus, TaskState};
use domain::workflow::Event;
use domain::{Kind, MerchantId, Scope};
use serde::Serialize;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use crate::engine::{self, Execution, Pinned, PinnedDocument};
use crate::error::{ServiceError, ServiceResult};
use crate::persistence::entities::{order, rollout_order};
use crate::persistence::{executions, orders};
use crate::problem_type::ProblemType;
use crate::published::{
    DEFAULT, OfferedMethod, ROUTING_TABLE, Snapshot, methods_from_input, offered_methods,
};
use crate::services::commit::Staged;
use crate::state::AppState;

/// An order line.
#[derive(Debug, Clone, Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Item {
    #[schema(example = "beef")]
    pub sku: String,
    #[schema(example = "Beef slices")]
    pub name: String,
    #[schema(example = 2, minimum = 1)]
    pub quantity: i64,
    #[schema(example = 5000, minimum = 0)]
    pub unit_price_minor: i64,
}

/// A validated request to start an order.
#[derive(Clone)]
pub struct NewOrder {
    pub merchant: MerchantId,
    pub order_num: Option<String>,
    /// What decides the versions of rolled-out documents, when given; else the order id.
    pub customer_ref: Option<String>,
    pub currency: String,
    pub items: Vec<Item>,
    pub address: Map<String, Value>,
    pub fields: Map<String, Value>,
    /// SHA-256 of the request, to tell a retry of an `order_num` from a conflict.
    pub fingerprint: String,
}

pub fn fingerprint(value: &Value) -> String {
    hex::encode(Sha256::digest(value.to_string().as_bytes()))
}

/// The sum of the items, refusing overflow.
pub fn total(items: &[Item]) -> ServiceResult<i64> {
    items.iter().enumerate().try_fold(0i64, |sum, (i, item)| {
        item.quantity
            .checked_mul(item.unit_price_minor)
            .and_then(|line| sum.checked_add(line))
            .filter(|total| *total <= MAX_AMOUNT_MINOR)
            .ok_or_else(|| {
                ServiceError::invalid_field(&format!("/items/{i}"), "the order total is too large")
            })
    })
}

/// 2^53 − 1: amounts stay exact in every JSON client.
pub const MAX_AMOUNT_MINOR: i64 = 9_007_199_254_740_991;

/// The outcome of a create: a new order, or the one an earlier identical request made.
pub enum Created {
    New(order::Model, Vec<OfferedMethod>),
    Existing(order::Model, Vec<OfferedMethod>),
}

fn not_configured(what: &str) -> ServiceError {
    ServiceError::not_configured(what, "publish one before taking orders")
}

/// The published documents an order of `merchant` may use: its own and the platform's.
async fn snapshot(
    state: &AppState,
    merchant: &MerchantId,
) -> ServiceResult<(Arc<Snapshot>, String)> {
    let merchant_key = Scope::Merchant(merchant.clone()).key();
    let snapshot = state
        .published
        .snapshot(&[Scope::Platform.key(), merchant_key.clone()])
        .await?;
    Ok((snapshot, merchant_key))
}

/// The merchant's published checkout page with the versions it was resolved from.
pub struct ResolvedCheckout {
    pub page: Option<(i32, Value)>,
    pub combination: (i32, PaymentCombination),
    pub methods: Vec<OfferedMethod>,
}

pub async fn resolve_checkout(
    state: &AppState,
    merchant: &MerchantId,
) -> ServiceResult<ResolvedCheckout> {
    let (snapshot, merchant_key) = snapshot(state, merchant).await?;
    let combination = snapshot
        .body(
            &state.published,
            &merchant_key,
            Kind::PaymentCombination,
            DEFAULT,
        )
        .await?
        .ok_or_else(|| not_configured("payment-combination 'default'"))?;
    let page: Option<(i32, Value)> = snapshot
        .body(&state.published, &merchant_key, Kind::CheckoutPage, DEFAULT)
        .await?;
    let methods = offered_methods(&state.published, &snapshot, &combination.1, None).await?;
    Ok(ResolvedCheckout {
        page,
        combination,
        methods,
    })
}

/// Starts an order: resolves and pins the merchant's metadata, validates the order against
/// the checkout page, and runs the flow up to its first wait. An `order_num` that exists
/// already answers with that order (or a conflict), changing nothing.
pub async fn stage_create(state: &AppState, new: &NewOrder) -> ServiceResult<Staged<Created>> {
    let amount = total(&new.items)?;
    if let Some(order_num) = &new.order_num
        && let Some(existing) =
            orders::find_by_order_num(&state.db, new.merchant.as_str(), order_num).await?
    {
        return same_order(state, existing, &new.fingerprint)
            .await
            .map(Staged::nothing);
    }
    let id = uuid::Uuid::now_v7().to_string();
    let (snapshot, merchant_key) = snapshot(state, &new.merchant).await?;
    let (snapshot, assignments) = snapshot.for_subject(new.customer_ref.as_deref().unwrap_or(&id));
    let platform_key = Scope::Platform.key();
    let (flow_scope, flow_version) = match snapshot.version(&merchant_key, Kind::OrderFlow, DEFAULT)
    {
        Some(version) => ("merchant", version),
        None => (
            "platform",
            snapshot
                .version(&platform_key, Kind::OrderFlow, DEFAULT)
                .ok_or_else(|| not_configured("order-flow 'default' (nor does the platform)"))?,
        ),
    };
    let (combination_version, combination): (i32, PaymentCombination) = snapshot
        .body(
            &state.published,
            &merchant_key,
            Kind::PaymentCombination,
            DEFAULT,
        )
        .await?
        .ok_or_else(|| not_configured("payment-combination 'default'"))?;
    let page = state
        .published
        .checkout_page(&snapshot, &merchant_key, DEFAULT)
        .await?;
    if let Some((_, page)) = &page {
        let violations = page.validate_order(&new.address, &new.fields);
        if !violations.is_empty() {
            return Err(ServiceError::invalid(violations));
        }
    }
    let routing_table = snapshot.version(&merchant_key, Kind::RoutingTable, ROUTING_TABLE);
    let functions = snapshot.versions_of(&merchant_key, Kind::DiscountFunction);
    let methods = offered_methods(&state.published, &snapshot, &combination, Some(amount)).await?;
    if methods.is_empty() {
        return Err(ServiceError::invalid_field(
            "/items",
            "no payment method of the merchant accepts an order of this amount",
        ));
    }

    let pin = |scope: &str, version| PinnedDocument {
        scope: scope.to_owned(),
        name: DEFAULT.to_owned(),
        version,
    };
    let pinned = Pinned {
        flow: pin(flow_scope, flow_version),
        payment_combination: pin("merchant", combination_version),
        checkout_page: page.as_ref().map(|(version, _)| pin("merchant", *version)),
        routing_table: routing_table.map(|version| PinnedDocument {
            scope: "merchant".into(),
            name: ROUTING_TABLE.into(),
            version,
        }),
        functions,
    };
    let flow = engine::pinned_flow(state, new.merchant.as_str(), &pinned.flow).await?;
    // Refused now rather than canceled with `no_route` after the customer paid.
    if pinned.routing_table.is_none() && flow.runs(Action::ApplyDiscount) {
        return Err(not_configured(
            "routing-table 'default', which its order flow prices the payment by",
        ));
    }
    let now = crate::persistence::now();
    let items =
        serde_json::to_value(&new.items).map_err(|e| ServiceError::internal(e.to_string()))?;
    let input = json!({
        "order_id": id,
        "merchant_id": new.merchant.as_str(),
        "amount_minor": amount,
        "currency": new.currency,
        "items": items,
        "address": new.address,
        "fields": new.fields,
        "payment_methods": methods,
    });
    let order = order::Model {
        id: id.clone(),
        merchant_id: new.merchant.to_string(),
        order_num: new.order_num.clone(),
        request_fingerprint: new.fingerprint.clone(),
        status: OrderStatus::AwaitingPayment.as_str().into(),
        cancel_reason: None,
        currency: new.currency.clone(),
        amount_minor: amount,
        final_amount_minor: None,
        payment_method: None,
        discount: None,
        items: items.to_string(),
        address: Value::Object(new.address.clone()).to_string(),
        fields: Value::Object(new.fields.clone()).to_string(),
        payment_deadline: None,
        created_at: now,
        updated_at: now,
    };
    let execution = Execution::start(order, pinned, flow, input, state.history_limit, now)?;
    let execution = engine::advance(state, execution, Event::Start).await?;
    let mut changes = execution.into_changes()?;
    changes.assignments = assignments
        .into_iter()
        .map(|a| rollout_order::Model {
            rollout_id: a.rollout_id,
            order_id: id.clone(),
            version: a.version,
        })
        .collect();
    let created = Created::New(changes.order.clone(), methods);
    // When a concurrent request with the same order_num wins, this one is refused and
    // staged again: it then finds that order.
    Ok(Staged::execution(created, changes))
}

/// The order an earlier request with the same `order_num` made: the same one again when the
/// bodies match, a conflict when they do not.
async fn same_order(
    state: &AppState,
    existing: order::Model,
    fingerprint: &str,
) -> ServiceResult<Created> {
    if existing.request_fingerprint == fingerprint {
        let methods = order_methods(state, &existing.id).await?;
        Ok(Created::Existing(existing, methods))
    } else {
        Err(ServiceError::Conflict {
            problem: ProblemType::OrderNumConflict,
            detail: format!(
                "order_num '{}' already names a different order ({})",
                existing.order_num.as_deref().unwrap_or_default(),
                existing.id
            ),
        })
    }
}

/// The methods an order offers (pinned in its execution input at start).
pub async fn order_methods(state: &AppState, order_id: &str) -> ServiceResult<Vec<OfferedMethod>> {
    let execution = executions::find(&state.db, order_id)
        .await?
        .ok_or_else(|| ServiceError::internal(format!("order {order_id} has no execution")))?;
    let execution_state: domain::workflow::ExecutionState = serde_json::from_str(&execution.state)
        .map_err(|e| ServiceError::internal(format!("execution state: {e}")))?;
    methods_from_input(&execution_state.input)
}

/// The conflict a callback on a task that is no longer waiting meets, by the task's state.
pub fn task_conflict(state: Option<TaskState>) -> ServiceError {
    match state {
        Some(TaskState::TimedOut) => ServiceError::Conflict {
            problem: ProblemType::TaskTimedOut,
            detail: "the task timed out before this callback".into(),
        },
        _ => ServiceError::Conflict {
            problem: ProblemType::TaskAlreadyCompleted,
            detail: "the task was already completed".into(),
        },
    }
}

/// The conflict for `token`, whose task the execution no longer waits on.
async fn stored_task_conflict(state: &AppState, token: &str) -> ServiceResult<ServiceError> {
    let task = executions::find_task(&state.db, token).await?;
    Ok(task_conflict(
        task.and_then(|t| t.state.parse::<TaskState>().ok()),
    ))
}

/// Stages `stage` on an order's execution (a 404 when there is none): from this
/// instance's copy when it has one, else from the database. An answer from the copy that
/// changes nothing (an error) is staged again from the database: the copy may be stale,
/// and no compare-and-set would tell.
async fn stage_on<T, Fut>(
    state: &AppState,
    order_id: &str,
    stage: impl Fn(Execution) -> Fut,
) -> ServiceResult<Staged<T>>
where
    Fut: Future<Output = ServiceResult<Staged<T>>>,
{
    if let Some(execution) = Execution::recent(state, order_id).await? {
        match stage(execution).await {
            Ok(staged) if staged.changes_something() => return Ok(staged),
            _ => state.recent_executions.forget(order_id),
        }
    }
    let execution = Execution::load(state, order_id)
        .await?
        .ok_or_else(|| ServiceError::NotFound(format!("order {order_id} not found")))?;
    stage(execution).await
}

/// Pays an order awaiting payment: completes its payment task and runs the flow on to its
/// end (or next wait), so the answer carries the final status. `authorize` decides whether
/// the caller may see the order, on the order as read. A task callback names the payment
/// task it completes (`callback_token`); it must be the one the order waits on.
pub async fn stage_pay(
    state: &AppState,
    order_id: &str,
    method: &str,
    callback_token: Option<&str>,
    authorize: impl Fn(&order::Model) -> ServiceResult<()>,
) -> ServiceResult<Staged<(order::Model, Vec<OfferedMethod>)>> {
    stage_on(state, order_id, |execution| {
        pay(state, execution, method, callback_token, &authorize)
    })
    .await
}

async fn pay(
    state: &AppState,
    mut execution: Execution,
    method: &str,
    callback_token: Option<&str>,
    authorize: &impl Fn(&order::Model) -> ServiceResult<()>,
) -> ServiceResult<Staged<(order::Model, Vec<OfferedMethod>)>> {
    authorize(execution.order())?;
    if execution.order().cancel_reason.as_deref() == Some(CancelReason::PaymentTimeout.as_str()) {
        // The same answer whether the deadline was met here or the timer got there first.
        return Err(task_conflict(Some(TaskState::TimedOut)));
    }
    if execution.status() != OrderStatus::AwaitingPayment {
        return Err(ServiceError::Conflict {
            problem: ProblemType::OrderNotAwaitingPayment,
            detail: format!(
                "the order is {}; only an order awaiting payment can be paid",
                execution.status()
            ),
        });
    }
    let offered = execution.offered_methods()?;
    if !offered.iter().any(|m| m.code == method) {
        let codes: Vec<&str> = offered.iter().map(|m| m.code.as_str()).collect();
        return Err(ServiceError::invalid_field(
            "/payment_method",
            format!(
                "'{method}' is not offered for this order; choose one of: {}",
                codes.join(", ")
            ),
        ));
    }
    let token = execution
        .awaited_payment()
        .ok_or_else(|| ServiceError::Conflict {
            problem: ProblemType::OrderNotAwaitingPayment,
            detail: "the order's flow is not waiting for a payment".into(),
        })?
        .to_owned();
    if callback_token.is_none_or(|called| called == token) && execution.is_overdue(&token) {
        return time_out_late_callback(state, execution, &token).await;
    }
    if callback_token.is_some_and(|called| called != token)
        || !execution.settle_task(&token, TaskState::Succeeded)
    {
        let token = callback_token.unwrap_or(&token);
        return Err(stored_task_conflict(state, token).await?);
    }
    execution.paid_with(method);
    let execution = engine::advance(
        state,
        execution,
        Event::TaskSucceeded {
            output: json!({"payment_method": method}),
        },
    )
    .await?;
    let changes = execution.into_changes()?;
    Ok(Staged::execution((changes.order.clone(), offered), changes))
}

/// A callback after its task's deadline: the task times out now, as its timer (which may be
/// late) would have done, and the callback is refused.
async fn time_out_late_callback<T>(
    state: &AppState,
    mut execution: Execution,
    token: &str,
) -> ServiceResult<Staged<T>> {
    execution.settle_task(token, TaskState::TimedOut);
    let execution = engine::advance(state, execution, Event::TaskTimedOut).await?;
    Ok(Staged::refused(
        task_conflict(Some(TaskState::TimedOut)),
        execution.into_changes()?,
    ))
}

#[derive(Clone)]
pub enum TaskResult {
    Success(Value),
    Failure { error: String, cause: String },
}

/// Completes the waiting task `token` of execution `execution_id` and advances it. Exactly
/// one of racing callers (callbacks, the timeout) wins: the others are refused by the
/// compare-and-set, stage again, and find the task finished.
pub async fn stage_task_result(
    state: &AppState,
    execution_id: &str,
    token: &str,
    result: &TaskResult,
) -> ServiceResult<Staged<order::Model>> {
    stage_on(state, execution_id, |execution| {
        task_result(state, execution, token, result.clone())
    })
    .await
}

async fn task_result(
    state: &AppState,
    mut execution: Execution,
    token: &str,
    result: TaskResult,
) -> ServiceResult<Staged<order::Model>> {
    if execution.is_overdue(token) {
        return time_out_late_callback(state, execution, token).await;
    }
    let new_state = match result {
        TaskResult::Success(_) => TaskState::Succeeded,
        TaskResult::Failure { .. } => TaskState::Failed,
    };
    if !execution.settle_task(token, new_state) {
        return Err(stored_task_conflict(state, token).await?);
    }
    let event = match result {
        TaskResult::Success(output) => Event::TaskSucceeded { output },
        TaskResult::Failure { error, cause } => Event::TaskFailed { error, cause },
    };
    let execution = engine::advance(state, execution, event).await?;
    let changes = execution.into_changes()?;
    Ok(Staged::execution(changes.order.clone(), changes))
}

/// Records that the waiting task `token` is still being worked on.
pub async fn stage_heartbeat(
    state: &AppState,
    execution_id: &str,
    token: &str,
) -> ServiceResult<Staged<order::Model>> {
    stage_on(state, execution_id, |execution| {
        heartbeat(state, execution, token)
    })
    .await
}

async fn heartbeat(
    state: &AppState,
    mut execution: Execution,
    token: &str,
) -> ServiceResult<Staged<order::Model>> {
    if execution.is_overdue(token) {
        return time_out_late_callback(state, execution, token).await;
    }
    if !execution.heartbeat(token) {
        return Err(stored_task_conflict(state, token).await?);
    }
    let changes = execution.into_changes()?;
    Ok(Staged::execution(changes.order.clone(), changes))
}

/// Cancels an order on the customer's request.
pub async fn stage_cancel(
    state: &AppState,
    order_id: &str,
    reason: CancelReason,
    authorize: impl Fn(&order::Model) -> ServiceResult<()>,
) -> ServiceResult<Staged<(order::Model, Vec<OfferedMethod>)>> {
    stage_on(state, order_id, |execution| {
        cancel(execution, reason, &authorize)
    })
    .await
}

async fn cancel(
    mut execution: Execution,
    reason: CancelReason,
    authorize: &impl Fn(&order::Model) -> ServiceResult<()>,
) -> ServiceResult<Staged<(order::Model, Vec<OfferedMethod>)>> {
    authorize(execution.order())?;
    if execution.status().is_final() {
        return Err(ServiceError::Conflict {
            problem: ProblemType::OrderFinal,
            detail: format!("the order is already {}", execution.status()),
        });
    }
    if execution.is_final() {
        return Err(ServiceError::Conflict {
            problem: ProblemType::OrderFinal,
            detail: "the order's flow has already ended".into(),
        });
    }
    execution.cancel_now(reason);
    let offered = execution.offered_methods()?;
    let changes = execution.into_changes()?;
    Ok(Staged::execution((changes.order.clone(), offered), changes))
}
