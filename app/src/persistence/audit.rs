use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};

use super::entities::audit_entry::{self, Entity as AuditLog};
use super::{Page, PageRequest};

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
