//! A merchant's orders in numbers over a recent window: counts by status and cancel reason,
//! the discount given, and orders per hour or per day.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use domain::MerchantId;
use domain::lifecycle::{CancelReason, OrderStatus};
use sea_orm::DatabaseConnection;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::ServiceResult;
use crate::persistence::orders as order_rows;

/// How far back the statistics look, and the width of their buckets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub enum Window {
    /// The last 24 hours, in 24 buckets of an hour.
    #[serde(rename = "24h")]
    Day,
    /// The last 7 days, in 7 buckets of a day.
    #[serde(rename = "7d")]
    Week,
}

impl Window {
    fn bucket(self) -> Duration {
        match self {
            Window::Day => Duration::hours(1),
            Window::Week => Duration::days(1),
        }
    }

    fn buckets(self) -> i32 {
        match self {
            Window::Day => 24,
            Window::Week => 7,
        }
    }
}

/// An amount of money in one currency.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CurrencyAmount {
    #[schema(example = "CNY")]
    pub currency: String,
    #[schema(example = 4000)]
    pub amount_minor: i64,
}

/// The orders created in one bucket of the window, `[start, end)`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Bucket {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub orders: i64,
}

/// A merchant's orders created in `[from, to)`, in numbers.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OrderStats {
    pub window: Window,
    /// The window's start: `to` less 24 hours or 7 days.
    pub from: DateTime<Utc>,
    /// The window's end: when the statistics were computed.
    pub to: DateTime<Utc>,
    /// Orders created in the window.
    pub orders: i64,
    /// Orders by status; every status is listed, 0 when none.
    #[schema(example = json!({"awaiting_payment": 1, "completed": 12, "canceled": 3}))]
    pub by_status: BTreeMap<String, i64>,
    /// Canceled orders by cancel reason; every reason is listed, 0 when none.
    #[schema(example = json!({"payment_timeout": 2, "no_route": 1, "flow_timeout": 0, "function_error": 0, "customer_canceled": 0, "rejected": 0}))]
    pub by_cancel_reason: BTreeMap<String, i64>,
    /// The discount completed orders were given (Σ amount_minor − final_amount_minor), one
    /// entry per currency, in minor units; empty when no order completed.
    pub discount_given: Vec<CurrencyAmount>,
    /// Orders created per hour (`24h`) or per day (`7d`), oldest first: consecutive buckets
    /// from `from` to `to`.
    pub buckets: Vec<Bucket>,
}

/// The statistics of `merchant`'s orders over the `window` that ends at `now`.
pub async fn stats(
    db: &DatabaseConnection,
    merchant: &MerchantId,
    window: Window,
    now: DateTime<Utc>,
) -> ServiceResult<OrderStats> {
    let from = now - window.bucket() * window.buckets();
    let groups = order_rows::groups(db, merchant.as_str(), from, now).await?;
    let mut by_status: BTreeMap<String, i64> = OrderStatus::ALL
        .iter()
        .map(|s| (s.as_str().to_owned(), 0))
        .collect();
    let mut by_cancel_reason: BTreeMap<String, i64> = CancelReason::ALL
        .iter()
        .map(|r| (r.as_str().to_owned(), 0))
        .collect();
    let mut discount: BTreeMap<String, i64> = BTreeMap::new();
    for group in &groups {
        *by_status.entry(group.status.clone()).or_default() += group.orders;
        if let Some(reason) = &group.cancel_reason {
            *by_cancel_reason.entry(reason.clone()).or_default() += group.orders;
        }
        if group.status == OrderStatus::Completed.as_str() {
            *discount.entry(group.currency.clone()).or_default() += group.discount_minor;
        }
    }
    let mut buckets: Vec<Bucket> = (0..window.buckets())
        .map(|i| Bucket {
            start: from + window.bucket() * i,
            end: from + window.bucket() * (i + 1),
            orders: 0,
        })
        .collect();
    for created in order_rows::created_times(db, merchant.as_str(), from, now).await? {
        let index = (created - from).num_seconds() / window.bucket().num_seconds();
        if let Some(bucket) = usize::try_from(index).ok().and_then(|i| buckets.get_mut(i)) {
            bucket.orders += 1;
        }
    }
    Ok(OrderStats {
        window,
        from,
        to: now,
        orders: groups.iter().map(|g| g.orders).sum(),
        by_status,
        by_cancel_reason,
        discount_given: discount
            .into_iter()
            .map(|(currency, amount_minor)| CurrencyAmount {
                currency,
                amount_minor,
            })
            .collect(),
        buckets,
    })
}
