//! The JSON Schemas of the metadata kinds, for clients and schema-driven form UIs.

use domain::Kind;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::http::auth::Principal;
use crate::http::extract::Path;
use crate::http::problem::{ApiError, ApiResult, Problem};
use crate::openapi_enums::MetadataKindSchema;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_schemas))
        .routes(routes!(get_schema))
}

/// A metadata kind and where its schema is.
#[derive(Serialize, ToSchema)]
pub struct KindSummary {
    #[schema(value_type = MetadataKindSchema, example = "payment-combination")]
    pub kind: &'static str,
    pub title: String,
    pub description: String,
    /// Where documents of this kind may live: `platform`, `merchant`.
    #[schema(example = json!(["merchant"]))]
    pub scopes: Vec<&'static str>,
    #[schema(example = "/v1/schemas/payment-combination")]
    pub schema_url: String,
}

#[derive(Serialize, ToSchema)]
pub struct KindList {
    pub data: Vec<KindSummary>,
}

pub fn parse_kind(kind: &str) -> ApiResult<Kind> {
    Kind::parse(kind).ok_or_else(|| {
        let known: Vec<&str> = Kind::ALL.iter().map(|k| k.as_str()).collect();
        ApiError::not_found(format!(
            "unknown kind '{kind}'; the kinds are {}",
            known.join(", ")
        ))
    })
}

/// List the metadata kinds.
#[utoipa::path(get, path = "/v1/schemas", tag = "schemas",
    security(("bearer" = ["platform_admin", "merchant_admin", "storefront"])),
    responses(
        (status = 200, description = "The kinds", body = KindList),
        (status = 401, description = "No or unknown API key", body = Problem, content_type = "application/problem+json"),
    ))]
async fn list_schemas(_principal: Principal) -> axum::Json<KindList> {
    let data = Kind::ALL
        .into_iter()
        .map(|kind| {
            let schema = domain::schema::schema(kind);
            let text = |key: &str| schema[key].as_str().unwrap_or_default().to_owned();
            KindSummary {
                kind: kind.as_str(),
                title: text("title"),
                description: text("description"),
                scopes: kind.scopes_description().split(", ").collect(),
                schema_url: format!("/v1/schemas/{kind}"),
            }
        })
        .collect();
    axum::Json(KindList { data })
}

/// Get the JSON Schema (draft 2020-12) of a kind.
#[utoipa::path(get, path = "/v1/schemas/{kind}", tag = "schemas",
    security(("bearer" = ["platform_admin", "merchant_admin", "storefront"])),
    params(("kind" = MetadataKindSchema, Path, description = "A metadata kind, e.g. `payment-combination`")),
    responses(
        (status = 200, description = "The JSON Schema", body = Object),
        (status = 401, description = "No or unknown API key", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown kind", body = Problem, content_type = "application/problem+json"),
    ))]
async fn get_schema(
    _principal: Principal,
    Path(kind): Path<String>,
) -> ApiResult<axum::Json<serde_json::Value>> {
    let kind = parse_kind(&kind)?;
    Ok(axum::Json(domain::schema::schema(kind).clone()))
}
