//! `Idempotency-Key`: a retried POST replays the first response instead of acting twice.
//! Keys are scoped to the caller's API key and the endpoint, kept 24 hours. Only successful
//! responses are stored: a rejected request stores nothing and is safe to retry. The
//! response is stored in the transaction of the write it answers, so a crash can never
//! leave a committed write whose key does not replay it.

use std::future::Future;

use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::Duration;
use serde_json::Value;

use crate::error::{ApiError, ApiResult};
use crate::http::auth::Principal;
use crate::persistence::changes::{ChangeSet, Guard, IdempotencyRecord, Write};
use crate::persistence::entities::idempotency_key;
use crate::persistence::idempotency;
use crate::persistence::writer::Applied;
use crate::services::commit::{Staged, commit};
use crate::services::orders::fingerprint;
use crate::state::AppState;

pub const IDEMPOTENCY_KEY: HeaderName = HeaderName::from_static("idempotency-key");
pub const REPLAYED: HeaderName = HeaderName::from_static("idempotent-replayed");
const MAX_KEY_LENGTH: usize = 255;
const REPLAY_WINDOW_HOURS: i64 = 24;
/// A request still "in flight" after this long was abandoned (its process died); a retry
/// may take it over.
const ABANDONED_AFTER_SECONDS: i64 = 120;

fn json_response(status: StatusCode, body: &Value) -> Response {
    (status, axum::Json(body.clone())).into_response()
}

/// Runs a request at most once per idempotency key. `endpoint` names the operation and the
/// resource (e.g. `POST /v1/storefront/orders/{id}/payment` with the id filled in). `stage`
/// computes the answer and the changes; the answer is recorded with the changes, in the
/// same commit.
pub async fn idempotent<F, Fut>(
    state: &AppState,
    principal: &Principal,
    endpoint: &str,
    headers: &HeaderMap,
    body: &Value,
    stage: F,
) -> ApiResult<Response>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = ApiResult<Staged<(StatusCode, Value)>>>,
{
    let Some(key) = headers.get(&IDEMPOTENCY_KEY) else {
        let (status, body) = commit(state, stage, |_| None).await?;
        return Ok(json_response(status, &body));
    };
    let key = key
        .to_str()
        .ok()
        .filter(|k| !k.is_empty() && k.len() <= MAX_KEY_LENGTH)
        .ok_or_else(|| {
            ApiError::BadRequest(format!(
                "Idempotency-Key must be 1 to {MAX_KEY_LENGTH} visible ASCII characters"
            ))
        })?
        .to_owned();
    let request_fingerprint = fingerprint(body);
    let now = crate::persistence::now();
    let principal_id = principal.key_id.as_str();
    let claim = idempotency_key::Model {
        principal: principal_id.to_owned(),
        endpoint: endpoint.to_owned(),
        key: key.clone(),
        fingerprint: request_fingerprint,
        status: "in_flight".into(),
        response_status: None,
        response_body: None,
        created_at: now,
    };

    let guard = match idempotency::find(&state.db, principal_id, endpoint, &key).await? {
        None => Guard::ClaimIdempotencyKey(claim),
        Some(existing) => {
            let expired = existing.created_at < now - Duration::hours(REPLAY_WINDOW_HOURS);
            let abandoned = existing.status == "in_flight"
                && existing.created_at < now - Duration::seconds(ABANDONED_AFTER_SECONDS);
            if expired || abandoned {
                Guard::TakeOverIdempotencyKey {
                    row: claim,
                    previous_created_at: existing.created_at,
                }
            } else if existing.fingerprint != claim.fingerprint {
                return Err(ApiError::invalid_field(
                    "",
                    "this Idempotency-Key was used with a different request body; use a new key for a new request",
                ));
            } else if existing.status == "in_flight" {
                return Err(in_flight());
            } else {
                return Ok(replay(&existing));
            }
        }
    };
    if state.writer.apply(ChangeSet::guarded(guard)).await? == Applied::Refused {
        // Another request with this key claimed it first.
        return Err(in_flight());
    }
    let record = |(status, response): &(StatusCode, Value)| {
        Some(IdempotencyRecord {
            principal: principal_id.to_owned(),
            endpoint: endpoint.to_owned(),
            key: key.clone(),
            status: i32::from(status.as_u16()),
            body: response.to_string(),
        })
    };
    match commit(state, stage, record).await {
        Ok((status, response)) => Ok(json_response(status, &response)),
        Err(error) => {
            let release = ChangeSet::unguarded(vec![Write::ReleaseIdempotencyKey {
                principal: principal_id.to_owned(),
                endpoint: endpoint.to_owned(),
                key: key.clone(),
            }]);
            if let Err(failed) = state.writer.commit(release).await {
                // The claim stays until it counts as abandoned; a retry then takes it over.
                tracing::warn!(%failed, "could not release an idempotency key after a failed request");
            }
            Err(error)
        }
    }
}

fn in_flight() -> ApiError {
    ApiError::Conflict {
        problem: "idempotency-key-in-flight",
        detail: "a request with this Idempotency-Key is still being processed; retry shortly"
            .into(),
    }
}

fn replay(stored: &idempotency_key::Model) -> Response {
    let status = stored
        .response_status
        .and_then(|s| u16::try_from(s).ok())
        .and_then(|s| StatusCode::from_u16(s).ok())
        .unwrap_or(StatusCode::OK);
    let body: Value = stored
        .response_body
        .as_deref()
        .and_then(|b| serde_json::from_str(b).ok())
        .unwrap_or(Value::Null);
    let mut response = json_response(status, &body);
    response
        .headers_mut()
        .insert(REPLAYED, HeaderValue::from_static("true"));
    response
}
