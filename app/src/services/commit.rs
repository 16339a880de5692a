//! Applying what a request staged. A request reads without a lock and computes its changes;
//! the writer applies them under a compare-and-set. When another writer got there first,
//! the change set is refused and the request stages again from what is now stored.

use std::future::Future;

use domain::lifecycle::{CancelReason, OrderStatus};

use crate::engine::ExecutionChanges;
use crate::error::{ApiError, ApiResult};
use crate::persistence::changes::{ChangeSet, IdempotencyRecord, Write};
use crate::persistence::writer::Applied;
use crate::state::AppState;

/// How often a request stages again before it answers 409: each refusal means another
/// request changed the same thing meanwhile, so this many in a row is a hot spot.
const MAX_ATTEMPTS: usize = 16;

/// The final status an order reaches, with why it was canceled.
type FinalStatus = (OrderStatus, Option<CancelReason>);

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
    answer: ApiResult<T>,
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
    pub fn refused(error: ApiError, changes: ExecutionChanges) -> Self {
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
    pub fn try_map<U>(self, f: impl FnOnce(T) -> ApiResult<U>) -> ApiResult<Staged<U>> {
        let answer = match self.answer {
            Ok(value) => Ok(f(value)?),
            Err(error) => Err(error),
        };
        Ok(Staged {
            answer,
            changes: self.changes,
        })
    }

    /// The change set to apply, with the answer recorded for an idempotent request, and the
    /// final status an order reaches with it.
    fn into_parts(
        self,
        record: Option<IdempotencyRecord>,
    ) -> (ApiResult<T>, ChangeSet, Option<FinalStatus>) {
        match self.changes {
            Changes::Nothing => (
                self.answer,
                ChangeSet::unguarded(
                    record
                        .map(Write::CompleteIdempotencyKey)
                        .into_iter()
                        .collect(),
                ),
                None,
            ),
            Changes::Set(mut set) => {
                set.writes.extend(record.map(Write::CompleteIdempotencyKey));
                (self.answer, set, None)
            }
            Changes::Execution(mut changes) => {
                changes.idempotency = record;
                let finished = changes.finished;
                (self.answer, changes.into_change_set(), finished)
            }
        }
    }
}

/// Stages and applies, staging again while the writer refuses. `record` gives the answer
/// to store with the changes when the request came with an `Idempotency-Key`.
pub async fn commit<T, Fut>(
    state: &AppState,
    mut stage: impl FnMut() -> Fut,
    record: impl Fn(&T) -> Option<IdempotencyRecord>,
) -> ApiResult<T>
where
    Fut: Future<Output = ApiResult<Staged<T>>>,
{
    for attempt in 0..MAX_ATTEMPTS {
        if attempt > 0 {
            state.writer.metrics().retries.inc();
        }
        let staged = stage().await?;
        let record = staged.answer.as_ref().ok().and_then(&record);
        let (answer, changes, finished) = staged.into_parts(record);
        match state.writer.apply(changes).await? {
            Applied::Committed => {
                if let Some((status, reason)) = finished {
                    state.metrics.order_finished(status, reason);
                }
                return answer;
            }
            Applied::Refused => continue,
        }
    }
    Err(ApiError::Conflict {
        problem: "concurrent-modification",
        detail: "the resource kept changing while this request was applied; retry it".into(),
    })
}
