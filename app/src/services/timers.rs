//! The timer loop: fires due timers (step and flow timeouts, waits, retries). Overdue timers
//! fire at start, so a restart loses nothing. Due timers are leased before they fire: on
//! PostgreSQL, instances sharing the database take disjoint timers, and a timer whose
//! instance died fires again when its lease ends. The compare-and-set on the execution
//! makes each fire at most once.

use std::time::Duration;

use domain::lifecycle::{TaskState, TimerPurpose, errors};
use domain::workflow::{Event, Pending};
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::engine::{self, Execution};
use crate::error::{ServiceError, ServiceResult};
use crate::persistence::changes::{ChangeSet, TimerDeletion, Write};
use crate::persistence::executions;
use crate::persistence::leases::{LeasedTimer, TimerLease};
use crate::services::commit::{Staged, commit};
use crate::state::AppState;

/// Timers leased at a time; they fire concurrently, so their changes share writer batches.
const BATCH: u64 = 256;
/// The longest the loop sleeps: also how late a timer created by another instance may fire.
const MAX_SLEEP: Duration = Duration::from_millis(250);
/// How long a leased timer is left to its instance before another may fire it.
const LEASE_SECONDS: i64 = 30;

pub async fn run(state: AppState, mut shutdown: watch::Receiver<bool>) {
    loop {
        let fired = match fire_due_timers(&state, BATCH).await {
            Ok(fired) => fired,
            Err(error) => {
                tracing::error!(%error, "firing timers failed");
                0
            }
        };
        if fired as u64 == BATCH {
            continue;
        }
        let sleep = match executions::next_due(&state.db).await {
            Ok(Some(due)) => (due - crate::persistence::now())
                .to_std()
                .unwrap_or_default()
                .min(MAX_SLEEP),
            _ => MAX_SLEEP,
        };
        tokio::select! {
            () = tokio::time::sleep(sleep.max(Duration::from_millis(10))) => {}
            _ = shutdown.changed() => return,
        }
    }
}

/// Leases up to `limit` due timers and fires them; returns how many were leased.
pub async fn fire_due_timers(state: &AppState, limit: u64) -> ServiceResult<usize> {
    let now = crate::persistence::now();
    let leased = state
        .writer
        .lease_timers(TimerLease {
            now,
            until: now + chrono::Duration::seconds(LEASE_SECONDS),
            limit,
        })
        .await?;
    let count = leased.len();
    let mut firing = JoinSet::new();
    for timer in leased {
        let state = state.clone();
        firing.spawn(async move {
            let outcome = fire(&state, &timer).await;
            (timer, outcome)
        });
    }
    while let Some(joined) = firing.join_next().await {
        match joined {
            Ok((timer, Ok(()))) => state
                .metrics
                .timers_fired
                .with_label_values(&[timer.purpose.as_str()])
                .inc(),
            Ok((timer, Err(error))) => tracing::error!(
                timer = timer.id,
                execution = %timer.execution_id,
                %error,
                "timer failed; it fires again when its lease ends"
            ),
            Err(error) => tracing::error!(%error, "a timer task panicked"),
        }
    }
    Ok(count)
}

async fn fire(state: &AppState, timer: &LeasedTimer) -> ServiceResult<()> {
    let purpose: TimerPurpose = timer
        .purpose
        .parse()
        .map_err(|e: domain::lifecycle::UnknownName| ServiceError::internal(e.to_string()))?;
    commit(state, || stage_fire(state, timer, purpose), |_| None).await
}

/// A timer with nothing left to do (its execution moved on or ended) is only deleted.
fn discard(timer: &LeasedTimer) -> Staged<()> {
    Staged::set(
        (),
        ChangeSet::unguarded(vec![Write::DeleteTimers(TimerDeletion::Ids(vec![
            timer.id,
        ]))]),
    )
}

async fn stage_fire(
    state: &AppState,
    timer: &LeasedTimer,
    purpose: TimerPurpose,
) -> ServiceResult<Staged<()>> {
    let Some(mut execution) = Execution::load(state, &timer.execution_id).await? else {
        return Ok(discard(timer));
    };
    if execution.is_final() {
        return Ok(discard(timer));
    }
    execution.timer_fired(timer.id);
    let execution = match purpose {
        TimerPurpose::StepTimeout => {
            let token = timer.token.as_deref().unwrap_or_default();
            if !execution.settle_task(token, TaskState::TimedOut) {
                return Ok(discard(timer));
            }
            engine::advance(state, execution, Event::TaskTimedOut).await?
        }
        TimerPurpose::FlowTimeout => {
            execution.fail_now(errors::FLOW_TIMEOUT, "the flow's timeoutSeconds passed");
            execution
        }
        TimerPurpose::Wait | TimerPurpose::Retry => {
            let expected = match purpose {
                TimerPurpose::Retry => Pending::Retry,
                _ => Pending::Wait,
            };
            if execution.state.pending != Some(expected) || execution.state.step != timer.step {
                return Ok(discard(timer));
            }
            engine::advance(state, execution, Event::TimerFired).await?
        }
    };
    Ok(Staged::execution((), execution.into_changes()?))
}
