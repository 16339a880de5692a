use sea_orm::entity::prelude::*;

/// An event in the outbox, written in the commit of the change it tells of.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "events")]
pub struct Model {
    /// Commit order, numbered by the database (a new row's is ignored).
    #[sea_orm(primary_key)]
    pub position: i64,
    /// `evt_` and a UUIDv7: the id consumers de-duplicate by.
    pub id: String,
    pub merchant_id: Option<String>,
    pub order_id: Option<String>,
    /// The position in the order's history of the step the event tells of.
    pub sequence: Option<i32>,
    #[sea_orm(column_name = "type")]
    pub event_type: String,
    /// JSON.
    pub data: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
