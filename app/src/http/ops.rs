//! Liveness, readiness: for load balancers and orchestrators.

use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use migrations::{Migrator, MigratorTrait};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::error::ServiceError;
use crate::http::problem::ApiError;
use crate::state::AppState;

#[derive(Serialize, ToSchema)]
pub struct Health {
    #[schema(example = "ok")]
    pub status: &'static str,
}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(healthz))
        .routes(routes!(readyz))
        .routes(routes!(metrics))
}

/// The process is up.
#[utoipa::path(get, path = "/healthz", tag = "operations", responses(
    (status = 200, description = "The process is up", body = Health)))]
async fn healthz() -> axum::Json<Health> {
    axum::Json(Health { status: "ok" })
}

/// How long readiness waits for the database before it answers not ready.
const READINESS_DEADLINE: Duration = Duration::from_millis(1_500);
/// How long after a write failed for want of the database the instance says it is not ready
/// (unless a write commits meanwhile).
const UNREADY_AFTER_FAILED_WRITE: Duration = Duration::from_secs(10);

/// The database is reachable, every migration is applied, and writes commit.
#[utoipa::path(get, path = "/readyz", tag = "operations", responses(
    (status = 200, description = "Ready to serve", body = Health),
    (status = 503, description = "Not ready: the database cannot be reached (answered within 2 s), a migration is pending, or writes failed in the last 10 s because the database cannot take them (`unavailable`, `storage-full`)", body = crate::http::problem::Problem, content_type = "application/problem+json")))]
async fn readyz(
    State(state): State<AppState>,
) -> Result<(StatusCode, axum::Json<Health>), ApiError> {
    if state.writer.cannot_commit(UNREADY_AFTER_FAILED_WRITE) {
        return Err(ApiError::from(ServiceError::Unavailable));
    }
    let checks = async {
        state.db.ping().await?;
        Migrator::get_pending_migrations(&state.db).await
    };
    match tokio::time::timeout(READINESS_DEADLINE, checks).await {
        Ok(Ok(pending)) if pending.is_empty() => {
            Ok((StatusCode::OK, axum::Json(Health { status: "ready" })))
        }
        _ => Err(ApiError::from(ServiceError::Unavailable)),
    }
}

/// Prometheus metrics: requests by route and status, orders by final status and cancel
/// reason, function evaluations, timer lag, database pool use, the orders of active
/// rollouts by version and status.
#[utoipa::path(get, path = "/metrics", tag = "operations", responses(
    (status = 200, description = "Prometheus text exposition format", body = String, content_type = "text/plain; version=0.0.4")))]
async fn metrics(State(state): State<AppState>) -> impl axum::response::IntoResponse {
    let lag = match crate::persistence::executions::next_due(&state.db).await {
        Ok(Some(due)) => (crate::persistence::now() - due).num_seconds().max(0),
        _ => 0,
    };
    state.metrics.timer_lag_seconds.set(lag);
    if let Err(error) = crate::services::rollouts::refresh_metrics(&state).await {
        tracing::warn!(%error, "the rollout metrics could not be read");
    }
    let (size, idle) = pool_use(&state.db);
    state.metrics.db_pool.with_label_values(&["open"]).set(size);
    state.metrics.db_pool.with_label_values(&["idle"]).set(idle);
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4",
        )],
        state.metrics.render(),
    )
}

fn pool_use(db: &sea_orm::DatabaseConnection) -> (i64, i64) {
    match db.get_database_backend() {
        sea_orm::DbBackend::Sqlite => {
            let pool = db.get_sqlite_connection_pool();
            (
                i64::from(pool.size()),
                i64::try_from(pool.num_idle()).unwrap_or(0),
            )
        }
        _ => {
            let pool = db.get_postgres_connection_pool();
            (
                i64::from(pool.size()),
                i64::try_from(pool.num_idle()).unwrap_or(0),
            )
        }
    }
}
