//! Events as the outside world sees them: in the feed and in every webhook delivery.

use chrono::{DateTime, Utc};
use sea_orm::DbErr;
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use crate::persistence::entities::event;
use crate::persistence::stored_json;

/// Something that happened, written in the same commit as the change it tells of: it exists
/// if and only if that change committed.
#[derive(Debug, Serialize, ToSchema)]
pub struct Event {
    /// Stable: the same event delivered twice has the same id.
    #[schema(example = "evt_0193a9c1d2e37f5a8b9c0d1e2f3a4b5c")]
    pub id: String,
    /// `order.created`, `order.awaiting_payment`, `order.paid`, `order.completed`,
    /// `order.canceled`, `task.awaiting_callback`, `task.timed_out` or `metadata.published`.
    #[serde(rename = "type")]
    #[schema(example = "order.paid")]
    pub event_type: String,
    pub merchant_id: Option<String>,
    /// The order it tells of, for order and task events.
    pub order_id: Option<String>,
    /// For order and task events: the position in the order's history of the step it
    /// tells of. Increases with every event of an order.
    pub sequence: Option<i32>,
    pub created_at: DateTime<Utc>,
    /// What the event tells, by type: `order.canceled` has `cancel_reason`,
    /// `task.awaiting_callback` the step, its task `token`, its `input` and `deadline`.
    #[schema(value_type = Object)]
    pub data: Value,
}

impl Event {
    pub fn new(row: event::Model) -> Result<Self, DbErr> {
        Ok(Self {
            data: stored_json(&row.data)?,
            id: row.id,
            event_type: row.event_type,
            merchant_id: row.merchant_id,
            order_id: row.order_id,
            sequence: row.sequence,
            created_at: row.created_at,
        })
    }
}
