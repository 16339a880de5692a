//! Work taken for a while: due timers and due webhook deliveries. A lease pushes what it
//! takes `until` into the future, so that no other instance takes it meanwhile, and it
//! falls due again then if the instance that took it died. On PostgreSQL, instances that
//! lease at the same moment skip each other's rows (`SKIP LOCKED`).

use std::fmt::Write as _;

use chrono::{DateTime, Utc};
use domain::lifecycle::DeliveryStatus;
use sea_orm::sea_query::{LockBehavior, LockType, Query};
use sea_orm::{ColumnTrait, DbBackend, Statement, Value};

use super::entities::timer;

/// What to take, until when.
#[derive(Debug, Clone)]
pub enum Lease {
    Timers(TimerLease),
    Deliveries(DeliveryLease),
}

/// Due timers taken for firing.
#[derive(Debug, Clone, Copy)]
pub struct TimerLease {
    pub now: DateTime<Utc>,
    pub until: DateTime<Utc>,
    pub limit: u64,
}

/// A timer taken by a [`TimerLease`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeasedTimer {
    pub id: i64,
    pub execution_id: String,
    pub purpose: String,
    pub step: Option<String>,
    pub token: Option<String>,
}

/// Due deliveries taken for attempting: pending, due, for an enabled endpoint, and the
/// first pending one of their order at that endpoint (one order's events arrive in order).
#[derive(Debug, Clone)]
pub struct DeliveryLease {
    pub now: DateTime<Utc>,
    pub until: DateTime<Utc>,
    pub limit: u64,
    /// Endpoints that have as many attempts in flight as they may: none of theirs is taken.
    pub busy_endpoints: Vec<String>,
    pub sink: Sink,
}

/// Where deliveries go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sink {
    /// The merchants' enabled webhook endpoints.
    Webhooks,
    /// NATS JetStream: deliveries whose endpoint is [`NATS_ENDPOINT`].
    Nats,
}

/// The endpoint id of deliveries to NATS (webhook endpoint ids start with `we_`).
pub const NATS_ENDPOINT: &str = "nats";

/// A delivery taken by a [`DeliveryLease`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeasedDelivery {
    pub id: i64,
    pub endpoint_id: String,
    pub event_id: String,
    /// Attempts made before this one.
    pub attempt_count: i32,
}

/// A row a lease took.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LeasedRow {
    Timer(LeasedTimer),
    Delivery(LeasedDelivery),
}

/// A row a lease statement returned, read by column position.
pub trait ReturnedRow {
    type Error;
    fn integer(&self, column: usize) -> Result<i64, Self::Error>;
    fn text(&self, column: usize) -> Result<String, Self::Error>;
    fn optional_text(&self, column: usize) -> Result<Option<String>, Self::Error>;
}

impl Lease {
    pub fn statement(&self, backend: DbBackend) -> Statement {
        match self {
            Lease::Timers(lease) => timers_statement(lease, backend),
            Lease::Deliveries(lease) => deliveries_statement(lease, backend),
        }
    }

    /// A row the statement returned.
    pub fn read<R: ReturnedRow>(&self, row: &R) -> Result<LeasedRow, R::Error> {
        Ok(match self {
            Lease::Timers(_) => LeasedRow::Timer(LeasedTimer {
                id: row.integer(0)?,
                execution_id: row.text(1)?,
                purpose: row.text(2)?,
                step: row.optional_text(3)?,
                token: row.optional_text(4)?,
            }),
            Lease::Deliveries(_) => LeasedRow::Delivery(LeasedDelivery {
                id: row.integer(0)?,
                endpoint_id: row.text(1)?,
                event_id: row.text(2)?,
                attempt_count: i32::try_from(row.integer(3)?).unwrap_or(i32::MAX),
            }),
        })
    }
}

/// Returns the leased timers' columns in [`LeasedTimer`]'s order.
fn timers_statement(lease: &TimerLease, backend: DbBackend) -> Statement {
    let mut due = Query::select();
    due.column(timer::Column::Id)
        .from(timer::Entity)
        .and_where(timer::Column::DueAt.lte(lease.now))
        .order_by(timer::Column::DueAt, sea_orm::Order::Asc)
        .order_by(timer::Column::Id, sea_orm::Order::Asc)
        .limit(lease.limit);
    if backend == DbBackend::Postgres {
        due.lock_with_behavior(LockType::Update, LockBehavior::SkipLocked);
    }
    let mut update = Query::update();
    update
        .table(timer::Entity)
        .value(timer::Column::DueAt, lease.until)
        .and_where(timer::Column::Id.in_subquery(due))
        .returning(Query::returning().columns([
            timer::Column::Id,
            timer::Column::ExecutionId,
            timer::Column::Purpose,
            timer::Column::Step,
            timer::Column::Token,
        ]));
    backend.build(&update)
}

/// Parameters numbered for the backend: `$n` on PostgreSQL, `?` on SQLite.
pub(super) struct Parameters {
    backend: DbBackend,
    values: Vec<Value>,
}

impl Parameters {
    pub(super) fn new(backend: DbBackend) -> Self {
        Self {
            backend,
            values: vec![],
        }
    }

    /// The placeholder of a new parameter.
    pub(super) fn bind(&mut self, value: impl Into<Value>) -> String {
        self.values.push(value.into());
        match self.backend {
            DbBackend::Postgres => format!("${}", self.values.len()),
            _ => "?".into(),
        }
    }

    pub(super) fn statement(self, sql: String) -> Statement {
        Statement::from_sql_and_values(self.backend, sql, self.values)
    }
}

/// Returns the leased deliveries' columns in [`LeasedDelivery`]'s order.
fn deliveries_statement(lease: &DeliveryLease, backend: DbBackend) -> Statement {
    let pending = DeliveryStatus::Pending.as_str();
    let mut parameters = Parameters::new(backend);
    let mut sql = format!(
        "UPDATE \"webhook_deliveries\" SET \"next_attempt_at\" = {} WHERE \"id\" IN (\
         SELECT d.\"id\" FROM \"webhook_deliveries\" AS d \
         WHERE d.\"status\" = '{pending}' AND d.\"next_attempt_at\" <= {} AND ",
        parameters.bind(lease.until),
        parameters.bind(lease.now),
    );
    match lease.sink {
        Sink::Webhooks => {
            let _ = write!(
                sql,
                "d.\"endpoint_id\" IN (SELECT \"id\" FROM \"webhook_endpoints\" WHERE \"enabled\" = {})",
                parameters.bind(true)
            );
        }
        Sink::Nats => {
            let _ = write!(
                sql,
                "d.\"endpoint_id\" = {}",
                parameters.bind(NATS_ENDPOINT)
            );
        }
    }
    if !lease.busy_endpoints.is_empty() {
        let busy: Vec<String> = lease
            .busy_endpoints
            .iter()
            .map(|id| parameters.bind(id.as_str()))
            .collect();
        let _ = write!(sql, " AND d.\"endpoint_id\" NOT IN ({})", busy.join(", "));
    }
    // The first pending delivery of its order to its endpoint, found as the first entry of
    // the order's index range rather than by "no earlier one exists": a subquery ordered by
    // the index can only be read from that index (the lease pool prices sorting out), where
    // an anti-join let PostgreSQL probe every pending delivery for each candidate when its
    // statistics said few were pending.
    let _ = write!(
        sql,
        " AND (d.\"order_id\" IS NULL OR d.\"event_position\" = (\
         SELECT p.\"event_position\" FROM \"webhook_deliveries\" AS p \
         WHERE p.\"endpoint_id\" = d.\"endpoint_id\" AND p.\"order_id\" = d.\"order_id\" \
         AND p.\"status\" = '{pending}' ORDER BY p.\"event_position\" LIMIT 1)) \
         ORDER BY d.\"next_attempt_at\", d.\"id\" LIMIT {}",
        lease.limit
    );
    if backend == DbBackend::Postgres {
        sql.push_str(" FOR UPDATE SKIP LOCKED");
    }
    sql.push_str(
        ") RETURNING \"id\", \"endpoint_id\", \"event_id\", CAST(\"attempt_count\" AS BIGINT)",
    );
    parameters.statement(sql)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at() -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000, 0).expect("a valid timestamp")
    }

    #[test]
    fn a_lease_skips_locked_rows_on_postgres_only() {
        let leases = [
            Lease::Timers(TimerLease {
                now: at(),
                until: at(),
                limit: 100,
            }),
            Lease::Deliveries(DeliveryLease {
                now: at(),
                until: at(),
                limit: 100,
                busy_endpoints: vec!["we_1".into()],
                sink: Sink::Webhooks,
            }),
        ];
        for lease in leases {
            let postgres = lease.statement(DbBackend::Postgres).sql;
            assert!(postgres.contains("FOR UPDATE SKIP LOCKED"), "{postgres}");
            assert!(postgres.contains("RETURNING"), "{postgres}");
            let sqlite = lease.statement(DbBackend::Sqlite).sql;
            assert!(!sqlite.contains("FOR UPDATE"), "{sqlite}");
        }
    }

    #[test]
    fn parameters_are_numbered_for_the_backend() {
        let lease = DeliveryLease {
            now: at(),
            until: at(),
            limit: 8,
            busy_endpoints: vec!["we_1".into(), "we_2".into()],
            sink: Sink::Webhooks,
        };
        let postgres = deliveries_statement(&lease, DbBackend::Postgres);
        assert!(postgres.sql.contains("NOT IN ($4, $5)"), "{}", postgres.sql);
        assert_eq!(postgres.values.map(|v| v.0.len()), Some(5));
    }
}
