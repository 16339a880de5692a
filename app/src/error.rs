//! The one error type of the HTTP layer, mapped once to RFC 9457 problem+json.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use domain::Violation;
use serde::Serialize;
use utoipa::ToSchema;

pub const PROBLEM_JSON: &str = "application/problem+json";
const PROBLEM_BASE: &str = "https://orderflow.dev/problems/";

/// Everything a request can fail with. Each variant has a stable problem `type`.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    BadRequest(String),
    #[error("missing or unknown API key")]
    Unauthorized,
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{detail}")]
    Conflict {
        problem: &'static str,
        detail: String,
    },
    #[error("the If-Match header names a stale ETag; read the resource again and retry")]
    PreconditionFailed,
    #[error("request body is larger than the limit of {limit} bytes")]
    PayloadTooLarge { limit: usize },
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("{detail}")]
    Unprocessable {
        detail: String,
        errors: Vec<Violation>,
    },
    #[error("the database cannot be reached or cannot take writes now; retry shortly")]
    Unavailable,
    #[error("the database's storage is full: nothing was written; retry later")]
    StorageFull,
    /// Logged in full, answered generically: the source never reaches a response.
    #[error("{0}")]
    Internal(String),
}

impl From<sea_orm::DbErr> for ApiError {
    fn from(err: sea_orm::DbErr) -> Self {
        if matches!(
            err,
            sea_orm::DbErr::ConnectionAcquire(_) | sea_orm::DbErr::Conn(_)
        ) {
            tracing::warn!(error = %err, "the database cannot be reached");
            return ApiError::Unavailable;
        }
        if let Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) = err.sql_err() {
            return ApiError::Conflict {
                problem: "conflict",
                detail: "the resource was changed concurrently or already exists; read it again and retry"
                    .into(),
            };
        }
        ApiError::Internal(format!("database: {err}"))
    }
}

impl From<crate::persistence::writer::WriteError> for ApiError {
    fn from(err: crate::persistence::writer::WriteError) -> Self {
        use crate::persistence::writer::WriteError;
        match err {
            WriteError::Unavailable(reason) => {
                tracing::warn!(%reason, "a write was refused: the database cannot take writes");
                ApiError::Unavailable
            }
            WriteError::StorageFull(reason) => {
                tracing::error!(%reason, "a write was refused: the database's storage is full");
                ApiError::StorageFull
            }
            WriteError::Contended(reason) => {
                tracing::warn!(%reason, "a write lost a race with another writer");
                ApiError::Conflict {
                    problem: "concurrent-modification",
                    detail: "the resource kept changing while this request was applied; retry it"
                        .into(),
                }
            }
            WriteError::Constraint(reason) => {
                tracing::warn!(%reason, "a write broke a constraint");
                ApiError::Conflict {
                    problem: "conflict",
                    detail: "the resource was changed concurrently or already exists; read it again and retry"
                        .into(),
                }
            }
            WriteError::Failed(reason) => ApiError::Internal(format!("write: {reason}")),
        }
    }
}

impl ApiError {
    pub fn internal(message: impl Into<String>) -> Self {
        ApiError::Internal(message.into())
    }

    pub fn invalid(errors: Vec<Violation>) -> Self {
        let detail = match errors.len() {
            1 => format!("1 problem: {}", errors[0].message),
            n => format!("{n} problems; see errors"),
        };
        ApiError::Unprocessable { detail, errors }
    }

    pub fn invalid_field(pointer: &str, message: impl Into<String>) -> Self {
        Self::invalid(vec![Violation::new(pointer, message)])
    }

    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Conflict { .. } => StatusCode::CONFLICT,
            ApiError::PreconditionFailed => StatusCode::PRECONDITION_FAILED,
            ApiError::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Unprocessable { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Unavailable | ApiError::StorageFull => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn problem_type(&self) -> &'static str {
        match self {
            ApiError::BadRequest(_) => "bad-request",
            ApiError::Unauthorized => "unauthorized",
            ApiError::Forbidden(_) => "forbidden",
            ApiError::NotFound(_) => "not-found",
            ApiError::Conflict { problem, .. } => problem,
            ApiError::PreconditionFailed => "precondition-failed",
            ApiError::PayloadTooLarge { .. } => "payload-too-large",
            ApiError::UnsupportedMediaType(_) => "unsupported-media-type",
            ApiError::Unprocessable { .. } => "validation-failed",
            ApiError::Unavailable => "unavailable",
            ApiError::StorageFull => "storage-full",
            ApiError::Internal(_) => "internal",
        }
    }
}

/// An RFC 9457 problem document.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// A URI naming the kind of problem; stable, safe to branch on.
    #[schema(example = "https://orderflow.dev/problems/validation-failed")]
    #[serde(rename = "type")]
    pub problem_type: String,
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
    problem_type: &str,
    detail: String,
    errors: Vec<Violation>,
) -> Response {
    let problem = Problem {
        problem_type: format!("{PROBLEM_BASE}{problem_type}"),
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
            ApiError::Internal(source) => {
                tracing::error!(error = %source, "request failed");
                problem_response(
                    status,
                    problem_type,
                    "an internal error occurred; it has been logged".into(),
                    vec![],
                )
            }
            ApiError::Unprocessable { detail, errors } => {
                problem_response(status, problem_type, detail, errors)
            }
            other => problem_response(status, problem_type, other.to_string(), vec![]),
        };
        if status == StatusCode::SERVICE_UNAVAILABLE {
            // A full disk is not freed in a second; retrying at once would only add load.
            let seconds = if problem_type == "storage-full" {
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
