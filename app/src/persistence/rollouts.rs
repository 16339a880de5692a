//! Staged rollouts of published versions, and the orders each assigned.

use std::collections::HashMap;

use domain::lifecycle::RolloutState;
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, FromQueryResult, QueryFilter, QueryOrder,
};

use super::entities::metadata_rollout::{self, Entity as Rollouts};
use super::entities::{metadata_document, order, rollout_order};

/// The active rollouts of these documents, by document id.
pub async fn active(
    db: &impl ConnectionTrait,
    document_ids: impl IntoIterator<Item = i64>,
) -> Result<HashMap<i64, metadata_rollout::Model>, DbErr> {
    let rows = Rollouts::find()
        .filter(metadata_rollout::Column::State.eq(RolloutState::Active.as_str()))
        .filter(metadata_rollout::Column::DocumentId.is_in(document_ids))
        .all(db)
        .await?;
    Ok(rows.into_iter().map(|row| (row.document_id, row)).collect())
}

/// Every active rollout, with the document it rolls out.
pub async fn all_active(
    db: &impl ConnectionTrait,
) -> Result<Vec<(metadata_rollout::Model, metadata_document::Model)>, DbErr> {
    let rollouts = Rollouts::find()
        .filter(metadata_rollout::Column::State.eq(RolloutState::Active.as_str()))
        .all(db)
        .await?;
    let documents: HashMap<i64, metadata_document::Model> = metadata_document::Entity::find()
        .filter(metadata_document::Column::Id.is_in(rollouts.iter().map(|r| r.document_id)))
        .all(db)
        .await?
        .into_iter()
        .map(|d| (d.id, d))
        .collect();
    Ok(rollouts
        .into_iter()
        .filter_map(|r| Some((documents.get(&r.document_id)?.clone(), r)))
        .map(|(d, r)| (r, d))
        .collect())
}

/// The document's newest rollout, active or ended.
pub async fn latest(
    db: &impl ConnectionTrait,
    document_id: i64,
) -> Result<Option<metadata_rollout::Model>, DbErr> {
    Rollouts::find()
        .filter(metadata_rollout::Column::DocumentId.eq(document_id))
        .order_by_desc(metadata_rollout::Column::Id)
        .one(db)
        .await
}

/// The orders of one version, status and cancel reason that a rollout assigned.
#[derive(Debug, Clone, PartialEq, Eq, FromQueryResult)]
pub struct OutcomeGroup {
    pub version: i32,
    pub status: String,
    pub cancel_reason: Option<String>,
    pub orders: i64,
    /// Σ (amount_minor − final_amount_minor) over the orders that have a final amount.
    pub discount_minor: Option<i64>,
    /// Σ final_amount_minor over the same orders.
    pub final_minor: Option<i64>,
    /// How many of the group's orders have a final amount.
    pub priced: i64,
}

/// A rollout's orders by version, status and cancel reason: one grouped query.
pub async fn outcome_groups(
    db: &impl ConnectionTrait,
    rollout_id: i64,
) -> Result<Vec<OutcomeGroup>, DbErr> {
    let assigned = (rollout_order::Entity, rollout_order::Column::Version);
    let status = (order::Entity, order::Column::Status);
    let reason = (order::Entity, order::Column::CancelReason);
    let query = Query::select()
        .column(assigned)
        .column(status)
        .column(reason)
        .expr_as(Expr::cust("COUNT(*)"), "orders")
        // SUM of bigints is numeric on PostgreSQL: cast back to a bigint on both backends.
        .expr_as(
            Expr::cust("CAST(SUM(amount_minor - final_amount_minor) AS BIGINT)"),
            "discount_minor",
        )
        .expr_as(
            Expr::cust("CAST(SUM(final_amount_minor) AS BIGINT)"),
            "final_minor",
        )
        .expr_as(Expr::cust("COUNT(final_amount_minor)"), "priced")
        .from(rollout_order::Entity)
        .inner_join(
            order::Entity,
            Expr::col((order::Entity, order::Column::Id))
                .equals((rollout_order::Entity, rollout_order::Column::OrderId)),
        )
        .and_where(
            Expr::col((rollout_order::Entity, rollout_order::Column::RolloutId)).eq(rollout_id),
        )
        .group_by_col(assigned)
        .group_by_col(status)
        .group_by_col(reason)
        .to_owned();
    OutcomeGroup::find_by_statement(db.get_database_backend().build(&query))
        .all(db)
        .await
}
