//! Requests made at most once per `Idempotency-Key`. The key is taken in the commit of the
//! request's own changes, by a record that holds the answer to replay. A request that did not
//! commit (it was refused, the database failed, its process died) leaves the key free, so a
//! retry runs at once; one that committed replays its answer for 24 hours. Two requests
//! racing with one key both stage; the writer lets one claim it, and the other, refused,
//! finds the record and replays it.

use std::future::Future;

use chrono::Duration;
use serde_json::Value;

use crate::error::{ServiceError, ServiceResult};
use crate::persistence::changes::{ChangeSet, Write};
use crate::persistence::entities::idempotency_key;
use crate::persistence::{self, idempotency};
use crate::problem_type::ProblemType;
use crate::services::commit::{Staged, commit};
use crate::state::AppState;

const REPLAY_WINDOW_HOURS: i64 = 24;
/// The status of a record holding an answer.
const DONE: &str = "done";
/// Earlier versions claimed a key before running the request, as `in_flight`. Such a claim
/// still counts while its request may be running, and is cleared once it is this old.
const IN_FLIGHT: &str = "in_flight";
const ABANDONED_AFTER_SECONDS: i64 = 120;

/// Who asked what, under which key.
pub struct IdempotencyKey {
    pub principal: String,
    pub endpoint: String,
    pub key: String,
    /// SHA-256 of the request body: a key reused for another request is refused.
    pub fingerprint: String,
}

/// An answer to store and replay: a status code and a JSON body.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub body: Value,
}

pub enum Outcome {
    /// The request ran now.
    Fresh(Answer),
    /// An earlier request with this key committed; its answer.
    Replayed(Answer),
}

/// Runs `stage` (and commits its changes) unless a request with this key committed
/// already, in which case its answer comes back instead.
pub async fn once<F, Fut>(
    state: &AppState,
    key: &IdempotencyKey,
    stage: F,
) -> ServiceResult<Outcome>
where
    F: Fn() -> Fut,
    Fut: Future<Output = ServiceResult<Staged<Answer>>>,
{
    let stage = &stage;
    let staged = || async move {
        if let Some(answer) = stored_answer(state, key).await? {
            return Ok(Staged::nothing(Outcome::Replayed(answer)));
        }
        stage().await?.try_map(|answer| Ok(Outcome::Fresh(answer)))
    };
    let claim = |outcome: &Outcome| match outcome {
        Outcome::Fresh(answer) => Some(idempotency_key::Model {
            principal: key.principal.clone(),
            endpoint: key.endpoint.clone(),
            key: key.key.clone(),
            fingerprint: key.fingerprint.clone(),
            status: DONE.into(),
            response_status: Some(i32::from(answer.status)),
            response_body: Some(answer.body.to_string()),
            created_at: persistence::now(),
        }),
        Outcome::Replayed(_) => None,
    };
    commit(state, staged, claim).await
}

/// The answer stored under `key`, if one is; a stale record is cleared on the way.
async fn stored_answer(state: &AppState, key: &IdempotencyKey) -> ServiceResult<Option<Answer>> {
    let Some(stored) =
        idempotency::find(&state.db, &key.principal, &key.endpoint, &key.key).await?
    else {
        return Ok(None);
    };
    let now = persistence::now();
    let expired = stored.created_at < now - Duration::hours(REPLAY_WINDOW_HOURS);
    let abandoned = stored.status == IN_FLIGHT
        && stored.created_at < now - Duration::seconds(ABANDONED_AFTER_SECONDS);
    if expired || abandoned {
        let release = Write::ReleaseIdempotencyKey {
            principal: stored.principal,
            endpoint: stored.endpoint,
            key: stored.key,
            created_at: stored.created_at,
        };
        state
            .writer
            .commit(ChangeSet::unguarded(vec![release]))
            .await?;
        return Ok(None);
    }
    if stored.fingerprint != key.fingerprint {
        return Err(ServiceError::invalid_field(
            "",
            "this Idempotency-Key was used with a different request body; use a new key for a new request",
        ));
    }
    if stored.status == IN_FLIGHT {
        return Err(ServiceError::Conflict {
            problem: ProblemType::IdempotencyKeyInFlight,
            detail: "a request with this Idempotency-Key is still being processed; retry shortly"
                .into(),
        });
    }
    let status = stored
        .response_status
        .and_then(|s| u16::try_from(s).ok())
        .unwrap_or(200);
    let body = stored
        .response_body
        .as_deref()
        .and_then(|b| serde_json::from_str(b).ok())
        .unwrap_or(Value::Null);
    Ok(Some(Answer { status, body }))
}
