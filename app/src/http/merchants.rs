//! Merchants and their API keys.

use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use domain::{MerchantId, Violation};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::error::ServiceError;
use crate::http::auth::{KeyScope, NewKey, Principal, merchant_not_found};
use crate::http::docs::{WriteConflicts, conflict_responses};
use crate::http::extract::{Deferred, Json, Path, Query, from_value};
use crate::http::pagination::{List, PageParams};
use crate::http::problem::{ApiError, ApiResult, Problem};
use crate::persistence::entities::merchant;
use crate::persistence::merchants;
use crate::problem_type::ProblemType;
use crate::state::AppState;

conflict_responses! {
    /// 409 of creating a merchant.
    CreateMerchantConflicts: write = [MerchantExists];
}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_merchant, list_merchants))
        .routes(routes!(get_merchant))
        .routes(routes!(create_api_key))
        .routes(routes!(current_key))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Merchant {
    #[schema(example = "haidilao")]
    pub id: String,
    #[schema(example = "Haidilao Hot Pot")]
    pub name: String,
    pub created_at: DateTime<Utc>,
}

impl From<merchant::Model> for Merchant {
    fn from(m: merchant::Model) -> Self {
        Self {
            id: m.id,
            name: m.name,
            created_at: m.created_at,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateMerchant {
    /// A slug: `^[a-z0-9][a-z0-9-]{1,62}$`.
    #[schema(example = "haidilao", pattern = "^[a-z0-9][a-z0-9-]{1,62}$")]
    pub id: String,
    /// Display name, 1 to 200 characters.
    #[schema(example = "Haidilao Hot Pot", min_length = 1, max_length = 200)]
    pub name: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateApiKey {
    pub scope: MerchantKeyScope,
}

/// What a merchant's key may do: a merchant key is never a platform admin.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MerchantKeyScope {
    /// The merchant's configuration and orders.
    MerchantAdmin,
    /// The merchant's checkout endpoints only.
    Storefront,
}

impl From<MerchantKeyScope> for KeyScope {
    fn from(scope: MerchantKeyScope) -> Self {
        match scope {
            MerchantKeyScope::MerchantAdmin => KeyScope::MerchantAdmin,
            MerchantKeyScope::Storefront => KeyScope::Storefront,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ApiKeyCreated {
    #[schema(example = "key_3f9a1c2b4d5e6f70")]
    pub id: String,
    /// The secret. It is shown only in this response; store it now.
    #[schema(example = "ofk_Jx0b7qTt6kq2yZ1tq2rjv8n0mGf3d9sKpQmW2e5xY4c")]
    pub key: String,
    pub scope: KeyScope,
    pub merchant_id: String,
    pub created_at: DateTime<Utc>,
}

/// The API key making a request: what a console shows after sign-in.
#[derive(Debug, Serialize, ToSchema)]
pub struct CurrentKey {
    /// `env-admin-key` for the `ORDERFLOW_ADMIN_KEY` key.
    #[schema(example = "key_3f9a1c2b4d5e6f70")]
    pub key_id: String,
    pub scope: KeyScope,
    /// The merchant the key belongs to; null for a platform admin key.
    #[schema(example = "haidilao")]
    pub merchant_id: Option<String>,
}

/// Checks the caller may administer `raw_id` and that the merchant exists.
pub async fn authorize_merchant(
    state: &AppState,
    principal: &Principal,
    raw_id: &str,
) -> ApiResult<MerchantId> {
    let id = MerchantId::parse(raw_id)
        .map_err(|_| ApiError::not_found(format!("merchant '{raw_id}' not found")))?;
    principal.require_merchant_admin(&id)?;
    if !state.merchants.exists(&state.db, id.as_str()).await? {
        return Err(merchant_not_found(&id));
    }
    Ok(id)
}

const PROBLEM: &str = "application/problem+json";

/// Create a merchant.
#[utoipa::path(post, path = "/v1/merchants", tag = "merchants",
    security(("bearer" = ["platform_admin"])),
    request_body = CreateMerchant,
    responses(
        (status = 201, description = "Created", body = Merchant),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = PROBLEM),
        (status = 401, description = "No or unknown API key", body = Problem, content_type = PROBLEM),
        (status = 403, description = "Not a platform admin key", body = Problem, content_type = PROBLEM),
        CreateMerchantConflicts,
        (status = 413, description = "Body too large", body = Problem, content_type = PROBLEM),
        (status = 415, description = "The body is not declared JSON (`Content-Type: application/json`)", body = Problem, content_type = PROBLEM),
        (status = 422, description = "Invalid id or name", body = Problem, content_type = PROBLEM),
    ))]
async fn create_merchant(
    State(state): State<AppState>,
    principal: Principal,
    body: Deferred<Json<Value>>,
) -> ApiResult<(StatusCode, axum::Json<Merchant>)> {
    principal.require_platform_admin()?;
    let Json(raw) = body.read()?;
    let body: CreateMerchant = from_value(raw)?;
    let mut violations = Vec::new();
    if let Err(e) = MerchantId::parse(&body.id) {
        violations.push(Violation::new("/id", e.to_string()));
    }
    let name = body.name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        violations.push(Violation::new("/name", "name must be 1 to 200 characters"));
    }
    if !violations.is_empty() {
        return Err(ApiError::invalid(violations));
    }
    let created = crate::services::merchants::create(&state.writer, &body.id, name)
        .await?
        .ok_or_else(|| ServiceError::Conflict {
            problem: ProblemType::MerchantExists,
            detail: format!("a merchant with id '{}' already exists", body.id),
        })?;
    Ok((StatusCode::CREATED, axum::Json(created.into())))
}

/// List merchants. A merchant admin key sees only its own merchant.
#[utoipa::path(get, path = "/v1/merchants", tag = "merchants",
    security(("bearer" = ["platform_admin", "merchant_admin"])),
    params(PageParams),
    responses(
        (status = 200, description = "A page of merchants", body = List<Merchant>),
        (status = 400, description = "Bad limit or cursor", body = Problem, content_type = PROBLEM),
        (status = 401, description = "No or unknown API key", body = Problem, content_type = PROBLEM),
        (status = 403, description = "A storefront key", body = Problem, content_type = PROBLEM),
    ))]
async fn list_merchants(
    State(state): State<AppState>,
    principal: Principal,
    Query(params): Query<PageParams>,
) -> ApiResult<axum::Json<List<Merchant>>> {
    principal.require_admin()?;
    let only = (!principal.is_platform_admin())
        .then(|| principal.merchant_id.as_ref().map(MerchantId::as_str))
        .flatten();
    let page = merchants::list(&state.db, only, &params.request()?).await?;
    Ok(axum::Json(List::new(page, Merchant::from)))
}

/// Get a merchant.
#[utoipa::path(get, path = "/v1/merchants/{merchant_id}", tag = "merchants",
    security(("bearer" = ["platform_admin", "merchant_admin"])),
    params(("merchant_id" = inline(crate::http::docs::MerchantIdParam), Path, description = "The merchant's id")),
    responses(
        (status = 200, description = "The merchant", body = Merchant),
        (status = 401, description = "No or unknown API key", body = Problem, content_type = PROBLEM),
        (status = 403, description = "A storefront key", body = Problem, content_type = PROBLEM),
        (status = 404, description = "No such merchant, or another tenant's", body = Problem, content_type = PROBLEM),
    ))]
async fn get_merchant(
    State(state): State<AppState>,
    principal: Principal,
    Path(merchant_id): Path<String>,
) -> ApiResult<axum::Json<Merchant>> {
    let id = authorize_merchant(&state, &principal, &merchant_id).await?;
    let merchant = merchants::find(&state.db, id.as_str())
        .await?
        .ok_or_else(|| merchant_not_found(&id))?;
    Ok(axum::Json(merchant.into()))
}

/// The API key making this request: its id, scope and merchant. Any valid key may ask.
#[utoipa::path(get, path = "/v1/me", tag = "merchants",
    security(("bearer" = ["platform_admin", "merchant_admin", "storefront"])),
    responses(
        (status = 200, description = "The calling key", body = CurrentKey),
        (status = 401, description = "No or unknown API key", body = Problem, content_type = PROBLEM),
    ))]
async fn current_key(principal: Principal) -> axum::Json<CurrentKey> {
    axum::Json(CurrentKey {
        key_id: principal.key_id,
        scope: principal.scope,
        merchant_id: principal.merchant_id.map(|id| id.as_str().to_owned()),
    })
}

/// Create an API key for a merchant. The key is shown only in this response.
#[utoipa::path(post, path = "/v1/merchants/{merchant_id}/api-keys", tag = "merchants",
    security(("bearer" = ["platform_admin", "merchant_admin"])),
    params(("merchant_id" = inline(crate::http::docs::MerchantIdParam), Path, description = "The merchant's id")),
    request_body = CreateApiKey,
    responses(
        (status = 201, description = "Created; `key` is shown only here", body = ApiKeyCreated),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = PROBLEM),
        (status = 401, description = "No or unknown API key", body = Problem, content_type = PROBLEM),
        (status = 403, description = "A storefront key", body = Problem, content_type = PROBLEM),
        (status = 404, description = "No such merchant, or another tenant's", body = Problem, content_type = PROBLEM),
        (status = 413, description = "Body too large", body = Problem, content_type = PROBLEM),
        (status = 415, description = "The body is not declared JSON (`Content-Type: application/json`)", body = Problem, content_type = PROBLEM),
        (status = 422, description = "Unknown or disallowed scope", body = Problem, content_type = PROBLEM),
        WriteConflicts,
    ))]
async fn create_api_key(
    State(state): State<AppState>,
    principal: Principal,
    Path(merchant_id): Path<String>,
    body: Deferred<Json<Value>>,
) -> ApiResult<(StatusCode, axum::Json<ApiKeyCreated>)> {
    let id = authorize_merchant(&state, &principal, &merchant_id).await?;
    let Json(raw) = body.read()?;
    let body: CreateApiKey = from_value(raw)?;
    let scope = KeyScope::from(body.scope);
    let key = NewKey::generate();
    let row = crate::services::merchants::create_api_key(
        &state.writer,
        &key.id,
        &key.hash,
        scope.as_str(),
        Some(id.as_str()),
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(ApiKeyCreated {
            id: row.id,
            key: key.secret,
            scope,
            merchant_id: id.to_string(),
            created_at: row.created_at,
        }),
    ))
}
