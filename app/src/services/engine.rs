//! The executor: runs the flow interpreter against the database. Each advance happens in
//! the caller's transaction: the execution's state (under an optimistic version), its new
//! history, its task tokens, its timers and the order change commit together or not at all.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use chrono::{DateTime, Duration, Utc};
use domain::documents::flow::Action;
use domain::function::{CompiledScript, FunctionErrorKind, FunctionRuntime};
use domain::workflow::{self, Command, Environment, Event, ExecutionState, Flow, Outcome, Status};
use domain::{Kind, Scope};
use rand::RngCore;
use sea_orm::{ConnectionTrait, DatabaseTransaction};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::error::{ApiError, ApiResult};
use crate::persistence::entities::{execution, execution_event, order, task};
use crate::persistence::executions;
use crate::persistence::metadata::{self as metadata_rows, Address};
use crate::persistence::orders;
use crate::services::discounts::{self, Pricing};
use crate::services::metadata::parse_body;
use crate::state::AppState;

/// An execution's history is capped (`ORDERFLOW_HISTORY_LIMIT`, 10,000 by default);
/// reaching the cap fails the execution with this error.
pub const HISTORY_LIMIT_ERROR: &str = "Execution.HistoryLimit";
pub const FLOW_TIMEOUT_ERROR: &str = "States.Timeout";

/// The order statuses.
pub mod order_status {
    pub const AWAITING_PAYMENT: &str = "awaiting_payment";
    /// Paid, and the flow has more to do (e.g. a manual review step).
    pub const PROCESSING: &str = "processing";
    pub const COMPLETED: &str = "completed";
    pub const CANCELED: &str = "canceled";
}

/// Timer purposes.
pub mod timer_purpose {
    pub const STEP_TIMEOUT: &str = "step_timeout";
    pub const FLOW_TIMEOUT: &str = "flow_timeout";
    pub const WAIT: &str = "wait";
    pub const RETRY: &str = "retry";
}

/// A pinned document version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PinnedDocument {
    /// `platform` or `merchant`.
    pub scope: String,
    pub name: String,
    pub version: i32,
}

/// The metadata versions an order resolved when it started; later publishes never change
/// them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pinned {
    pub flow: PinnedDocument,
    pub payment_combination: PinnedDocument,
    pub checkout_page: Option<PinnedDocument>,
    pub routing_table: Option<PinnedDocument>,
    /// Every discount function published for the merchant, by name.
    pub functions: BTreeMap<String, i32>,
}

/// Flows and choice conditions, compiled once per published version.
#[derive(Default)]
pub struct FlowCache {
    flows: Mutex<HashMap<(String, i32), Arc<Flow>>>,
    conditions: Arc<Mutex<HashMap<String, CompiledScript>>>,
}

/// Loads the pinned flow, compiled and cached.
pub async fn pinned_flow(
    state: &AppState,
    db: &impl ConnectionTrait,
    merchant: &str,
    pinned: &PinnedDocument,
) -> ApiResult<Arc<Flow>> {
    let scope = if pinned.scope == "platform" {
        Scope::Platform.key()
    } else {
        format!("merchant:{merchant}")
    };
    let key = (scope.clone(), pinned.version);
    if let Some(flow) = state
        .flows
        .flows
        .lock()
        .ok()
        .and_then(|f| f.get(&key).cloned())
    {
        return Ok(flow);
    }
    let address = Address {
        scope: &scope,
        kind: Kind::OrderFlow.as_str(),
        name: &pinned.name,
    };
    let document = metadata_rows::find(db, address)
        .await?
        .ok_or_else(|| ApiError::internal("pinned flow document is gone"))?;
    let row = metadata_rows::find_version(db, document.id, pinned.version)
        .await?
        .ok_or_else(|| ApiError::internal("pinned flow version is gone"))?;
    let definition = domain::documents::parse(&parse_body(&row.body)?)
        .map_err(|_| ApiError::internal("published flow does not parse"))?;
    let flow = Arc::new(Flow::new(definition));
    if let Ok(mut flows) = state.flows.flows.lock() {
        flows.insert(key, flow.clone());
    }
    Ok(flow)
}

/// Tokens and choice conditions for the interpreter.
struct AppEnvironment<'a> {
    runtime: &'a FunctionRuntime,
    conditions: &'a Mutex<HashMap<String, CompiledScript>>,
}

pub fn new_token() -> String {
    let mut bytes = [0u8; 24];
    rand::rng().fill_bytes(&mut bytes);
    format!(
        "tt_{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    )
}

impl Environment for AppEnvironment<'_> {
    fn new_token(&mut self) -> String {
        new_token()
    }

    fn condition(
        &mut self,
        _step: &str,
        _index: usize,
        expression: &str,
        input: &Value,
    ) -> Result<bool, String> {
        let cached = self
            .conditions
            .lock()
            .ok()
            .and_then(|c| c.get(expression).cloned());
        let compiled = match cached {
            Some(compiled) => compiled,
            None => {
                let compiled = self
                    .runtime
                    .compile_condition(expression)
                    .map_err(|e| e.message)?;
                if let Ok(mut conditions) = self.conditions.lock() {
                    conditions.insert(expression.to_owned(), compiled.clone());
                }
                compiled
            }
        };
        self.runtime
            .run_condition(&compiled, input)
            .outcome
            .map_err(|e| e.message)
    }
}

/// One execution loaded for an advance, with its order.
pub struct Run {
    pub execution: execution::Model,
    expected_version: i64,
    pub state: ExecutionState,
    pub pinned: Pinned,
    pub flow: Arc<Flow>,
    pub order: order::Model,
    /// The order's status when loaded: a change to a final status is counted once, at save.
    initial_status: String,
    events: Vec<execution_event::Model>,
    writes: Writes,
    now: DateTime<Utc>,
}

/// What an advance decided to write besides the execution, the order and the history: made
/// at save, a statement per kind of change, whatever the number of rows.
#[derive(Default)]
struct Writes {
    tasks: Vec<task::Model>,
    timers: Vec<executions::NewTimer>,
    /// Tasks that finished: their timeout timers go.
    settled_tokens: Vec<String>,
    /// The task stored as waiting when the execution was loaded: the one its state awaits
    /// (an execution waits on at most one callback at a time).
    stored_waiting: Option<String>,
    /// The execution ended: its stored timers go and its waiting tasks expire.
    ended: bool,
}

impl Run {
    /// A new execution for a new order; `ExecutionStarted` records what it pinned.
    pub fn start(
        order: order::Model,
        pinned: Pinned,
        flow: Arc<Flow>,
        input: Value,
        now: DateTime<Utc>,
    ) -> ApiResult<Self> {
        let state = ExecutionState::new(input);
        let execution = execution::Model {
            id: order.id.clone(),
            status: "running".into(),
            current_step: None,
            state: to_json(&state)?,
            pinned: to_json(&pinned)?,
            event_count: 0,
            version: 0,
            created_at: now,
            updated_at: now,
        };
        let mut run = Self {
            execution,
            expected_version: 0,
            state,
            pinned: pinned.clone(),
            flow,
            initial_status: order.status.clone(),
            order,
            events: vec![],
            writes: Writes::default(),
            now,
        };
        run.record(
            "ExecutionStarted",
            None,
            json!({"pinned": pinned, "input": run.state.input}),
        );
        Ok(run)
    }

    /// Loads an execution and its order inside `txn`.
    pub async fn load(state: &AppState, txn: &DatabaseTransaction, id: &str) -> ApiResult<Self> {
        let (execution, order) = executions::find_with_order(txn, id)
            .await?
            .ok_or_else(|| ApiError::NotFound(format!("order {id} not found")))?;
        let order =
            order.ok_or_else(|| ApiError::internal(format!("execution {id} has no order")))?;
        let interpreter_state: ExecutionState = serde_json::from_str(&execution.state)
            .map_err(|e| ApiError::internal(format!("execution {id} state: {e}")))?;
        let pinned: Pinned = serde_json::from_str(&execution.pinned)
            .map_err(|e| ApiError::internal(format!("execution {id} pins: {e}")))?;
        let flow = pinned_flow(state, txn, &order.merchant_id, &pinned.flow).await?;
        let stored_waiting = match &interpreter_state.pending {
            Some(workflow::Pending::Callback { token }) => Some(token.clone()),
            _ => None,
        };
        Ok(Self {
            expected_version: execution.version,
            execution,
            state: interpreter_state,
            pinned,
            flow,
            initial_status: order.status.clone(),
            order,
            events: vec![],
            writes: Writes {
                stored_waiting,
                ..Writes::default()
            },
            now: crate::persistence::now(),
        })
    }

    pub fn is_final(&self) -> bool {
        self.state.is_final()
    }

    /// The token of the payment task the execution waits on, if it waits for a payment.
    pub fn awaited_payment(&self) -> Option<&str> {
        match &self.state.pending {
            Some(workflow::Pending::Callback { token })
                if self.state.step.as_deref().and_then(|s| self.step_action(s))
                    == Some(Action::AwaitPayment) =>
            {
                Some(token)
            }
            _ => None,
        }
    }

    /// The payment methods the order offers, pinned in the execution's input.
    pub fn offered_methods(&self) -> ApiResult<Vec<crate::services::orders::OfferedMethod>> {
        crate::services::orders::methods_from_input(&self.state.input)
    }

    fn record(&mut self, kind: &str, step: Option<&str>, detail: Value) {
        self.execution.event_count += 1;
        self.events.push(execution_event::Model {
            execution_id: self.execution.id.clone(),
            seq: self.execution.event_count,
            kind: kind.to_owned(),
            step: step.map(str::to_owned),
            detail: detail.to_string(),
            at: self.now,
        });
    }

    /// Schedules a timer for this execution, written at save.
    pub fn schedule_timer(
        &mut self,
        purpose: &'static str,
        step: Option<&str>,
        token: Option<&str>,
        due_at: DateTime<Utc>,
    ) {
        self.writes.timers.push(executions::NewTimer {
            purpose,
            step: step.map(str::to_owned),
            token: token.map(str::to_owned),
            due_at,
        });
    }

    /// Moves a waiting task of this execution to `new_state`; exactly one of racing callers
    /// (callbacks, the timeout) wins the compare-and-set. The winner's task is settled: its
    /// timeout timer goes at save. False when the task was no longer waiting.
    pub async fn settle_task(
        &mut self,
        txn: &DatabaseTransaction,
        token: &str,
        new_state: &str,
    ) -> ApiResult<bool> {
        let won = executions::finish_task(txn, token, new_state, self.now).await?;
        if won {
            self.writes.settled_tokens.push(token.to_owned());
        }
        Ok(won)
    }

    /// Records an event from outside the interpreter (e.g. a heartbeat, a cancel request).
    pub fn note(&mut self, kind: &str, step: Option<&str>, detail: Value) {
        self.record(kind, step, detail);
    }

    /// Writes everything the advance changed, if nobody else advanced the execution first.
    pub async fn save(
        mut self,
        state: &AppState,
        txn: &DatabaseTransaction,
        is_new: bool,
    ) -> ApiResult<order::Model> {
        // Events recorded outside the interpreter (heartbeats) count towards the cap too.
        if self.at_history_limit(state) {
            self.fail_at_history_limit(state);
        }
        self.execution.status = match self.state.status {
            Status::Running | Status::Waiting => "running".into(),
            Status::Succeeded => "succeeded".into(),
            Status::Failed => "failed".into(),
        };
        self.execution.current_step = self.state.step.clone();
        self.execution.state = to_json(&self.state)?;
        self.execution.updated_at = self.now;
        self.order.updated_at = self.now;
        if is_new {
            self.execution.version = 1;
            orders::insert(txn, self.order.clone()).await?;
            executions::insert(txn, self.execution.clone()).await?;
        } else {
            self.execution.version = self.expected_version + 1;
            if !executions::save(txn, &self.execution, self.expected_version).await? {
                return Err(ApiError::Conflict {
                    problem: "concurrent-modification",
                    detail:
                        "the order was advanced by another request at the same time; read it again"
                            .into(),
                });
            }
            orders::update(txn, &self.order).await?;
        }
        let writes = std::mem::take(&mut self.writes);
        if writes.ended {
            // A new execution has nothing stored yet.
            if !is_new {
                executions::delete_timers(txn, &self.execution.id).await?;
                let still_waiting = writes
                    .stored_waiting
                    .is_some_and(|token| !writes.settled_tokens.contains(&token));
                if still_waiting {
                    executions::expire_tasks(txn, &self.execution.id, self.now).await?;
                }
            }
        } else {
            executions::delete_timers_for_tokens(txn, &writes.settled_tokens).await?;
        }
        executions::insert_tasks(txn, writes.tasks).await?;
        executions::insert_timers(txn, &self.execution.id, writes.timers).await?;
        executions::append_events(txn, std::mem::take(&mut self.events)).await?;
        let finished = [order_status::COMPLETED, order_status::CANCELED];
        if self.order.status != self.initial_status
            && finished.contains(&self.order.status.as_str())
        {
            state
                .metrics
                .order_finished(&self.order.status, self.order.cancel_reason.as_deref());
        }
        Ok(self.order)
    }

    /// Applies `event` and carries out what the interpreter asks, through every step that
    /// needs no waiting.
    pub async fn advance(
        &mut self,
        state: &AppState,
        txn: &DatabaseTransaction,
        event: Event,
    ) -> ApiResult<()> {
        let mut next = Some(event);
        while let Some(event) = next.take() {
            if self.at_history_limit(state) {
                self.fail_at_history_limit(state);
                return Ok(());
            }
            let transition = self.interpret(state, event).await?;
            for record in &transition.history {
                self.record(record.kind, record.step.as_deref(), record.detail.clone());
            }
            for command in transition.commands {
                match command {
                    Command::RunAction {
                        step,
                        action,
                        function,
                        input,
                    } => {
                        next = Some(
                            self.run_action(state, txn, &step, action, function.as_deref(), input)
                                .await?,
                        )
                    }
                    Command::AwaitCallback {
                        step,
                        action,
                        token,
                        timeout_seconds,
                        ..
                    } => self.await_callback(&step, action, &token, timeout_seconds),
                    Command::StartTimer { step, seconds } => {
                        let purpose = match self.state.pending {
                            Some(workflow::Pending::Retry) => timer_purpose::RETRY,
                            _ => timer_purpose::WAIT,
                        };
                        self.schedule_timer(purpose, Some(&step), None, self.after(seconds));
                    }
                    Command::Finish(outcome) => self.finish(&outcome),
                }
            }
        }
        Ok(())
    }

    async fn interpret(
        &mut self,
        state: &AppState,
        event: Event,
    ) -> ApiResult<workflow::Transition> {
        if !self.flow.runs_scripts() {
            // Nothing to sandbox: stay on this thread rather than hop to the blocking pool.
            let mut env = AppEnvironment {
                runtime: state.functions.runtime(),
                conditions: &state.flows.conditions,
            };
            return workflow::advance(&self.flow, &mut self.state, event, &mut env)
                .map_err(invalid_state);
        }
        let flow = self.flow.clone();
        let mut interpreter_state = self.state.clone();
        let conditions = state.flows.conditions.clone();
        let (interpreter_state, transition) = state
            .functions
            .run(move |runtime| {
                let mut env = AppEnvironment {
                    runtime,
                    conditions: &conditions,
                };
                let transition = workflow::advance(&flow, &mut interpreter_state, event, &mut env);
                (interpreter_state, transition)
            })
            .await?;
        let transition = transition.map_err(invalid_state)?;
        self.state = interpreter_state;
        Ok(transition)
    }

    fn after(&self, seconds: u64) -> DateTime<Utc> {
        self.now
            + Duration::seconds(
                i64::try_from(seconds)
                    .unwrap_or(i64::MAX / 1_000_000)
                    .min(315_360_000),
            )
    }

    fn await_callback(&mut self, step: &str, action: Action, token: &str, timeout_seconds: u64) {
        let due = self.after(timeout_seconds);
        self.writes.tasks.push(task::Model {
            token: token.to_owned(),
            execution_id: self.execution.id.clone(),
            step: step.to_owned(),
            action: action_name(action).to_owned(),
            state: "waiting".into(),
            created_at: self.now,
            heartbeat_at: None,
            finished_at: None,
        });
        self.schedule_timer(timer_purpose::STEP_TIMEOUT, Some(step), Some(token), due);
        if action == Action::AwaitPayment {
            self.order.payment_deadline = Some(due);
        }
    }

    /// Runs a synchronous action and turns its result into the interpreter's next event.
    async fn run_action(
        &mut self,
        state: &AppState,
        txn: &DatabaseTransaction,
        step: &str,
        action: Action,
        function: Option<&str>,
        input: Value,
    ) -> ApiResult<Event> {
        Ok(match action {
            Action::ResolvePaymentCombination => Event::TaskSucceeded {
                output: json!({"payment_combination": self.pinned.payment_combination.version,
                               "methods": input.get("payment_methods").cloned().unwrap_or(Value::Null)}),
            },
            Action::ApplyDiscount => self.apply_discount(state, txn, step, None).await?,
            Action::RunFunction => self.apply_discount(state, txn, step, function).await?,
            Action::CompleteOrder => {
                self.order.status = order_status::COMPLETED.into();
                self.order.cancel_reason = None;
                if self.order.final_amount_minor.is_none() {
                    self.order.final_amount_minor = Some(self.order.amount_minor);
                }
                Event::TaskSucceeded {
                    output: json!({"status": order_status::COMPLETED, "final_amount_minor": self.order.final_amount_minor}),
                }
            }
            Action::CancelOrder => {
                let reason = self.cancel_reason_from_state();
                self.cancel_order(reason);
                Event::TaskSucceeded {
                    output: json!({"status": order_status::CANCELED, "cancel_reason": reason}),
                }
            }
            // Waiting actions are always scheduled with the callback pattern (checked at publish).
            Action::AwaitPayment | Action::AwaitCallback => Event::TaskFailed {
                error: "States.Runtime".into(),
                cause: "a waiting action was run without the waitForCallback pattern".into(),
            },
        })
    }

    fn order_map(&self) -> ApiResult<Value> {
        Ok(json!({
            "amount_minor": self.order.amount_minor,
            "currency": self.order.currency,
            "method": self.order.payment_method,
            "merchant_id": self.order.merchant_id,
            "items": parse_body(&self.order.items)?,
            "fields": parse_body(&self.order.fields)?,
        }))
    }

    /// `apply_discount` (the routing table picks the function) or `run_function` (named).
    async fn apply_discount(
        &mut self,
        state: &AppState,
        txn: &DatabaseTransaction,
        step: &str,
        named: Option<&str>,
    ) -> ApiResult<Event> {
        let scope = Scope::Merchant(
            domain::MerchantId::parse(&self.order.merchant_id)
                .map_err(|e| ApiError::internal(e.to_string()))?,
        );
        let order_map = self.order_map()?;
        let pins = self.pinned.functions.clone();
        let pricing = match named {
            Some(name) => {
                match discounts::published_function(
                    state,
                    txn,
                    &scope,
                    name,
                    pins.get(name).copied(),
                )
                .await?
                {
                    None => Pricing::FunctionNotPublished {
                        rule: None,
                        function: name.to_owned(),
                    },
                    Some((function, script)) => {
                        let evaluation =
                            discounts::run_discount(state, script, order_map.clone()).await?;
                        Pricing::Priced {
                            rule: None,
                            function,
                            evaluation,
                        }
                    }
                }
            }
            None => {
                let table = match &self.pinned.routing_table {
                    Some(pin) => {
                        discounts::published_routing_table(state, txn, &scope, Some(pin.version))
                            .await?
                    }
                    None => None,
                };
                match table {
                    None => Pricing::NoRoute,
                    Some((_, table)) => {
                        discounts::price(state, txn, &scope, table, order_map.clone(), |name| {
                            pins.get(name).copied()
                        })
                        .await?
                        .pricing
                    }
                }
            }
        };
        let routing_table_version = self
            .pinned
            .routing_table
            .as_ref()
            .map(|p| p.version)
            .filter(|_| named.is_none());
        Ok(match pricing {
            Pricing::Priced {
                rule,
                function,
                evaluation,
            } => {
                let duration_us =
                    u64::try_from(evaluation.duration.as_micros()).unwrap_or(u64::MAX);
                let mut detail = json!({
                    "routing_table_version": routing_table_version,
                    "rule": rule,
                    "function": function.name,
                    "version": function.version,
                    "input": order_map,
                    "logs": evaluation.logs,
                    "operations": evaluation.operations,
                    "duration_us": duration_us,
                });
                match evaluation.outcome {
                    Ok(output) => {
                        detail["output"] =
                            json!({"amount_minor": output.amount_minor, "label": output.label});
                        self.record("FunctionEvaluated", Some(step), detail);
                        let discount = json!({"function": function.name, "version": function.version, "label": output.label});
                        self.order.final_amount_minor = Some(output.amount_minor);
                        self.order.discount = Some(discount.to_string());
                        Event::TaskSucceeded {
                            output: json!({"final_amount_minor": output.amount_minor, "discount": discount}),
                        }
                    }
                    Err(error) => {
                        detail["error"] = json!({"kind": error.kind.as_str(), "message": error.message,
                                                 "line": error.line, "column": error.column});
                        self.record("FunctionEvaluated", Some(step), detail);
                        Event::TaskFailed {
                            error: flow_error_name(error.kind).into(),
                            cause: error.message,
                        }
                    }
                }
            }
            Pricing::Cancel | Pricing::NoRoute => Event::TaskFailed {
                error: "Route.NotFound".into(),
                cause: format!(
                    "no route for payment method '{}'",
                    self.order.payment_method.as_deref().unwrap_or_default()
                ),
            },
            Pricing::FunctionNotPublished { function, .. } => Event::TaskFailed {
                error: "Route.NotFound".into(),
                cause: format!(
                    "the route names discount function '{function}', which is not published"
                ),
            },
            Pricing::ConditionFailed(error) => Event::TaskFailed {
                error: "Function.Error".into(),
                cause: format!("a routing condition failed: {}", error.message),
            },
        })
    }

    fn cancel_reason_from_state(&self) -> &'static str {
        match &self.state.error {
            Some(caught) => cancel_reason(&caught.error, self.step_action(&caught.step)),
            None => "rejected",
        }
    }

    fn step_action(&self, name: &str) -> Option<Action> {
        self.flow.steps().iter().find_map(|s| match s {
            domain::documents::flow::Step::Task(t) if t.name == name => Some(t.action),
            _ => None,
        })
    }

    fn cancel_order(&mut self, reason: &str) {
        if self.order.status != order_status::COMPLETED {
            self.order.status = order_status::CANCELED.into();
            self.order.cancel_reason = Some(reason.to_owned());
        }
    }

    fn finish(&mut self, outcome: &Outcome) {
        self.end_waits();
        if let Outcome::Failed { error, .. } = outcome {
            let action = self.state.step.as_deref().and_then(|s| self.step_action(s));
            let reason = cancel_reason(error, action);
            if self.order.status != order_status::CANCELED {
                self.cancel_order(reason);
            }
        } else if self.order.status == order_status::AWAITING_PAYMENT
            || self.order.status == order_status::PROCESSING
        {
            // The flow ended without deciding the order: nothing was charged.
            self.cancel_order("rejected");
        }
    }

    /// The execution ended: no timer of it may fire and no task of it may be completed.
    fn end_waits(&mut self) {
        self.writes.ended = true;
        self.writes.timers.clear();
        for task in &mut self.writes.tasks {
            task.state = "timed_out".into();
            task.finished_at = Some(self.now);
        }
    }

    fn at_history_limit(&self, state: &AppState) -> bool {
        self.execution.event_count >= state.history_limit && !self.is_final()
    }

    fn fail_at_history_limit(&mut self, state: &AppState) {
        let cause = format!(
            "the execution's history reached its cap of {} events",
            state.history_limit
        );
        self.fail_now(HISTORY_LIMIT_ERROR, &cause);
    }

    /// Ends the execution now, from outside the flow (history cap, flow timeout, customer).
    pub fn fail_now(&mut self, error: &str, cause: &str) {
        self.state.status = Status::Failed;
        self.state.pending = None;
        self.record(
            "ExecutionFailed",
            None,
            json!({"error": error, "cause": cause}),
        );
        self.finish(&Outcome::Failed {
            error: error.to_owned(),
            cause: cause.to_owned(),
        });
    }

    /// Cancels the order on the customer's request.
    pub fn cancel_by_customer(&mut self) {
        self.cancel_order("customer_canceled");
        self.state.status = Status::Failed;
        self.state.pending = None;
        self.record(
            "ExecutionCanceled",
            None,
            json!({"reason": "customer_canceled"}),
        );
        self.end_waits();
    }
}

/// An event the execution cannot take in its state (e.g. a late duplicate).
fn invalid_state(error: workflow::FlowError) -> ApiError {
    ApiError::Conflict {
        problem: "invalid-state",
        detail: error.to_string(),
    }
}

/// The order's cancel reason for the error that ended or diverted its flow.
pub fn cancel_reason(error: &str, at_action: Option<Action>) -> &'static str {
    match error {
        workflow::TASK_TIMEOUT if at_action == Some(Action::AwaitPayment) => "payment_timeout",
        FLOW_TIMEOUT_ERROR => "flow_timeout",
        "Route.NotFound" => "no_route",
        e if e.starts_with("Function.") => "function_error",
        _ => "rejected",
    }
}

/// The error a function failure raises in the flow: `Function.Error` for mistakes in the
/// script or its result, the specific name for limits and timeouts.
fn flow_error_name(kind: FunctionErrorKind) -> &'static str {
    match kind {
        FunctionErrorKind::LimitExceeded => "Function.LimitExceeded",
        FunctionErrorKind::Timeout => "Function.Timeout",
        FunctionErrorKind::CompileError
        | FunctionErrorKind::RuntimeError
        | FunctionErrorKind::InvalidResult => "Function.Error",
    }
}

pub fn action_name(action: Action) -> &'static str {
    match action {
        Action::ResolvePaymentCombination => "resolve_payment_combination",
        Action::AwaitPayment => "await_payment",
        Action::ApplyDiscount => "apply_discount",
        Action::RunFunction => "run_function",
        Action::CompleteOrder => "complete_order",
        Action::CancelOrder => "cancel_order",
        Action::AwaitCallback => "await_callback",
    }
}

fn to_json<T: Serialize>(value: &T) -> ApiResult<String> {
    serde_json::to_string(value).map_err(|e| ApiError::internal(e.to_string()))
}
