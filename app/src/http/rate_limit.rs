//! A per-key rate limit: each API key (or, without one, all anonymous callers together) may
//! make `per_second` requests a second, in bursts of as many. Past that: 429 with
//! `Retry-After`.

use std::num::NonZeroU32;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};

use crate::http::auth::hash_key;
use crate::http::problem::problem_response;
use crate::problem_type::ProblemType;

/// Distinct keys remembered before idle ones are forgotten.
const PRUNE_AT: usize = 10_000;

#[derive(Clone)]
pub struct RateLimit(Arc<DefaultKeyedRateLimiter<String>>);

impl RateLimit {
    /// `None` when `per_second` is 0: no limit.
    pub fn new(per_second: u32) -> Option<Self> {
        let rate = NonZeroU32::new(per_second)?;
        Some(Self(Arc::new(DefaultKeyedRateLimiter::keyed(
            Quota::per_second(rate).allow_burst(rate),
        ))))
    }
}

fn caller(request: &Request) -> String {
    request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .map(|(_, token)| hash_key(token.trim()))
        .unwrap_or_else(|| "anonymous".to_owned())
}

pub async fn limit(State(limiter): State<RateLimit>, request: Request, next: Next) -> Response {
    let key = caller(&request);
    let limiter = &limiter.0;
    if limiter.len() > PRUNE_AT {
        limiter.retain_recent();
    }
    match limiter.check_key(&key) {
        Ok(()) => next.run(request).await,
        Err(not_until) => {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            let mut response = problem_response(
                StatusCode::TOO_MANY_REQUESTS,
                ProblemType::RateLimited,
                format!("too many requests for this API key; retry in {seconds} s"),
                vec![],
            );
            if let Ok(value) = HeaderValue::from_str(&seconds.max(1).to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
            response
        }
    }
}
