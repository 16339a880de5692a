//! Stored responses of requests made with an `Idempotency-Key`.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, IntoActiveModel, QueryFilter};

use super::entities::idempotency_key::{self, Entity as Keys};

pub async fn find(
    db: &impl ConnectionTrait,
    principal: &str,
    endpoint: &str,
    key: &str,
) -> Result<Option<idempotency_key::Model>, DbErr> {
    Keys::find_by_id((principal.to_owned(), endpoint.to_owned(), key.to_owned()))
        .one(db)
        .await
}

pub async fn insert(db: &impl ConnectionTrait, model: idempotency_key::Model) -> Result<(), DbErr> {
    Keys::insert(model.into_active_model())
        .exec_without_returning(db)
        .await?;
    Ok(())
}

pub async fn complete(
    db: &impl ConnectionTrait,
    principal: &str,
    endpoint: &str,
    key: &str,
    status: i32,
    body: &str,
) -> Result<(), DbErr> {
    Keys::update_many()
        .col_expr(idempotency_key::Column::Status, Expr::value("done"))
        .col_expr(idempotency_key::Column::ResponseStatus, Expr::value(status))
        .col_expr(idempotency_key::Column::ResponseBody, Expr::value(body))
        .filter(idempotency_key::Column::Principal.eq(principal))
        .filter(idempotency_key::Column::Endpoint.eq(endpoint))
        .filter(idempotency_key::Column::Key.eq(key))
        .exec(db)
        .await?;
    Ok(())
}

pub async fn delete(
    db: &impl ConnectionTrait,
    principal: &str,
    endpoint: &str,
    key: &str,
) -> Result<(), DbErr> {
    Keys::delete_by_id((principal.to_owned(), endpoint.to_owned(), key.to_owned()))
        .exec(db)
        .await?;
    Ok(())
}

/// Forgets keys older than `before` (24 h is the replay window).
pub async fn delete_older_than(
    db: &impl ConnectionTrait,
    before: DateTime<Utc>,
) -> Result<u64, DbErr> {
    Ok(Keys::delete_many()
        .filter(idempotency_key::Column::CreatedAt.lt(before))
        .exec(db)
        .await?
        .rows_affected)
}
