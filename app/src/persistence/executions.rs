//! Executions, their history, their task tokens and their timers.

use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};

use super::entities::execution::{self, Entity as Executions};
use super::entities::execution_history::{self, Entity as History};
use super::entities::order::{self, Entity as Orders};
use super::entities::task::{self, Entity as Tasks};
use super::entities::timer::{self, Entity as Timers};
use super::{Page, PageRequest};

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

/// A page of an execution's history entries, by `seq`.
pub async fn list_events(
    db: &impl ConnectionTrait,
    execution_id: &str,
    page: &PageRequest<i32>,
) -> Result<Page<execution_history::Entry, i32>, DbErr> {
    let after = page.after.unwrap_or(0);
    // Each row holds at least one entry after `after`: as many rows as entries wanted are
    // enough.
    let rows = History::find()
        .filter(execution_history::Column::ExecutionId.eq(execution_id))
        .filter(execution_history::Column::LastSeq.gt(after))
        .order_by_asc(execution_history::Column::FirstSeq)
        .limit(page.limit + 1)
        .all(db)
        .await?;
    let mut entries = Vec::new();
    for row in &rows {
        entries.extend(row.entries()?.into_iter().filter(|e| e.seq > after));
    }
    entries.truncate(usize::try_from(page.limit + 1).unwrap_or(usize::MAX));
    Ok(Page::from_overfetch(entries, page.limit, |e| e.seq))
}

pub async fn find_task(
    db: &impl ConnectionTrait,
    token: &str,
) -> Result<Option<task::Model>, DbErr> {
    Tasks::find_by_id(token.to_owned()).one(db).await
}

/// When the earliest timer falls due, for the timer loop's sleep.
pub async fn next_due(db: &impl ConnectionTrait) -> Result<Option<DateTime<Utc>>, DbErr> {
    Ok(Timers::find()
        .order_by_asc(timer::Column::DueAt)
        .one(db)
        .await?
        .map(|t| t.due_at))
}
