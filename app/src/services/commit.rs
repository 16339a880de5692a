//! Applying what a request staged. A request reads without a lock and computes its changes;
//! the writer applies them under a compare-and-set. When another writer got there first,
//! the change set is refused and the request stages again from what is now stored.

use std::future::Future;

use domain::lifecycle::{CancelReason, OrderStatus};

use crate::engine::ExecutionChanges;
use crate::error::{ServiceError, ServiceResult};
use crate::persistence::changes::ChangeSet;
use crate::persistence::entities::{execution, idempotency_key, order};
use crate::persistence::writer::Applied;
use crate::problem_type::ProblemType;
use crate::state::AppState;

/// How often a request stages again before it answers 409: each refusal means another
/// request changed the same thing meanwhile, so this many in a row is a hot spot.
const MAX_ATTEMPTS: usize = 16;

/// The final status an order reaches, with why it was canceled.
type FinalStatus = (OrderStatus, Option<CancelReason>);

/// What an advance writes of its execution and order, for this instance's copy.
struct Advanced {
    execution: execution::Model,
    order: order::Model,
    finished: Option<FinalStatus>,
}

/// What a request will change.
enum Changes {
    Nothing,
    Execution(Box<ExecutionChanges>),
    Set(ChangeSet),
}

/// A request's answer with the changes it stands on, not yet applied. The answer may be an
/// error that the changes still stand on (a callback after its deadline times the task out,
/// then is refused).
pub struct Staged<T> {
    answer: ServiceResult<T>,
    changes: Changes,
}

impl<T> Staged<T> {
    pub fn execution(value: T, changes: ExecutionChanges) -> Self {
        Self {
            answer: Ok(value),
            changes: Changes::Execution(Box::new(changes)),
        }
    }

    /// Changes to apply, after which the request is answered with `error`.
    pub fn refused(error: ServiceError, changes: ExecutionChanges) -> Self {
        Self {
            answer: Err(error),
            changes: Changes::Execution(Box::new(changes)),
        }
    }

    pub fn set(value: T, changes: ChangeSet) -> Self {
        Self {
            answer: Ok(value),
            changes: Changes::Set(changes),
        }
    }

    /// An answer that changes nothing (e.g. an existing order found again).
    pub fn nothing(value: T) -> Self {
        Self {
            answer: Ok(value),
            changes: Changes::Nothing,
        }
    }

    /// Turns the answer into another; the changes stay.
    pub fn try_map<U>(self, f: impl FnOnce(T) -> ServiceResult<U>) -> ServiceResult<Staged<U>> {
        let answer = match self.answer {
            Ok(value) => Ok(f(value)?),
            Err(error) => Err(error),
        };
        Ok(Staged {
            answer,
            changes: self.changes,
        })
    }

    /// Whether applying it changes anything: an answer staged from a copy that may be
    /// stale is trusted only when the writer's compare-and-set checks it.
    pub fn changes_something(&self) -> bool {
        !matches!(self.changes, Changes::Nothing)
    }

    /// The change set to apply, claiming the request's idempotency key with its answer,
    /// and what an advance writes of its execution.
    fn into_parts(
        self,
        claim: Option<idempotency_key::Model>,
    ) -> (ServiceResult<T>, ChangeSet, Option<Advanced>) {
        match self.changes {
            Changes::Nothing => {
                let mut set = ChangeSet::unguarded(vec![]);
                set.claim = claim;
                (self.answer, set, None)
            }
            Changes::Set(mut set) => {
                set.claim = claim;
                (self.answer, set, None)
            }
            Changes::Execution(mut changes) => {
                changes.claim = claim;
                let advanced = Advanced {
                    execution: changes.execution.clone(),
                    order: changes.order.clone(),
                    finished: changes.finished,
                };
                (self.answer, changes.into_change_set(), Some(advanced))
            }
        }
    }
}

/// Stages and applies, staging again while the writer refuses. `claim` gives the record
/// (with the answer) that takes the request's `Idempotency-Key` in the same commit.
pub async fn commit<T, Fut>(
    state: &AppState,
    mut stage: impl FnMut() -> Fut,
    claim: impl Fn(&T) -> Option<idempotency_key::Model>,
) -> ServiceResult<T>
where
    Fut: Future<Output = ServiceResult<Staged<T>>>,
{
    for attempt in 0..MAX_ATTEMPTS {
        if attempt > 0 {
            state.writer.metrics().retries.inc();
        }
        let staged = stage().await?;
        let claim = staged.answer.as_ref().ok().and_then(&claim);
        let (answer, changes, advanced) = staged.into_parts(claim);
        match state.writer.apply(changes).await? {
            Applied::Committed => {
                if let Some(advanced) = advanced {
                    after_commit(state, advanced);
                }
                return answer;
            }
            Applied::Refused => {
                // Staged from a stale copy, or raced by another request: the database knows.
                if let Some(advanced) = advanced {
                    state.recent_executions.forget(&advanced.execution.id);
                }
            }
        }
    }
    Err(ServiceError::Conflict {
        problem: ProblemType::ConcurrentModification,
        detail: "the resource kept changing while this request was applied; retry it".into(),
    })
}

/// Counts an order that finished; else keeps what the advance committed for the
/// execution's next request (a finished order expects none).
fn after_commit(state: &AppState, advanced: Advanced) {
    match advanced.finished {
        Some((status, reason)) => {
            state.metrics.order_finished(status, reason);
            state.recent_executions.forget(&advanced.execution.id);
        }
        None => state
            .recent_executions
            .remember(advanced.execution, advanced.order),
    }
}
