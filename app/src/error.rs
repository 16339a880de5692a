//! The one error type of the service layer (the engine, published metadata, the services):
//! what an operation can fail with, in its own terms. The HTTP edge maps it to problem+json
//! once (`http::problem`); nothing here knows about status codes.

use domain::Violation;

use crate::persistence::writer::WriteError;
use crate::problem_type::ProblemType;

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("{0}")]
    NotFound(String),
    /// The operation conflicts with the resource's state; `problem` names the rule it broke.
    #[error("{detail}")]
    Conflict {
        problem: ProblemType,
        detail: String,
    },
    /// The caller changed from a revision that is no longer the newest.
    #[error("the document changed since the revision the request names")]
    StaleRevision,
    #[error("{detail}")]
    Invalid {
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

pub type ServiceResult<T> = Result<T, ServiceError>;

impl ServiceError {
    pub fn internal(message: impl Into<String>) -> Self {
        ServiceError::Internal(message.into())
    }

    pub fn invalid(errors: Vec<Violation>) -> Self {
        let detail = match errors.len() {
            1 => format!("1 problem: {}", errors[0].message),
            n => format!("{n} problems; see errors"),
        };
        ServiceError::Invalid { detail, errors }
    }

    pub fn invalid_field(pointer: &str, message: impl Into<String>) -> Self {
        Self::invalid(vec![Violation::new(pointer, message)])
    }

    /// The merchant has not published `what`, which the operation needs (409
    /// `merchant-not-configured`, not a 404: the merchant exists); `remedy` says what to do.
    pub fn not_configured(what: &str, remedy: &str) -> Self {
        ServiceError::Conflict {
            problem: ProblemType::MerchantNotConfigured,
            detail: format!("the merchant has no published {what}; {remedy}"),
        }
    }

    fn changed_concurrently() -> Self {
        ServiceError::Conflict {
            problem: ProblemType::Conflict,
            detail:
                "the resource was changed concurrently or already exists; read it again and retry"
                    .into(),
        }
    }
}

/// A read fails the way a write would: an unreachable database is a 503, not a 500.
impl From<sea_orm::DbErr> for ServiceError {
    fn from(err: sea_orm::DbErr) -> Self {
        WriteError::from(err).into()
    }
}

impl From<WriteError> for ServiceError {
    fn from(err: WriteError) -> Self {
        match err {
            WriteError::Unavailable(reason) => {
                tracing::warn!(%reason, "the database cannot be reached or cannot take writes");
                ServiceError::Unavailable
            }
            WriteError::StorageFull(reason) => {
                tracing::error!(%reason, "the database's storage is full");
                ServiceError::StorageFull
            }
            WriteError::Contended(reason) => {
                tracing::warn!(%reason, "a write lost a race with another writer");
                ServiceError::Conflict {
                    problem: ProblemType::ConcurrentModification,
                    detail: "the resource kept changing while this request was applied; retry it"
                        .into(),
                }
            }
            WriteError::Constraint(reason) => {
                tracing::warn!(%reason, "a write broke a constraint");
                ServiceError::changed_concurrently()
            }
            WriteError::Failed(reason) => ServiceError::Internal(format!("database: {reason}")),
        }
    }
}
