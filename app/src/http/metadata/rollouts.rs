//! Staged rollouts of a merchant's documents: publish to a share of new orders, ramp,
//! promote or abort, and compare how the two versions' orders did.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use chrono::{DateTime, Utc};
use domain::Scope;
use domain::rollout::RolloutPercent;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::operations::{Access, DocumentPath, document_ref, if_match};
use crate::http::auth::Principal;
use crate::http::docs::{
    AuthErrors, BodyErrors, NotFoundError, ParameterError, conflict_responses,
};
use crate::http::extract::{Deferred, Json, Path, from_value};
use crate::http::problem::{ApiError, ApiResult, ProblemViolation};
use crate::openapi_enums::{MerchantKindSchema, MetadataKindSchema, RolloutStateSchema};
use crate::persistence::entities::metadata_rollout;
use crate::services::metadata::{self, DocumentRef};
use crate::services::rollouts::{self, Change, VersionOutcome};
use crate::state::AppState;

conflict_responses! {
    /// 409 of starting a rollout: a publish to part of the orders.
    StartRolloutConflicts: write = [NoDraft, NothingToPublish, NothingToRollOutAgainst, RolloutInProgress];
    /// 409 of ramping, promoting or aborting a rollout.
    ActiveRolloutConflicts: write = [NoActiveRollout];
}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(start_rollout, get_rollout, ramp_rollout))
        .routes(routes!(promote_rollout))
        .routes(routes!(abort_rollout))
}

const PROBLEM: &str = "application/problem+json";

/// The share of new orders the candidate version is to get.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RolloutRequest {
    /// In percent, 1 to 99 (promote for 100, abort for 0).
    #[schema(value_type = u8, minimum = 1, maximum = 99, example = 10)]
    pub percent: RolloutPercent,
}

/// A staged rollout: while `active`, the candidate version goes to `percent` of new orders
/// (chosen by a stable hash of the order's `customer_ref`, else of its id) and the others
/// keep the stable version. Orders keep the versions they started with.
#[derive(Debug, Serialize, ToSchema)]
pub struct Rollout {
    #[schema(example = 3)]
    pub id: i64,
    #[schema(value_type = MetadataKindSchema, example = "discount-function")]
    pub kind: String,
    #[schema(example = "alipay-discount")]
    pub name: String,
    #[schema(value_type = RolloutStateSchema)]
    pub state: String,
    /// The version published before, which the other orders keep.
    #[schema(example = 1)]
    pub stable_version: i32,
    /// The version rolled out.
    #[schema(example = 2)]
    pub candidate_version: i32,
    /// The share of new orders that get the candidate: 1–99 while active, 100 once
    /// promoted, 0 once aborted.
    #[schema(minimum = 0, maximum = 100, example = 10)]
    pub percent: i32,
    /// The API key that started it.
    pub started_by: String,
    pub started_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
    pub outcomes: RolloutOutcomes,
}

/// How the orders the rollout assigned to each version did, counted from the orders
/// themselves.
#[derive(Debug, Serialize, ToSchema)]
pub struct RolloutOutcomes {
    pub stable: VersionOutcome,
    pub candidate: VersionOutcome,
    /// The candidate's conversion against the stable version's; null while either has no
    /// orders, or none or all of them completed.
    pub comparison: Option<ConversionComparison>,
}

/// A two-proportion z-test of the two versions' conversions.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConversionComparison {
    /// The candidate's conversion minus the stable version's.
    #[schema(example = 0.031)]
    pub difference: f64,
    #[schema(example = 2.1)]
    pub z: f64,
    /// Two-sided: the chance of a difference at least this large if both versions
    /// converted alike.
    #[schema(example = 0.036)]
    pub p_value: f64,
    /// `p_value` below 0.05, with each version expecting at least 5 completed and 5 other
    /// orders (below that the test does not hold).
    pub significant: bool,
    /// The sample sizes compared: orders started on the stable version and on the candidate.
    #[schema(example = json!([900, 100]))]
    pub sample_sizes: [i64; 2],
}

/// A rollout that started, with what its publish warned of.
#[derive(Debug, Serialize, ToSchema)]
pub struct RolloutStarted {
    pub rollout: Rollout,
    /// As for a publish: what the new version may set off, though nothing in it is wrong.
    pub warnings: Vec<ProblemViolation>,
}

/// Rollouts are a merchant's: its orders are what they split.
async fn merchant_document(
    state: &AppState,
    principal: &Principal,
    path: &DocumentPath,
    access: Access,
) -> ApiResult<DocumentRef> {
    let at = document_ref(state, principal, path, access).await?;
    match at.scope {
        Scope::Merchant(_) => Ok(at),
        Scope::Platform => Err(ApiError::not_found("rollouts are per merchant")),
    }
}

async fn view(
    state: &AppState,
    at: &DocumentRef,
    row: metadata_rollout::Model,
) -> ApiResult<axum::Json<Rollout>> {
    let outcomes = rollouts::outcomes(state, &row).await?;
    let sample_sizes = [outcomes.stable.started, outcomes.candidate.started];
    Ok(axum::Json(Rollout {
        id: row.id,
        kind: at.kind.to_string(),
        name: at.name.to_string(),
        state: row.state,
        stable_version: row.stable_version,
        candidate_version: row.candidate_version,
        percent: row.percent,
        started_by: row.started_by,
        started_at: row.started_at,
        ended_at: row.ended_at,
        outcomes: RolloutOutcomes {
            stable: outcomes.stable,
            candidate: outcomes.candidate,
            comparison: outcomes.comparison.map(|c| ConversionComparison {
                difference: c.difference,
                z: c.z,
                p_value: c.p_value,
                significant: c.significant,
                sample_sizes,
            }),
        },
    }))
}

/// Publish the draft to a share of new orders.
///
/// Publishes the draft as the next version (the same checks as a publish) and gives it to
/// `percent` of new orders; the others keep the version published now. Which orders get it
/// is decided by a stable hash of the order's `customer_ref`, else of its id. Ramp,
/// promote or abort it later; one rollout per document at a time.
#[utoipa::path(post, path = "/v1/merchants/{merchant_id}/metadata/{kind}/{name}/rollout", tag = "merchant metadata",
    security(("bearer" = ["platform_admin", "merchant_admin"])),
    params(
        ("merchant_id" = inline(crate::http::docs::MerchantIdParam), Path, description = "The merchant's id"),
        ("kind" = MerchantKindSchema, Path, description = "`payment-combination`, `checkout-page`, `discount-function`, `routing-table` or `order-flow`"),
        ("name" = inline(super::DocumentNameParam), Path, description = "The document's name"),
        ("If-Match" = Option<String>, Header, nullable = false, description = "The ETag the publish is based on"),
    ),
    request_body = RolloutRequest,
    responses(
        (status = 201, description = "Published to the share of new orders", body = RolloutStarted),
        AuthErrors, BodyErrors, NotFoundError, StartRolloutConflicts,
        (status = 412, description = "If-Match names a stale ETag", body = crate::http::problem::Problem, content_type = PROBLEM),
    ))]
async fn start_rollout(
    State(state): State<AppState>,
    principal: Principal,
    Path(path): Path<DocumentPath>,
    headers: HeaderMap,
    request: Deferred<Json<Value>>,
) -> ApiResult<(StatusCode, axum::Json<RolloutStarted>)> {
    let at = merchant_document(&state, &principal, &path, Access::Write).await?;
    let Json(request) = request.read()?;
    let request: RolloutRequest = from_value(request)?;
    let publication = metadata::publish(
        &state,
        &at,
        if_match(&headers)?.into(),
        &principal.key_id,
        Some(request.percent),
    )
    .await?;
    let row = rollouts::latest(&state, &at).await?;
    let axum::Json(rollout) = view(&state, &at, row).await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(RolloutStarted {
            rollout,
            warnings: publication.warnings.into_iter().map(Into::into).collect(),
        }),
    ))
}

/// Get the document's newest rollout (active or ended), with its outcomes.
#[utoipa::path(get, path = "/v1/merchants/{merchant_id}/metadata/{kind}/{name}/rollout", tag = "merchant metadata",
    security(("bearer" = ["platform_admin", "merchant_admin"])),
    params(
        ("merchant_id" = inline(crate::http::docs::MerchantIdParam), Path, description = "The merchant's id"),
        ("kind" = MerchantKindSchema, Path, description = "`payment-combination`, `checkout-page`, `discount-function`, `routing-table` or `order-flow`"),
        ("name" = inline(super::DocumentNameParam), Path, description = "The document's name"),
    ),
    responses(
        (status = 200, description = "The rollout and how each version's orders did", body = Rollout),
        AuthErrors, NotFoundError, ParameterError,
    ))]
async fn get_rollout(
    State(state): State<AppState>,
    principal: Principal,
    Path(path): Path<DocumentPath>,
) -> ApiResult<axum::Json<Rollout>> {
    let at = merchant_document(&state, &principal, &path, Access::Read).await?;
    let row = rollouts::latest(&state, &at).await?;
    view(&state, &at, row).await
}

async fn change(
    state: AppState,
    principal: Principal,
    at: DocumentRef,
    headers: HeaderMap,
    change: Change,
) -> ApiResult<axum::Json<Rollout>> {
    let row = rollouts::change(
        &state,
        &at,
        change,
        if_match(&headers)?.into(),
        &principal.key_id,
    )
    .await?;
    view(&state, &at, row).await
}

/// Ramp the active rollout to another share of new orders.
///
/// Raising the share only moves orders to the candidate: an order (or customer) that got
/// it at 10% still gets it at 50%.
#[utoipa::path(patch, path = "/v1/merchants/{merchant_id}/metadata/{kind}/{name}/rollout", tag = "merchant metadata",
    security(("bearer" = ["platform_admin", "merchant_admin"])),
    params(
        ("merchant_id" = inline(crate::http::docs::MerchantIdParam), Path, description = "The merchant's id"),
        ("kind" = MerchantKindSchema, Path, description = "`payment-combination`, `checkout-page`, `discount-function`, `routing-table` or `order-flow`"),
        ("name" = inline(super::DocumentNameParam), Path, description = "The document's name"),
        ("If-Match" = Option<String>, Header, nullable = false, description = "The document's ETag the change is based on"),
    ),
    request_body = RolloutRequest,
    responses(
        (status = 200, description = "Ramped", body = Rollout),
        AuthErrors, BodyErrors, NotFoundError, ActiveRolloutConflicts,
        (status = 412, description = "If-Match names a stale ETag", body = crate::http::problem::Problem, content_type = PROBLEM),
    ))]
async fn ramp_rollout(
    State(state): State<AppState>,
    principal: Principal,
    Path(path): Path<DocumentPath>,
    headers: HeaderMap,
    request: Deferred<Json<Value>>,
) -> ApiResult<axum::Json<Rollout>> {
    let at = merchant_document(&state, &principal, &path, Access::Write).await?;
    let Json(request) = request.read()?;
    let request: RolloutRequest = from_value(request)?;
    change(state, principal, at, headers, Change::Ramp(request.percent)).await
}

/// Promote the active rollout: every new order gets the candidate.
#[utoipa::path(post, path = "/v1/merchants/{merchant_id}/metadata/{kind}/{name}/rollout/promote", tag = "merchant metadata",
    security(("bearer" = ["platform_admin", "merchant_admin"])),
    params(
        ("merchant_id" = inline(crate::http::docs::MerchantIdParam), Path, description = "The merchant's id"),
        ("kind" = MerchantKindSchema, Path, description = "`payment-combination`, `checkout-page`, `discount-function`, `routing-table` or `order-flow`"),
        ("name" = inline(super::DocumentNameParam), Path, description = "The document's name"),
        ("If-Match" = Option<String>, Header, nullable = false, description = "The document's ETag the change is based on"),
    ),
    responses(
        (status = 200, description = "Promoted", body = Rollout),
        AuthErrors, NotFoundError, ParameterError, ActiveRolloutConflicts,
        (status = 412, description = "If-Match names a stale ETag", body = crate::http::problem::Problem, content_type = PROBLEM),
    ))]
async fn promote_rollout(
    State(state): State<AppState>,
    principal: Principal,
    Path(path): Path<DocumentPath>,
    headers: HeaderMap,
) -> ApiResult<axum::Json<Rollout>> {
    let at = merchant_document(&state, &principal, &path, Access::Write).await?;
    change(state, principal, at, headers, Change::Promote).await
}

/// Abort the active rollout: every new order gets the stable version again.
///
/// The candidate stays in the version history; orders that started on it keep it.
#[utoipa::path(post, path = "/v1/merchants/{merchant_id}/metadata/{kind}/{name}/rollout/abort", tag = "merchant metadata",
    security(("bearer" = ["platform_admin", "merchant_admin"])),
    params(
        ("merchant_id" = inline(crate::http::docs::MerchantIdParam), Path, description = "The merchant's id"),
        ("kind" = MerchantKindSchema, Path, description = "`payment-combination`, `checkout-page`, `discount-function`, `routing-table` or `order-flow`"),
        ("name" = inline(super::DocumentNameParam), Path, description = "The document's name"),
        ("If-Match" = Option<String>, Header, nullable = false, description = "The document's ETag the change is based on"),
    ),
    responses(
        (status = 200, description = "Aborted", body = Rollout),
        AuthErrors, NotFoundError, ParameterError, ActiveRolloutConflicts,
        (status = 412, description = "If-Match names a stale ETag", body = crate::http::problem::Problem, content_type = PROBLEM),
    ))]
async fn abort_rollout(
    State(state): State<AppState>,
    principal: Principal,
    Path(path): Path<DocumentPath>,
    headers: HeaderMap,
) -> ApiResult<axum::Json<Rollout>> {
    let at = merchant_document(&state, &principal, &path, Access::Write).await?;
    change(state, principal, at, headers, Change::Abort).await
}
