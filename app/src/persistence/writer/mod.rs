//! The one writer of a database. Requests submit [change sets](super::changes) to its queue
//! and await their outcome; the writer takes everything queued, applies it in one
//! transaction (guards first, then the rows of each kind merged into multi-row statements),
//! commits once, and answers each submitter. An answer is sent only after the commit
//! returned, so an acknowledged write is durable; a batch that fails is rolled back whole
//! and its submitters are told so.
//!
//! On SQLite the writer owns one connection on a thread of its own, so a batch costs no
//! hand-off per statement ([`sqlite`]). On PostgreSQL it has connections of its own and
//! several transactions in flight ([`postgres`]); the guards, not this process, keep them
//! and several instances correct.

mod batch;
mod classify;
mod postgres;
mod sqlite;

use std::sync::Arc;
use std::time::Duration;

use prometheus::{Histogram, HistogramOpts, IntCounter, IntGauge, Registry};
use sea_orm::DatabaseConnection;
use tokio::sync::{mpsc, oneshot};

use super::SqliteSync;
use super::changes::ChangeSet;
use super::fan_out::Sinks;
use super::leases::{DeliveryLease, Lease, LeasedDelivery, LeasedRow, LeasedTimer, TimerLease};

/// The most change sets one transaction takes.
const MAX_BATCH: usize = 512;
/// Change sets waiting beyond this make submitters wait for room (backpressure).
const QUEUE_CAPACITY: usize = 8_192;

/// Why a write did not commit.
#[derive(Debug, Clone, thiserror::Error)]
pub enum WriteError {
    /// The database cannot take writes now (disk full, I/O error, connection lost); nothing
    /// of the change set was applied. Retrying later may succeed.
    #[error("the database cannot take writes now: {0}")]
    Unavailable(String),
    /// The database's storage is full; nothing of the change set was applied.
    #[error("the database's storage is full: {0}")]
    StorageFull(String),
    /// The change set broke a constraint of the database.
    #[error("the write broke a constraint: {0}")]
    Constraint(String),
    /// Another writer on the same database held what this one needed (a deadlock, a
    /// serialization failure): the change set was rolled back and may be staged again.
    #[error("the write lost a race with another writer: {0}")]
    Contended(String),
    #[error("the write failed: {0}")]
    Failed(String),
}

impl WriteError {
    /// The database, not the change, is the problem: retrying the change set alone would
    /// fail the same way.
    pub fn is_unavailable(&self) -> bool {
        matches!(
            self,
            WriteError::Unavailable(_) | WriteError::StorageFull(_)
        )
    }
}

/// What became of a change set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub enum Applied {
    Committed,
    /// Its guard changed nothing (another writer got there first): nothing was applied.
    Refused,
}

enum Work {
    Apply(ChangeSet, oneshot::Sender<Result<Applied, WriteError>>),
    Lease(Lease, oneshot::Sender<Result<Vec<LeasedRow>, WriteError>>),
}

/// A handle on the writer; cheap to clone. The writer stops when the last handle is gone.
#[derive(Clone)]
pub struct Writer {
    queue: mpsc::Sender<Work>,
    metrics: Arc<WriterMetrics>,
    /// PostgreSQL: where deliveries are leased, beside the queue (see
    /// [`Writer::lease_deliveries`]).
    deliveries_leased_on: Option<DatabaseConnection>,
}

/// How the writer is doing, for `/metrics`.
pub struct WriterMetrics {
    batch_size: Histogram,
    queue_depth: IntGauge,
    commit_seconds: Histogram,
    refused: IntCounter,
    failed_batches: IntCounter,
    /// Requests that recomputed their changes after a refusal (counted by the callers).
    pub retries: IntCounter,
    /// When a batch last failed for want of the database (unreachable, storage full), in
    /// Unix seconds; 0 once a change set commits again.
    cannot_commit_at: IntGauge,
}

impl WriterMetrics {
    pub fn new(registry: &Registry) -> Result<Self, prometheus::Error> {
        let batch_size = Histogram::with_opts(
            HistogramOpts::new(
                "writer_batch_size",
                "Change sets applied per writer transaction",
            )
            .buckets(vec![
                1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0,
            ]),
        )?;
        let queue_depth = IntGauge::new(
            "writer_queue_depth",
            "Change sets submitted and not yet taken by the writer",
        )?;
        let commit_seconds = Histogram::with_opts(
            HistogramOpts::new(
                "writer_commit_seconds",
                "Time to apply and commit one writer batch",
            )
            .buckets(vec![
                0.000_25, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0,
            ]),
        )?;
        let refused = IntCounter::new(
            "writer_refused_total",
            "Change sets whose guard (a compare-and-set) changed nothing",
        )?;
        let failed_batches = IntCounter::new(
            "writer_failed_batches_total",
            "Writer transactions that failed and were rolled back",
        )?;
        let cannot_commit_at = IntGauge::new(
            "writer_cannot_commit_at_seconds",
            "When a writer batch last failed because the database cannot take writes (Unix time); 0 once a change set commits again",
        )?;
        let retries = IntCounter::new(
            "writer_retries_total",
            "Requests that recomputed their changes after a compare-and-set refused them",
        )?;
        registry.register(Box::new(batch_size.clone()))?;
        registry.register(Box::new(queue_depth.clone()))?;
        registry.register(Box::new(commit_seconds.clone()))?;
        registry.register(Box::new(refused.clone()))?;
        registry.register(Box::new(failed_batches.clone()))?;
        registry.register(Box::new(retries.clone()))?;
        registry.register(Box::new(cannot_commit_at.clone()))?;
        Ok(Self {
            batch_size,
            queue_depth,
            commit_seconds,
            refused,
            failed_batches,
            retries,
            cannot_commit_at,
        })
    }
}

impl Writer {
    /// Starts the writer of the database `db` is connected to, with up to `transactions`
    /// batches in flight at once on PostgreSQL (SQLite takes one writer at a time).
    pub async fn start(
        db: &DatabaseConnection,
        url: &str,
        sqlite_sync: SqliteSync,
        transactions: u32,
        metrics: Arc<WriterMetrics>,
        sinks: Sinks,
    ) -> Result<Self, WriteError> {
        let (queue, receiver) = mpsc::channel(QUEUE_CAPACITY);
        let deliveries_leased_on = match db.get_database_backend() {
            sea_orm::DbBackend::Sqlite => {
                sqlite::start(url, sqlite_sync, receiver, metrics.clone(), sinks)?;
                None
            }
            _ => {
                postgres::start(url, transactions, receiver, metrics.clone(), sinks).await?;
                let pool = crate::persistence::Pool::Leases;
                Some(crate::persistence::connect(url, sqlite_sync, pool).await?)
            }
        };
        Ok(Self {
            queue,
            metrics,
            deliveries_leased_on,
        })
    }

    pub fn metrics(&self) -> &WriterMetrics {
        &self.metrics
    }

    /// Whether a batch failed because the database cannot take writes in the last
    /// `window`, and no change set committed since. After the window the writer is given
    /// the benefit of the doubt: an instance that no one sends writes to must not stay
    /// unready for good.
    pub fn cannot_commit(&self, window: std::time::Duration) -> bool {
        let at = self.metrics.cannot_commit_at.get();
        let window = i64::try_from(window.as_secs()).unwrap_or(i64::MAX);
        at != 0 && crate::persistence::now().timestamp() - at < window
    }

    /// Applies a change set; `Refused` when its guard changed nothing.
    pub async fn apply(&self, changes: ChangeSet) -> Result<Applied, WriteError> {
        if changes.is_empty() {
            return Ok(Applied::Committed);
        }
        let (reply, answer) = oneshot::channel();
        self.submit(Work::Apply(changes, reply), answer).await
    }

    /// Applies a change set that has no guard and no claim.
    pub async fn commit(&self, changes: ChangeSet) -> Result<(), WriteError> {
        debug_assert!(
            changes.guard.is_none() && changes.claim.is_none(),
            "a guarded change set may be refused"
        );
        match self.apply(changes).await? {
            Applied::Committed => Ok(()),
            Applied::Refused => Err(WriteError::Failed("an unguarded change was refused".into())),
        }
    }

    /// Takes due timers for firing.
    pub async fn lease_timers(&self, lease: TimerLease) -> Result<Vec<LeasedTimer>, WriteError> {
        let rows = self.lease(Lease::Timers(lease)).await?;
        Ok(rows
            .into_iter()
            .filter_map(|row| match row {
                LeasedRow::Timer(timer) => Some(timer),
                LeasedRow::Delivery(_) => None,
            })
            .collect())
    }

    /// Takes due webhook deliveries for attempting.
    pub async fn lease_deliveries(
        &self,
        lease: DeliveryLease,
    ) -> Result<Vec<LeasedDelivery>, WriteError> {
        let lease = Lease::Deliveries(lease);
        let rows = match &self.deliveries_leased_on {
            // PostgreSQL: in a transaction of its own. A lease that scans a long queue of
            // due deliveries must not hold up the checkouts queued behind it, and `SKIP
            // LOCKED` keeps it apart from leases taken at the same moment, as it does
            // between instances.
            Some(db) => {
                let statement = lease.statement(db.get_database_backend());
                postgres::take(db, &lease, statement).await?
            }
            // SQLite takes one writer at a time: the lease is one of the queue's works.
            None => self.lease(lease).await?,
        };
        Ok(rows
            .into_iter()
            .filter_map(|row| match row {
                LeasedRow::Delivery(delivery) => Some(delivery),
                LeasedRow::Timer(_) => None,
            })
            .collect())
    }

    async fn lease(&self, lease: Lease) -> Result<Vec<LeasedRow>, WriteError> {
        let (reply, answer) = oneshot::channel();
        self.submit(Work::Lease(lease, reply), answer).await
    }

    async fn submit<T>(
        &self,
        work: Work,
        answer: oneshot::Receiver<Result<T, WriteError>>,
    ) -> Result<T, WriteError> {
        self.metrics.queue_depth.inc();
        if self.queue.send(work).await.is_err() {
            self.metrics.queue_depth.dec();
            return Err(stopped());
        }
        answer.await.unwrap_or_else(|_| Err(stopped()))
    }
}

fn stopped() -> WriteError {
    WriteError::Unavailable("the writer stopped".into())
}

impl Work {
    /// Its submitter stopped waiting (the request timed out or the client left): nobody
    /// would learn the outcome, so it is not applied.
    fn is_abandoned(&self) -> bool {
        match self {
            Work::Apply(_, reply) => reply.is_closed(),
            Work::Lease(_, reply) => reply.is_closed(),
        }
    }
}

/// Takes what is queued, up to [`MAX_BATCH`], after `first`; `None` when all of it was
/// abandoned.
fn fill_batch(
    first: Work,
    queue: &mut mpsc::Receiver<Work>,
    metrics: &WriterMetrics,
    sinks: Sinks,
) -> Option<batch::Batch> {
    let mut taken = 1;
    let mut batch = vec![first];
    while batch.len() < MAX_BATCH {
        match queue.try_recv() {
            Ok(work) => {
                taken += 1;
                batch.push(work);
            }
            Err(_) => break,
        }
    }
    metrics.queue_depth.sub(taken);
    batch.retain(|work| !work.is_abandoned());
    if batch.is_empty() {
        return None;
    }
    metrics.batch_size.observe(batch.len() as f64);
    Some(batch::Batch::new(batch, sinks))
}

/// How long a batch that could not be applied waits before the writer takes the next: a
/// full disk or a lost database fails every batch at once, and a short pause keeps the
/// writer from spinning while it is down.
const PAUSE_AFTER_FAILURE: Duration = Duration::from_millis(50);
