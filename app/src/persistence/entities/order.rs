use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "orders")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub merchant_id: String,
    pub order_num: Option<String>,
    pub request_fingerprint: String,
    pub status: String,
    pub cancel_reason: Option<String>,
    pub currency: String,
    pub amount_minor: i64,
    pub final_amount_minor: Option<i64>,
    pub payment_method: Option<String>,
    /// JSON: `{function, version, label}` of the discount applied.
    pub discount: Option<String>,
    /// JSON array of items.
    pub items: String,
    /// JSON object.
    pub address: String,
    /// JSON object.
    pub fields: String,
    pub payment_deadline: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

#[cfg(test)]
impl Model {
    /// An order of 100.00 CNY from haidilao awaiting payment, for unit tests.
    pub fn awaiting_payment(id: &str, at: DateTimeUtc) -> Self {
        Self {
            id: id.into(),
            merchant_id: "haidilao".into(),
            order_num: None,
            request_fingerprint: "f".into(),
            status: domain::lifecycle::OrderStatus::AwaitingPayment
                .as_str()
                .into(),
            cancel_reason: None,
            currency: "CNY".into(),
            amount_minor: 10_000,
            final_amount_minor: None,
            payment_method: None,
            discount: None,
            items: "[]".into(),
            address: "{}".into(),
            fields: "{}".into(),
            payment_deadline: None,
            created_at: at,
            updated_at: at,
        }
    }
}
