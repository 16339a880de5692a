//! The orders an impact preview samples: a merchant's orders that reached pricing, newest
//! first, a page at a time, each with the versions its execution pinned. Only reads.

use chrono::{DateTime, Utc};
use domain::lifecycle::CancelReason;
use sea_orm::sea_query::Condition;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, FromQueryResult, JoinType, QueryFilter,
    QueryOrder, QuerySelect, RelationTrait,
};

use super::entities::execution;
use super::entities::order::{self, Entity as Orders};

/// An order as a preview replays it: what pricing saw, what it came to, what it pinned.
#[derive(Debug, Clone, FromQueryResult)]
pub struct SampledOrder {
    pub id: String,
    pub merchant_id: String,
    pub cancel_reason: Option<String>,
    pub currency: String,
    pub amount_minor: i64,
    pub final_amount_minor: Option<i64>,
    pub payment_method: Option<String>,
    /// JSON `{function, version, label}`.
    pub discount: Option<String>,
    pub items: String,
    pub address: String,
    pub fields: String,
    /// JSON of the execution's pinned versions.
    pub pinned: String,
}

/// Which orders a sample takes.
#[derive(Debug, Clone, Copy, Default)]
pub struct SampleRange {
    /// Created at or after.
    pub created_from: Option<DateTime<Utc>>,
    /// Created before.
    pub created_to: Option<DateTime<Utc>>,
}

/// Up to `limit` of the merchant's orders that reached pricing, newest first, older than
/// the order `before` when given. An order reached pricing when it was paid and either
/// priced (it has a final amount) or canceled by pricing (`no_route`, `function_error`).
pub async fn priced_orders(
    db: &impl ConnectionTrait,
    merchant_id: &str,
    range: SampleRange,
    before: Option<&str>,
    limit: u64,
) -> Result<Vec<SampledOrder>, DbErr> {
    let canceled_by_pricing =
        [CancelReason::NoRoute, CancelReason::FunctionError].map(CancelReason::as_str);
    let mut query = Orders::find()
        .select_only()
        .columns([
            order::Column::Id,
            order::Column::MerchantId,
            order::Column::CancelReason,
            order::Column::Currency,
            order::Column::AmountMinor,
            order::Column::FinalAmountMinor,
            order::Column::PaymentMethod,
            order::Column::Discount,
            order::Column::Items,
            order::Column::Address,
            order::Column::Fields,
        ])
        .column_as(execution::Column::Pinned, "pinned")
        .join(JoinType::InnerJoin, execution::Relation::Order.def().rev())
        .filter(order::Column::MerchantId.eq(merchant_id))
        .filter(order::Column::PaymentMethod.is_not_null())
        .filter(
            Condition::any()
                .add(order::Column::FinalAmountMinor.is_not_null())
                .add(order::Column::CancelReason.is_in(canceled_by_pricing)),
        )
        .order_by_desc(order::Column::Id);
    if let Some(from) = range.created_from {
        query = query.filter(order::Column::CreatedAt.gte(from));
    }
    if let Some(to) = range.created_to {
        query = query.filter(order::Column::CreatedAt.lt(to));
    }
    if let Some(before) = before {
        query = query.filter(order::Column::Id.lt(before));
    }
    query
        .limit(limit)
        .into_model::<SampledOrder>()
        .all(db)
        .await
}
