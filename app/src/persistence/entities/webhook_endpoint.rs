use sea_orm::entity::prelude::*;

/// Where a merchant wants its events delivered.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "webhook_endpoints")]
pub struct Model {
    /// `we_` and a UUIDv7.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub merchant_id: String,
    pub url: String,
    /// JSON array of event type names.
    pub event_types: String,
    pub enabled: bool,
    /// Why the server disabled the endpoint (it failed for days); cleared when re-enabled.
    pub disabled_reason: Option<String>,
    pub description: Option<String>,
    /// `whsec_` and the base64 of 32 random bytes: signs every delivery.
    pub secret: String,
    /// The secret before the last rotation; it signs alongside until `previous_secret_until`.
    pub previous_secret: Option<String>,
    pub previous_secret_until: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
