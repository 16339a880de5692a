//! Staged rollouts: a published version that goes to a share of new orders until it is
//! ramped to more, promoted to all, or aborted; and how the orders of its two versions did.
//!
//! Starting one is a publish ([`metadata::publish`] with a percentage). Every change moves
//! the document to its next revision, so a rollout and a publish racing on one document
//! have one winner, on every instance.

use std::collections::BTreeMap;

use domain::lifecycle::{CancelReason, OrderStatus, RolloutState};
use domain::rollout::{Comparison, Conversions, RolloutPercent, compare};
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::{ServiceError, ServiceResult};
use crate::persistence;
use crate::persistence::changes::{ChangeSet, Guard, Write};
use crate::persistence::entities::metadata_rollout;
use crate::persistence::rollouts::{self, OutcomeGroup};
use crate::persistence::writer::Applied;
use crate::problem_type::ProblemType;
use crate::services::metadata::{self, DocumentRef, Precondition, audit_row, stale};
use crate::state::AppState;

/// What to do with the active rollout.
#[derive(Debug, Clone, Copy)]
pub enum Change {
    /// Give the candidate to this share of new orders.
    Ramp(RolloutPercent),
    /// Give the candidate to every new order.
    Promote,
    /// Give the stable version to every new order again.
    Abort,
}

/// The document's newest rollout; `NotFound` when it never had one.
pub async fn latest(state: &AppState, at: &DocumentRef) -> ServiceResult<metadata_rollout::Model> {
    let document = metadata::find(&state.db, at).await?;
    rollouts::latest(&state.db, document.id)
        .await?
        .ok_or_else(|| no_rollout(at))
}

fn no_rollout(at: &DocumentRef) -> ServiceError {
    ServiceError::NotFound(format!("{} '{}' has no rollout", at.kind, at.name))
}

/// Ramps, promotes or aborts the document's active rollout. Orders keep the versions they
/// started with; only new orders see the change.
pub async fn change(
    state: &AppState,
    at: &DocumentRef,
    change: Change,
    precondition: Precondition<'_>,
    actor: &str,
) -> ServiceResult<metadata_rollout::Model> {
    let scope_key = at.scope.key();
    let document = metadata::document_to_change(state, at, &scope_key, precondition).await?;
    let rollout = rollouts::latest(&state.db, document.id)
        .await?
        .filter(|r| r.state == RolloutState::Active.as_str())
        .ok_or_else(|| ServiceError::Conflict {
            problem: ProblemType::NoActiveRollout,
            detail: format!(
                "{} '{}' has no active rollout; start one with POST .../rollout",
                at.kind, at.name
            ),
        })?;
    let now = persistence::now();
    let (percent, new_state, ended_at, action, to_version) = match change {
        Change::Ramp(percent) => (
            i32::from(percent.get()),
            RolloutState::Active,
            None,
            "rollout_ramped",
            rollout.candidate_version,
        ),
        Change::Promote => (
            100,
            RolloutState::Promoted,
            Some(now),
            "rollout_promoted",
            rollout.candidate_version,
        ),
        Change::Abort => (
            0,
            RolloutState::Aborted,
            Some(now),
            "rollout_aborted",
            rollout.stable_version,
        ),
    };
    // New orders go to the version published; during a rollout that is the candidate, so a
    // ramp or a promotion sets it again (moving the revision) and an abort sets it back.
    let changes = ChangeSet::guarded(Guard::SetPublishedVersion {
        id: document.id,
        revision: document.revision,
        version: to_version,
        consume_draft: false,
        at: now,
    })
    .with(Write::UpdateRollout {
        id: rollout.id,
        percent,
        state: new_state,
        ended_at,
    })
    .with(audit_row(
        &scope_key,
        at,
        action,
        actor,
        Some(rollout.candidate_version),
        Some(to_version),
        now,
    ));
    let applied = state.writer.apply(changes).await;
    // New orders must see the change at once: snapshots read before are stale either way.
    state.published.published();
    match applied? {
        Applied::Committed => Ok(metadata_rollout::Model {
            percent,
            state: new_state.as_str().into(),
            ended_at,
            ..rollout
        }),
        Applied::Refused => Err(stale()),
    }
}

/// The orders that started on one version during the rollout.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct VersionOutcome {
    #[schema(example = 1)]
    pub version: i32,
    /// Orders started on this version.
    #[schema(example = 900)]
    pub started: i64,
    /// By status; every status is listed, 0 when none.
    #[schema(example = json!({"awaiting_payment": 12, "paid": 0, "completed": 800, "canceled": 88}))]
    pub by_status: BTreeMap<&'static str, i64>,
    /// Canceled orders by reason; every reason is listed, 0 when none.
    pub canceled_by_reason: BTreeMap<&'static str, i64>,
    /// Completed / started; null before any order started.
    #[schema(example = 0.889)]
    pub conversion: Option<f64>,
    /// Σ (amount − final amount) over the orders priced, in minor units (the orders'
    /// currency).
    #[schema(example = 160000)]
    pub discount_total_minor: i64,
    /// The mean final amount of the orders priced, in minor units, rounded down; null when
    /// none was.
    #[schema(example = 8000)]
    pub average_final_amount_minor: Option<i64>,
}

/// The two versions of a rollout side by side, and whether their conversions differ.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcomes {
    pub stable: VersionOutcome,
    pub candidate: VersionOutcome,
    /// `None` while either version has no orders, or none or all of them completed.
    pub comparison: Option<Comparison>,
}

pub async fn outcomes(
    state: &AppState,
    rollout: &metadata_rollout::Model,
) -> ServiceResult<Outcomes> {
    let groups = rollouts::outcome_groups(&state.db, rollout.id).await?;
    let stable = version_outcome(rollout.stable_version, &groups)?;
    let candidate = version_outcome(rollout.candidate_version, &groups)?;
    let conversions = |outcome: &VersionOutcome| Conversions {
        started: outcome.started.unsigned_abs(),
        completed: outcome
            .by_status
            .get(OrderStatus::Completed.as_str())
            .copied()
            .unwrap_or(0)
            .unsigned_abs(),
    };
    let comparison = compare(conversions(&stable), conversions(&candidate));
    Ok(Outcomes {
        stable,
        candidate,
        comparison,
    })
}

fn version_outcome(version: i32, groups: &[OutcomeGroup]) -> ServiceResult<VersionOutcome> {
    let mut by_status: BTreeMap<&'static str, i64> =
        OrderStatus::ALL.iter().map(|s| (s.as_str(), 0)).collect();
    let mut canceled_by_reason: BTreeMap<&'static str, i64> =
        CancelReason::ALL.iter().map(|r| (r.as_str(), 0)).collect();
    let (mut started, mut discount, mut final_total, mut priced) = (0i64, 0i64, 0i64, 0i64);
    for group in groups.iter().filter(|g| g.version == version) {
        let status: OrderStatus = group
            .status
            .parse()
            .map_err(|e| ServiceError::internal(format!("a stored order: {e}")))?;
        started += group.orders;
        *by_status.entry(status.as_str()).or_default() += group.orders;
        if let Some(reason) = &group.cancel_reason {
            let reason: CancelReason = reason
                .parse()
                .map_err(|e| ServiceError::internal(format!("a stored order: {e}")))?;
            *canceled_by_reason.entry(reason.as_str()).or_default() += group.orders;
        }
        discount += group.discount_minor.unwrap_or(0);
        final_total += group.final_minor.unwrap_or(0);
        priced += group.priced;
    }
    let completed = by_status
        .get(OrderStatus::Completed.as_str())
        .copied()
        .unwrap_or(0);
    Ok(VersionOutcome {
        version,
        started,
        by_status,
        canceled_by_reason,
        conversion: (started > 0).then(|| completed as f64 / started as f64),
        discount_total_minor: discount,
        average_final_amount_minor: (priced > 0).then(|| final_total / priced),
    })
}

/// Sets the rollout gauges of `/metrics` from the orders of the active rollouts.
pub async fn refresh_metrics(state: &AppState) -> ServiceResult<()> {
    let active = rollouts::all_active(&state.db).await?;
    let gauge = &state.metrics.rollout_orders;
    gauge.reset();
    for (rollout, document) in active {
        let merchant = document.scope.trim_start_matches("merchant:");
        let name = format!("{}/{}", document.kind, document.name);
        for group in rollouts::outcome_groups(&state.db, rollout.id).await? {
            let arm = if group.version == rollout.candidate_version {
                "candidate"
            } else {
                "stable"
            };
            gauge
                .with_label_values(&[
                    merchant,
                    name.as_str(),
                    &group.version.to_string(),
                    arm,
                    group.status.as_str(),
                ])
                .add(group.orders);
        }
    }
    Ok(())
}
