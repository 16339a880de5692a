//! Liveness, readiness: for load balancers and orchestrators.

use axum::extract::State;
use axum::http::StatusCode;
use migrations::{Migrator, MigratorTrait};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::error::ApiError;
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
}

/// The process is up.
#[utoipa::path(get, path = "/healthz", tag = "operations", responses(
    (status = 200, description = "The process is up", body = Health)))]
async fn healthz() -> axum::Json<Health> {
    axum::Json(Health { status: "ok" })
}

/// The database is reachable and every migration is applied.
#[utoipa::path(get, path = "/readyz", tag = "operations", responses(
    (status = 200, description = "Ready to serve", body = Health),
    (status = 503, description = "Not ready", body = crate::error::Problem, content_type = "application/problem+json")))]
async fn readyz(
    State(state): State<AppState>,
) -> Result<(StatusCode, axum::Json<Health>), ApiError> {
    state.db.ping().await.map_err(|_| ApiError::Unavailable)?;
    let pending = Migrator::get_pending_migrations(&state.db)
        .await
        .map_err(|_| ApiError::Unavailable)?;
    if !pending.is_empty() {
        return Err(ApiError::Unavailable);
    }
    Ok((StatusCode::OK, axum::Json(Health { status: "ready" })))
}
