//! Everything that touches the database: connecting, entities, one module of reads per table
//! family, and the write path: [`changes`] (writes as values) and the [`writer`] that applies
//! them.

pub mod api_keys;
pub mod audit;
pub mod changes;
pub mod deliveries;
pub mod entities;
pub mod events;
pub mod executions;
pub mod fan_out;
pub mod idempotency;
pub mod impact;
pub mod leases;
pub mod many_rows;
pub mod merchants;
pub mod metadata;
pub mod orders;
pub mod overview;
pub mod recent_executions;
pub mod rollouts;
pub mod webhooks;
pub mod writer;

use std::time::Duration;

use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{ConnectOptions, Database, DatabaseConnection, DbErr};

/// JSON text this service stored (document bodies, order items and fields), parsed. Text
/// that does not parse is corrupt data, an error of the database.
pub fn stored_json(text: &str) -> Result<serde_json::Value, DbErr> {
    serde_json::from_str(text).map_err(|e| DbErr::Json(format!("stored JSON is corrupt: {e}")))
}

/// How SQLite trades durability for speed (`ORDERFLOW_SQLITE_SYNC`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SqliteSync {
    /// Every commit reaches the disk before it is acknowledged: survives a power cut.
    Full,
    /// Faster; a power cut may lose the last commits (never corrupts the database).
    Normal,
}

/// Connects to SQLite or PostgreSQL, as the URL says.
pub async fn connect(
    url: &str,
    sqlite_sync: SqliteSync,
    pool: Pool,
) -> Result<DatabaseConnection, DbErr> {
    let mut options = ConnectOptions::new(url.to_owned());
    options
        .connect_timeout(Duration::from_secs(10))
        .acquire_timeout(Duration::from_secs(10))
        .sqlx_logging(false);
    // The pool reads; writes go through the writer. (4 and 16 measured the same on SQLite
    // under the load generator, within noise.)
    let sqlite = url.starts_with("sqlite:");
    options
        .max_connections(pool.size().max(2))
        .min_connections(1);
    if sqlite {
        // A file cannot drop a connection: a ping before each use would only cost a round
        // trip to the connection's worker thread.
        options.test_before_acquire(false);
        options.map_sqlx_sqlite_opts(move |o| {
            o.journal_mode(SqliteJournalMode::Wal)
                .synchronous(match sqlite_sync {
                    SqliteSync::Full => SqliteSynchronous::Full,
                    SqliteSync::Normal => SqliteSynchronous::Normal,
                })
                .busy_timeout(Duration::from_secs(10))
                .foreign_keys(true)
        });
    } else {
        // A lock held elsewhere (a migration, a LOCK TABLE) must not stall the writer, and
        // every write queued behind it, for longer than a request may take: the batch
        // fails, its requests get 503, and the next batch tries again.
        options.map_sqlx_postgres_opts(move |o| {
            let o = o.options([("lock_timeout", "5s"), ("statement_timeout", "15s")]);
            match pool {
                // The writer's statements each find a few rows by key, and each is planned
                // once per connection: planned while a table was small, a sequential scan
                // would be kept as the table grows (until autovacuum's first ANALYZE, a
                // minute or more later), every batch reading the whole table. Measured on a
                // fresh database: `UPDATE orders … FROM (VALUES …)` at 1–1.6 ms and 100–190
                // buffers a call.
                Pool::Writer { .. } => o.options([("enable_seqscan", "off")]),
                // A delivery lease walks the due index in due order to its limit, probing
                // each candidate's order by the order index. Its statement leaves PostgreSQL
                // only that plan once sorting and sequential scans are priced out; left
                // free, it planned from guesses (a table not analyzed yet, or analyzed while
                // it was small) and gathered every due delivery in a bitmap and sorted them
                // all (610 ms a lease with 100,000 due, against 3.9 ms), or read the whole
                // table for each lease (each slower than the last: up to 2.3 s after 10 s
                // of checkouts).
                Pool::Leases => o.options([("enable_sort", "off"), ("enable_seqscan", "off")]),
                Pool::Requests { .. } => o,
            }
        });
    }
    Database::connect(options).await
}

/// What a pool of connections serves.
#[derive(Debug, Clone, Copy)]
pub enum Pool {
    /// Requests' reads; `None` takes the default size.
    Requests { size: Option<u32> },
    /// The PostgreSQL writer's transactions.
    Writer { connections: u32 },
    /// PostgreSQL's delivery leases, which run beside the writer.
    Leases,
}

impl Pool {
    fn size(self) -> u32 {
        match self {
            Pool::Requests { size } => size.unwrap_or(16),
            Pool::Writer { connections } => connections,
            // The webhook loop's and the NATS loop's.
            Pool::Leases => 2,
        }
    }
}

/// The current time at the precision every backend stores (microseconds), so that what a
/// write returns is exactly what a later read returns.
pub fn now() -> chrono::DateTime<chrono::Utc> {
    use chrono::SubsecRound;
    chrono::Utc::now().trunc_subsecs(6)
}

/// Where a keyset-paginated listing resumes, and how much it returns.
#[derive(Debug, Clone)]
pub struct PageRequest<K> {
    pub after: Option<K>,
    pub limit: u64,
}

/// One page of rows, and the key to resume after when there are more.
#[derive(Debug, Clone)]
pub struct Page<T, K> {
    pub rows: Vec<T>,
    pub next: Option<K>,
}

impl<T, K> Page<T, K> {
    /// Builds a page from up to `limit + 1` rows: the extra row only says there is more.
    pub fn from_overfetch(mut rows: Vec<T>, limit: u64, key: impl Fn(&T) -> K) -> Self {
        let next = if rows.len() as u64 > limit {
            rows.truncate(limit as usize);
            rows.last().map(key)
        } else {
            None
        };
        Page { rows, next }
    }
}
