//! The outbox: events written in the commit of the change they tell of, read back as a
//! feed in commit order.

use chrono::{DateTime, Utc};
use domain::lifecycle::EventType;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};

use crate::events::EventData;

use super::entities::event::{self, Entity as Events};
use super::{Page, PageRequest};

/// Where an event belongs: its merchant, and the order and history position it tells of.
pub struct Subject<'a> {
    pub merchant_id: Option<&'a str>,
    pub order_id: Option<&'a str>,
    pub sequence: Option<i32>,
}

/// A new event's id: `evt_` and a UUIDv7, so ids sort by creation.
pub fn new_event_id() -> String {
    format!("evt_{}", uuid::Uuid::now_v7().simple())
}

/// A new outbox row; the database numbers its position when the change set commits.
pub fn new_event(subject: Subject<'_>, data: &EventData, at: DateTime<Utc>) -> event::Model {
    event::Model {
        position: 0,
        id: new_event_id(),
        merchant_id: subject.merchant_id.map(str::to_owned),
        order_id: subject.order_id.map(str::to_owned),
        sequence: subject.sequence,
        event_type: data.event_type().as_str().to_owned(),
        data: data.to_json(),
        created_at: at,
    }
}

/// A merchant's events in commit order, after the cursor; optionally of one type or order.
pub async fn list(
    db: &impl ConnectionTrait,
    merchant_id: &str,
    event_type: Option<EventType>,
    order_id: Option<&str>,
    page: &PageRequest<i64>,
) -> Result<Page<event::Model, i64>, DbErr> {
    let mut query = Events::find()
        .filter(event::Column::MerchantId.eq(merchant_id))
        .order_by_asc(event::Column::Position);
    if let Some(event_type) = event_type {
        query = query.filter(event::Column::EventType.eq(event_type.as_str()));
    }
    if let Some(order_id) = order_id {
        query = query.filter(event::Column::OrderId.eq(order_id));
    }
    if let Some(after) = page.after {
        query = query.filter(event::Column::Position.gt(after));
    }
    let rows = query.limit(page.limit + 1).all(db).await?;
    Ok(Page::from_overfetch(rows, page.limit, |e| e.position))
}

/// Where the merchant's event `id` stands in commit order; `None` for no such event.
pub async fn position_of(
    db: &impl ConnectionTrait,
    merchant_id: &str,
    id: &str,
) -> Result<Option<i64>, DbErr> {
    Ok(Events::find()
        .filter(event::Column::MerchantId.eq(merchant_id))
        .filter(event::Column::Id.eq(id))
        .one(db)
        .await?
        .map(|e| e.position))
}
