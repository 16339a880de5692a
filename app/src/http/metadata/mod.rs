//! Metadata documents, at platform scope (`/v1/platform/...`) and merchant scope
//! (`/v1/merchants/{merchant_id}/...`). Both scopes share one implementation
//! ([`operations`]); [`platform`] and [`merchant`] only declare the routes.

mod merchant;
pub(super) mod operations;
mod platform;
mod rollouts;
pub(super) mod views;

use domain::DocumentName;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::{PartialSchema, ToSchema};
use utoipa_axum::router::OpenApiRouter;

use crate::state::AppState;

/// The `{name}` path parameter of every document operation, documented with the pattern
/// [`DocumentName::parse`] enforces (a name that does not match is a 400).
pub struct DocumentNameParam;

impl PartialSchema for DocumentNameParam {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .pattern(Some(DocumentName::PATTERN))
            .into()
    }
}

impl ToSchema for DocumentNameParam {}

pub fn router() -> OpenApiRouter<AppState> {
    platform::router()
        .merge(merchant::router())
        .merge(rollouts::router())
}
