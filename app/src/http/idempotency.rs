//! `Idempotency-Key`: a retried POST replays the first response instead of acting twice.
//! Keys are scoped to the caller's API key and the endpoint, kept 24 hours. Only successful
//! responses are stored: a rejected request stores nothing and is safe to retry. The
//! response is stored in the commit of the write it answers (see
//! [`services::idempotency`](crate::services::idempotency)), so a committed write always
//! replays, and a request that did not commit can be retried at once.

use std::future::Future;

use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use utoipa::IntoParams;
use utoipa::openapi::Required;
use utoipa::openapi::path::{Parameter, ParameterBuilder, ParameterIn};
use utoipa::openapi::schema::{ObjectBuilder, Type};

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

/// Whether `key` is 1 to 255 visible ASCII characters (`%x21-7E`: no space, no control).
fn valid_key(key: &[u8]) -> bool {
    (1..=MAX_KEY_LENGTH).contains(&key.len()) && key.iter().all(|b| (0x21..=0x7e).contains(b))
}

/// The `Idempotency-Key` header, as every operation that honours it documents it: the
/// rule [`valid_key`] applies, from the same constant.
pub struct IdempotencyKeyHeader;

impl IntoParams for IdempotencyKeyHeader {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        let schema = ObjectBuilder::new()
            .schema_type(Type::String)
            .min_length(Some(1))
            .max_length(Some(MAX_KEY_LENGTH))
            .pattern(Some(format!("^[\\x21-\\x7E]{{1,{MAX_KEY_LENGTH}}}$")));
        vec![
            ParameterBuilder::new()
                .name("Idempotency-Key")
                .parameter_in(ParameterIn::Header)
                .required(Required::False)
                .description(Some(format!(
                    "Replays the first response for 24 h: 1 to {MAX_KEY_LENGTH} visible ASCII characters"
                )))
                .schema(Some(schema))
                .example(Some(serde_json::json!("order-0001")))
                .build(),
        ]
    }
}

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
    let key = Some(key.as_bytes())
        .filter(|k| valid_key(k))
        .and_then(|k| std::str::from_utf8(k).ok())
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
