//! Writes as values. A request computes what it will change without touching a connection;
//! the [writer](super::writer) applies change sets in batches. A change set may rest on one
//! [`Guard`]: a statement that must change exactly one row (a compare-and-set, or an insert
//! that must not collide). The writer runs every guard of a batch first; a change set whose
//! guard changed nothing is refused and none of it is applied, while the rest of the batch
//! commits.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use domain::lifecycle::{DeliveryStatus, RolloutState, TaskState};
use sea_orm::sea_query::{Expr, OnConflict, UpdateStatement};
use sea_orm::{
    ActiveModelTrait,
    ActiveValue::{NotSet, Set},
    ColumnTrait, DbBackend, EntityTrait, IntoActiveModel, QueryFilter, QueryTrait, Statement,
};

use super::entities::{
    api_key, audit_entry, event, execution, execution_history, idempotency_key, merchant,
    metadata_document, metadata_rollout, metadata_version, order, rollout_order, task, timer,
    webhook_attempt, webhook_delivery, webhook_endpoint,
};
use super::fan_out::{self, Sinks};
use super::many_rows::{UpdateMany, column};

/// The statement a change set is conditional on.
#[derive(Debug, Clone)]
pub enum Guard {
    /// Refused when the order's id or its (merchant, order_num) already exists.
    InsertOrder(order::Model),
    /// Refused when another writer advanced the execution since it was read.
    AdvanceExecution {
        row: execution::Model,
        expected_version: i64,
    },
    /// Refused when the merchant exists.
    InsertMerchant(merchant::Model),
    InsertWebhookEndpoint(webhook_endpoint::Model),
    /// Replaces the endpoint's row; refused when it is gone.
    UpdateWebhookEndpoint(webhook_endpoint::Model),
    /// Refused when it is gone.
    DeleteWebhookEndpoint {
        merchant_id: String,
        id: String,
    },
    /// A new document with only a draft; refused when the address is taken.
    InsertDocument(metadata_document::Model),
    /// Refused when the document moved past `revision`.
    UpdateDraft {
        id: i64,
        revision: i64,
        draft: String,
        at: DateTime<Utc>,
    },
    /// Drops the document's draft; a document never published is only its draft, so it goes
    /// whole. Refused when the document moved past `revision`.
    DiscardDraft {
        id: i64,
        revision: i64,
        published: bool,
        at: DateTime<Utc>,
    },
    /// Points the document at a new version; a publish consumes the draft, a rollback
    /// leaves it. Refused when the document moved past `revision`.
    SetPublishedVersion {
        id: i64,
        revision: i64,
        version: i32,
        consume_draft: bool,
        at: DateTime<Utc>,
    },
}

/// A timer to schedule; the database numbers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewTimer {
    pub execution_id: String,
    pub purpose: domain::lifecycle::TimerPurpose,
    pub step: Option<String>,
    pub token: Option<String>,
    pub due_at: DateTime<Utc>,
}

/// Timers to delete.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TimerDeletion {
    /// Fired.
    Ids(Vec<i64>),
    /// The timeouts of tasks that finished.
    Tokens(Vec<String>),
    /// Every timer of an execution that ended.
    OfExecution(String),
}

/// A write with no condition of its own.
#[derive(Debug, Clone)]
pub enum Write {
    InsertExecution(execution::Model),
    UpdateOrder(order::Model),
    /// An advance's history entries, as one row.
    InsertHistory(execution_history::Model),
    InsertTasks(Vec<task::Model>),
    /// A waiting task leaves `waiting`.
    SettleTask {
        token: String,
        state: TaskState,
        at: DateTime<Utc>,
    },
    HeartbeatTask {
        token: String,
        at: DateTime<Utc>,
    },
    /// The execution ended: its tasks that still wait time out.
    ExpireWaitingTasks {
        execution_id: String,
        at: DateTime<Utc>,
    },
    InsertTimers(Vec<NewTimer>),
    DeleteTimers(TimerDeletion),
    /// Frees a key whose record is stale (expired, or a claim its process abandoned), or
    /// whose change set was refused after its claim held; only the record created at
    /// `created_at` goes.
    ReleaseIdempotencyKey {
        principal: String,
        endpoint: String,
        key: String,
        created_at: DateTime<Utc>,
    },
    InsertApiKey(api_key::Model),
    InsertVersion(metadata_version::Model),
    InsertAudit(audit_entry::Model),
    /// Events for the outbox; the database numbers their positions. Each gets a delivery
    /// for every endpoint subscribed to it when it commits.
    InsertOutbox(Vec<event::Model>),
    /// What an attempt at a delivery came to; the delivery changes only if no other
    /// attempt was recorded since it was leased (`attempts_before` still holds).
    RecordAttempt(AttemptRecord),
    /// A delivery made by hand (a redelivery); the database numbers it.
    InsertDelivery(webhook_delivery::Model),
    /// The server disables an endpoint that failed for days.
    DisableWebhookEndpoint {
        id: String,
        reason: String,
        at: DateTime<Utc>,
    },
    /// A rollout starts; the database numbers it.
    InsertRollout(metadata_rollout::Model),
    /// An active rollout is ramped (`ended_at` none) or ends.
    UpdateRollout {
        id: i64,
        percent: i32,
        state: RolloutState,
        ended_at: Option<DateTime<Utc>>,
    },
    /// Which version of each rolled-out document an order started with.
    InsertRolloutOrders(Vec<rollout_order::Model>),
}

/// An attempt at a delivery and where it leaves the delivery.
#[derive(Debug, Clone)]
pub struct AttemptRecord {
    pub attempts_before: i32,
    pub status: DeliveryStatus,
    pub next_attempt_at: DateTime<Utc>,
    /// The attempt; its id is numbered by the database.
    pub attempt: webhook_attempt::Model,
}

/// Everything one request changes: committed together or not at all.
#[derive(Debug, Clone, Default)]
pub struct ChangeSet {
    /// The record of the request's `Idempotency-Key`, with the answer to replay. Inserted
    /// before the guard: the change set is refused when the key is taken, and the record
    /// is removed again when the guard then refuses it. So a key is taken exactly when its
    /// request's changes commit.
    pub claim: Option<idempotency_key::Model>,
    pub guard: Option<Box<Guard>>,
    pub writes: Vec<Write>,
}

impl ChangeSet {
    /// Changes that commit only if `guard` changes exactly one row.
    pub fn guarded(guard: Guard) -> Self {
        Self {
            claim: None,
            guard: Some(Box::new(guard)),
            writes: vec![],
        }
    }

    pub fn unguarded(writes: Vec<Write>) -> Self {
        Self {
            claim: None,
            guard: None,
            writes,
        }
    }

    pub fn with(mut self, write: Write) -> Self {
        self.writes.push(write);
        self
    }

    pub fn push(&mut self, write: Write) {
        self.writes.push(write);
    }

    pub fn is_empty(&self) -> bool {
        self.claim.is_none() && self.guard.is_none() && self.writes.is_empty()
    }
}

/// The most bind parameters one statement may carry (SQLite allows 32,766).
const MAX_PARAMETERS: usize = 30_000;
/// The bytes of values one multi-row insert carries at most (a row alone may carry more).
/// sqlx does not set TCP_NODELAY: a message larger than the socket's send buffer (16 KiB
/// until the kernel grows it) goes out in two writes, and Nagle's algorithm holds the
/// second until the server's delayed ACK, about 40 ms later, while the writer waits. 12 KiB
/// leaves room for the per-value framing the estimates leave out; every statement is one
/// more round trip and one more execution for PostgreSQL (8 KiB made about four history
/// inserts per batch).
const MESSAGE_BUDGET: usize = 12 * 1024;
/// Values in one `IN` list at most: a power of two under the limit.
pub const MAX_IN_LIST: usize = 1 << MAX_PARAMETERS.ilog2();

/// Held from numbering a batch's events until its commit, so that events become visible in
/// the order of their positions: a feed reader resumes after the last position it saw, and
/// an event numbered earlier but committed later (another transaction of this writer, or
/// another instance) would be skipped. The lock is the last thing a transaction asks for,
/// so it never waits for it while holding what the lock's holder needs.
const OUTBOX_ORDER_LOCK: &str = "SELECT pg_advisory_xact_lock(7305834712451980)";

/// Inserts an idempotency record unless its key is taken (then it changes no row).
pub fn claim_statement(row: &idempotency_key::Model, backend: DbBackend) -> Statement {
    let mut insert = idempotency_key::Entity::insert(row.clone().into_active_model()).into_query();
    insert.on_conflict(OnConflict::new().do_nothing().to_owned());
    backend.build(&insert)
}

impl Guard {
    pub fn statement(&self, backend: DbBackend) -> Statement {
        match self {
            Guard::InsertOrder(row) => {
                let mut insert =
                    order::Entity::insert(row.clone().into_active_model()).into_query();
                insert.on_conflict(OnConflict::new().do_nothing().to_owned());
                backend.build(&insert)
            }
            Guard::AdvanceExecution {
                row,
                expected_version,
            } => backend.build(
                &execution::Entity::update_many()
                    .col_expr(execution::Column::Status, Expr::value(row.status.clone()))
                    .col_expr(
                        execution::Column::CurrentStep,
                        Expr::value(row.current_step.clone()),
                    )
                    .col_expr(execution::Column::State, Expr::value(row.state.clone()))
                    .col_expr(execution::Column::EventCount, Expr::value(row.event_count))
                    .col_expr(execution::Column::Version, Expr::value(row.version))
                    .col_expr(execution::Column::UpdatedAt, Expr::value(row.updated_at))
                    .filter(execution::Column::Id.eq(row.id.as_str()))
                    .filter(execution::Column::Version.eq(*expected_version))
                    .into_query(),
            ),
            Guard::InsertMerchant(row) => {
                let mut insert =
                    merchant::Entity::insert(row.clone().into_active_model()).into_query();
                insert.on_conflict(OnConflict::new().do_nothing().to_owned());
                backend.build(&insert)
            }
            Guard::InsertWebhookEndpoint(row) => {
                let mut insert =
                    webhook_endpoint::Entity::insert(row.clone().into_active_model()).into_query();
                insert.on_conflict(OnConflict::new().do_nothing().to_owned());
                backend.build(&insert)
            }
            Guard::UpdateWebhookEndpoint(row) => backend.build(
                &webhook_endpoint::Entity::update_many()
                    // Every column, not only those changed since a read.
                    .set(row.clone().into_active_model().reset_all())
                    .filter(webhook_endpoint::Column::Id.eq(row.id.as_str()))
                    .filter(webhook_endpoint::Column::MerchantId.eq(row.merchant_id.as_str()))
                    .into_query(),
            ),
            Guard::DeleteWebhookEndpoint { merchant_id, id } => backend.build(
                &webhook_endpoint::Entity::delete_many()
                    .filter(webhook_endpoint::Column::Id.eq(id.as_str()))
                    .filter(webhook_endpoint::Column::MerchantId.eq(merchant_id.as_str()))
                    .into_query(),
            ),
            Guard::InsertDocument(row) => {
                let mut active = row.clone().into_active_model();
                active.id = NotSet;
                let mut insert = metadata_document::Entity::insert(active).into_query();
                insert.on_conflict(OnConflict::new().do_nothing().to_owned());
                backend.build(&insert)
            }
            Guard::UpdateDraft {
                id,
                revision,
                draft,
                at,
            } => backend.build(&document_cas(
                metadata_document::Entity::update_many()
                    .col_expr(metadata_document::Column::Draft, Expr::value(draft.clone()))
                    .col_expr(metadata_document::Column::DraftUpdatedAt, Expr::value(*at)),
                *id,
                *revision,
                *at,
            )),
            Guard::DiscardDraft {
                id,
                revision,
                published: false,
                ..
            } => backend.build(
                &metadata_document::Entity::delete_many()
                    .filter(metadata_document::Column::Id.eq(*id))
                    .filter(metadata_document::Column::Revision.eq(*revision))
                    .filter(metadata_document::Column::PublishedVersion.is_null())
                    .into_query(),
            ),
            Guard::DiscardDraft {
                id,
                revision,
                published: true,
                at,
            } => backend.build(&document_cas(
                without_draft(metadata_document::Entity::update_many()),
                *id,
                *revision,
                *at,
            )),
            Guard::SetPublishedVersion {
                id,
                revision,
                version,
                consume_draft,
                at,
            } => {
                let mut update = metadata_document::Entity::update_many().col_expr(
                    metadata_document::Column::PublishedVersion,
                    Expr::value(*version),
                );
                if *consume_draft {
                    update = without_draft(update);
                }
                backend.build(&document_cas(update, *id, *revision, *at))
            }
        }
    }
}

/// An update of a document that applies only while it is at `revision`, and moves it to the
/// next revision at `at`.
fn document_cas(
    update: sea_orm::UpdateMany<metadata_document::Entity>,
    id: i64,
    revision: i64,
    at: DateTime<Utc>,
) -> UpdateStatement {
    update
        .col_expr(
            metadata_document::Column::Revision,
            Expr::value(revision + 1),
        )
        .col_expr(metadata_document::Column::UpdatedAt, Expr::value(at))
        .filter(metadata_document::Column::Id.eq(id))
        .filter(metadata_document::Column::Revision.eq(revision))
        .into_query()
}

/// Clears a document's draft.
fn without_draft(
    update: sea_orm::UpdateMany<metadata_document::Entity>,
) -> sea_orm::UpdateMany<metadata_document::Entity> {
    update
        .col_expr(
            metadata_document::Column::Draft,
            Expr::value(Option::<String>::None),
        )
        .col_expr(
            metadata_document::Column::DraftUpdatedAt,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
}

/// A batch's guards as statements.
pub enum GuardStatement {
    /// The guard at this position holds when the statement changes exactly one row.
    Single(usize, Statement),
    /// The statement returns the id of each row it changed: the guards at these positions
    /// hold for the ids returned, and not for the others.
    Merged {
        statement: Statement,
        positions: HashMap<String, usize>,
    },
}

/// A compare-and-set on many executions: each row is the id and the expected version, then
/// the new values.
const ADVANCE_EXECUTIONS: UpdateMany = UpdateMany {
    table: "executions",
    keys: &[column("id", "text"), column("version", "bigint")],
    set: &[
        column("status", "text"),
        column("current_step", "text"),
        column("state", "text"),
        column("event_count", "integer"),
        column("version", "bigint"),
        column("updated_at", "timestamptz"),
    ],
    returning: Some("id"),
};

/// What an advance may change of an order; the rest is fixed at creation.
const ORDER_UPDATES: UpdateMany = UpdateMany {
    table: "orders",
    keys: &[column("id", "text")],
    set: &[
        column("status", "text"),
        column("cancel_reason", "text"),
        column("final_amount_minor", "bigint"),
        column("payment_method", "text"),
        column("discount", "text"),
        column("payment_deadline", "timestamptz"),
        column("updated_at", "timestamptz"),
    ],
    returning: None,
};

/// Waiting tasks leaving `waiting`.
const TASK_SETTLEMENTS: UpdateMany = UpdateMany {
    table: "tasks",
    keys: &[column("token", "text"), column("state", "text")],
    set: &[
        column("state", "text"),
        column("finished_at", "timestamptz"),
    ],
    returning: None,
};

fn order_update(row: &order::Model) -> Vec<sea_orm::Value> {
    vec![
        row.id.clone().into(),
        row.status.clone().into(),
        row.cancel_reason.clone().into(),
        row.final_amount_minor.into(),
        row.payment_method.clone().into(),
        row.discount.clone().into(),
        row.payment_deadline.into(),
        row.updated_at.into(),
    ]
}

fn task_settlement((token, state, at): (String, TaskState, DateTime<Utc>)) -> Vec<sea_orm::Value> {
    vec![
        token.into(),
        TaskState::Waiting.as_str().into(),
        state.as_str().into(),
        at.into(),
    ]
}

/// The statements of a batch's guards, given by position: inserted orders and advanced
/// executions in as few statements as the limits allow (a round trip each on PostgreSQL),
/// the other guards one by one. An execution advanced twice in one batch has its second
/// compare-and-set alone, after the merged one, so that the first in the batch wins.
pub fn guard_statements<'a>(
    guards: impl IntoIterator<Item = (usize, &'a Guard)>,
    backend: DbBackend,
) -> Vec<GuardStatement> {
    let mut orders = Vec::new();
    let mut executions = Vec::new();
    let mut advanced = HashSet::new();
    let mut singles = Vec::new();
    for (position, guard) in guards {
        match guard {
            Guard::InsertOrder(row) => orders.push((position, row)),
            Guard::AdvanceExecution {
                row,
                expected_version,
            } if advanced.insert(row.id.as_str()) => {
                executions.push((position, row, *expected_version));
            }
            other => singles.push(GuardStatement::Single(position, other.statement(backend))),
        }
    }
    let mut statements = Vec::new();
    let order_weight = |(_, row): &(usize, &order::Model)| {
        row.items.len() + row.address.len() + row.fields.len() + 256
    };
    for chunk in message_chunks(orders, order_weight) {
        let positions = chunk.iter().map(|(p, row)| (row.id.clone(), *p)).collect();
        let mut insert = order::Entity::insert_many(
            chunk
                .into_iter()
                .map(|(_, row)| row.clone().into_active_model()),
        )
        .into_query();
        insert
            .on_conflict(OnConflict::new().do_nothing().to_owned())
            .returning_col(order::Column::Id);
        statements.push(GuardStatement::Merged {
            statement: backend.build(&insert),
            positions,
        });
    }
    for chunk in message_chunks(executions, |(_, row, _)| row.state.len() + 128) {
        let positions = chunk
            .iter()
            .map(|(p, row, _)| (row.id.clone(), *p))
            .collect();
        let rows = chunk
            .into_iter()
            .map(|(_, row, expected_version)| {
                vec![
                    row.id.clone().into(),
                    expected_version.into(),
                    row.status.clone().into(),
                    row.current_step.clone().into(),
                    row.state.clone().into(),
                    row.event_count.into(),
                    row.version.into(),
                    row.updated_at.into(),
                ]
            })
            .collect();
        statements.push(GuardStatement::Merged {
            statement: ADVANCE_EXECUTIONS.statement(backend, rows),
            positions,
        });
    }
    statements.extend(singles);
    statements
}

/// The statements that apply `writes` (of every change set that passed its guard), with
/// the rows of each kind merged into as few statements as the parameter limit allows.
/// Kinds go in an order that respects what refers to what.
pub fn write_statements<'a>(
    writes: impl IntoIterator<Item = &'a Write>,
    backend: DbBackend,
    sinks: Sinks,
) -> Vec<Statement> {
    let mut merged = Merged::default();
    let mut one_by_one = Vec::new();
    for write in writes {
        one_by_one.extend(merge_or_build(write, &mut merged, backend));
    }
    let mut statements = Vec::new();
    insert_chunks(
        &mut statements,
        backend,
        merged.executions,
        |row| row.state.len() + row.pinned.len(),
        |rows| {
            execution::Entity::insert_many(rows.into_iter().map(IntoActiveModel::into_active_model))
                .into_query()
        },
    );
    for chunk in message_chunks(merged.orders, |row| {
        row.discount.as_ref().map_or(0, String::len) + 192
    }) {
        let rows = chunk.iter().map(order_update).collect();
        statements.push(ORDER_UPDATES.statement(backend, rows));
    }
    for chunk in message_chunks(merged.task_settlements, |_| 128) {
        let rows = chunk.into_iter().map(task_settlement).collect();
        statements.push(TASK_SETTLEMENTS.statement(backend, rows));
    }
    statements.extend(one_by_one);
    insert_chunks(
        &mut statements,
        backend,
        merged.history,
        |row| row.entries.len() + 64,
        |rows| {
            execution_history::Entity::insert_many(
                rows.into_iter().map(IntoActiveModel::into_active_model),
            )
            .into_query()
        },
    );
    insert_chunks(
        &mut statements,
        backend,
        merged.tasks,
        |_| 256,
        |rows| {
            task::Entity::insert_many(rows.into_iter().map(IntoActiveModel::into_active_model))
                .into_query()
        },
    );
    // Deletions before insertions: an execution that ended has no timer left.
    for ids in power_of_two_chunks(merged.fired, MAX_IN_LIST) {
        statements.push(
            backend.build(
                &timer::Entity::delete_many()
                    .filter(timer::Column::Id.is_in(ids))
                    .into_query(),
            ),
        );
    }
    for tokens in power_of_two_chunks(merged.settled, MAX_IN_LIST) {
        statements.push(
            backend.build(
                &timer::Entity::delete_many()
                    .filter(timer::Column::Token.is_in(tokens))
                    .into_query(),
            ),
        );
    }
    for ids in power_of_two_chunks(merged.ended, MAX_IN_LIST) {
        statements.push(
            backend.build(
                &timer::Entity::delete_many()
                    .filter(timer::Column::ExecutionId.is_in(ids))
                    .into_query(),
            ),
        );
    }
    insert_chunks(
        &mut statements,
        backend,
        merged.timers,
        |_| 192,
        |rows| {
            timer::Entity::insert_many(rows.into_iter().map(|t| timer::ActiveModel {
                id: NotSet,
                execution_id: Set(t.execution_id),
                purpose: Set(t.purpose.as_str().to_owned()),
                step: Set(t.step),
                token: Set(t.token),
                due_at: Set(t.due_at),
            }))
            .into_query()
        },
    );
    insert_chunks(
        &mut statements,
        backend,
        merged.rollout_orders,
        |row| row.order_id.len() + 32,
        |rows| {
            rollout_order::Entity::insert_many(
                rows.into_iter().map(IntoActiveModel::into_active_model),
            )
            .into_query()
        },
    );
    insert_chunks(
        &mut statements,
        backend,
        merged.audit,
        |_| 256,
        |rows| {
            audit_entry::Entity::insert_many(rows.into_iter().map(|row| {
                let mut active = row.into_active_model();
                active.id = NotSet;
                active
            }))
            .into_query()
        },
    );
    for chunk in message_chunks(merged.attempts.clone(), |_| 128) {
        let rows = chunk.into_iter().map(delivery_update).collect();
        statements.push(DELIVERY_UPDATES.statement(backend, rows));
    }
    insert_chunks(
        &mut statements,
        backend,
        merged.attempts,
        |record| record.attempt.response_body.as_ref().map_or(0, String::len) + 128,
        |records| {
            webhook_attempt::Entity::insert_many(records.into_iter().map(|record| {
                let mut active = record.attempt.into_active_model();
                active.id = NotSet;
                active
            }))
            .into_query()
        },
    );
    statements.extend(outbox_statements(merged.outbox, backend, sinks));
    statements
}

/// The events of the outbox and their deliveries, last in the transaction. On PostgreSQL,
/// under [`OUTBOX_ORDER_LOCK`], each insert of events inserts their deliveries from the rows
/// it returns: a join on the `events` table would be planned once per connection, while the
/// table was small, and then scan it whole as it grows. On SQLite, the deliveries follow,
/// found by the events' ids.
fn outbox_statements(
    events: Vec<event::Model>,
    backend: DbBackend,
    sinks: Sinks,
) -> Vec<Statement> {
    if events.is_empty() {
        return vec![];
    }
    // SQLite's deliveries find the events by id; PostgreSQL's come from the insert itself.
    let ids: Vec<String> = match backend {
        DbBackend::Postgres => vec![],
        _ => events.iter().map(|e| e.id.clone()).collect(),
    };
    let mut inserts = Vec::new();
    insert_chunks(
        &mut inserts,
        backend,
        events,
        |row| row.data.len() + 192,
        |rows| {
            event::Entity::insert_many(rows.into_iter().map(|row| {
                let mut active = row.into_active_model();
                active.position = NotSet;
                active
            }))
            .into_query()
        },
    );
    if backend == DbBackend::Postgres {
        let mut statements = vec![Statement::from_string(backend, OUTBOX_ORDER_LOCK)];
        statements.extend(
            inserts
                .into_iter()
                .map(|insert| fan_out::with_deliveries(insert, sinks)),
        );
        return statements;
    }
    for ids in power_of_two_chunks(ids, MAX_IN_LIST) {
        inserts.extend(fan_out::statements(&ids, backend, sinks));
    }
    inserts
}

/// Where attempts leave their deliveries: each row is the delivery's id and the attempts
/// made before, then the new values.
const DELIVERY_UPDATES: UpdateMany = UpdateMany {
    table: "webhook_deliveries",
    keys: &[column("id", "bigint"), column("attempt_count", "integer")],
    set: &[
        column("status", "text"),
        column("attempt_count", "integer"),
        column("next_attempt_at", "timestamptz"),
        column("last_response_status", "integer"),
        column("last_error", "text"),
        column("updated_at", "timestamptz"),
    ],
    returning: None,
};

fn delivery_update(record: AttemptRecord) -> Vec<sea_orm::Value> {
    vec![
        record.attempt.delivery_id.into(),
        record.attempts_before.into(),
        record.status.as_str().into(),
        (record.attempts_before + 1).into(),
        record.next_attempt_at.into(),
        record.attempt.response_status.into(),
        record.attempt.error.into(),
        record.attempt.attempted_at.into(),
    ]
}

#[derive(Default)]
struct Merged {
    executions: Vec<execution::Model>,
    orders: Vec<order::Model>,
    updated_orders: HashSet<String>,
    task_settlements: Vec<(String, TaskState, DateTime<Utc>)>,
    settled_tokens: HashSet<String>,
    history: Vec<execution_history::Model>,
    tasks: Vec<task::Model>,
    timers: Vec<NewTimer>,
    fired: Vec<i64>,
    settled: Vec<String>,
    ended: Vec<String>,
    audit: Vec<audit_entry::Model>,
    outbox: Vec<event::Model>,
    attempts: Vec<AttemptRecord>,
    rollout_orders: Vec<rollout_order::Model>,
}

/// Multi-row inserts of `rows`, in chunks that stay under the parameter limit and, by the
/// rows' `weight` in bytes, under [`MESSAGE_BUDGET`].
fn insert_chunks<T>(
    statements: &mut Vec<Statement>,
    backend: DbBackend,
    rows: Vec<T>,
    weight: impl Fn(&T) -> usize,
    build: impl Fn(Vec<T>) -> sea_orm::sea_query::InsertStatement,
) {
    statements.extend(
        message_chunks(rows, weight)
            .into_iter()
            .map(|chunk| backend.build(&build(chunk))),
    );
}

/// `rows` in chunks of powers of two that stay under the parameter limit and, by the rows'
/// `weight` in bytes, under [`MESSAGE_BUDGET`].
fn message_chunks<T>(rows: Vec<T>, weight: impl Fn(&T) -> usize) -> Vec<Vec<T>> {
    /// Rows per statement at most: a power of two that keeps ten columns under the limit.
    const MAX_ROWS: usize = 1 << (MAX_PARAMETERS / 10).ilog2();
    let mut chunks = Vec::new();
    let mut pending = power_of_two_chunks(rows, MAX_ROWS);
    pending.reverse();
    while let Some(mut chunk) = pending.pop() {
        if chunk.len() > 1 && chunk.iter().map(&weight).sum::<usize>() > MESSAGE_BUDGET {
            // Halves stay powers of two.
            let second = chunk.split_off(chunk.len() / 2);
            pending.push(second);
            pending.push(chunk);
        } else {
            chunks.push(chunk);
        }
    }
    chunks
}

/// `items` in chunks whose sizes are powers of two, largest first, none above `max`.
/// A statement's text depends on how many rows or values it carries; with these sizes a
/// few texts serve batches of any size, so the drivers' prepared-statement caches keep
/// them (a new statement costs PostgreSQL a round trip more).
pub fn power_of_two_chunks<T>(items: Vec<T>, max: usize) -> Vec<Vec<T>> {
    let mut chunks = Vec::new();
    let mut items = items.into_iter().peekable();
    let mut left = items.len();
    while left > 0 {
        let size = (1usize << left.ilog2()).min(max);
        chunks.push(items.by_ref().take(size).collect());
        left -= size;
    }
    chunks
}

/// Adds `write` to the rows merged across the batch, or builds its own statement.
fn merge_or_build(write: &Write, merged: &mut Merged, backend: DbBackend) -> Option<Statement> {
    Some(match write {
        Write::InsertExecution(row) => return merge(&mut merged.executions, [row]),
        Write::InsertHistory(row) => return merge(&mut merged.history, [row]),
        Write::InsertTasks(rows) => return merge(&mut merged.tasks, rows),
        Write::InsertTimers(rows) => return merge(&mut merged.timers, rows),
        Write::DeleteTimers(TimerDeletion::Ids(ids)) => return merge(&mut merged.fired, ids),
        Write::DeleteTimers(TimerDeletion::Tokens(tokens)) => {
            return merge(&mut merged.settled, tokens);
        }
        Write::DeleteTimers(TimerDeletion::OfExecution(id)) => {
            return merge(&mut merged.ended, [id]);
        }
        Write::InsertAudit(row) => return merge(&mut merged.audit, [row]),
        Write::InsertRolloutOrders(rows) => return merge(&mut merged.rollout_orders, rows),
        Write::InsertRollout(row) => {
            let mut active = row.clone().into_active_model();
            active.id = NotSet;
            backend.build(&metadata_rollout::Entity::insert(active).into_query())
        }
        Write::UpdateRollout {
            id,
            percent,
            state,
            ended_at,
        } => backend.build(
            &metadata_rollout::Entity::update_many()
                .col_expr(metadata_rollout::Column::Percent, Expr::value(*percent))
                .col_expr(metadata_rollout::Column::State, Expr::value(state.as_str()))
                .col_expr(metadata_rollout::Column::EndedAt, Expr::value(*ended_at))
                .filter(metadata_rollout::Column::Id.eq(*id))
                .filter(metadata_rollout::Column::State.eq(RolloutState::Active.as_str()))
                .into_query(),
        ),
        Write::InsertOutbox(rows) => return merge(&mut merged.outbox, rows),
        Write::RecordAttempt(record) => return merge(&mut merged.attempts, [record]),
        Write::InsertDelivery(row) => {
            let mut active = row.clone().into_active_model();
            active.id = NotSet;
            backend.build(&webhook_delivery::Entity::insert(active).into_query())
        }
        Write::DisableWebhookEndpoint { id, reason, at } => backend.build(
            &webhook_endpoint::Entity::update_many()
                .col_expr(webhook_endpoint::Column::Enabled, Expr::value(false))
                .col_expr(
                    webhook_endpoint::Column::DisabledReason,
                    Expr::value(reason.as_str()),
                )
                .col_expr(webhook_endpoint::Column::UpdatedAt, Expr::value(*at))
                .filter(webhook_endpoint::Column::Id.eq(id.as_str()))
                .filter(webhook_endpoint::Column::Enabled.eq(true))
                .into_query(),
        ),
        Write::UpdateOrder(row) => {
            if merged.updated_orders.insert(row.id.clone()) {
                return merge(&mut merged.orders, [row]);
            }
            ORDER_UPDATES.statement(backend, vec![order_update(row)])
        }
        Write::SettleTask { token, state, at } => {
            let settlement = (token.clone(), *state, *at);
            if merged.settled_tokens.insert(token.clone()) {
                return merge(&mut merged.task_settlements, [&settlement]);
            }
            TASK_SETTLEMENTS.statement(backend, vec![task_settlement(settlement)])
        }
        Write::HeartbeatTask { token, at } => backend.build(
            &task::Entity::update_many()
                .col_expr(task::Column::HeartbeatAt, Expr::value(*at))
                .filter(task::Column::Token.eq(token.as_str()))
                .filter(task::Column::State.eq(TaskState::Waiting.as_str()))
                .into_query(),
        ),
        Write::ExpireWaitingTasks { execution_id, at } => backend.build(
            &task::Entity::update_many()
                .col_expr(
                    task::Column::State,
                    Expr::value(TaskState::TimedOut.as_str()),
                )
                .col_expr(task::Column::FinishedAt, Expr::value(*at))
                .filter(task::Column::ExecutionId.eq(execution_id.as_str()))
                .filter(task::Column::State.eq(TaskState::Waiting.as_str()))
                .into_query(),
        ),
        Write::ReleaseIdempotencyKey {
            principal,
            endpoint,
            key,
            created_at,
        } => backend.build(
            &idempotency_key::Entity::delete_many()
                .filter(idempotency_key::Column::Principal.eq(principal.as_str()))
                .filter(idempotency_key::Column::Endpoint.eq(endpoint.as_str()))
                .filter(idempotency_key::Column::Key.eq(key.as_str()))
                .filter(idempotency_key::Column::CreatedAt.eq(*created_at))
                .into_query(),
        ),
        Write::InsertApiKey(row) => {
            backend.build(&api_key::Entity::insert(row.clone().into_active_model()).into_query())
        }
        Write::InsertVersion(row) => backend
            .build(&metadata_version::Entity::insert(row.clone().into_active_model()).into_query()),
    })
}

fn merge<'a, T: Clone + 'a>(
    into: &mut Vec<T>,
    rows: impl IntoIterator<Item = &'a T>,
) -> Option<Statement> {
    into.extend(rows.into_iter().cloned());
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at() -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000, 0).expect("a valid timestamp")
    }

    fn execution_row(id: &str, state: &str) -> execution::Model {
        execution::Model {
            id: id.into(),
            status: "running".into(),
            current_step: None,
            state: state.into(),
            pinned: String::new(),
            event_count: 3,
            version: 8,
            created_at: at(),
            updated_at: at(),
        }
    }

    fn history(execution: &str, seq: i32) -> Write {
        Write::InsertHistory(execution_history::Model {
            execution_id: execution.into(),
            first_seq: seq,
            last_seq: seq,
            entries: "[]".into(),
        })
    }

    #[test]
    fn an_insert_guard_ignores_collisions_instead_of_failing() {
        let row = merchant::Model {
            id: "m".into(),
            name: "M".into(),
            created_at: at(),
        };
        for backend in [DbBackend::Sqlite, DbBackend::Postgres] {
            let sql = Guard::InsertMerchant(row.clone()).statement(backend).sql;
            let words: Vec<&str> = sql.split_whitespace().collect();
            assert!(
                words.ends_with(&["ON", "CONFLICT", "DO", "NOTHING"]),
                "{sql}"
            );
        }
    }

    #[test]
    fn a_compare_and_set_names_the_expected_version() {
        let row = execution_row("e", "{}");
        let statement = Guard::AdvanceExecution {
            row,
            expected_version: 7,
        }
        .statement(DbBackend::Postgres);
        assert!(
            statement.sql.contains(r#""version" = $"#) && statement.sql.contains("WHERE"),
            "{}",
            statement.sql
        );
        let values = statement.values.expect("bound values").0;
        assert_eq!(values.last(), Some(&sea_orm::Value::BigInt(Some(7))));
    }

    #[test]
    fn guards_merge_across_change_sets_but_an_execution_advanced_twice_goes_alone() {
        let advance = |id: &str| Guard::AdvanceExecution {
            row: execution_row(id, "{}"),
            expected_version: 7,
        };
        let guards = [
            advance("a"),
            advance("b"),
            advance("a"),
            Guard::InsertMerchant(merchant::Model {
                id: "m".into(),
                name: "M".into(),
                created_at: at(),
            }),
        ];
        let statements = guard_statements(guards.iter().enumerate(), DbBackend::Postgres);
        let shapes: Vec<_> = statements
            .iter()
            .map(|statement| match statement {
                GuardStatement::Merged { positions, .. } => {
                    let mut positions: Vec<usize> = positions.values().copied().collect();
                    positions.sort_unstable();
                    ("merged", positions)
                }
                GuardStatement::Single(position, _) => ("single", vec![*position]),
            })
            .collect();
        assert_eq!(
            shapes,
            [
                ("merged", vec![0, 1]),
                ("single", vec![2]),
                ("single", vec![3])
            ]
        );
    }

    #[test]
    fn rows_of_a_kind_merge_across_change_sets() {
        let writes = [
            history("a", 1),
            Write::DeleteTimers(TimerDeletion::Ids(vec![1])),
            history("b", 1),
            Write::DeleteTimers(TimerDeletion::Ids(vec![2, 3, 4])),
        ];
        let statements = write_statements(&writes, DbBackend::Sqlite, Sinks::default());
        assert_eq!(statements.len(), 2, "{statements:?}");
        assert!(
            statements[0]
                .sql
                .starts_with("INSERT INTO \"execution_history\"")
        );
        assert_eq!(statements[0].values.as_ref().map(|v| v.0.len()), Some(8));
        assert!(statements[1].sql.starts_with("DELETE FROM \"timers\""));
        assert_eq!(statements[1].values.as_ref().map(|v| v.0.len()), Some(4));
    }

    #[test]
    fn long_inserts_are_split_under_the_parameter_limit() {
        let writes: Vec<_> = (0..6_144)
            .map(|i| Write::InsertExecution(execution_row(&i.to_string(), "")))
            .collect();
        let statements = write_statements(&writes, DbBackend::Sqlite, Sinks::default());
        assert_eq!(statements.len(), 3);
        for statement in &statements {
            let parameters = statement.values.as_ref().map_or(0, |v| v.0.len());
            assert!(parameters <= MAX_PARAMETERS, "{parameters}");
        }
    }

    #[test]
    fn large_rows_are_split_under_the_message_budget() {
        let state = "x".repeat(10_000);
        let writes: Vec<_> = (0..8)
            .map(|i| Write::InsertExecution(execution_row(&i.to_string(), &state)))
            .collect();
        let statements = write_statements(&writes, DbBackend::Postgres, Sinks::default());
        let rows: Vec<usize> = statements
            .iter()
            .map(|s| s.values.as_ref().map_or(0, |v| v.0.len()) / 9)
            .collect();
        assert_eq!(rows, [1; 8], "each row of 10 kB goes alone");
    }

    #[test]
    fn chunks_come_in_powers_of_two_so_statement_texts_repeat() {
        let sizes = |n: usize, max| -> Vec<usize> {
            power_of_two_chunks(vec![(); n], max)
                .iter()
                .map(Vec::len)
                .collect()
        };
        assert_eq!(sizes(0, 8), Vec::<usize>::new());
        assert_eq!(sizes(1, 8), [1]);
        assert_eq!(sizes(13, 64), [8, 4, 1]);
        assert_eq!(sizes(20, 8), [8, 8, 4]);
        let mut texts = std::collections::BTreeSet::new();
        for n in 1..=64 {
            let rows: Vec<_> = (0..n).map(|seq| history("a", seq)).collect();
            for statement in write_statements(&rows, DbBackend::Postgres, Sinks::default()) {
                texts.insert(statement.sql);
            }
        }
        assert_eq!(
            texts.len(),
            7,
            "batches of 1 to 64 rows share 7 statement texts"
        );
    }
}
