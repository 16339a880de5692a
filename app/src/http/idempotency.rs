//! `Idempotency-Key`: a retried POST replays the first response instead of acting twice.
//! Keys are scoped to the caller's API key and the endpoint, kept 24 hours. Only successful
//! responses are stored: a rejected request stores nothing and is safe to retry. The
//! response is stored in the commit of the write it answers (see
//! [`services::idempotency`](crate::services::idempotency)), so a committed write always
//! replays, and a request that did not commit can be retried at once.

use std::future::Future;

use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::error::ServiceResult;
use crate::http::auth::Principal;
use crate::http::problem::{ApiError, ApiResult};
use crate::services::commit::{Staged, commit};
use crate::services::idempotency::{self, Answer, IdempotencyKey, Outcome};
use crate::services::orders::fingerprint;
use crate::state::AppState;

pub const IDEMPOTENCY_KEY: HeaderName = HeaderName::from_static("idempotency-key");
pub const REPLAYED: HeaderName = HeaderName::from_static("idempotent-replayed");
const MAX_KEY_LENGTH: usize = 255;

fn json_response(answer: Answer) -> Response {
    let status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::OK);
    (status, axum::Json(answer.body)).into_response()
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
    body: &serde_json::Value,
    stage: F,
) -> ApiResult<Response>
where
    F: Fn() -> Fut,
    Fut: Future<Output = ServiceResult<Staged<Answer>>>,
{
    let Some(key) = headers.get(&IDEMPOTENCY_KEY) else {
        return Ok(json_response(commit(state, stage, |_| None).await?));
    };
    let key = key
        .to_str()
        .ok()
        .filter(|k| !k.is_empty() && k.len() <= MAX_KEY_LENGTH)
        .ok_or_else(|| {
            ApiError::BadRequest(format!(
                "Idempotency-Key must be 1 to {MAX_KEY_LENGTH} visible ASCII characters"
            ))
        })?;
    let key = IdempotencyKey {
        principal: principal.key_id.clone(),
        endpoint: endpoint.to_owned(),
        key: key.to_owned(),
        fingerprint: fingerprint(body),
    };
    Ok(match idempotency::once(state, &key, stage).await? {
        Outcome::Fresh(answer) => json_response(answer),
        Outcome::Replayed(answer) => {
            let mut response = json_response(answer);
            response
                .headers_mut()
                .insert(REPLAYED, HeaderValue::from_static("true"));
            response
        }
    })
}
