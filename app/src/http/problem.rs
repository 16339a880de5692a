//! The one error type of the HTTP layer, mapped once to RFC 9457 problem+json; service
//! errors become it here and nowhere else.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use domain::Violation;
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::ServiceError;
use crate::problem_type::ProblemType;

pub const PROBLEM_JSON: &str = "application/problem+json";

/// Everything a request can fail with: what the HTTP edge itself refuses, or what a service
/// failed with. Each has a stable problem `type`.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    BadRequest(String),
    #[error("missing or unknown API key")]
    Unauthorized,
    #[error("{0}")]
    Forbidden(String),
    #[error("request body is larger than the limit of {limit} bytes")]
    PayloadTooLarge { limit: usize },
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error(transparent)]
    Service(#[from] ServiceError),
}

/// Handlers that read through a repository directly fail the way a service would.
impl From<sea_orm::DbErr> for ApiError {
    fn from(err: sea_orm::DbErr) -> Self {
        ServiceError::from(err).into()
    }
}

impl ApiError {
    pub fn not_found(detail: impl Into<String>) -> Self {
        ServiceError::NotFound(detail.into()).into()
    }

    pub fn internal(message: impl Into<String>) -> Self {
        ServiceError::internal(message).into()
    }

    pub fn invalid(errors: Vec<Violation>) -> Self {
        ServiceError::invalid(errors).into()
    }

    pub fn invalid_field(pointer: &str, message: impl Into<String>) -> Self {
        ServiceError::invalid_field(pointer, message).into()
    }

    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Service(error) => match error {
                ServiceError::NotFound(_) => StatusCode::NOT_FOUND,
                ServiceError::Conflict { .. } => StatusCode::CONFLICT,
                ServiceError::StaleRevision => StatusCode::PRECONDITION_FAILED,
                ServiceError::Invalid { .. } => StatusCode::UNPROCESSABLE_ENTITY,
                ServiceError::Unavailable | ServiceError::StorageFull => {
                    StatusCode::SERVICE_UNAVAILABLE
                }
                ServiceError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            },
        }
    }

    fn problem_type(&self) -> ProblemType {
        match self {
            ApiError::BadRequest(_) => ProblemType::BadRequest,
            ApiError::Unauthorized => ProblemType::Unauthorized,
            ApiError::Forbidden(_) => ProblemType::Forbidden,
            ApiError::PayloadTooLarge { .. } => ProblemType::PayloadTooLarge,
            ApiError::UnsupportedMediaType(_) => ProblemType::UnsupportedMediaType,
            ApiError::Service(error) => match error {
                ServiceError::NotFound(_) => ProblemType::NotFound,
                ServiceError::Conflict { problem, .. } => *problem,
                ServiceError::StaleRevision => ProblemType::PreconditionFailed,
                ServiceError::Invalid { .. } => ProblemType::ValidationFailed,
                ServiceError::Unavailable => ProblemType::Unavailable,
                ServiceError::StorageFull => ProblemType::StorageFull,
                ServiceError::Internal(_) => ProblemType::Internal,
            },
        }
    }
}

/// An RFC 9457 problem document.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// The kind of problem.
    #[serde(rename = "type")]
    pub problem_type: ProblemType,
    /// A short summary of the kind of problem.
    #[schema(example = "Unprocessable Entity")]
    pub title: String,
    /// The HTTP status code.
    #[schema(example = 422)]
    pub status: u16,
    /// What went wrong in this occurrence.
    pub detail: String,
    /// One entry per violation, for 422 responses.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<ProblemViolation>,
}

/// One reason a request body was rejected.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProblemViolation {
    /// JSON pointer (RFC 6901) into the request body; empty for the body as a whole.
    #[schema(example = "/methods/0/method")]
    pub pointer: String,
    pub message: String,
    /// For a problem inside a discount function's script: its line (1-based).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = 2)]
    pub line: Option<usize>,
    /// For a problem inside a discount function's script: its column (1-based).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = 13)]
    pub column: Option<usize>,
}

impl From<Violation> for ProblemViolation {
    fn from(violation: Violation) -> Self {
        Self {
            pointer: violation.pointer,
            message: violation.message,
            line: violation.line,
            column: violation.column,
        }
    }
}

pub fn problem_response(
    status: StatusCode,
    problem_type: ProblemType,
    detail: String,
    errors: Vec<Violation>,
) -> Response {
    let problem = Problem {
        problem_type,
        title: status.canonical_reason().unwrap_or("Error").to_owned(),
        status: status.as_u16(),
        detail,
        errors: errors.into_iter().map(ProblemViolation::from).collect(),
    };
    let body = serde_json::to_vec(&problem).unwrap_or_default();
    let mut response = (status, body).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
    response
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let problem_type = self.problem_type();
        let mut response = match self {
            ApiError::Service(ServiceError::Internal(source)) => {
                tracing::error!(error = %source, "request failed");
                problem_response(
                    status,
                    problem_type,
                    "an internal error occurred; it has been logged".into(),
                    vec![],
                )
            }
            ApiError::Service(ServiceError::Invalid { detail, errors }) => {
                problem_response(status, problem_type, detail, errors)
            }
            other => problem_response(status, problem_type, other.to_string(), vec![]),
        };
        if status == StatusCode::SERVICE_UNAVAILABLE {
            // A full disk is not freed in a second; retrying at once would only add load.
            let seconds = if problem_type == ProblemType::StorageFull {
                "30"
            } else {
                "1"
            };
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static(seconds));
        }
        if status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
