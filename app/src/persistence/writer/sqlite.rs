//! The SQLite writer: one connection (rusqlite) owned by a thread of its own, so a batch
//! runs every statement in place instead of handing each to a driver thread. It is the
//! only connection that writes; the pool only reads, which WAL lets run alongside.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::SecondsFormat;
use rusqlite::types::Value as SqliteValue;
use rusqlite::{Connection, ErrorCode, TransactionBehavior};
use sea_orm::{DbBackend, Statement, Value};
use tokio::sync::mpsc;

use super::batch::{Batch, Outcomes};
use super::{PAUSE_AFTER_FAILURE, Work, WriteError, WriterMetrics, fill_batch};
use crate::persistence::SqliteSync;
use crate::persistence::changes::GuardStatement;
use crate::persistence::fan_out::Sinks;
use crate::persistence::leases::{Lease, LeasedRow, ReturnedRow};

/// How long a batch waits for a lock held by another process (e.g. a backup) before its
/// requests get 503: well under the request timeout, even behind one more such batch.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

pub(super) fn start(
    url: &str,
    sync: SqliteSync,
    mut queue: mpsc::Receiver<Work>,
    metrics: Arc<WriterMetrics>,
    sinks: Sinks,
) -> Result<(), WriteError> {
    let path = database_path(url)?;
    let mut connection = Some(open(&path, sync)?);
    std::thread::Builder::new()
        .name("orderflow-writer".into())
        .spawn(move || {
            while let Some(first) = queue.blocking_recv() {
                let Some(batch) = fill_batch(first, &mut queue, &metrics, sinks) else {
                    continue;
                };
                let started = Instant::now();
                let failed = apply_or_split(&mut connection, &path, sync, batch, &metrics);
                metrics
                    .commit_seconds
                    .observe(started.elapsed().as_secs_f64());
                if failed {
                    std::thread::sleep(PAUSE_AFTER_FAILURE);
                }
            }
        })
        .map_err(|e| WriteError::Failed(format!("cannot start the writer thread: {e}")))?;
    Ok(())
}

/// Applies a batch and answers its submitters; true when it failed.
fn apply_or_split(
    connection: &mut Option<Connection>,
    path: &Path,
    sync: SqliteSync,
    batch: Batch,
    metrics: &WriterMetrics,
) -> bool {
    let outcome = apply(connection, path, sync, &batch);
    batch.settle(outcome, metrics).unwrap_or_else(|singles| {
        for single in singles {
            let outcome = apply(connection, path, sync, &single);
            let _ = single.settle(outcome, metrics);
        }
        false
    })
}

fn apply(
    connection: &mut Option<Connection>,
    path: &Path,
    sync: SqliteSync,
    batch: &Batch,
) -> Result<Outcomes, WriteError> {
    if connection.is_none() {
        *connection = Some(open(path, sync)?);
    }
    let conn = connection
        .as_mut()
        .ok_or_else(|| WriteError::Failed("no connection".into()))?;
    let result = apply_on(conn, batch);
    // A failed COMMIT (a full disk) can leave the transaction open; a connection in that
    // state would hold the write lock for good, and the next batch would run inside the
    // dead transaction. Such a connection is closed, not reused.
    if result.is_err() && !conn.is_autocommit() {
        tracing::warn!(
            "the writer's connection is still in a transaction after a failure; reopening it"
        );
        *connection = None;
    }
    result
}

fn apply_on(conn: &mut Connection, batch: &Batch) -> Result<Outcomes, WriteError> {
    let transaction = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(classify)?;
    let abandoned = batch.abandoned();
    let mut refused = abandoned.clone();
    let mut claimed = vec![false; batch.len()];
    for (i, statement) in batch.claims(&refused, DbBackend::Sqlite) {
        claimed[i] = execute(&transaction, &statement)? == 1;
        refused[i] = !claimed[i];
    }
    for guard in batch.guards(&refused, DbBackend::Sqlite) {
        match guard {
            GuardStatement::Single(i, statement) => {
                refused[i] = execute(&transaction, &statement)? != 1;
            }
            GuardStatement::Merged {
                statement,
                positions,
            } => {
                let mut prepared = transaction
                    .prepare_cached(&statement.sql)
                    .map_err(classify)?;
                let changed = prepared
                    .query_map(rusqlite::params_from_iter(parameters(&statement)?), |row| {
                        row.get::<_, String>(0)
                    })
                    .map_err(classify)?
                    .collect::<Result<HashSet<String>, _>>()
                    .map_err(classify)?;
                for (id, i) in positions {
                    refused[i] = !changed.contains(&id);
                }
            }
        }
    }
    for statement in batch.releases(&claimed, &refused, DbBackend::Sqlite) {
        execute(&transaction, &statement)?;
    }
    for statement in batch.writes(&refused, DbBackend::Sqlite) {
        execute(&transaction, &statement)?;
    }
    let mut leased = Vec::new();
    for (i, lease, statement) in batch.leases(&abandoned, DbBackend::Sqlite) {
        leased.push((i, take(&transaction, lease, &statement)?));
    }
    transaction.commit().map_err(classify)?;
    Ok(Outcomes { refused, leased })
}

fn execute(conn: &Connection, statement: &Statement) -> Result<usize, WriteError> {
    let mut prepared = conn.prepare_cached(&statement.sql).map_err(classify)?;
    prepared
        .execute(rusqlite::params_from_iter(parameters(statement)?))
        .map_err(classify)
}

fn take(
    conn: &Connection,
    lease: &Lease,
    statement: &Statement,
) -> Result<Vec<LeasedRow>, WriteError> {
    let mut prepared = conn.prepare_cached(&statement.sql).map_err(classify)?;
    let rows = prepared
        .query_map(rusqlite::params_from_iter(parameters(statement)?), |row| {
            lease.read(row)
        })
        .map_err(classify)?;
    rows.collect::<Result<_, _>>().map_err(classify)
}

impl ReturnedRow for rusqlite::Row<'_> {
    type Error = rusqlite::Error;

    fn integer(&self, column: usize) -> Result<i64, rusqlite::Error> {
        self.get(column)
    }

    fn text(&self, column: usize) -> Result<String, rusqlite::Error> {
        self.get(column)
    }

    fn optional_text(&self, column: usize) -> Result<Option<String>, rusqlite::Error> {
        self.get(column)
    }
}

/// The statement's values as SQLite stores them, exactly as sqlx binds them (so a row
/// written here reads back through the pool unchanged): timestamps are RFC 3339 text.
fn parameters(statement: &Statement) -> Result<Vec<SqliteValue>, WriteError> {
    let Some(values) = &statement.values else {
        return Ok(vec![]);
    };
    values
        .0
        .iter()
        .map(|value| {
            Ok(match value {
                Value::Bool(v) => {
                    v.map_or(SqliteValue::Null, |b| SqliteValue::Integer(i64::from(b)))
                }
                Value::TinyInt(v) => integer(v.map(i64::from)),
                Value::SmallInt(v) => integer(v.map(i64::from)),
                Value::Int(v) => integer(v.map(i64::from)),
                Value::BigInt(v) => integer(*v),
                Value::TinyUnsigned(v) => integer(v.map(i64::from)),
                Value::SmallUnsigned(v) => integer(v.map(i64::from)),
                Value::Unsigned(v) => integer(v.map(i64::from)),
                Value::BigUnsigned(v) => integer(
                    v.map(i64::try_from)
                        .transpose()
                        .map_err(|_| WriteError::Failed("an integer beyond 64 bits".into()))?,
                ),
                Value::String(v) => v.clone().map_or(SqliteValue::Null, SqliteValue::Text),
                Value::ChronoDateTimeUtc(v) => v.map_or(SqliteValue::Null, |at| {
                    SqliteValue::Text(at.to_rfc3339_opts(SecondsFormat::AutoSi, false))
                }),
                Value::Json(v) => v.as_ref().map_or(SqliteValue::Null, |json| {
                    SqliteValue::Text(json.to_string())
                }),
                other => {
                    return Err(WriteError::Failed(format!(
                        "the writer does not bind {other:?}"
                    )));
                }
            })
        })
        .collect()
}

fn integer(value: Option<i64>) -> SqliteValue {
    value.map_or(SqliteValue::Null, SqliteValue::Integer)
}

/// The file an sqlx SQLite URL names: `sqlite://path?options` or `sqlite:path`.
fn database_path(url: &str) -> Result<PathBuf, WriteError> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .ok_or_else(|| WriteError::Failed(format!("not an SQLite URL: {url}")))?;
    let path = rest.split('?').next().unwrap_or_default();
    if path.is_empty() || path == ":memory:" {
        return Err(WriteError::Failed(
            "an in-memory SQLite database cannot be shared by a writer and readers; use a file"
                .into(),
        ));
    }
    Ok(PathBuf::from(path))
}

fn open(path: &Path, sync: SqliteSync) -> Result<Connection, WriteError> {
    let conn = Connection::open(path).map_err(classify)?;
    conn.busy_timeout(BUSY_TIMEOUT).map_err(classify)?;
    let synchronous = match sync {
        SqliteSync::Full => "FULL",
        SqliteSync::Normal => "NORMAL",
    };
    conn.execute_batch(&format!(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = {synchronous}; PRAGMA foreign_keys = ON;"
    ))
    .map_err(classify)?;
    conn.set_prepared_statement_cache_capacity(128);
    Ok(conn)
}

fn classify(error: rusqlite::Error) -> WriteError {
    let message = error.to_string();
    match error.sqlite_error_code() {
        Some(ErrorCode::DiskFull) => WriteError::StorageFull(message),
        Some(
            ErrorCode::SystemIoFailure
            | ErrorCode::DatabaseBusy
            | ErrorCode::DatabaseLocked
            | ErrorCode::CannotOpen
            | ErrorCode::ReadOnly
            | ErrorCode::OutOfMemory,
        ) => WriteError::Unavailable(message),
        Some(ErrorCode::ConstraintViolation) => WriteError::Constraint(message),
        _ => WriteError::Failed(message),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_come_from_sqlx_urls() {
        assert_eq!(
            database_path("sqlite://orderflow.db?mode=rwc").ok(),
            Some(PathBuf::from("orderflow.db"))
        );
        assert_eq!(
            database_path("sqlite:/tmp/a.db").ok(),
            Some(PathBuf::from("/tmp/a.db"))
        );
        assert!(database_path("sqlite::memory:").is_err());
        assert!(database_path("postgres://x/y").is_err());
    }

    #[test]
    fn timestamps_bind_as_sqlx_writes_them() {
        let at = chrono::DateTime::from_timestamp(1_800_000_000, 123_456_000).expect("valid");
        let statement = Statement::from_sql_and_values(
            DbBackend::Sqlite,
            "SELECT ?, ?",
            [Value::ChronoDateTimeUtc(Some(at)), Value::String(None)],
        );
        assert_eq!(
            parameters(&statement).ok(),
            Some(vec![
                SqliteValue::Text("2027-01-15T08:00:00.123456+00:00".into()),
                SqliteValue::Null
            ])
        );
    }
}
