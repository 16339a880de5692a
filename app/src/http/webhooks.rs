//! Webhook endpoints per merchant: create (the signing secret is shown once), list, read,
//! change, delete, and rotate the secret.

use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use domain::lifecycle::EventType;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::http::auth::Principal;
use crate::http::docs::{
    AuthErrors, BodyErrors, NotFoundError, WriteConflicts, conflict_responses,
};
use crate::http::extract::{Deferred, Json, Path, from_value};
use crate::http::merchants::authorize_merchant;
use crate::http::pagination::List;
use crate::http::problem::{ApiError, ApiResult};
use crate::openapi_enums::SubscribableEventTypeSchema;
use crate::persistence::entities::webhook_endpoint;
use crate::persistence::webhooks as endpoint_rows;
use crate::services::webhooks::{self, EndpointChanges, EndpointSpec};
use crate::state::AppState;

conflict_responses! {
    /// 409 of creating a webhook endpoint: the merchant has as many as allowed (16).
    CreateEndpointConflicts: write = [TooManyEndpoints];
}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_endpoint, list_endpoints))
        .routes(routes!(get_endpoint, update_endpoint, delete_endpoint))
        .routes(routes!(rotate_secret))
}

/// Where a merchant's events are delivered.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookEndpoint {
    #[schema(example = "we_0193a9c1d2e37f5a8b9c0d1e2f3a4b5c")]
    pub id: String,
    pub merchant_id: String,
    #[schema(example = "https://kitchen.example.com/orderflow")]
    pub url: String,
    /// The event types delivered to it.
    #[schema(value_type = Vec<SubscribableEventTypeSchema>, example = json!(["order.paid", "order.canceled"]))]
    pub event_types: Vec<String>,
    pub enabled: bool,
    /// Why the server disabled the endpoint: every delivery failed for days. Enabling it
    /// again clears it.
    pub disabled_reason: Option<String>,
    pub description: Option<String>,
    /// Until when the secret before the last rotation still signs, alongside.
    pub previous_secret_expires_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl WebhookEndpoint {
    fn new(row: webhook_endpoint::Model) -> ApiResult<Self> {
        let event_types = webhooks::event_types(&row)?
            .into_iter()
            .map(|t| t.as_str().to_owned())
            .collect();
        Ok(Self {
            id: row.id,
            merchant_id: row.merchant_id,
            url: row.url,
            event_types,
            enabled: row.enabled,
            disabled_reason: row.disabled_reason,
            description: row.description,
            previous_secret_expires_at: row.previous_secret_until,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}

/// An endpoint with its signing secret: the answer to creating it and to rotating the
/// secret, the only times the secret is shown.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookEndpointWithSecret {
    #[serde(flatten)]
    pub endpoint: WebhookEndpoint,
    /// The signing secret (Standard Webhooks: `whsec_` and base64).
    #[schema(example = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")]
    pub secret: String,
}

impl WebhookEndpointWithSecret {
    fn new(row: webhook_endpoint::Model) -> ApiResult<Self> {
        let secret = row.secret.clone();
        Ok(Self {
            endpoint: WebhookEndpoint::new(row)?,
            secret,
        })
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateWebhookEndpoint {
    /// An http(s) URL. Loopback, private and link-local addresses are refused unless the
    /// operator allows them.
    #[schema(example = "https://kitchen.example.com/orderflow", max_length = 2048)]
    pub url: String,
    /// At least one event type.
    #[schema(value_type = Vec<SubscribableEventTypeSchema>, example = json!(["order.paid", "order.canceled"]), min_items = 1)]
    pub event_types: Vec<String>,
    /// Default true.
    pub enabled: Option<bool>,
    #[schema(max_length = 256)]
    pub description: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateWebhookEndpoint {
    #[schema(max_length = 2048)]
    pub url: Option<String>,
    #[schema(value_type = Option<Vec<SubscribableEventTypeSchema>>, min_items = 1)]
    pub event_types: Option<Vec<String>>,
    pub enabled: Option<bool>,
    /// `null` clears it.
    #[serde(default, deserialize_with = "present")]
    #[schema(max_length = 256, value_type = Option<String>)]
    pub description: Option<Option<String>>,
}

/// A field that is present, even as `null`, is `Some`.
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

fn event_types(names: &[String]) -> ApiResult<Vec<EventType>> {
    names
        .iter()
        .enumerate()
        .map(|(i, name)| {
            name.parse()
                .ok()
                .filter(|t: &EventType| t.is_subscribable())
                .ok_or_else(|| {
                    let known: Vec<&str> =
                        EventType::subscribable().map(EventType::as_str).collect();
                    ApiError::invalid_field(
                        &format!("/event_types/{i}"),
                        format!(
                            "'{name}' is not an event type to subscribe to; one of {}",
                            known.join(", ")
                        ),
                    )
                })
        })
        .collect()
}

fn description(text: Option<String>) -> ApiResult<Option<String>> {
    match text {
        Some(text) if text.chars().count() > 256 => Err(ApiError::invalid_field(
            "/description",
            "at most 256 characters",
        )),
        other => Ok(other),
    }
}

/// Register a webhook endpoint. Its signing secret is shown only in this answer.
#[utoipa::path(post, path = "/v1/merchants/{merchant_id}/webhook-endpoints", tag = "events",
    security(("bearer" = ["platform_admin", "merchant_admin"])),
    params(("merchant_id" = inline(crate::http::docs::MerchantIdParam), Path, description = "The merchant's id")),
    request_body = CreateWebhookEndpoint,
    responses(
        (status = 201, description = "Created; `secret` is shown only here", body = WebhookEndpointWithSecret),
        AuthErrors, BodyErrors, NotFoundError, CreateEndpointConflicts,
    ))]
async fn create_endpoint(
    State(state): State<AppState>,
    principal: Principal,
    Path(merchant_id): Path<String>,
    body: Deferred<Json<Value>>,
) -> ApiResult<(StatusCode, axum::Json<WebhookEndpointWithSecret>)> {
    let merchant = authorize_merchant(&state, &principal, &merchant_id).await?;
    let Json(raw) = body.read()?;
    let body: CreateWebhookEndpoint = from_value(raw)?;
    let spec = EndpointSpec {
        url: body.url,
        event_types: event_types(&body.event_types)?,
        enabled: body.enabled.unwrap_or(true),
        description: description(body.description)?,
    };
    let row = webhooks::create(&state, &merchant, spec).await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(WebhookEndpointWithSecret::new(row)?),
    ))
}

/// List the merchant's webhook endpoints (at most 16), oldest first.
#[utoipa::path(get, path = "/v1/merchants/{merchant_id}/webhook-endpoints", tag = "events",
    security(("bearer" = ["platform_admin", "merchant_admin"])),
    params(("merchant_id" = inline(crate::http::docs::MerchantIdParam), Path, description = "The merchant's id")),
    responses((status = 200, description = "Every endpoint; `next_cursor` is always null", body = List<WebhookEndpoint>), AuthErrors, NotFoundError))]
async fn list_endpoints(
    State(state): State<AppState>,
    principal: Principal,
    Path(merchant_id): Path<String>,
) -> ApiResult<axum::Json<List<WebhookEndpoint>>> {
    let merchant = authorize_merchant(&state, &principal, &merchant_id).await?;
    let data = endpoint_rows::list(&state.db, merchant.as_str())
        .await?
        .into_iter()
        .map(WebhookEndpoint::new)
        .collect::<ApiResult<_>>()?;
    Ok(axum::Json(List {
        data,
        next_cursor: None,
    }))
}

/// Get a webhook endpoint (without its secret).
#[utoipa::path(get, path = "/v1/merchants/{merchant_id}/webhook-endpoints/{endpoint_id}", tag = "events",
    security(("bearer" = ["platform_admin", "merchant_admin"])),
    params(("merchant_id" = inline(crate::http::docs::MerchantIdParam), Path, description = "The merchant's id"),
        ("endpoint_id" = String, Path, description = "The endpoint's id")),
    responses((status = 200, description = "The endpoint", body = WebhookEndpoint), AuthErrors, NotFoundError))]
async fn get_endpoint(
    State(state): State<AppState>,
    principal: Principal,
    Path((merchant_id, endpoint_id)): Path<(String, String)>,
) -> ApiResult<axum::Json<WebhookEndpoint>> {
    let merchant = authorize_merchant(&state, &principal, &merchant_id).await?;
    let row = webhooks::get(&state, &merchant, &endpoint_id).await?;
    Ok(axum::Json(WebhookEndpoint::new(row)?))
}

/// Change a webhook endpoint: its URL, event types, whether it is enabled, its description.
#[utoipa::path(patch, path = "/v1/merchants/{merchant_id}/webhook-endpoints/{endpoint_id}", tag = "events",
    security(("bearer" = ["platform_admin", "merchant_admin"])),
    params(("merchant_id" = inline(crate::http::docs::MerchantIdParam), Path, description = "The merchant's id"),
        ("endpoint_id" = String, Path, description = "The endpoint's id")),
    request_body = UpdateWebhookEndpoint,
    responses((status = 200, description = "The endpoint, changed", body = WebhookEndpoint), AuthErrors, BodyErrors, NotFoundError, WriteConflicts))]
async fn update_endpoint(
    State(state): State<AppState>,
    principal: Principal,
    Path((merchant_id, endpoint_id)): Path<(String, String)>,
    body: Deferred<Json<Value>>,
) -> ApiResult<axum::Json<WebhookEndpoint>> {
    let merchant = authorize_merchant(&state, &principal, &merchant_id).await?;
    let Json(raw) = body.read()?;
    let body: UpdateWebhookEndpoint = from_value(raw)?;
    let changes = EndpointChanges {
        url: body.url,
        event_types: body.event_types.as_deref().map(event_types).transpose()?,
        enabled: body.enabled,
        description: body.description.map(description).transpose()?,
    };
    let row = webhooks::update(&state, &merchant, &endpoint_id, changes).await?;
    Ok(axum::Json(WebhookEndpoint::new(row)?))
}

/// Delete a webhook endpoint.
#[utoipa::path(delete, path = "/v1/merchants/{merchant_id}/webhook-endpoints/{endpoint_id}", tag = "events",
    security(("bearer" = ["platform_admin", "merchant_admin"])),
    params(("merchant_id" = inline(crate::http::docs::MerchantIdParam), Path, description = "The merchant's id"),
        ("endpoint_id" = String, Path, description = "The endpoint's id")),
    responses((status = 204, description = "Deleted"), AuthErrors, NotFoundError, WriteConflicts))]
async fn delete_endpoint(
    State(state): State<AppState>,
    principal: Principal,
    Path((merchant_id, endpoint_id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let merchant = authorize_merchant(&state, &principal, &merchant_id).await?;
    webhooks::delete(&state, &merchant, &endpoint_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Rotate an endpoint's signing secret. The new one is shown only in this answer; the old
/// one keeps signing alongside for 24 hours.
#[utoipa::path(post, path = "/v1/merchants/{merchant_id}/webhook-endpoints/{endpoint_id}/rotate-secret", tag = "events",
    security(("bearer" = ["platform_admin", "merchant_admin"])),
    params(("merchant_id" = inline(crate::http::docs::MerchantIdParam), Path, description = "The merchant's id"),
        ("endpoint_id" = String, Path, description = "The endpoint's id")),
    responses((status = 200, description = "The endpoint with its new `secret`", body = WebhookEndpointWithSecret), AuthErrors, NotFoundError, WriteConflicts))]
async fn rotate_secret(
    State(state): State<AppState>,
    principal: Principal,
    Path((merchant_id, endpoint_id)): Path<(String, String)>,
) -> ApiResult<axum::Json<WebhookEndpointWithSecret>> {
    let merchant = authorize_merchant(&state, &principal, &merchant_id).await?;
    let row = webhooks::rotate_secret(&state, &merchant, &endpoint_id).await?;
    Ok(axum::Json(WebhookEndpointWithSecret::new(row)?))
}
