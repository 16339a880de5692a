use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder,
    QuerySelect,
};

use super::entities::order::{self, Entity as Orders};
use super::{Page, PageRequest};

pub async fn insert(db: &impl ConnectionTrait, model: order::Model) -> Result<(), DbErr> {
    Orders::insert(model.into_active_model())
        .exec_without_returning(db)
        .await?;
    Ok(())
}

pub async fn find(db: &impl ConnectionTrait, id: &str) -> Result<Option<order::Model>, DbErr> {
    Orders::find_by_id(id.to_owned()).one(db).await
}

pub async fn find_by_order_num(
    db: &impl ConnectionTrait,
    merchant_id: &str,
    order_num: &str,
) -> Result<Option<order::Model>, DbErr> {
    Orders::find()
        .filter(order::Column::MerchantId.eq(merchant_id))
        .filter(order::Column::OrderNum.eq(order_num))
        .one(db)
        .await
}

/// Writes back the fields an execution changes.
pub async fn update(db: &impl ConnectionTrait, order: &order::Model) -> Result<(), DbErr> {
    Orders::update_many()
        .col_expr(order::Column::Status, Expr::value(order.status.clone()))
        .col_expr(
            order::Column::CancelReason,
            Expr::value(order.cancel_reason.clone()),
        )
        .col_expr(
            order::Column::FinalAmountMinor,
            Expr::value(order.final_amount_minor),
        )
        .col_expr(
            order::Column::PaymentMethod,
            Expr::value(order.payment_method.clone()),
        )
        .col_expr(order::Column::Discount, Expr::value(order.discount.clone()))
        .col_expr(
            order::Column::PaymentDeadline,
            Expr::value(order.payment_deadline),
        )
        .col_expr(order::Column::UpdatedAt, Expr::value(order.updated_at))
        .filter(order::Column::Id.eq(order.id.as_str()))
        .exec(db)
        .await?;
    Ok(())
}

/// A merchant's orders, newest first (ids are time-ordered UUIDv7).
pub async fn list(
    db: &impl ConnectionTrait,
    merchant_id: &str,
    status: Option<&str>,
    page: &PageRequest<String>,
) -> Result<Page<order::Model, String>, DbErr> {
    let mut query = Orders::find()
        .filter(order::Column::MerchantId.eq(merchant_id))
        .order_by_desc(order::Column::Id);
    if let Some(status) = status {
        query = query.filter(order::Column::Status.eq(status));
    }
    if let Some(before) = &page.after {
        query = query.filter(order::Column::Id.lt(before.as_str()));
    }
    let rows = query.limit(page.limit + 1).all(db).await?;
    Ok(Page::from_overfetch(rows, page.limit, |o| o.id.clone()))
}
