//! Metadata documents, at platform scope (`/v1/platform/...`) and merchant scope
//! (`/v1/merchants/{merchant_id}/...`). Both scopes share one implementation
//! ([`operations`]); [`platform`] and [`merchant`] only declare the routes.

mod merchant;
pub(super) mod operations;
mod platform;
mod rollouts;
pub(super) mod views;

use domain::DocumentName;
use utoipa_axum::router::OpenApiRouter;

use crate::http::docs::pattern_param;
use crate::state::AppState;

pattern_param! {
    /// The `{name}` path parameter of every document operation, documented with the pattern
    /// [`DocumentName::parse`] enforces (a name that does not match is a 400).
    DocumentNameParam = DocumentName::PATTERN
}

pub fn router() -> OpenApiRouter<AppState> {
    platform::router()
        .merge(merchant::router())
        .merge(rollouts::router())
}
