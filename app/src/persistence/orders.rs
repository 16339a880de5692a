use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};

use super::entities::order::{self, Entity as Orders};
use super::{Page, PageRequest};

pub async fn find(db: &impl ConnectionTrait, id: &str) -> Result<Option<order::Model>, DbErr> {
    Orders::find_by_id(id.to_owned()).one(db).await
}

pub async fn find_by_order_num(
    db: &impl ConnectionTrait,
    merchant_id: &str,
    order_num: &str,
) -> Result<Option<order::Model>, DbErr> {
    Orders::find()
        .filter(order::Column::MerchantId.eq(merchant_id))
        .filter(order::Column::OrderNum.eq(order_num))
        .one(db)
        .await
}

/// What a listing of a merchant's orders is narrowed to; every field set must hold.
#[derive(Debug, Default, Clone)]
pub struct OrderSearch<'a> {
    pub status: Option<&'a str>,
    /// The client's `order_num`, exactly.
    pub order_num: Option<&'a str>,
    /// The start of the order id; only `[0-9a-f-]`, so it needs no LIKE escaping.
    pub order_id_prefix: Option<&'a str>,
    pub payment_method: Option<&'a str>,
    /// Created at or after.
    pub created_from: Option<DateTime<Utc>>,
    /// Created before.
    pub created_to: Option<DateTime<Utc>>,
}

/// A merchant's orders, newest first (ids are time-ordered UUIDv7).
pub async fn list(
    db: &impl ConnectionTrait,
    merchant_id: &str,
    search: &OrderSearch<'_>,
    page: &PageRequest<String>,
) -> Result<Page<order::Model, String>, DbErr> {
    let mut query = Orders::find()
        .filter(order::Column::MerchantId.eq(merchant_id))
        .order_by_desc(order::Column::Id);
    if let Some(status) = search.status {
        query = query.filter(order::Column::Status.eq(status));
    }
    if let Some(order_num) = search.order_num {
        query = query.filter(order::Column::OrderNum.eq(order_num));
    }
    if let Some(prefix) = search.order_id_prefix {
        query = query.filter(order::Column::Id.starts_with(prefix));
    }
    if let Some(method) = search.payment_method {
        query = query.filter(order::Column::PaymentMethod.eq(method));
    }
    if let Some(from) = search.created_from {
        query = query.filter(order::Column::CreatedAt.gte(from));
    }
    if let Some(to) = search.created_to {
        query = query.filter(order::Column::CreatedAt.lt(to));
    }
    if let Some(before) = &page.after {
        query = query.filter(order::Column::Id.lt(before.as_str()));
    }
    let rows = query.limit(page.limit + 1).all(db).await?;
    Ok(Page::from_overfetch(rows, page.limit, |o| o.id.clone()))
}

/// Orders of one status, cancel reason and currency, with the discount completed ones got.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderGroup {
    pub status: String,
    pub cancel_reason: Option<String>,
    pub currency: String,
    pub orders: i64,
    /// Σ (amount_minor − final_amount_minor) over the group's orders that have a final amount.
    pub discount_minor: i64,
}

/// Status, cancel reason, currency, count, discount sum: one row of [`groups`]' query.
type GroupRow = (String, Option<String>, String, i64, Option<i64>);

/// A merchant's orders created in `[from, to)`, counted by status, cancel reason and
/// currency: one grouped query.
pub async fn groups(
    db: &impl ConnectionTrait,
    merchant_id: &str,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<OrderGroup>, DbErr> {
    let rows: Vec<GroupRow> = Orders::find()
        .select_only()
        .column(order::Column::Status)
        .column(order::Column::CancelReason)
        .column(order::Column::Currency)
        .column_as(Expr::cust("COUNT(*)"), "orders")
        // SUM of bigints is numeric on PostgreSQL: cast back to a bigint on both backends.
        .column_as(
            Expr::cust("CAST(SUM(amount_minor - final_amount_minor) AS BIGINT)"),
            "discount_minor",
        )
        .filter(order::Column::MerchantId.eq(merchant_id))
        .filter(order::Column::CreatedAt.gte(from))
        .filter(order::Column::CreatedAt.lt(to))
        .group_by(order::Column::Status)
        .group_by(order::Column::CancelReason)
        .group_by(order::Column::Currency)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(
            |(status, cancel_reason, currency, orders, discount)| OrderGroup {
                status,
                cancel_reason,
                currency,
                orders,
                discount_minor: discount.unwrap_or(0),
            },
        )
        .collect())
}

/// When each of a merchant's orders created in `[from, to)` was created.
pub async fn created_times(
    db: &impl ConnectionTrait,
    merchant_id: &str,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<DateTime<Utc>>, DbErr> {
    Orders::find()
        .select_only()
        .column(order::Column::CreatedAt)
        .filter(order::Column::MerchantId.eq(merchant_id))
        .filter(order::Column::CreatedAt.gte(from))
        .filter(order::Column::CreatedAt.lt(to))
        .into_tuple()
        .all(db)
        .await
}
