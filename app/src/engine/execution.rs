//! One execution in memory: read without a lock, advanced by the interpreter and the
//! actions, and turned into [`ExecutionChanges`]. Nothing here is async or touches a
//! connection except [`Execution::load`] and [`Execution::recent`], which only read.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use domain::documents::flow::{Action, Step};
use domain::function::FunctionRuntime;
use domain::lifecycle::{CancelReason, HistoryKind, OrderStatus, TaskState, TimerPurpose, errors};
use domain::workflow::{self, Command, Event, ExecutionState, Flow, Outcome, Pending, Status};
use serde::Serialize;
use serde_json::{Value, json};

use super::changes::{ExecutionChanges, TaskSettlement};
use super::environment::ScriptEnvironment;
use super::pins::Pinned;
use crate::error::{ServiceError, ServiceResult};
use crate::events::{
    EventData, OrderAwaitingPaymentData, OrderCanceledData, OrderCompletedData, OrderCreatedData,
    OrderPaidData, TaskAwaitingCallbackData, TaskTimedOutData,
};
use crate::persistence::changes::{NewTimer, TimerDeletion};
use crate::persistence::entities::{event, execution, execution_history, order, task};
use crate::persistence::events::{Subject, new_event};
use crate::persistence::executions;
use crate::published::PricingFunctions;
use crate::published::{OfferedMethod, methods_from_input};
use crate::scripts::ConditionCache;

/// What pricing actions need, loaded before an advance that may run them.
#[derive(Default, Clone)]
pub struct PricingResources {
    pub routing_table: Option<Arc<domain::routing::CompiledRoutingTable>>,
    pub functions: PricingFunctions,
}

/// A function evaluated during an advance, for the metrics.
#[derive(Debug, Clone, Copy)]
pub struct EvaluationRecord {
    pub duration: std::time::Duration,
    pub error: Option<domain::function::FunctionErrorKind>,
}

pub struct Execution {
    pub(super) execution: execution::Model,
    expected_version: Option<i64>,
    pub state: ExecutionState,
    pub pinned: Pinned,
    pub flow: Arc<Flow>,
    pub(super) order: order::Model,
    pub(super) status: OrderStatus,
    pub(super) cancel_reason: Option<CancelReason>,
    initial_status: OrderStatus,
    /// The task stored as waiting when the execution was read: the one its state awaits
    /// (an execution waits on at most one callback at a time).
    stored_waiting: Option<String>,
    /// Loaded only for an advance that may price (see [`Execution::may_run_scripts`]).
    pub(super) pricing: Option<PricingResources>,
    pub(super) evaluations: Vec<EvaluationRecord>,
    events: Vec<execution_history::Entry>,
    new_tasks: Vec<task::Model>,
    new_timers: Vec<NewTimer>,
    settled: Vec<TaskSettlement>,
    heartbeats: Vec<String>,
    deleted_timers: Vec<TimerDeletion>,
    /// Events for the outside world, committed with the change.
    outbox: Vec<event::Model>,
    ended: bool,
    history_limit: i32,
    pub(super) now: DateTime<Utc>,
}

/// An execution's rows as stored, parsed; [`StoredExecution::resume`] makes it an
/// [`Execution`] to advance.
pub struct StoredExecution {
    row: execution::Model,
    order: order::Model,
    state: ExecutionState,
    pub pinned: Pinned,
    status: OrderStatus,
    /// `None` for an execution not stored yet.
    expected_version: Option<i64>,
}

impl StoredExecution {
    pub fn parse(row: execution::Model, order: order::Model) -> ServiceResult<Self> {
        let id = &row.id;
        let state = serde_json::from_str(&row.state)
            .map_err(|e| ServiceError::internal(format!("execution {id} state: {e}")))?;
        let pinned = serde_json::from_str(&row.pinned)
            .map_err(|e| ServiceError::internal(format!("execution {id} pins: {e}")))?;
        Ok(Self {
            status: parse_status(&order)?,
            expected_version: Some(row.version),
            row,
            order,
            state,
            pinned,
        })
    }

    /// The execution, to advance at `now` under its pinned `flow`.
    pub fn resume(self, flow: Arc<Flow>, history_limit: i32, now: DateTime<Utc>) -> Execution {
        let stored_waiting = match &self.state.pending {
            Some(Pending::Callback { token, .. }) if self.expected_version.is_some() => {
                Some(token.clone())
            }
            _ => None,
        };
        Execution {
            cancel_reason: self
                .order
                .cancel_reason
                .as_deref()
                .and_then(|r| r.parse().ok()),
            execution: self.row,
            expected_version: self.expected_version,
            state: self.state,
            pinned: self.pinned,
            flow,
            order: self.order,
            status: self.status,
            initial_status: self.status,
            stored_waiting,
            pricing: None,
            evaluations: vec![],
            events: vec![],
            new_tasks: vec![],
            new_timers: vec![],
            settled: vec![],
            heartbeats: vec![],
            deleted_timers: vec![],
            outbox: vec![],
            ended: false,
            history_limit,
            now,
        }
    }
}

impl Execution {
    /// A new execution for a new order; `ExecutionStarted` records what it pinned.
    pub fn start(
        order: order::Model,
        pinned: Pinned,
        flow: Arc<Flow>,
        input: Value,
        history_limit: i32,
        now: DateTime<Utc>,
    ) -> ServiceResult<Self> {
        let row = execution::Model {
            id: order.id.clone(),
            status: "running".into(),
            current_step: None,
            state: String::new(),
            pinned: to_json(&pinned)?,
            event_count: 0,
            version: 0,
            created_at: now,
            updated_at: now,
        };
        let stored = StoredExecution {
            status: parse_status(&order)?,
            expected_version: None,
            row,
            order,
            state: ExecutionState::new(input),
            pinned,
        };
        let mut execution = stored.resume(flow, history_limit, now);
        execution.record(
            HistoryKind::ExecutionStarted,
            None,
            json!({"pinned": execution.pinned, "input": execution.state.input}),
        );
        let created = OrderCreatedData {
            order_num: execution.order.order_num.clone(),
            amount_minor: execution.order.amount_minor,
            currency: execution.order.currency.clone(),
        };
        execution.announce(EventData::OrderCreated(created));
        if let Some(seconds) = execution.flow.timeout_seconds() {
            let due = execution.after(seconds);
            execution.schedule_timer(TimerPurpose::FlowTimeout, None, None, due);
        }
        Ok(execution)
    }

    /// Reads an execution and its order (no lock: the write is a compare-and-set on the
    /// version read here). `None` when there is no such execution.
    pub async fn load(state: &crate::state::AppState, id: &str) -> ServiceResult<Option<Self>> {
        let Some((row, order)) = executions::find_with_order(&state.db, id).await? else {
            return Ok(None);
        };
        let order =
            order.ok_or_else(|| ServiceError::internal(format!("execution {id} has no order")))?;
        Self::resume_read(state, row, order, "database")
            .await
            .map(Some)
    }

    /// This instance's copy of an execution as it last wrote it, when it has one. The copy
    /// may be stale (see [`RecentExecutions`]): only a compare-and-set trusts it.
    ///
    /// [`RecentExecutions`]: crate::persistence::recent_executions::RecentExecutions
    pub async fn recent(state: &crate::state::AppState, id: &str) -> ServiceResult<Option<Self>> {
        let Some((row, order)) = state.recent_executions.get(id) else {
            return Ok(None);
        };
        Self::resume_read(state, row, order, "recent")
            .await
            .map(Some)
    }

    /// Resumes rows read from `source` (a label of the reads metric).
    async fn resume_read(
        state: &crate::state::AppState,
        row: execution::Model,
        order: order::Model,
        source: &str,
    ) -> ServiceResult<Self> {
        state
            .metrics
            .execution_reads
            .with_label_values(&[source])
            .inc();
        let stored = StoredExecution::parse(row, order)?;
        let flow =
            super::pinned_flow(state, &stored.order.merchant_id, &stored.pinned.flow).await?;
        Ok(stored.resume(flow, state.history_limit, crate::persistence::now()))
    }

    pub fn order(&self) -> &order::Model {
        &self.order
    }

    pub fn status(&self) -> OrderStatus {
        self.status
    }

    pub fn is_final(&self) -> bool {
        self.state.is_final()
    }

    /// The token of the callback the execution waits on, if it waits on one.
    pub fn awaited_token(&self) -> Option<&str> {
        match &self.state.pending {
            Some(Pending::Callback { token, .. }) => Some(token),
            _ => None,
        }
    }

    /// The token of the payment task the execution waits on, if it waits for a payment.
    pub fn awaited_payment(&self) -> Option<&str> {
        self.awaited_token().filter(|_| {
            self.state.step.as_deref().and_then(|s| self.step_action(s))
                == Some(Action::AwaitPayment)
        })
    }

    /// The payment methods the order offers, pinned in the execution's input.
    pub fn offered_methods(&self) -> ServiceResult<Vec<OfferedMethod>> {
        methods_from_input(&self.state.input)
    }

    /// Whether the next advance from here may run scripts (and so needs the pricing
    /// resources and a script worker).
    pub fn may_run_scripts(&self) -> bool {
        self.flow.may_run_scripts(self.state.step.as_deref())
    }

    /// An event for the outbox, placed in the order's history at the event just recorded.
    fn announce(&mut self, data: EventData) {
        let subject = Subject {
            merchant_id: Some(&self.order.merchant_id),
            order_id: Some(&self.order.id),
            sequence: Some(self.execution.event_count),
        };
        self.outbox.push(new_event(subject, &data, self.now));
    }

    pub(super) fn record(&mut self, kind: HistoryKind, step: Option<&str>, detail: Value) {
        self.execution.event_count += 1;
        self.events.push(execution_history::Entry {
            seq: self.execution.event_count,
            kind: kind.as_str().to_owned(),
            step: step.map(str::to_owned),
            detail,
            at: self.now,
        });
    }

    fn schedule_timer(
        &mut self,
        purpose: TimerPurpose,
        step: Option<&str>,
        token: Option<&str>,
        due_at: DateTime<Utc>,
    ) {
        self.new_timers.push(NewTimer {
            execution_id: self.execution.id.clone(),
            purpose,
            step: step.map(str::to_owned),
            token: token.map(str::to_owned),
            due_at,
        });
    }

    /// Settles the task the execution waits on; false when it waits on no such task (it
    /// finished or timed out before). Its timeout timer goes.
    pub fn settle_task(&mut self, token: &str, new_state: TaskState) -> bool {
        if self.awaited_token() != Some(token) || self.settled.iter().any(|s| s.token == token) {
            return false;
        }
        self.settled.push(TaskSettlement {
            token: token.to_owned(),
            state: new_state,
        });
        self.deleted_timers
            .push(TimerDeletion::Tokens(vec![token.to_owned()]));
        true
    }

    /// Whether the callback `token` that the execution waits on is past its deadline, whether
    /// or not its timeout timer has fired yet (it may be late: a busy timer loop, a restart).
    pub fn is_overdue(&self, token: &str) -> bool {
        let Some(Pending::Callback {
            token: awaited,
            deadline_ms,
        }) = &self.state.pending
        else {
            return false;
        };
        let deadline = deadline_ms.or_else(|| {
            // Stored before deadlines were kept: a payment's is on its order.
            self.awaited_payment()
                .and(self.order.payment_deadline)
                .map(|at| at.timestamp_millis())
        });
        awaited == token && deadline.is_some_and(|at| self.now.timestamp_millis() >= at)
    }

    /// Records a heartbeat of the task the execution waits on; false when it waits on no
    /// such task.
    pub fn heartbeat(&mut self, token: &str) -> bool {
        if self.awaited_token() != Some(token) {
            return false;
        }
        let step = self.state.step.clone();
        self.heartbeats.push(token.to_owned());
        self.record(HistoryKind::TaskHeartbeat, step.as_deref(), json!({}));
        true
    }

    /// A timer that fired is deleted with this change.
    pub fn timer_fired(&mut self, id: i64) {
        self.deleted_timers.push(TimerDeletion::Ids(vec![id]));
    }

    /// The customer chose `method` to pay with.
    pub fn paid_with(&mut self, method: &str) {
        self.order.payment_method = Some(method.to_owned());
        self.status = OrderStatus::Processing;
    }

    /// Applies `event` and carries out what the interpreter asks, through every step that
    /// needs no waiting. Scripts run here, on the calling thread.
    pub fn advance(
        &mut self,
        runtime: &FunctionRuntime,
        conditions: &ConditionCache,
        event: Event,
    ) -> ServiceResult<()> {
        let mut env = ScriptEnvironment {
            runtime,
            conditions,
        };
        let mut next = Some(event);
        while let Some(event) = next.take() {
            if self.at_history_limit() {
                self.fail_at_history_limit();
                return Ok(());
            }
            let transition = workflow::advance(&self.flow, &mut self.state, event, &mut env)
                .map_err(invalid_state)?;
            for record in &transition.history {
                self.record(record.kind, record.step.as_deref(), record.detail.clone());
                self.announce_task_outcome(record.kind, record.step.as_deref());
            }
            for command in transition.commands {
                match command {
                    Command::RunAction {
                        step,
                        action,
                        function,
                        input,
                    } => {
                        next = Some(self.run_action(
                            runtime,
                            &step,
                            action,
                            function.as_deref(),
                            input,
                        )?);
                    }
                    Command::AwaitCallback {
                        step,
                        action,
                        token,
                        input,
                        timeout_seconds,
                    } => self.await_callback(&step, action, &token, input, timeout_seconds),
                    Command::StartTimer { step, seconds } => {
                        let purpose = match self.state.pending {
                            Some(Pending::Retry) => TimerPurpose::Retry,
                            _ => TimerPurpose::Wait,
                        };
                        let due = self.after(seconds);
                        self.schedule_timer(purpose, Some(&step), None, due);
                    }
                    Command::Finish(outcome) => self.finish(&outcome),
                }
            }
        }
        Ok(())
    }

    fn after(&self, seconds: u64) -> DateTime<Utc> {
        self.now
            + Duration::seconds(
                i64::try_from(seconds)
                    .unwrap_or(i64::MAX / 1_000_000)
                    .min(315_360_000),
            )
    }

    fn await_callback(
        &mut self,
        step: &str,
        action: Action,
        token: &str,
        input: Value,
        timeout_seconds: u64,
    ) {
        let due = self.after(timeout_seconds);
        self.new_tasks.push(task::Model {
            token: token.to_owned(),
            execution_id: self.execution.id.clone(),
            step: step.to_owned(),
            action: action.as_str().to_owned(),
            state: TaskState::Waiting.as_str().into(),
            created_at: self.now,
            heartbeat_at: None,
            finished_at: None,
        });
        self.schedule_timer(TimerPurpose::StepTimeout, Some(step), Some(token), due);
        if let Some(Pending::Callback {
            token: awaited,
            deadline_ms,
        }) = &mut self.state.pending
            && awaited == token
        {
            *deadline_ms = Some(due.timestamp_millis());
        }
        if action == Action::AwaitPayment {
            self.order.payment_deadline = Some(due);
            let awaiting = OrderAwaitingPaymentData {
                amount_minor: self.order.amount_minor,
                currency: self.order.currency.clone(),
                payment_deadline: due,
                payment_methods: self.state.input["payment_methods"].clone(),
            };
            self.announce(EventData::OrderAwaitingPayment(awaiting));
        } else {
            let awaiting = TaskAwaitingCallbackData {
                step: step.to_owned(),
                token: token.to_owned(),
                input,
                deadline: due,
            };
            self.announce(EventData::TaskAwaitingCallback(awaiting));
        }
    }

    /// `order.paid` when the payment step succeeded, `task.timed_out` when a task did.
    fn announce_task_outcome(&mut self, kind: HistoryKind, step: Option<&str>) {
        let Some(step) = step else { return };
        match kind {
            HistoryKind::TaskSucceeded if self.step_action(step) == Some(Action::AwaitPayment) => {
                let paid = OrderPaidData {
                    payment_method: self.order.payment_method.clone(),
                };
                self.announce(EventData::OrderPaid(paid));
            }
            HistoryKind::TaskTimedOut => self.announce(EventData::TaskTimedOut(TaskTimedOutData {
                step: step.to_owned(),
            })),
            _ => {}
        }
    }

    pub(super) fn step_action(&self, name: &str) -> Option<Action> {
        self.flow.steps().iter().find_map(|s| match s {
            Step::Task(t) if t.name == name => Some(t.action),
            _ => None,
        })
    }

    pub(super) fn cancel_order(&mut self, reason: CancelReason) {
        if self.status != OrderStatus::Completed {
            self.status = OrderStatus::Canceled;
            self.cancel_reason = Some(reason);
        }
    }

    fn finish(&mut self, outcome: &Outcome) {
        self.end_waits();
        if let Outcome::Failed { error, .. } = outcome {
            let action = self.state.step.as_deref().and_then(|s| self.step_action(s));
            if self.status != OrderStatus::Canceled {
                self.cancel_order(CancelReason::from_error(error, action));
            }
        } else if matches!(
            self.status,
            OrderStatus::AwaitingPayment | OrderStatus::Processing
        ) {
            // The flow ended without deciding the order: nothing was charged.
            self.cancel_order(CancelReason::Rejected);
        }
    }

    /// The execution ended: no timer of it may fire and no task of it may be completed.
    fn end_waits(&mut self) {
        self.ended = true;
        self.new_timers.clear();
        for task in &mut self.new_tasks {
            task.state = TaskState::TimedOut.as_str().into();
            task.finished_at = Some(self.now);
        }
    }

    fn at_history_limit(&self) -> bool {
        self.execution.event_count >= self.history_limit && !self.is_final()
    }

    fn fail_at_history_limit(&mut self) {
        let cause = format!(
            "the execution's history reached its cap of {} events",
            self.history_limit
        );
        self.fail_now(errors::HISTORY_LIMIT, &cause);
    }

    /// Ends the execution now, from outside the flow (history cap, flow timeout).
    pub fn fail_now(&mut self, error: &str, cause: &str) {
        self.state.status = Status::Failed;
        self.state.pending = None;
        self.record(
            HistoryKind::ExecutionFailed,
            None,
            json!({"error": error, "cause": cause}),
        );
        self.finish(&Outcome::Failed {
            error: error.to_owned(),
            cause: cause.to_owned(),
        });
    }

    /// Cancels the order from outside the flow: the customer's or the merchant's request.
    pub fn cancel_now(&mut self, reason: CancelReason) {
        self.cancel_order(reason);
        self.state.status = Status::Failed;
        self.state.pending = None;
        self.record(
            HistoryKind::ExecutionCanceled,
            None,
            json!({"reason": reason}),
        );
        self.end_waits();
    }

    /// Everything the advance changed.
    pub fn into_changes(mut self) -> ServiceResult<ExecutionChanges> {
        // Events recorded outside the interpreter (heartbeats) count towards the cap too.
        if self.at_history_limit() {
            self.fail_at_history_limit();
        }
        self.execution.status = match self.state.status {
            Status::Running | Status::Waiting => "running".into(),
            Status::Succeeded => "succeeded".into(),
            Status::Failed => "failed".into(),
        };
        self.execution.current_step = self.state.step.clone();
        self.execution.state = to_json(&self.state)?;
        self.execution.updated_at = self.now;
        self.execution.version = self.expected_version.map_or(1, |v| v + 1);
        self.order.status = self.status.as_str().into();
        self.order.cancel_reason = self.cancel_reason.map(|r| r.as_str().into());
        self.order.updated_at = self.now;
        let finished = (self.status != self.initial_status && self.status.is_final())
            .then_some((self.status, self.cancel_reason));
        match finished {
            Some((OrderStatus::Completed, _)) => {
                let completed = OrderCompletedData {
                    amount_minor: self.order.amount_minor,
                    final_amount_minor: self.order.final_amount_minor,
                    payment_method: self.order.payment_method.clone(),
                };
                self.announce(EventData::OrderCompleted(completed));
            }
            Some((OrderStatus::Canceled, reason)) => {
                self.announce(EventData::OrderCanceled(OrderCanceledData {
                    cancel_reason: reason,
                }));
            }
            _ => {}
        }
        // An execution that ended loses every timer it has; its stored task times out
        // unless this change settled it.
        let expire_waiting = self.ended
            && self
                .stored_waiting
                .as_ref()
                .is_some_and(|token| !self.settled.iter().any(|s| &s.token == token));
        Ok(ExecutionChanges {
            execution: self.execution,
            expected_version: self.expected_version,
            order: self.order,
            events: self.events,
            new_tasks: self.new_tasks,
            settled_tasks: self.settled,
            heartbeats: self.heartbeats,
            ended: self.ended,
            expire_waiting,
            new_timers: self.new_timers,
            deleted_timers: self.deleted_timers,
            outbox: self.outbox,
            claim: None,
            finished,
            assignments: vec![],
        })
    }
}

fn parse_status(order: &order::Model) -> ServiceResult<OrderStatus> {
    order
        .status
        .parse()
        .map_err(|e: domain::lifecycle::UnknownName| ServiceError::internal(e.to_string()))
}

/// An event the execution cannot take in its state (e.g. a late duplicate).
fn invalid_state(error: workflow::FlowError) -> ServiceError {
    ServiceError::Conflict {
        problem: crate::problem_type::ProblemType::InvalidState,
        detail: error.to_string(),
    }
}

pub(super) fn to_json<T: Serialize>(value: &T) -> ServiceResult<String> {
    serde_json::to_string(value).map_err(|e| ServiceError::internal(e.to_string()))
}
