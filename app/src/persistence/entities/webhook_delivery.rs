use sea_orm::entity::prelude::*;

/// One event on its way to one endpoint.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "webhook_deliveries")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub endpoint_id: String,
    pub merchant_id: String,
    pub event_id: String,
    /// The event's type, kept so that listing deliveries reads no events.
    pub event_type: String,
    /// The event's position: one order's deliveries go out in this order.
    pub event_position: i64,
    pub order_id: Option<String>,
    /// `pending`, `succeeded` or `failed` (given up).
    pub status: String,
    pub attempt_count: i32,
    /// When it is due next; while an instance attempts it, the end of that lease.
    pub next_attempt_at: DateTimeUtc,
    pub last_response_status: Option<i32>,
    pub last_error: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
