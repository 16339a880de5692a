//! Orders: starting one (resolving and pinning its metadata, then running its flow to the
//! first wait), paying, canceling, task callbacks, and firing due timers.

use chrono::Duration;
use domain::documents::checkout_page::CheckoutPage;
use domain::documents::payment_combination::PaymentCombination;
use domain::documents::payment_method::PaymentMethod;
use domain::workflow::{Event, Pending};
use domain::{Kind, MerchantId, Scope};
use serde::Serialize;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use crate::error::{ApiError, ApiResult};
use crate::persistence::entities::{order, timer};
use crate::persistence::{Uncommitted, begin_write, executions, orders};
use crate::services::discounts::ROUTING_TABLE;
use crate::services::engine::{self, Pinned, PinnedDocument, Run, order_status, timer_purpose};
use crate::services::published::Snapshot;
use crate::state::AppState;

/// The name of the documents an order resolves: every merchant has one of each.
const DEFAULT: &str = "default";

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
pub struct NewOrder {
    pub merchant: MerchantId,
    pub order_num: Option<String>,
    pub currency: String,
    pub items: Vec<Item>,
    pub address: Map<String, Value>,
    pub fields: Map<String, Value>,
    /// SHA-256 of the request, to tell a retry of an `order_num` from a conflict.
    pub fingerprint: String,
}

/// A payment method as the storefront shows it.
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct OfferedMethod {
    #[schema(example = "alipay")]
    pub code: String,
    #[schema(example = "Alipay")]
    pub label: String,
    pub icon: Option<String>,
}

pub fn fingerprint(value: &Value) -> String {
    hex::encode(Sha256::digest(value.to_string().as_bytes()))
}

/// The sum of the items, refusing overflow.
pub fn total(items: &[Item]) -> ApiResult<i64> {
    items.iter().enumerate().try_fold(0i64, |sum, (i, item)| {
        item.quantity
            .checked_mul(item.unit_price_minor)
            .and_then(|line| sum.checked_add(line))
            .filter(|total| *total <= MAX_AMOUNT_MINOR)
            .ok_or_else(|| {
                ApiError::invalid_field(&format!("/items/{i}"), "the order total is too large")
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

fn not_configured(what: &str) -> ApiError {
    ApiError::Conflict {
        problem: "merchant-not-configured",
        detail: format!("the merchant has no published {what}; publish one before taking orders"),
    }
}

/// The merchant's enabled methods that accept `amount`, in display order, with their labels.
pub async fn offered_methods(
    state: &AppState,
    snapshot: &Snapshot,
    combination: &PaymentCombination,
    amount: Option<i64>,
) -> ApiResult<Vec<OfferedMethod>> {
    let platform = Scope::Platform.key();
    let mut offered = Vec::new();
    for enabled in &combination.methods {
        if let Some(amount) = amount
            && (enabled.min_amount_minor.is_some_and(|min| amount < min)
                || enabled.max_amount_minor.is_some_and(|max| amount > max))
        {
            continue;
        }
        let catalog: Option<(i32, PaymentMethod)> = snapshot
            .body(state, &platform, Kind::PaymentMethod, &enabled.method)
            .await?;
        let catalog = catalog.map(|(_, m)| m);
        let label = enabled
            .label
            .clone()
            .or_else(|| catalog.as_ref().and_then(|m| m.names.get("en").cloned()))
            .unwrap_or_else(|| enabled.method.clone());
        offered.push(OfferedMethod {
            code: enabled.method.clone(),
            label,
            icon: catalog.and_then(|m| m.icon),
        });
    }
    Ok(offered)
}

/// The published documents an order of `merchant` may use: its own and the platform's.
async fn snapshot(state: &AppState, merchant: &MerchantId) -> ApiResult<(Snapshot, String)> {
    let merchant_key = Scope::Merchant(merchant.clone()).key();
    let snapshot = Snapshot::load(state, &[Scope::Platform.key(), merchant_key.clone()]).await?;
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
) -> ApiResult<ResolvedCheckout> {
    let (snapshot, merchant_key) = snapshot(state, merchant).await?;
    let combination = snapshot
        .body(state, &merchant_key, Kind::PaymentCombination, DEFAULT)
        .await?
        .ok_or_else(|| not_configured("payment-combination 'default'"))?;
    let page: Option<(i32, Value)> = snapshot
        .body(state, &merchant_key, Kind::CheckoutPage, DEFAULT)
        .await?;
    let methods = offered_methods(state, &snapshot, &combination.1, None).await?;
    Ok(ResolvedCheckout {
        page,
        combination,
        methods,
    })
}

/// Starts an order: resolves and pins the merchant's metadata, validates the order against
/// the checkout page, and runs the flow up to its first wait, in one transaction.
pub async fn create(state: &AppState, new: NewOrder) -> ApiResult<Uncommitted<Created>> {
    let amount = total(&new.items)?;
    if let Some(order_num) = &new.order_num
        && let Some(existing) =
            orders::find_by_order_num(&state.db, new.merchant.as_str(), order_num).await?
    {
        return same_order(state, existing, &new.fingerprint)
            .await
            .map(Uncommitted::nothing_written);
    }
    let (snapshot, merchant_key) = snapshot(state, &new.merchant).await?;
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
        .body(state, &merchant_key, Kind::PaymentCombination, DEFAULT)
        .await?
        .ok_or_else(|| not_configured("payment-combination 'default'"))?;
    let page: Option<(i32, CheckoutPage)> = snapshot
        .body(state, &merchant_key, Kind::CheckoutPage, DEFAULT)
        .await?;
    if let Some((_, page)) = &page {
        let violations = page.validate_order(&new.address, &new.fields);
        if !violations.is_empty() {
            return Err(ApiError::invalid(violations));
        }
    }
    let routing_table = snapshot.version(&merchant_key, Kind::RoutingTable, ROUTING_TABLE);
    let functions = snapshot.versions_of(&merchant_key, Kind::DiscountFunction);
    let methods = offered_methods(state, &snapshot, &combination, Some(amount)).await?;
    if methods.is_empty() {
        return Err(ApiError::invalid_field(
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
    let flow = engine::pinned_flow(state, &state.db, new.merchant.as_str(), &pinned.flow).await?;
    let now = crate::persistence::now();
    let id = uuid::Uuid::now_v7().to_string();
    let items = serde_json::to_value(&new.items).map_err(|e| ApiError::internal(e.to_string()))?;
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
        status: order_status::AWAITING_PAYMENT.into(),
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
    let timeout = flow.timeout_seconds();
    let mut run = Run::start(order, pinned, flow, input, now)?;
    if let Some(seconds) = timeout {
        let due = now + Duration::seconds(i64::try_from(seconds).unwrap_or(i64::MAX / 2_000_000));
        run.schedule_timer(timer_purpose::FLOW_TIMEOUT, None, None, due);
    }
    let (turn, txn) = begin_write(&state.db).await?;
    run.advance(state, &txn, Event::Start).await?;
    match run.save(state, &txn, true).await {
        Ok(order) => Ok(Uncommitted::new(Created::New(order, methods), turn, txn)),
        // A concurrent request with the same order_num won the race.
        Err(ApiError::Conflict { .. }) if new.order_num.is_some() => {
            drop(txn);
            drop(turn);
            let order_num = new.order_num.as_deref().unwrap_or_default();
            match orders::find_by_order_num(&state.db, new.merchant.as_str(), order_num).await? {
                Some(existing) => same_order(state, existing, &new.fingerprint)
                    .await
                    .map(Uncommitted::nothing_written),
                None => Err(ApiError::internal("order_num conflict without an order")),
            }
        }
        Err(e) => Err(e),
    }
}

/// The order an earlier request with the same `order_num` made: the same one again when the
/// bodies match, a conflict when they do not.
async fn same_order(
    state: &AppState,
    existing: order::Model,
    fingerprint: &str,
) -> ApiResult<Created> {
    if existing.request_fingerprint == fingerprint {
        let methods = order_methods(state, &existing.id).await?;
        Ok(Created::Existing(existing, methods))
    } else {
        Err(ApiError::Conflict {
            problem: "order-num-conflict",
            detail: format!(
                "order_num '{}' already names a different order ({})",
                existing.order_num.as_deref().unwrap_or_default(),
                existing.id
            ),
        })
    }
}

/// The methods an order offers (pinned in its execution input at start).
pub async fn order_methods(state: &AppState, order_id: &str) -> ApiResult<Vec<OfferedMethod>> {
    let execution = executions::find(&state.db, order_id)
        .await?
        .ok_or_else(|| ApiError::internal(format!("order {order_id} has no execution")))?;
    let execution_state: domain::workflow::ExecutionState = serde_json::from_str(&execution.state)
        .map_err(|e| ApiError::internal(format!("execution state: {e}")))?;
    methods_from_input(&execution_state.input)
}

/// The methods an order offers, as pinned in its execution's input at start.
pub fn methods_from_input(input: &Value) -> ApiResult<Vec<OfferedMethod>> {
    serde_json::from_value(input["payment_methods"].clone())
        .map_err(|e| ApiError::internal(format!("execution input: {e}")))
}

pub fn task_conflict(state: &str) -> ApiError {
    match state {
        "timed_out" => ApiError::Conflict {
            problem: "task-timed-out",
            detail: "the task timed out before this callback".into(),
        },
        _ => ApiError::Conflict {
            problem: "task-already-completed",
            detail: "the task was already completed".into(),
        },
    }
}

/// Pays an order awaiting payment: completes its payment task and runs the flow on to its
/// end (or next wait), so the answer carries the final status. `authorize` decides whether
/// the caller may see the order; it runs on the order as read inside the transaction, so the
/// check and the payment need one read.
pub async fn pay(
    state: &AppState,
    order_id: &str,
    method: &str,
    authorize: impl FnOnce(&order::Model) -> ApiResult<()>,
) -> ApiResult<Uncommitted<(order::Model, Vec<OfferedMethod>)>> {
    // Everything from here reads and writes through one transaction: one connection, and a
    // rejected payment (422, 409) rolls back to an order that still waits.
    let (turn, txn) = begin_write(&state.db).await?;
    let mut run = Run::load(state, &txn, order_id).await?;
    authorize(&run.order)?;
    if run.order.status != order_status::AWAITING_PAYMENT {
        return Err(ApiError::Conflict {
            problem: "order-not-awaiting-payment",
            detail: format!(
                "the order is {}; only an order awaiting payment can be paid",
                run.order.status
            ),
        });
    }
    let offered = run.offered_methods()?;
    if !offered.iter().any(|m| m.code == method) {
        let codes: Vec<&str> = offered.iter().map(|m| m.code.as_str()).collect();
        return Err(ApiError::invalid_field(
            "/payment_method",
            format!(
                "'{method}' is not offered for this order; choose one of: {}",
                codes.join(", ")
            ),
        ));
    }
    let token = run
        .awaited_payment()
        .ok_or_else(|| ApiError::Conflict {
            problem: "order-not-awaiting-payment",
            detail: "the order's flow is not waiting for a payment".into(),
        })?
        .to_owned();
    if !run.settle_task(&txn, &token, "succeeded").await? {
        let task = executions::find_task(&txn, &token).await?;
        return Err(task_conflict(task.as_ref().map_or("unknown", |t| &t.state)));
    }
    run.order.payment_method = Some(method.to_owned());
    run.order.status = order_status::PROCESSING.into();
    run.advance(
        state,
        &txn,
        Event::TaskSucceeded {
            output: json!({"payment_method": method}),
        },
    )
    .await?;
    let order = run.save(state, &txn, false).await?;
    Ok(Uncommitted::new((order, offered), turn, txn))
}

pub enum TaskResult {
    Success(Value),
    Failure { error: String, cause: String },
}

/// Completes a waiting task and advances its execution. Exactly one of racing callers
/// (callbacks, the timeout) wins the compare-and-set; the others change nothing.
pub async fn finish_task(
    state: &AppState,
    token: &str,
    result: TaskResult,
) -> ApiResult<order::Model> {
    let (_turn, txn) = begin_write(&state.db).await?;
    let task = executions::find_task(&txn, token)
        .await?
        .ok_or_else(|| ApiError::NotFound("no task has this token".into()))?;
    let new_state = match result {
        TaskResult::Success(_) => "succeeded",
        TaskResult::Failure { .. } => "failed",
    };
    let mut run = Run::load(state, &txn, &task.execution_id).await?;
    if !run.settle_task(&txn, token, new_state).await? {
        return Err(task_conflict(&task.state));
    }
    let event = match result {
        TaskResult::Success(output) => Event::TaskSucceeded { output },
        TaskResult::Failure { error, cause } => Event::TaskFailed { error, cause },
    };
    run.advance(state, &txn, event).await?;
    let order = run.save(state, &txn, false).await?;
    txn.commit().await?;
    Ok(order)
}

pub async fn heartbeat(state: &AppState, token: &str) -> ApiResult<()> {
    let (_turn, txn) = begin_write(&state.db).await?;
    let task = executions::find_task(&txn, token)
        .await?
        .ok_or_else(|| ApiError::NotFound("no task has this token".into()))?;
    if !executions::heartbeat_task(&txn, token, crate::persistence::now()).await? {
        return Err(task_conflict(&task.state));
    }
    let mut run = Run::load(state, &txn, &task.execution_id).await?;
    run.note("TaskHeartbeat", Some(&task.step), json!({}));
    run.save(state, &txn, false).await?;
    txn.commit().await?;
    Ok(())
}

/// Cancels an order on the customer's request.
pub async fn cancel(
    state: &AppState,
    order: order::Model,
) -> ApiResult<Uncommitted<(order::Model, Vec<OfferedMethod>)>> {
    if order.status == order_status::COMPLETED || order.status == order_status::CANCELED {
        return Err(ApiError::Conflict {
            problem: "order-final",
            detail: format!("the order is already {}", order.status),
        });
    }
    let (turn, txn) = begin_write(&state.db).await?;
    let mut run = Run::load(state, &txn, &order.id).await?;
    if run.is_final() {
        return Err(ApiError::Conflict {
            problem: "order-final",
            detail: "the order's flow has already ended".into(),
        });
    }
    run.cancel_by_customer();
    let offered = run.offered_methods()?;
    let order = run.save(state, &txn, false).await?;
    Ok(Uncommitted::new((order, offered), turn, txn))
}

/// Fires the timers that are due, a batch per transaction; returns how many fired.
pub async fn fire_due_timers(state: &AppState, batch: u64) -> ApiResult<usize> {
    let (_turn, txn) = begin_write(&state.db).await?;
    let due = executions::claim_due_timers(&txn, crate::persistence::now(), batch).await?;
    let mut fired = 0;
    for timer in due {
        let savepoint = sea_orm::TransactionTrait::begin(&txn).await?;
        match fire(state, &savepoint, &timer).await {
            Ok(()) => {
                executions::delete_timer(&savepoint, timer.id).await?;
                savepoint.commit().await?;
                state
                    .metrics
                    .timers_fired
                    .with_label_values(&[timer.purpose.as_str()])
                    .inc();
                fired += 1;
            }
            Err(error) => {
                savepoint.rollback().await?;
                tracing::error!(timer = timer.id, execution = %timer.execution_id, %error, "timer failed; retrying in 30 s");
                executions::postpone_timer(
                    &txn,
                    timer.id,
                    crate::persistence::now() + Duration::seconds(30),
                )
                .await?;
            }
        }
    }
    txn.commit().await?;
    Ok(fired)
}

async fn fire(
    state: &AppState,
    txn: &sea_orm::DatabaseTransaction,
    timer: &timer::Model,
) -> ApiResult<()> {
    let mut run = Run::load(state, txn, &timer.execution_id).await?;
    if run.is_final() {
        return Ok(());
    }
    match timer.purpose.as_str() {
        timer_purpose::STEP_TIMEOUT => {
            let token = timer.token.as_deref().unwrap_or_default();
            if !run.settle_task(txn, token, "timed_out").await? {
                return Ok(());
            }
            run.advance(state, txn, Event::TaskTimedOut).await?;
        }
        timer_purpose::FLOW_TIMEOUT => {
            run.fail_now(
                engine::FLOW_TIMEOUT_ERROR,
                "the flow's timeoutSeconds passed",
            );
        }
        _ => {
            let expected = match timer.purpose.as_str() {
                timer_purpose::RETRY => Pending::Retry,
                _ => Pending::Wait,
            };
            if run.state.pending != Some(expected) || run.state.step != timer.step {
                return Ok(());
            }
            run.advance(state, txn, Event::TimerFired).await?;
        }
    }
    run.save(state, txn, false).await?;
    Ok(())
}
