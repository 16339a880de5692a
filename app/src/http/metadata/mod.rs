//! Metadata documents, at platform scope (`/v1/platform/...`) and merchant scope
//! (`/v1/merchants/{merchant_id}/...`). Both scopes share one implementation
//! ([`operations`]); [`platform`] and [`merchant`] only declare the routes.

mod merchant;
mod operations;
mod platform;
mod views;

use utoipa_axum::router::OpenApiRouter;

use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    platform::router().merge(merchant::router())
}
