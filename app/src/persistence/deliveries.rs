//! Webhook deliveries and their attempts, read.

use domain::lifecycle::DeliveryStatus;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};

use super::entities::event::{self, Entity as Events};
use super::entities::webhook_attempt::{self, Entity as Attempts};
use super::entities::webhook_delivery::{self, Entity as Deliveries};
use super::{Page, PageRequest};

/// An endpoint's deliveries, newest first; optionally only those in one status.
pub async fn list(
    db: &impl ConnectionTrait,
    endpoint_id: &str,
    status: Option<DeliveryStatus>,
    page: &PageRequest<i64>,
) -> Result<Page<webhook_delivery::Model, i64>, DbErr> {
    let mut query = Deliveries::find()
        .filter(webhook_delivery::Column::EndpointId.eq(endpoint_id))
        .order_by_desc(webhook_delivery::Column::Id);
    if let Some(status) = status {
        query = query.filter(webhook_delivery::Column::Status.eq(status.as_str()));
    }
    if let Some(before) = page.after {
        query = query.filter(webhook_delivery::Column::Id.lt(before));
    }
    let rows = query.limit(page.limit + 1).all(db).await?;
    Ok(Page::from_overfetch(rows, page.limit, |d| d.id))
}

/// One delivery to the endpoint; `None` for another endpoint's.
pub async fn find(
    db: &impl ConnectionTrait,
    endpoint_id: &str,
    id: i64,
) -> Result<Option<webhook_delivery::Model>, DbErr> {
    Deliveries::find_by_id(id)
        .filter(webhook_delivery::Column::EndpointId.eq(endpoint_id))
        .one(db)
        .await
}

/// The newest delivery of an event to an endpoint.
pub async fn latest_of_event(
    db: &impl ConnectionTrait,
    endpoint_id: &str,
    event_id: &str,
) -> Result<Option<webhook_delivery::Model>, DbErr> {
    Deliveries::find()
        .filter(webhook_delivery::Column::EndpointId.eq(endpoint_id))
        .filter(webhook_delivery::Column::EventId.eq(event_id))
        .order_by_desc(webhook_delivery::Column::Id)
        .one(db)
        .await
}

/// A delivery's attempts, oldest first.
pub async fn attempts(
    db: &impl ConnectionTrait,
    delivery_id: i64,
) -> Result<Vec<webhook_attempt::Model>, DbErr> {
    Attempts::find()
        .filter(webhook_attempt::Column::DeliveryId.eq(delivery_id))
        .order_by_asc(webhook_attempt::Column::Id)
        .all(db)
        .await
}

/// Whether any delivery to the endpoint succeeded since `since`.
pub async fn succeeded_since(
    db: &impl ConnectionTrait,
    endpoint_id: &str,
    since: chrono::DateTime<chrono::Utc>,
) -> Result<bool, DbErr> {
    Ok(Deliveries::find()
        .filter(webhook_delivery::Column::EndpointId.eq(endpoint_id))
        .filter(webhook_delivery::Column::Status.eq(DeliveryStatus::Succeeded.as_str()))
        .filter(webhook_delivery::Column::UpdatedAt.gte(since))
        .one(db)
        .await?
        .is_some())
}

/// Events by id, in no particular order.
pub async fn events(
    db: &impl ConnectionTrait,
    ids: Vec<String>,
) -> Result<Vec<event::Model>, DbErr> {
    Events::find()
        .filter(event::Column::Id.is_in(ids))
        .all(db)
        .await
}

/// One of the merchant's events.
pub async fn event(
    db: &impl ConnectionTrait,
    merchant_id: &str,
    id: &str,
) -> Result<Option<event::Model>, DbErr> {
    Events::find()
        .filter(event::Column::MerchantId.eq(merchant_id))
        .filter(event::Column::Id.eq(id))
        .one(db)
        .await
}
