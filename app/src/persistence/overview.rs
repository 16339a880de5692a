//! Reads only a merchant's overview needs.

use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};

use super::entities::order::{self, Entity as Orders};

/// The currency of the merchant's newest order (ids are time-ordered UUIDv7), if it has one.
pub async fn newest_order_currency(
    db: &impl ConnectionTrait,
    merchant_id: &str,
) -> Result<Option<String>, DbErr> {
    Orders::find()
        .select_only()
        .column(order::Column::Currency)
        .filter(order::Column::MerchantId.eq(merchant_id))
        .order_by_desc(order::Column::Id)
        .limit(1)
        .into_tuple()
        .one(db)
        .await
}
