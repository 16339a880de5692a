use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};

use super::entities::order::{self, Entity as Orders};
use super::{Page, PageRequest};

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
