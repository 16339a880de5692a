//! Webhook endpoints, read.

use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder};

use super::entities::webhook_endpoint::{self, Entity as Endpoints};

/// A merchant's endpoints, oldest first.
pub async fn list(
    db: &impl ConnectionTrait,
    merchant_id: &str,
) -> Result<Vec<webhook_endpoint::Model>, DbErr> {
    Endpoints::find()
        .filter(webhook_endpoint::Column::MerchantId.eq(merchant_id))
        .order_by_asc(webhook_endpoint::Column::Id)
        .all(db)
        .await
}

/// One endpoint of the merchant's; `None` for another merchant's.
pub async fn find(
    db: &impl ConnectionTrait,
    merchant_id: &str,
    id: &str,
) -> Result<Option<webhook_endpoint::Model>, DbErr> {
    Endpoints::find_by_id(id.to_owned())
        .filter(webhook_endpoint::Column::MerchantId.eq(merchant_id))
        .one(db)
        .await
}

/// The enabled endpoints among `ids`.
pub async fn enabled_by_ids(
    db: &impl ConnectionTrait,
    ids: Vec<String>,
) -> Result<Vec<webhook_endpoint::Model>, DbErr> {
    Endpoints::find()
        .filter(webhook_endpoint::Column::Id.is_in(ids))
        .filter(webhook_endpoint::Column::Enabled.eq(true))
        .all(db)
        .await
}
