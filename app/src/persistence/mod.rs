//! Everything that touches the database: connecting, entities, and one repository module per
//! table family. Repository functions take `&impl ConnectionTrait`, so they run inside or
//! outside a transaction.

pub mod api_keys;
pub mod audit;
pub mod entities;
pub mod executions;
pub mod idempotency;
pub mod merchants;
pub mod metadata;
pub mod orders;

use std::time::Duration;

use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ConnectOptions, Database, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr,
    SqliteTransactionMode, TransactionOptions, TransactionTrait,
};

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
    pool_size: Option<u32>,
) -> Result<DatabaseConnection, DbErr> {
    let mut options = ConnectOptions::new(url.to_owned());
    options
        .connect_timeout(Duration::from_secs(10))
        .acquire_timeout(Duration::from_secs(10))
        .sqlx_logging(false);
    // Never a single connection: requests read outside their transaction. (4 and 16 measured
    // the same on SQLite under the load generator, within noise.)
    let sqlite = url.starts_with("sqlite:");
    options
        .max_connections(pool_size.unwrap_or(16).max(2))
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
    }
    Database::connect(options).await
}

/// A turn at writing: on SQLite, write transactions of this process take turns in a fair
/// async queue instead of spinning on SQLite's busy handler, whose sleeps (up to 100 ms)
/// would dominate latency under load. Dropping it ends the turn.
pub struct WriterTurn {
    _guard: Option<tokio::sync::MutexGuard<'static, ()>>,
}

static SQLITE_WRITER: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Begins a transaction that will write. On SQLite it takes the write lock at BEGIN
/// (IMMEDIATE), after waiting for this process's turn; hold the returned turn until the
/// transaction has committed or rolled back.
pub async fn begin_write(
    db: &DatabaseConnection,
) -> Result<(WriterTurn, DatabaseTransaction), DbErr> {
    match db.get_database_backend() {
        DbBackend::Sqlite => {
            let turn = WriterTurn {
                _guard: Some(SQLITE_WRITER.lock().await),
            };
            let txn = db
                .begin_with_options(TransactionOptions {
                    sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
                    ..Default::default()
                })
                .await?;
            Ok((turn, txn))
        }
        _ => Ok((WriterTurn { _guard: None }, db.begin().await?)),
    }
}

/// The result of a write whose transaction is still open, so the caller can add to it what
/// must commit with it (the idempotency record of the request) before committing.
pub struct Uncommitted<T> {
    value: T,
    write: Option<(WriterTurn, DatabaseTransaction)>,
}

impl<T> Uncommitted<T> {
    pub fn new(value: T, turn: WriterTurn, txn: DatabaseTransaction) -> Self {
        Self {
            value,
            write: Some((turn, txn)),
        }
    }

    /// A result that wrote nothing (e.g. an existing order found again).
    pub fn nothing_written(value: T) -> Self {
        Self { value, write: None }
    }

    pub fn value(&self) -> &T {
        &self.value
    }

    /// The open transaction, when there is one.
    pub fn transaction(&self) -> Option<&DatabaseTransaction> {
        self.write.as_ref().map(|(_, txn)| txn)
    }

    /// Turns the value into another; an error drops the transaction (a rollback).
    pub fn try_map<U, E>(self, f: impl FnOnce(T) -> Result<U, E>) -> Result<Uncommitted<U>, E> {
        Ok(Uncommitted {
            value: f(self.value)?,
            write: self.write,
        })
    }

    pub async fn commit(self) -> Result<T, DbErr> {
        if let Some((_turn, txn)) = self.write {
            txn.commit().await?;
        }
        Ok(self.value)
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
