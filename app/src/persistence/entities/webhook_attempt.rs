use sea_orm::entity::prelude::*;

/// One attempt at a delivery, with what the receiver answered.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "webhook_attempts")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub delivery_id: i64,
    pub attempted_at: DateTimeUtc,
    /// The receiver's HTTP status; none when no answer came.
    pub response_status: Option<i32>,
    pub latency_ms: i32,
    /// The start of the response body, cut at a small cap.
    pub response_body: Option<String>,
    pub error: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
