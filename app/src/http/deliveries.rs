//! Webhook deliveries of an endpoint: list them, read one with its attempts, deliver an
//! event by hand (a redelivery), and send a test event.

use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use domain::lifecycle::DeliveryStatus;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::http::auth::Principal;
use crate::http::docs::{AuthErrors, BodyErrors, NotFoundError, ParameterError, WriteConflicts};
use crate::http::extract::{Deferred, Json, Path, Query, from_value};
use crate::http::merchants::authorize_merchant;
use crate::http::pagination::{List, PageParams, encode_cursor};
use crate::http::problem::{ApiError, ApiResult};
use crate::openapi_enums::EventTypeSchema;
use crate::persistence::entities::{webhook_attempt, webhook_delivery};
use crate::services::deliveries::{self, AttemptOutcome};
use crate::services::webhooks::{self, delivery_id};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_deliveries, redeliver))
        .routes(routes!(get_delivery))
        .routes(routes!(send_test_event))
}

/// One event on its way to one endpoint.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookDelivery {
    #[schema(example = "dlv_42")]
    pub id: String,
    pub endpoint_id: String,
    /// The event delivered: the `webhook-id` header of every attempt.
    #[schema(example = "evt_0193a9c1d2e37f5a8b9c0d1e2f3a4b5c")]
    pub event_id: String,
    #[schema(value_type = EventTypeSchema, example = "order.paid")]
    pub event_type: String,
    pub order_id: Option<String>,
    /// `pending` (due, or being attempted), `succeeded` (the receiver answered 2xx) or
    /// `failed` (given up after about three days of retries).
    pub status: WebhookDeliveryStatus,
    pub attempt_count: i32,
    /// When the next attempt is due; null once it succeeded or was given up.
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// What the receiver answered last; null before the first answer.
    pub last_response_status: Option<i32>,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum WebhookDeliveryStatus {
    Pending,
    Succeeded,
    Failed,
}

impl From<DeliveryStatus> for WebhookDeliveryStatus {
    fn from(status: DeliveryStatus) -> Self {
        match status {
            DeliveryStatus::Pending => Self::Pending,
            DeliveryStatus::Succeeded => Self::Succeeded,
            DeliveryStatus::Failed => Self::Failed,
        }
    }
}

impl From<WebhookDeliveryStatus> for DeliveryStatus {
    fn from(status: WebhookDeliveryStatus) -> Self {
        match status {
            WebhookDeliveryStatus::Pending => Self::Pending,
            WebhookDeliveryStatus::Succeeded => Self::Succeeded,
            WebhookDeliveryStatus::Failed => Self::Failed,
        }
    }
}

impl WebhookDelivery {
    fn new(row: webhook_delivery::Model) -> ApiResult<Self> {
        let status: DeliveryStatus = row
            .status
            .parse()
            .map_err(|e: domain::lifecycle::UnknownName| ApiError::internal(e.to_string()))?;
        let pending = status == DeliveryStatus::Pending;
        Ok(Self {
            id: delivery_id(row.id),
            endpoint_id: row.endpoint_id,
            event_id: row.event_id,
            event_type: row.event_type,
            order_id: row.order_id,
            status: status.into(),
            attempt_count: row.attempt_count,
            next_attempt_at: pending.then_some(row.next_attempt_at),
            last_response_status: row.last_response_status,
            last_error: row.last_error,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}

/// One attempt at a delivery.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookAttempt {
    pub attempted_at: DateTime<Utc>,
    /// The receiver's HTTP status; null when no answer came.
    pub response_status: Option<i32>,
    pub latency_ms: i32,
    /// The start of the receiver's answer (at most 1 KiB).
    pub response_body: Option<String>,
    pub error: Option<String>,
}

impl From<webhook_attempt::Model> for WebhookAttempt {
    fn from(row: webhook_attempt::Model) -> Self {
        Self {
            attempted_at: row.attempted_at,
            response_status: row.response_status,
            latency_ms: row.latency_ms,
            response_body: row.response_body,
            error: row.error,
        }
    }
}

/// A delivery with every attempt at it, oldest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookDeliveryWithAttempts {
    #[serde(flatten)]
    pub delivery: WebhookDelivery,
    pub attempts: Vec<WebhookAttempt>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeliveryFilter {
    /// Only deliveries in this status.
    pub status: Option<WebhookDeliveryStatus>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Redelivery {
    /// Any event of the merchant's, whatever the endpoint subscribes to.
    #[schema(example = "evt_0193a9c1d2e37f5a8b9c0d1e2f3a4b5c")]
    pub event_id: String,
}

/// List an endpoint's deliveries, newest first.
#[utoipa::path(get, path = "/v1/merchants/{merchant_id}/webhook-endpoints/{endpoint_id}/deliveries", tag = "events",
    security(("bearer" = ["platform_admin", "merchant_admin"])),
    params(("merchant_id" = inline(crate::http::docs::MerchantIdParam), Path, description = "The merchant's id"),
        ("endpoint_id" = String, Path, description = "The endpoint's id"), DeliveryFilter, PageParams),
    responses((status = 200, description = "A page of deliveries", body = List<WebhookDelivery>), AuthErrors, NotFoundError, ParameterError))]
async fn list_deliveries(
    State(state): State<AppState>,
    principal: Principal,
    Path((merchant_id, endpoint_id)): Path<(String, String)>,
    Query(filter): Query<DeliveryFilter>,
    Query(params): Query<PageParams>,
) -> ApiResult<axum::Json<List<WebhookDelivery>>> {
    let merchant = authorize_merchant(&state, &principal, &merchant_id).await?;
    let status = filter.status.map(DeliveryStatus::from);
    let page =
        webhooks::list_deliveries(&state, &merchant, &endpoint_id, status, &params.request()?)
            .await?;
    let next_cursor = page.next.as_ref().map(encode_cursor);
    let data = page
        .rows
        .into_iter()
        .map(WebhookDelivery::new)
        .collect::<ApiResult<_>>()?;
    Ok(axum::Json(List { data, next_cursor }))
}

/// Get a delivery with every attempt at it.
#[utoipa::path(get, path = "/v1/merchants/{merchant_id}/webhook-endpoints/{endpoint_id}/deliveries/{delivery_id}", tag = "events",
    security(("bearer" = ["platform_admin", "merchant_admin"])),
    params(("merchant_id" = inline(crate::http::docs::MerchantIdParam), Path, description = "The merchant's id"),
        ("endpoint_id" = String, Path, description = "The endpoint's id"),
        ("delivery_id" = String, Path, description = "The delivery's id (`dlv_…`)")),
    responses((status = 200, description = "The delivery and its attempts", body = WebhookDeliveryWithAttempts), AuthErrors, NotFoundError))]
async fn get_delivery(
    State(state): State<AppState>,
    principal: Principal,
    Path((merchant_id, endpoint_id, delivery_id)): Path<(String, String, String)>,
) -> ApiResult<axum::Json<WebhookDeliveryWithAttempts>> {
    let merchant = authorize_merchant(&state, &principal, &merchant_id).await?;
    let (row, attempts) =
        webhooks::get_delivery(&state, &merchant, &endpoint_id, &delivery_id).await?;
    Ok(axum::Json(WebhookDeliveryWithAttempts {
        delivery: WebhookDelivery::new(row)?,
        attempts: attempts.into_iter().map(WebhookAttempt::from).collect(),
    }))
}

/// Deliver an event to the endpoint by hand: again after it failed, or for the first time.
/// The delivery is attempted at once and retried like any other.
#[utoipa::path(post, path = "/v1/merchants/{merchant_id}/webhook-endpoints/{endpoint_id}/deliveries", tag = "events",
    security(("bearer" = ["platform_admin", "merchant_admin"])),
    params(("merchant_id" = inline(crate::http::docs::MerchantIdParam), Path, description = "The merchant's id"),
        ("endpoint_id" = String, Path, description = "The endpoint's id")),
    request_body = Redelivery,
    responses((status = 201, description = "The new delivery", body = WebhookDelivery), AuthErrors, BodyErrors, NotFoundError, WriteConflicts))]
async fn redeliver(
    State(state): State<AppState>,
    principal: Principal,
    Path((merchant_id, endpoint_id)): Path<(String, String)>,
    body: Deferred<Json<Value>>,
) -> ApiResult<(StatusCode, axum::Json<WebhookDelivery>)> {
    let merchant = authorize_merchant(&state, &principal, &merchant_id).await?;
    let Json(raw) = body.read()?;
    let body: Redelivery = from_value(raw)?;
    let row = webhooks::redeliver(&state, &merchant, &endpoint_id, &body.event_id).await?;
    Ok((StatusCode::CREATED, axum::Json(WebhookDelivery::new(row)?)))
}

/// Send a `webhook.test` event to the endpoint now, signed like every delivery, and see
/// what the receiver answered. Nothing is stored or retried.
#[utoipa::path(post, path = "/v1/merchants/{merchant_id}/webhook-endpoints/{endpoint_id}/test", tag = "events",
    security(("bearer" = ["platform_admin", "merchant_admin"])),
    params(("merchant_id" = inline(crate::http::docs::MerchantIdParam), Path, description = "The merchant's id"),
        ("endpoint_id" = String, Path, description = "The endpoint's id")),
    responses((status = 200, description = "What came of the attempt (also when the receiver failed)", body = AttemptOutcome), AuthErrors, NotFoundError, WriteConflicts))]
async fn send_test_event(
    State(state): State<AppState>,
    principal: Principal,
    Path((merchant_id, endpoint_id)): Path<(String, String)>,
) -> ApiResult<axum::Json<AttemptOutcome>> {
    let merchant = authorize_merchant(&state, &principal, &merchant_id).await?;
    let endpoint = webhooks::get(&state, &merchant, &endpoint_id).await?;
    Ok(axum::Json(deliveries::send_test(&state, &endpoint).await?))
}
