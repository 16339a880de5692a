//! Webhook endpoints: where a merchant wants its events delivered, with the secret that
//! signs them (Standard Webhooks: `whsec_` and base64). A rotated secret keeps signing
//! alongside the new one for a day, so receivers can switch without losing a delivery.

use std::net::IpAddr;

use axum::http::Uri;
use base64::Engine as _;
use chrono::Duration;
use domain::MerchantId;
use domain::lifecycle::{DeliveryStatus, EventType};
use rand::RngCore;

use crate::error::{ServiceError, ServiceResult};
use crate::persistence::changes::{ChangeSet, Guard, Write};
use crate::persistence::entities::{webhook_delivery, webhook_endpoint};
use crate::persistence::writer::Applied;
use crate::persistence::{self, Page, PageRequest, deliveries, webhooks};
use crate::problem_type::ProblemType;
use crate::state::AppState;

/// Endpoints a merchant may have at most.
pub const MAX_ENDPOINTS: usize = 16;
const MAX_URL_LENGTH: usize = 2048;
/// How long resolving an endpoint's host may take.
const LOOKUP_TIME: std::time::Duration = std::time::Duration::from_secs(3);
/// How long a rotated-out secret keeps signing.
pub const ROTATION_OVERLAP_HOURS: i64 = 24;

/// What an endpoint is: everything but its id and secret.
pub struct EndpointSpec {
    pub url: String,
    pub event_types: Vec<EventType>,
    pub enabled: bool,
    pub description: Option<String>,
}

/// Changes to an endpoint; `None` keeps what it has.
#[derive(Default)]
pub struct EndpointChanges {
    pub url: Option<String>,
    pub event_types: Option<Vec<EventType>>,
    pub enabled: Option<bool>,
    pub description: Option<Option<String>>,
}

fn not_found(id: &str) -> ServiceError {
    ServiceError::NotFound(format!("no webhook endpoint '{id}'"))
}

fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!(
        "whsec_{}",
        base64::engine::general_purpose::STANDARD.encode(bytes)
    )
}

fn event_types_json(types: &[EventType]) -> ServiceResult<String> {
    if types.is_empty() {
        return Err(ServiceError::invalid_field(
            "/event_types",
            "name at least one event type",
        ));
    }
    let mut names: Vec<&str> = types.iter().map(|t| t.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    serde_json::to_string(&names).map_err(|e| ServiceError::internal(e.to_string()))
}

/// The event types an endpoint wants.
pub fn event_types(row: &webhook_endpoint::Model) -> ServiceResult<Vec<EventType>> {
    let names: Vec<String> = serde_json::from_str(&row.event_types)
        .map_err(|e| ServiceError::internal(format!("endpoint {}: {e}", row.id)))?;
    names
        .iter()
        .map(|name| {
            name.parse()
                .map_err(|e: domain::lifecycle::UnknownName| ServiceError::internal(e.to_string()))
        })
        .collect()
}

/// An endpoint URL the server may call: http(s), a host, no credentials, and (unless the
/// operator allows it) no loopback, private or link-local address, by literal or by what
/// the host resolves to now. Delivery checks the address again (DNS can change).
pub async fn check_url(url: &str, allow_private: bool) -> ServiceResult<()> {
    let refuse = |message: &str| Err(ServiceError::invalid_field("/url", message));
    if url.len() > MAX_URL_LENGTH {
        return refuse("at most 2048 characters");
    }
    let Ok(uri) = url.parse::<Uri>() else {
        return refuse("not a URL");
    };
    let port = match uri.scheme_str() {
        Some("https") => 443,
        Some("http") => 80,
        _ => return refuse("must be an http or https URL"),
    };
    let Some(authority) = uri.authority() else {
        return refuse("must name a host");
    };
    if authority.as_str().contains('@') {
        return refuse("must not carry credentials");
    }
    if allow_private {
        return Ok(());
    }
    let host = authority
        .host()
        .trim_start_matches('[')
        .trim_end_matches(']');
    let port = authority.port_u16().unwrap_or(port);
    let addresses: Vec<IpAddr> = match host.parse::<IpAddr>() {
        Ok(address) => vec![address],
        Err(_) => {
            match tokio::time::timeout(LOOKUP_TIME, tokio::net::lookup_host((host, port))).await {
                Ok(Ok(resolved)) => resolved.map(|a| a.ip()).collect(),
                _ => return refuse("the host does not resolve"),
            }
        }
    };
    if addresses.is_empty() {
        return refuse("the host does not resolve");
    }
    if addresses.iter().any(|a| !is_public(*a)) {
        return refuse(
            "points at a loopback, private or link-local address; the operator can allow \
             those with ORDERFLOW_WEBHOOK_ALLOW_PRIVATE=true",
        );
    }
    Ok(())
}

/// Whether an address is on the public internet (not this host, its networks, or a
/// reserved range).
pub fn is_public(address: IpAddr) -> bool {
    match address {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_documentation()
                || v4.is_multicast()
                // 100.64.0.0/10, carrier-grade NAT; 0.0.0.0/8, "this network".
                || (a == 100 && (64..128).contains(&b))
                || a == 0)
        }
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => is_public(IpAddr::V4(v4)),
            None => {
                !(v6.is_loopback()
                    || v6.is_unspecified()
                    || v6.is_unique_local()
                    || v6.is_unicast_link_local()
                    || v6.is_multicast())
            }
        },
    }
}

/// Creates an endpoint; its secret is in the row (shown to the caller once).
pub async fn create(
    state: &AppState,
    merchant: &MerchantId,
    spec: EndpointSpec,
) -> ServiceResult<webhook_endpoint::Model> {
    check_url(&spec.url, state.webhook_allow_private).await?;
    if webhooks::list(&state.db, merchant.as_str()).await?.len() >= MAX_ENDPOINTS {
        return Err(ServiceError::Conflict {
            problem: ProblemType::TooManyEndpoints,
            detail: format!("a merchant has at most {MAX_ENDPOINTS} webhook endpoints"),
        });
    }
    let now = persistence::now();
    let row = webhook_endpoint::Model {
        id: format!("we_{}", uuid::Uuid::now_v7().simple()),
        merchant_id: merchant.to_string(),
        url: spec.url,
        event_types: event_types_json(&spec.event_types)?,
        enabled: spec.enabled,
        disabled_reason: None,
        description: spec.description,
        secret: new_secret(),
        previous_secret: None,
        previous_secret_until: None,
        created_at: now,
        updated_at: now,
    };
    apply(state, Guard::InsertWebhookEndpoint(row.clone()), &row.id).await?;
    Ok(row)
}

pub async fn get(
    state: &AppState,
    merchant: &MerchantId,
    id: &str,
) -> ServiceResult<webhook_endpoint::Model> {
    webhooks::find(&state.db, merchant.as_str(), id)
        .await?
        .ok_or_else(|| not_found(id))
}

pub async fn update(
    state: &AppState,
    merchant: &MerchantId,
    id: &str,
    changes: EndpointChanges,
) -> ServiceResult<webhook_endpoint::Model> {
    let mut row = get(state, merchant, id).await?;
    if let Some(url) = changes.url {
        check_url(&url, state.webhook_allow_private).await?;
        row.url = url;
    }
    if let Some(types) = changes.event_types {
        row.event_types = event_types_json(&types)?;
    }
    if let Some(enabled) = changes.enabled {
        row.enabled = enabled;
        if enabled {
            row.disabled_reason = None;
        }
    }
    if let Some(description) = changes.description {
        row.description = description;
    }
    row.updated_at = persistence::now();
    apply(state, Guard::UpdateWebhookEndpoint(row.clone()), id).await?;
    Ok(row)
}

/// A new secret; the one it replaces keeps signing for [`ROTATION_OVERLAP_HOURS`].
pub async fn rotate_secret(
    state: &AppState,
    merchant: &MerchantId,
    id: &str,
) -> ServiceResult<webhook_endpoint::Model> {
    let mut row = get(state, merchant, id).await?;
    let now = persistence::now();
    row.previous_secret = Some(std::mem::replace(&mut row.secret, new_secret()));
    row.previous_secret_until = Some(now + Duration::hours(ROTATION_OVERLAP_HOURS));
    row.updated_at = now;
    apply(state, Guard::UpdateWebhookEndpoint(row.clone()), id).await?;
    Ok(row)
}

pub async fn delete(state: &AppState, merchant: &MerchantId, id: &str) -> ServiceResult<()> {
    let guard = Guard::DeleteWebhookEndpoint {
        merchant_id: merchant.to_string(),
        id: id.to_owned(),
    };
    apply(state, guard, id).await
}

/// Applies an endpoint's change; refused means the endpoint is gone (or, for an insert,
/// its new id collided: never in practice).
async fn apply(state: &AppState, guard: Guard, id: &str) -> ServiceResult<()> {
    match state.writer.apply(ChangeSet::guarded(guard)).await? {
        Applied::Committed => Ok(()),
        Applied::Refused => Err(not_found(id)),
    }
}

fn delivery_not_found(id: &str) -> ServiceError {
    ServiceError::NotFound(format!("no delivery '{id}'"))
}

/// A delivery's public id: `dlv_` and its number.
pub fn delivery_id(id: i64) -> String {
    format!("dlv_{id}")
}

fn parse_delivery_id(id: &str) -> Option<i64> {
    id.strip_prefix("dlv_")?.parse().ok()
}

/// An endpoint's deliveries, newest first.
pub async fn list_deliveries(
    state: &AppState,
    merchant: &MerchantId,
    endpoint_id: &str,
    status: Option<DeliveryStatus>,
    page: &PageRequest<i64>,
) -> ServiceResult<Page<webhook_delivery::Model, i64>> {
    let endpoint = get(state, merchant, endpoint_id).await?;
    Ok(deliveries::list(&state.db, &endpoint.id, status, page).await?)
}

/// One delivery and its attempts, oldest first.
pub async fn get_delivery(
    state: &AppState,
    merchant: &MerchantId,
    endpoint_id: &str,
    id: &str,
) -> ServiceResult<(
    webhook_delivery::Model,
    Vec<crate::persistence::entities::webhook_attempt::Model>,
)> {
    let endpoint = get(state, merchant, endpoint_id).await?;
    let number = parse_delivery_id(id).ok_or_else(|| delivery_not_found(id))?;
    let delivery = deliveries::find(&state.db, &endpoint.id, number)
        .await?
        .ok_or_else(|| delivery_not_found(id))?;
    let attempts = deliveries::attempts(&state.db, delivery.id).await?;
    Ok((delivery, attempts))
}

/// Delivers one of the merchant's events to the endpoint again (or for the first time:
/// any event may be sent by hand, whatever the endpoint subscribes to).
pub async fn redeliver(
    state: &AppState,
    merchant: &MerchantId,
    endpoint_id: &str,
    event_id: &str,
) -> ServiceResult<webhook_delivery::Model> {
    let endpoint = get(state, merchant, endpoint_id).await?;
    let event = deliveries::event(&state.db, merchant.as_str(), event_id)
        .await?
        .ok_or_else(|| {
            ServiceError::invalid_field("/event_id", "no such event of this merchant")
        })?;
    let now = persistence::now();
    let row = webhook_delivery::Model {
        id: 0,
        endpoint_id: endpoint.id.clone(),
        merchant_id: merchant.to_string(),
        event_id: event.id.clone(),
        event_type: event.event_type,
        event_position: event.position,
        order_id: event.order_id,
        status: DeliveryStatus::Pending.as_str().to_owned(),
        attempt_count: 0,
        next_attempt_at: now,
        last_response_status: None,
        last_error: None,
        created_at: now,
        updated_at: now,
    };
    state
        .writer
        .commit(ChangeSet::unguarded(vec![Write::InsertDelivery(row)]))
        .await?;
    deliveries::latest_of_event(&state.db, &endpoint.id, &event.id)
        .await?
        .ok_or_else(|| ServiceError::internal("a committed delivery is gone"))
}
