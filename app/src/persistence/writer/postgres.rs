//! The PostgreSQL writer: a thread with a runtime and connections of its own that applies
//! each batch in one transaction. Its own runtime matters: a batch is a chain of round
//! trips, and on the server's runtime each would wait its turn behind the request tasks.
//! Several transactions are in flight at once, each taking what queued while the others
//! were busy: a batch spends most of its time waiting on round trips and on PostgreSQL's
//! work on its rows, which one transaction at a time leaves to a single backend process.
//! Other instances on the same database write too; the guards (compare-and-set on rows)
//! keep them and the concurrent transactions correct, not this queue.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Instant;

use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, DbErr, Statement, TransactionTrait};
use tokio::sync::{Mutex, mpsc, oneshot};
use tokio::task::JoinSet;

use super::batch::{Batch, Outcomes};
use super::{PAUSE_AFTER_FAILURE, Work, WriteError, WriterMetrics, fill_batch};
use crate::persistence::changes::GuardStatement;
use crate::persistence::fan_out::Sinks;
use crate::persistence::leases::{Lease, LeasedRow, ReturnedRow};
use crate::persistence::{Pool, SqliteSync};

pub(super) async fn start(
    url: &str,
    transactions: u32,
    queue: mpsc::Receiver<Work>,
    metrics: Arc<WriterMetrics>,
    sinks: Sinks,
) -> Result<(), WriteError> {
    let url = url.to_owned();
    let (connected, connection) = oneshot::channel();
    std::thread::Builder::new()
        .name("orderflow-writer".into())
        .spawn(move || {
            let runtime = match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(runtime) => runtime,
                Err(error) => {
                    let _ = connected.send(Err(WriteError::Failed(error.to_string())));
                    return;
                }
            };
            runtime.block_on(async move {
                // One connection per transaction, and a spare while a broken one is replaced.
                let pool = Pool::Writer {
                    connections: transactions + 1,
                };
                let db = match crate::persistence::connect(&url, SqliteSync::Full, pool).await {
                    Ok(db) => db,
                    Err(error) => {
                        let _ = connected.send(Err(WriteError::from(error)));
                        return;
                    }
                };
                let _ = connected.send(Ok(()));
                let queue = Arc::new(Mutex::new(queue));
                let mut appliers = JoinSet::new();
                for _ in 0..transactions {
                    appliers.spawn(applier(db.clone(), queue.clone(), metrics.clone(), sinks));
                }
                appliers.join_all().await;
            });
        })
        .map_err(|e| WriteError::Failed(format!("cannot start the writer thread: {e}")))?;
    connection
        .await
        .unwrap_or_else(|_| Err(WriteError::Failed("the writer thread stopped".into())))
}

/// Takes a batch whenever it is free and applies it, until the queue closes.
async fn applier(
    db: DatabaseConnection,
    queue: Arc<Mutex<mpsc::Receiver<Work>>>,
    metrics: Arc<WriterMetrics>,
    sinks: Sinks,
) {
    loop {
        let batch = {
            let mut queue = queue.lock().await;
            let Some(first) = queue.recv().await else {
                return;
            };
            fill_batch(first, &mut queue, &metrics, sinks)
        };
        let Some(batch) = batch else { continue };
        let started = Instant::now();
        let failed = apply_or_split(&db, batch, &metrics).await;
        metrics
            .commit_seconds
            .observe(started.elapsed().as_secs_f64());
        if failed {
            tokio::time::sleep(PAUSE_AFTER_FAILURE).await;
        }
    }
}

/// Applies a batch and answers its submitters; true when it failed.
async fn apply_or_split(db: &DatabaseConnection, batch: Batch, metrics: &WriterMetrics) -> bool {
    let outcome = apply(db, &batch).await;
    match batch.settle(outcome, metrics) {
        Ok(failed) => failed,
        Err(singles) => {
            for single in singles {
                let outcome = apply(db, &single).await;
                let _ = single.settle(outcome, metrics);
            }
            false
        }
    }
}

async fn apply(db: &DatabaseConnection, batch: &Batch) -> Result<Outcomes, WriteError> {
    let transaction = db.begin().await.map_err(WriteError::from)?;
    let abandoned = batch.abandoned();
    let mut refused = abandoned.clone();
    let mut claimed = vec![false; batch.len()];
    for (i, statement) in batch.claims(&refused, DbBackend::Postgres) {
        let result = transaction
            .execute_raw(statement)
            .await
            .map_err(WriteError::from)?;
        claimed[i] = result.rows_affected() == 1;
        refused[i] = !claimed[i];
    }
    for guard in batch.guards(&refused, DbBackend::Postgres) {
        match guard {
            GuardStatement::Single(i, statement) => {
                let result = transaction
                    .execute_raw(statement)
                    .await
                    .map_err(WriteError::from)?;
                refused[i] = result.rows_affected() != 1;
            }
            GuardStatement::Merged {
                statement,
                positions,
            } => {
                let changed = transaction
                    .query_all_raw(statement)
                    .await
                    .map_err(WriteError::from)?
                    .iter()
                    .map(|row| row.try_get_by_index::<String>(0))
                    .collect::<Result<HashSet<String>, DbErr>>()
                    .map_err(WriteError::from)?;
                for (id, i) in positions {
                    refused[i] = !changed.contains(&id);
                }
            }
        }
    }
    for statement in batch.releases(&claimed, &refused, DbBackend::Postgres) {
        transaction
            .execute_raw(statement)
            .await
            .map_err(WriteError::from)?;
    }
    for statement in batch.writes(&refused, DbBackend::Postgres) {
        transaction
            .execute_raw(statement)
            .await
            .map_err(WriteError::from)?;
    }
    let mut leased = Vec::new();
    for (i, lease, statement) in batch.leases(&abandoned, DbBackend::Postgres) {
        leased.push((i, take(&transaction, lease, statement).await?));
    }
    transaction.commit().await.map_err(WriteError::from)?;
    Ok(Outcomes { refused, leased })
}

/// Runs a lease's statement on `conn`: in a batch's transaction, or on a connection of its
/// own (see [`super::Writer::lease_deliveries`]).
pub(super) async fn take(
    conn: &impl ConnectionTrait,
    lease: &Lease,
    statement: Statement,
) -> Result<Vec<LeasedRow>, WriteError> {
    conn.query_all_raw(statement)
        .await?
        .iter()
        .map(|row| lease.read(row))
        .collect::<Result<Vec<_>, DbErr>>()
        .map_err(WriteError::from)
}

impl ReturnedRow for sea_orm::QueryResult {
    type Error = DbErr;

    fn integer(&self, column: usize) -> Result<i64, DbErr> {
        self.try_get_by_index(column)
    }

    fn text(&self, column: usize) -> Result<String, DbErr> {
        self.try_get_by_index(column)
    }

    fn optional_text(&self, column: usize) -> Result<Option<String>, DbErr> {
        self.try_get_by_index(column)
    }
}
