//! What one advance of an execution changes, as a value: built without a connection,
//! applied by the writer under a compare-and-set on the execution's version.

use domain::lifecycle::{CancelReason, OrderStatus};

use crate::persistence::changes::{ChangeSet, Guard, NewTimer, TimerDeletion, Write};
use crate::persistence::entities::{
    event, execution, execution_history, idempotency_key, order, rollout_order, task,
};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskSettlement {
    pub token: String,
    pub state: domain::lifecycle::TaskState,
}

#[derive(Debug, Clone)]
pub struct ExecutionChanges {
    /// The execution row with its next version.
    pub execution: execution::Model,
    /// The version it was read at; `None` for a new execution (its order is inserted).
    pub expected_version: Option<i64>,
    pub order: order::Model,
    pub events: Vec<execution_history::Entry>,
    pub new_tasks: Vec<task::Model>,
    pub settled_tasks: Vec<TaskSettlement>,
    pub heartbeats: Vec<String>,
    /// The execution ended: every timer of it goes.
    pub ended: bool,
    /// The task stored as waiting was not settled by this change and times out.
    pub expire_waiting: bool,
    pub new_timers: Vec<NewTimer>,
    /// Timers that fired, or whose task finished.
    pub deleted_timers: Vec<TimerDeletion>,
    /// Events for the outside world: they exist exactly when this change commits.
    pub outbox: Vec<event::Model>,
    /// The record of the request that caused the change, with its answer, when it came
    /// with an `Idempotency-Key`.
    pub claim: Option<idempotency_key::Model>,
    /// The order reached a final status with this change: counted once it commits.
    pub finished: Option<(OrderStatus, Option<CancelReason>)>,
    /// For a new order: the version of each rolled-out document it got.
    pub assignments: Vec<rollout_order::Model>,
}

impl ExecutionChanges {
    pub fn into_change_set(self) -> ChangeSet {
        let at = self.execution.updated_at;
        let execution_id = self.execution.id.clone();
        let mut set = match self.expected_version {
            None => ChangeSet::guarded(Guard::InsertOrder(self.order))
                .with(Write::InsertExecution(self.execution)),
            Some(expected_version) => ChangeSet::guarded(Guard::AdvanceExecution {
                row: self.execution,
                expected_version,
            })
            .with(Write::UpdateOrder(self.order)),
        };
        if !self.events.is_empty() {
            set.push(Write::InsertHistory(execution_history::Model::of(
                execution_id.clone(),
                &self.events,
            )));
        }
        if !self.new_tasks.is_empty() {
            set.push(Write::InsertTasks(self.new_tasks));
        }
        for settled in self.settled_tasks {
            set.push(Write::SettleTask {
                token: settled.token,
                state: settled.state,
                at,
            });
        }
        for token in self.heartbeats {
            set.push(Write::HeartbeatTask { token, at });
        }
        if self.expire_waiting {
            set.push(Write::ExpireWaitingTasks {
                execution_id: execution_id.clone(),
                at,
            });
        }
        match (self.ended, self.expected_version) {
            // A new execution has no timer stored.
            (true, None) => {}
            (true, Some(_)) => set.push(Write::DeleteTimers(TimerDeletion::OfExecution(
                execution_id,
            ))),
            (false, _) => {
                for deletion in self.deleted_timers {
                    set.push(Write::DeleteTimers(deletion));
                }
            }
        }
        if !self.new_timers.is_empty() {
            set.push(Write::InsertTimers(self.new_timers));
        }
        if !self.outbox.is_empty() {
            set.push(Write::InsertOutbox(self.outbox));
        }
        if !self.assignments.is_empty() {
            set.push(Write::InsertRolloutOrders(self.assignments));
        }
        set.claim = self.claim;
        set
    }
}
