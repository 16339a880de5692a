//! Executions, their history, their task tokens and their timers.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, LockBehavior, LockType};
use sea_orm::{
    ActiveValue::{NotSet, Set},
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder,
    QuerySelect,
};

use super::entities::execution::{self, Entity as Executions};
use super::entities::execution_event::{self, Entity as Events};
use super::entities::order::{self, Entity as Orders};
use super::entities::task::{self, Entity as Tasks};
use super::entities::timer::{self, Entity as Timers};
use super::{Page, PageRequest};

pub async fn insert(db: &impl ConnectionTrait, model: execution::Model) -> Result<(), DbErr> {
    Executions::insert(model.into_active_model())
        .exec_without_returning(db)
        .await?;
    Ok(())
}

pub async fn find(db: &impl ConnectionTrait, id: &str) -> Result<Option<execution::Model>, DbErr> {
    Executions::find_by_id(id.to_owned()).one(db).await
}

/// An execution with its order, in one query.
pub async fn find_with_order(
    db: &impl ConnectionTrait,
    id: &str,
) -> Result<Option<(execution::Model, Option<order::Model>)>, DbErr> {
    Executions::find_by_id(id.to_owned())
        .find_also_related(Orders)
        .one(db)
        .await
}

/// Saves an execution if it is still at `expected_version`; false when another writer won.
pub async fn save(
    db: &impl ConnectionTrait,
    model: &execution::Model,
    expected_version: i64,
) -> Result<bool, DbErr> {
    let result = Executions::update_many()
        .col_expr(execution::Column::Status, Expr::value(model.status.clone()))
        .col_expr(
            execution::Column::CurrentStep,
            Expr::value(model.current_step.clone()),
        )
        .col_expr(execution::Column::State, Expr::value(model.state.clone()))
        .col_expr(
            execution::Column::EventCount,
            Expr::value(model.event_count),
        )
        .col_expr(execution::Column::Version, Expr::value(model.version))
        .col_expr(execution::Column::UpdatedAt, Expr::value(model.updated_at))
        .filter(execution::Column::Id.eq(model.id.as_str()))
        .filter(execution::Column::Version.eq(expected_version))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

pub async fn append_events(
    db: &impl ConnectionTrait,
    events: Vec<execution_event::Model>,
) -> Result<(), DbErr> {
    if events.is_empty() {
        return Ok(());
    }
    Events::insert_many(events.into_iter().map(IntoActiveModel::into_active_model))
        .exec_without_returning(db)
        .await?;
    Ok(())
}

pub async fn list_events(
    db: &impl ConnectionTrait,
    execution_id: &str,
    page: &PageRequest<i32>,
) -> Result<Page<execution_event::Model, i32>, DbErr> {
    let mut query = Events::find()
        .filter(execution_event::Column::ExecutionId.eq(execution_id))
        .order_by_asc(execution_event::Column::Seq);
    if let Some(after) = page.after {
        query = query.filter(execution_event::Column::Seq.gt(after));
    }
    let rows = query.limit(page.limit + 1).all(db).await?;
    Ok(Page::from_overfetch(rows, page.limit, |e| e.seq))
}

pub async fn insert_tasks(db: &impl ConnectionTrait, tasks: Vec<task::Model>) -> Result<(), DbErr> {
    if tasks.is_empty() {
        return Ok(());
    }
    Tasks::insert_many(tasks.into_iter().map(IntoActiveModel::into_active_model))
        .exec_without_returning(db)
        .await?;
    Ok(())
}

pub async fn find_task(
    db: &impl ConnectionTrait,
    token: &str,
) -> Result<Option<task::Model>, DbErr> {
    Tasks::find_by_id(token.to_owned()).one(db).await
}

/// Moves a task out of `waiting`; exactly one of any racing callers (callback, timeout)
/// succeeds. False when the task was no longer waiting.
pub async fn finish_task(
    db: &impl ConnectionTrait,
    token: &str,
    state: &str,
    at: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let result = Tasks::update_many()
        .col_expr(task::Column::State, Expr::value(state))
        .col_expr(task::Column::FinishedAt, Expr::value(at))
        .filter(task::Column::Token.eq(token))
        .filter(task::Column::State.eq("waiting"))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

pub async fn heartbeat_task(
    db: &impl ConnectionTrait,
    token: &str,
    at: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let result = Tasks::update_many()
        .col_expr(task::Column::HeartbeatAt, Expr::value(at))
        .filter(task::Column::Token.eq(token))
        .filter(task::Column::State.eq("waiting"))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Ends every task of an execution that still waits (the execution itself ended).
pub async fn expire_tasks(
    db: &impl ConnectionTrait,
    execution_id: &str,
    at: DateTime<Utc>,
) -> Result<(), DbErr> {
    Tasks::update_many()
        .col_expr(task::Column::State, Expr::value("timed_out"))
        .col_expr(task::Column::FinishedAt, Expr::value(at))
        .filter(task::Column::ExecutionId.eq(execution_id))
        .filter(task::Column::State.eq("waiting"))
        .exec(db)
        .await?;
    Ok(())
}

/// A timer to schedule; the database numbers it.
#[derive(Debug, Clone)]
pub struct NewTimer {
    pub purpose: &'static str,
    pub step: Option<String>,
    pub token: Option<String>,
    pub due_at: DateTime<Utc>,
}

pub async fn insert_timers(
    db: &impl ConnectionTrait,
    execution_id: &str,
    timers: Vec<NewTimer>,
) -> Result<(), DbErr> {
    if timers.is_empty() {
        return Ok(());
    }
    Timers::insert_many(timers.into_iter().map(|t| timer::ActiveModel {
        id: NotSet,
        execution_id: Set(execution_id.to_owned()),
        purpose: Set(t.purpose.to_owned()),
        step: Set(t.step),
        token: Set(t.token),
        due_at: Set(t.due_at),
    }))
    .exec_without_returning(db)
    .await?;
    Ok(())
}

/// Claims up to `limit` due timers for this transaction. On PostgreSQL other instances skip
/// the claimed rows (`FOR UPDATE SKIP LOCKED`); SQLite's IMMEDIATE transaction already
/// excludes every other writer.
pub async fn claim_due_timers(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
    limit: u64,
) -> Result<Vec<timer::Model>, DbErr> {
    Timers::find()
        .filter(timer::Column::DueAt.lte(now))
        .order_by_asc(timer::Column::DueAt)
        .order_by_asc(timer::Column::Id)
        .limit(limit)
        .lock_with_behavior(LockType::Update, LockBehavior::SkipLocked)
        .all(db)
        .await
}

pub async fn delete_timer(db: &impl ConnectionTrait, id: i64) -> Result<(), DbErr> {
    Timers::delete_by_id(id).exec(db).await?;
    Ok(())
}

/// Deletes every timer of an execution (it ended).
pub async fn delete_timers(db: &impl ConnectionTrait, execution_id: &str) -> Result<(), DbErr> {
    Timers::delete_many()
        .filter(timer::Column::ExecutionId.eq(execution_id))
        .exec(db)
        .await?;
    Ok(())
}

/// When the earliest timer falls due, for the timer loop's sleep.
pub async fn next_due(db: &impl ConnectionTrait) -> Result<Option<DateTime<Utc>>, DbErr> {
    Ok(Timers::find()
        .order_by_asc(timer::Column::DueAt)
        .one(db)
        .await?
        .map(|t| t.due_at))
}

/// Deletes the timeout timers of tasks that finished.
pub async fn delete_timers_for_tokens(
    db: &impl ConnectionTrait,
    tokens: &[String],
) -> Result<(), DbErr> {
    if tokens.is_empty() {
        return Ok(());
    }
    Timers::delete_many()
        .filter(timer::Column::Token.is_in(tokens.iter().cloned()))
        .exec(db)
        .await?;
    Ok(())
}

/// Moves a timer that failed to fire to a later time.
pub async fn postpone_timer(
    db: &impl ConnectionTrait,
    id: i64,
    due_at: DateTime<Utc>,
) -> Result<(), DbErr> {
    Timers::update_many()
        .col_expr(timer::Column::DueAt, Expr::value(due_at))
        .filter(timer::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}
