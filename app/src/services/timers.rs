//! The timer loop: fires due timers (step and flow timeouts, waits, retries). Overdue timers
//! fire at start, so a restart loses nothing; on PostgreSQL any number of instances share
//! the work without firing a timer twice.

use std::time::Duration;

use tokio::sync::watch;

use crate::persistence::executions;
use crate::services::orders;
use crate::state::AppState;

/// Timers fired per transaction.
const BATCH: u64 = 100;
/// The longest the loop sleeps: also how late a timer created by another instance may fire.
const MAX_SLEEP: Duration = Duration::from_millis(250);

pub async fn run(state: AppState, mut shutdown: watch::Receiver<bool>) {
    loop {
        let fired = match orders::fire_due_timers(&state, BATCH).await {
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
