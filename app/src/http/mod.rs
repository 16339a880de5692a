//! The HTTP edge: routers, extractors, auth, and the middleware every request passes.

pub mod auth;
mod console;
mod deliveries;
pub mod docs;
mod events;
pub mod extract;
mod functions;
mod history;
mod idempotency;
mod impact;
mod merchants;
mod metadata;
mod ops;
mod orders;
mod overview;
pub mod pagination;
pub mod problem;
pub mod rate_limit;
mod routing;
mod schemas;
pub mod server;
mod tasks;
mod webhooks;

use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, HeaderValue, Request, Response, StatusCode, header};
use axum::middleware;
use axum::response::IntoResponse;
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_swagger_ui::SwaggerUi;

use crate::http::problem::{ApiError, PROBLEM_JSON, problem_response};
use crate::problem_type::ProblemType;
use crate::state::AppState;
use docs::{ApiDoc, RateLimitedEverywhere, ScopesInDescriptions};
use extract::BODY_LIMIT;
use pagination::ListItemRefs;
use utoipa::Modify;

/// Every route, with the OpenAPI document generated from them.
pub fn api() -> (Router<AppState>, serde_json::Value) {
    let (router, mut document) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(ops::router())
        .merge(schemas::router())
        .merge(merchants::router())
        .merge(overview::router())
        .merge(metadata::router())
        .merge(impact::router())
        .merge(functions::router())
        .merge(routing::router())
        .merge(orders::router())
        .merge(tasks::router())
        .merge(events::router())
        .merge(webhooks::router())
        .merge(deliveries::router())
        .split_for_parts();
    // After the merge: the list components come from the routes.
    ListItemRefs.modify(&mut document);
    ScopesInDescriptions.modify(&mut document);
    RateLimitedEverywhere.modify(&mut document);
    // Serializing a document of plain data cannot fail; the kinds' schemas go in as JSON.
    let mut document = serde_json::to_value(document).unwrap_or_default();
    crate::openapi_kinds::add_kind_schemas(&mut document);
    (router, document)
}

/// The OpenAPI document, as `/openapi.json` serves it and `orderflow openapi` prints it.
pub fn openapi() -> serde_json::Value {
    api().1
}

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// How requests are bounded.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub request_timeout: Duration,
    /// Requests a second per API key; 0 for no limit.
    pub rate_per_second: u32,
}

/// The application: routes, docs, and the middleware that bounds and observes requests.
pub fn app(state: AppState, limits: Limits) -> Router {
    let (routes, openapi) = api();
    let mut router = routes
        .merge(SwaggerUi::new("/docs").external_url_unchecked("/openapi.json", openapi))
        .merge(console::router())
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(state.clone());
    router = router.layer(middleware::from_fn_with_state(state, observe));
    if let Some(limiter) = rate_limit::RateLimit::new(limits.rate_per_second) {
        router = router.layer(middleware::from_fn_with_state(limiter, rate_limit::limit));
    }
    router.layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
                .layer(PropagateRequestIdLayer::new(REQUEST_ID))
                .layer(SetResponseHeaderLayer::if_not_present(
                    header::X_CONTENT_TYPE_OPTIONS,
                    HeaderValue::from_static("nosniff"),
                ))
                .layer(SetResponseHeaderLayer::if_not_present(
                    header::X_FRAME_OPTIONS,
                    HeaderValue::from_static("DENY"),
                ))
                .layer(SetResponseHeaderLayer::if_not_present(
                    header::REFERRER_POLICY,
                    HeaderValue::from_static("no-referrer"),
                ))
                .layer(SetResponseHeaderLayer::if_not_present(
                    header::CACHE_CONTROL,
                    HeaderValue::from_static("no-store"),
                ))
                .layer(
                    TraceLayer::new_for_http().make_span_with(|request: &Request<_>| {
                        let id = request
                            .headers()
                            .get(REQUEST_ID)
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or_default();
                        tracing::info_span!("request", method = %request.method(), uri = %request.uri(), request_id = %id)
                    }),
                )
                .layer(middleware::map_response(problem_for_bare_errors))
                .layer(CatchPanicLayer::custom(|_| {
                    tracing::error!("a request handler panicked");
                    ApiError::internal("handler panicked").into_response()
                }))
                .layer(TimeoutLayer::with_status_code(
                    StatusCode::SERVICE_UNAVAILABLE,
                    limits.request_timeout,
                ))
                .layer(middleware::from_fn(refuse_oversized_bodies))
                .layer(DefaultBodyLimit::max(BODY_LIMIT)),
        )
}

/// What is read and dropped of a body declared too large, at most, before the 413.
const DRAIN_LIMIT: usize = 16 * BODY_LIMIT;
const DRAIN_TIME: Duration = Duration::from_secs(5);

/// A body declared larger than the limit is refused before any handler runs. What the
/// client is still sending is read and dropped first (within bounds): a server that answers
/// and closes mid-upload makes most clients report a broken pipe instead of the 413.
async fn refuse_oversized_bodies(
    request: axum::extract::Request,
    next: middleware::Next,
) -> axum::response::Response {
    use hyper::body::Body as _;
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok()?.parse::<usize>().ok());
    if declared.is_none_or(|length| length <= BODY_LIMIT) {
        return next.run(request).await;
    }
    let mut body = request.into_body();
    let drain = async {
        let mut read = 0;
        while read <= DRAIN_LIMIT {
            match std::future::poll_fn(|cx| std::pin::Pin::new(&mut body).poll_frame(cx)).await {
                Some(Ok(frame)) => read += frame.data_ref().map_or(0, bytes::Bytes::len),
                _ => break,
            }
        }
    };
    let _ = tokio::time::timeout(DRAIN_TIME, drain).await;
    ApiError::PayloadTooLarge { limit: BODY_LIMIT }.into_response()
}

/// Counts and times every request by its route template (never the raw path, whose ids
/// would make the label set unbounded).
async fn observe(
    axum::extract::State(state): axum::extract::State<AppState>,
    request: axum::extract::Request,
    next: middleware::Next,
) -> axum::response::Response {
    let route = request
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let method = request.method().as_str().to_owned();
    let started = std::time::Instant::now();
    let response = next.run(request).await;
    state.metrics.observe_request(
        &route,
        &method,
        response.status().as_u16(),
        started.elapsed(),
    );
    response
}

async fn not_found() -> ApiError {
    ApiError::not_found("no such route; see /docs for the API")
}

async fn method_not_allowed() -> impl IntoResponse {
    problem_response(
        StatusCode::METHOD_NOT_ALLOWED,
        ProblemType::MethodNotAllowed,
        "this route does not accept that method; see /docs".into(),
        vec![],
    )
}

/// Errors made by layers (timeouts, body limits) carry no body of ours; give every one a
/// problem+json body so that clients see one error format.
async fn problem_for_bare_errors<B>(response: Response<B>) -> Response<axum::body::Body>
where
    B: axum::body::HttpBody<Data = bytes::Bytes> + Send + 'static,
    B::Error: Into<axum::BoxError>,
{
    let status = response.status();
    let is_problem = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(PROBLEM_JSON.as_bytes()));
    if !(status.is_client_error() || status.is_server_error()) || is_problem {
        return response.map(axum::body::Body::new);
    }
    let problem_type = bare_problem_type(status);
    let detail = match problem_type {
        ProblemType::RequestTimeout => "the request took too long and was abandoned; retry it \
             (with the same Idempotency-Key, a retry never acts twice)"
            .to_owned(),
        ProblemType::PayloadTooLarge => {
            format!("request body is larger than the limit of {BODY_LIMIT} bytes")
        }
        _ => status.canonical_reason().unwrap_or("error").to_owned(),
    };
    let mut problem = problem_response(status, problem_type, detail, vec![]);
    if status == StatusCode::SERVICE_UNAVAILABLE {
        problem
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    }
    for name in [header::WWW_AUTHENTICATE, header::RETRY_AFTER, header::ALLOW] {
        if let Some(value) = response.headers().get(&name) {
            problem.headers_mut().insert(name, value.clone());
        }
    }
    problem
}

/// The problem type of an error status a layer answered without a body of ours. Each status
/// a layer can make has its own type; any other is the generic client or server error, so
/// that `type` stays in the document's closed set whatever a layer answers.
fn bare_problem_type(status: StatusCode) -> ProblemType {
    match status {
        // The docs UI with no such file (the router's own fallback answers a problem).
        StatusCode::NOT_FOUND => ProblemType::NotFound,
        // The router's own 405, for a route registered after its method fallback was set.
        StatusCode::METHOD_NOT_ALLOWED => ProblemType::MethodNotAllowed,
        // The request timeout answers 503 (it is the only layer that does); 408 is the
        // status for the same thing should a layer use it.
        StatusCode::REQUEST_TIMEOUT | StatusCode::SERVICE_UNAVAILABLE => {
            ProblemType::RequestTimeout
        }
        // The body limit, read by any extractor but ours.
        StatusCode::PAYLOAD_TOO_LARGE => ProblemType::PayloadTooLarge,
        // axum's own body extractors: a body that is not JSON, or JSON of the wrong shape.
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ProblemType::UnsupportedMediaType,
        StatusCode::UNPROCESSABLE_ENTITY => ProblemType::ValidationFailed,
        // The rate limit answers a problem of its own; this is any layer's 429.
        StatusCode::TOO_MANY_REQUESTS => ProblemType::RateLimited,
        // E.g. the docs UI's 500 when it cannot serve a file, or axum's 400 for a console
        // asset path that does not parse.
        status if status.is_server_error() => ProblemType::Internal,
        _ => ProblemType::BadRequest,
    }
}
