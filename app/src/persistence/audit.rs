use sea_orm::{
    ActiveValue::{NotSet, Set},
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};

use super::entities::audit_entry::{self, Entity as AuditLog};
use super::{Page, PageRequest};

/// One change to a metadata document, as the audit log records it.
pub struct AuditRecord<'a> {
    pub scope: &'a str,
    pub kind: &'a str,
    pub name: &'a str,
    pub action: &'a str,
    pub actor: &'a str,
    pub from_version: Option<i32>,
    pub to_version: Option<i32>,
}

pub async fn record(db: &impl ConnectionTrait, entry: AuditRecord<'_>) -> Result<(), DbErr> {
    AuditLog::insert(audit_entry::ActiveModel {
        id: NotSet,
        scope: Set(entry.scope.to_owned()),
        kind: Set(entry.kind.to_owned()),
        name: Set(entry.name.to_owned()),
        action: Set(entry.action.to_owned()),
        actor: Set(entry.actor.to_owned()),
        from_version: Set(entry.from_version),
        to_version: Set(entry.to_version),
        at: Set(super::now()),
    })
    .exec_without_returning(db)
    .await?;
    Ok(())
}

/// A scope's audit log, newest first.
pub async fn list(
    db: &impl ConnectionTrait,
    scope: &str,
    page: &PageRequest<i64>,
) -> Result<Page<audit_entry::Model, i64>, DbErr> {
    let mut query = AuditLog::find()
        .filter(audit_entry::Column::Scope.eq(scope))
        .order_by_desc(audit_entry::Column::Id);
    if let Some(before) = page.after {
        query = query.filter(audit_entry::Column::Id.lt(before));
    }
    let rows = query.limit(page.limit + 1).all(db).await?;
    Ok(Page::from_overfetch(rows, page.limit, |e| e.id))
}
