//! Routes of platform-scope documents: the payment method catalog and the default flow.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::Value;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::operations::{self, DocumentPath, KindPath, VersionPath};
use super::views::{
    AuditEntry, CheckResult, DocumentByKind, DocumentSummary, Published, RollbackRequest, Version,
    VersionByKind, VersionSummary,
};
use crate::http::auth::Principal;
use crate::http::docs::{
    AuthErrors, BodyErrors, NotFoundError, ParameterError, WriteConflicts, conflict_responses,
};
use crate::http::extract::{Deferred, Json, JsonOrYaml, Path, Query};
use crate::http::pagination::{List, PageParams};
use crate::http::problem::ApiResult;
use crate::openapi_enums::PlatformKindSchema;
use crate::state::AppState;

conflict_responses! {
    /// 409 of publishing a platform document (platform documents are never rolled out).
    PlatformPublishConflicts: write = [NoDraft, NothingToPublish];
}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(platform_save_draft, platform_discard_draft))
        .routes(routes!(platform_get_document))
        .routes(routes!(platform_list_documents))
        .routes(routes!(platform_publish))
        .routes(routes!(platform_check))
        .routes(routes!(platform_list_versions))
        .routes(routes!(platform_get_version))
        .routes(routes!(platform_rollback))
        .routes(routes!(platform_audit_log))
}

const PROBLEM: &str = "application/problem+json";

/// Save a platform document's draft.
///
/// The body is the document; it is validated against the kind's JSON Schema (422 with one
/// JSON pointer per violation). Honours `If-Match` (412 when stale).
///
/// The body's schema depends on `kind`, a path parameter, which OpenAPI cannot select a
/// request schema by; so the body is documented as any object. Its shape is the kind's
/// component in this document (`PaymentCombination`, `OrderFlow`, … as in the responses'
/// `Document` union), also served at `GET /v1/schemas/{kind}`.
#[utoipa::path(put, path = "/v1/platform/metadata/{kind}/{name}/draft", tag = "platform metadata",
    security(("bearer" = ["platform_admin"])),
    params(
        ("kind" = PlatformKindSchema, Path, description = "`payment-method` or `order-flow`"),
        ("name" = inline(super::DocumentNameParam), Path, description = "The document's name, e.g. `alipay` or `default`"),
        ("If-Match" = Option<String>, Header, nullable = false, description = "The ETag the change is based on"),
    ),
    request_body(description = "The document, as the kind's JSON Schema describes it: JSON, or YAML (converted to JSON)",
        content((Object = "application/json"), (Object = "application/yaml"))),
    responses(
        (status = 200, description = "Saved", body = DocumentByKind, headers(("ETag" = String, description = "The new ETag"))),
        AuthErrors, BodyErrors, NotFoundError, WriteConflicts,
        (status = 412, description = "If-Match names a stale ETag", body = crate::http::problem::Problem, content_type = PROBLEM),
    ))]
async fn platform_save_draft(
    State(state): State<AppState>,
    principal: Principal,
    Path(path): Path<DocumentPath>,
    headers: HeaderMap,
    body: Deferred<JsonOrYaml>,
) -> ApiResult<Response> {
    operations::save_draft(state, principal, path, headers, body).await
}

/// Discard a platform document's saved draft.
///
/// The published versions stay as they are. A document that was never published is only
/// its draft, so it is gone afterwards (404). Honours `If-Match` (412 when stale). Audit-logged
/// as `draft_discarded`.
#[utoipa::path(delete, path = "/v1/platform/metadata/{kind}/{name}/draft", tag = "platform metadata",
    security(("bearer" = ["platform_admin"])),
    params(
        ("kind" = PlatformKindSchema, Path, description = "`payment-method` or `order-flow`"),
        ("name" = inline(super::DocumentNameParam), Path, description = "The document's name"),
        ("If-Match" = Option<String>, Header, nullable = false, description = "The ETag the change is based on"),
    ),
    responses(
        (status = 204, description = "The draft was discarded"),
        AuthErrors, NotFoundError, ParameterError, WriteConflicts,
        (status = 412, description = "If-Match names a stale ETag", body = crate::http::problem::Problem, content_type = PROBLEM),
    ))]
async fn platform_discard_draft(
    State(state): State<AppState>,
    principal: Principal,
    Path(path): Path<DocumentPath>,
    headers: HeaderMap,
) -> ApiResult<StatusCode> {
    operations::discard_draft(state, principal, path, headers).await
}

/// Get a platform document: its published version and its draft.
#[utoipa::path(get, path = "/v1/platform/metadata/{kind}/{name}", tag = "platform metadata",
    security(("bearer" = ["platform_admin", "merchant_admin"])),
    params(
        ("kind" = PlatformKindSchema, Path, description = "`payment-method` or `order-flow`"),
        ("name" = inline(super::DocumentNameParam), Path, description = "The document's name"),
    ),
    responses(
        (status = 200, description = "The document", body = DocumentByKind, headers(("ETag" = String, description = "The current ETag"))),
        AuthErrors, NotFoundError, ParameterError,
    ))]
async fn platform_get_document(
    State(state): State<AppState>,
    principal: Principal,
    Path(path): Path<DocumentPath>,
) -> ApiResult<Response> {
    operations::get_document(state, principal, path).await
}

/// List the platform documents of a kind, by name.
#[utoipa::path(get, path = "/v1/platform/metadata/{kind}", tag = "platform metadata",
    security(("bearer" = ["platform_admin", "merchant_admin"])),
    params(("kind" = PlatformKindSchema, Path, description = "`payment-method` or `order-flow`"), PageParams),
    responses(
        (status = 200, description = "A page of documents", body = List<DocumentSummary>),
        AuthErrors, NotFoundError, ParameterError,
    ))]
async fn platform_list_documents(
    State(state): State<AppState>,
    principal: Principal,
    Path(path): Path<KindPath>,
    Query(params): Query<PageParams>,
) -> ApiResult<axum::Json<List<DocumentSummary>>> {
    operations::list_documents(state, principal, path, params).await
}

/// Publish a platform document's draft as its next immutable version.
///
/// Runs the cross-document checks; failure is a 422 listing every problem.
#[utoipa::path(post, path = "/v1/platform/metadata/{kind}/{name}/publish", tag = "platform metadata",
    security(("bearer" = ["platform_admin"])),
    params(
        ("kind" = PlatformKindSchema, Path, description = "`payment-method` or `order-flow`"),
        ("name" = inline(super::DocumentNameParam), Path, description = "The document's name"),
        ("If-Match" = Option<String>, Header, nullable = false, description = "The ETag the publish is based on"),
    ),
    responses(
        (status = 201, description = "Published", body = Published),
        AuthErrors, NotFoundError, ParameterError, PlatformPublishConflicts,
        (status = 412, description = "If-Match names a stale ETag", body = crate::http::problem::Problem, content_type = PROBLEM),
        (status = 422, description = "The draft fails the checks; every problem is listed", body = crate::http::problem::Problem, content_type = PROBLEM),
    ))]
async fn platform_publish(
    State(state): State<AppState>,
    principal: Principal,
    Path(path): Path<DocumentPath>,
    headers: HeaderMap,
) -> ApiResult<(StatusCode, axum::Json<Published>)> {
    operations::publish(state, principal, path, headers).await
}

/// Check a platform document without publishing it.
///
/// Runs every check publishing runs (the kind's JSON Schema, then the cross-document
/// checks; for a discount function, its test cases) on the document in the body, and lists
/// every problem. Nothing is saved: an editor can show problems as the user types.
#[utoipa::path(post, path = "/v1/platform/metadata/{kind}/{name}/check", tag = "platform metadata",
    security(("bearer" = ["platform_admin"])),
    params(
        ("kind" = PlatformKindSchema, Path, description = "`payment-method` or `order-flow`"),
        ("name" = inline(super::DocumentNameParam), Path, description = "The document's name (a payment method's must equal its code)"),
    ),
    request_body(description = "The document to check, as JSON or YAML (converted to JSON): any object, since what breaks the kind's schema is reported in `problems`, not refused; the kind's shape is its component here (`PaymentCombination`, `OrderFlow`, …) and `GET /v1/schemas/{kind}`",
        content((Object = "application/json"), (Object = "application/yaml"))),
    responses(
        (status = 200, description = "The problems publishing it would meet; none when `publishable`", body = CheckResult),
        AuthErrors, BodyErrors, NotFoundError,
    ))]
async fn platform_check(
    State(state): State<AppState>,
    principal: Principal,
    Path(path): Path<DocumentPath>,
    body: Deferred<JsonOrYaml>,
) -> ApiResult<axum::Json<CheckResult>> {
    operations::check(state, principal, path, body).await
}

/// List a platform document's published versions, newest first.
#[utoipa::path(get, path = "/v1/platform/metadata/{kind}/{name}/versions", tag = "platform metadata",
    security(("bearer" = ["platform_admin", "merchant_admin"])),
    params(
        ("kind" = PlatformKindSchema, Path, description = "`payment-method` or `order-flow`"),
        ("name" = inline(super::DocumentNameParam), Path, description = "The document's name"),
        PageParams,
    ),
    responses(
        (status = 200, description = "A page of versions", body = List<VersionSummary>),
        AuthErrors, NotFoundError, ParameterError,
    ))]
async fn platform_list_versions(
    State(state): State<AppState>,
    principal: Principal,
    Path(path): Path<DocumentPath>,
    Query(params): Query<PageParams>,
) -> ApiResult<axum::Json<List<VersionSummary>>> {
    operations::list_versions(state, principal, path, params).await
}

/// Get one published version of a platform document.
#[utoipa::path(get, path = "/v1/platform/metadata/{kind}/{name}/versions/{version}", tag = "platform metadata",
    security(("bearer" = ["platform_admin", "merchant_admin"])),
    params(
        ("kind" = PlatformKindSchema, Path, description = "`payment-method` or `order-flow`"),
        ("name" = inline(super::DocumentNameParam), Path, description = "The document's name"),
        ("version" = i32, Path, description = "The version number"),
    ),
    responses(
        (status = 200, description = "The version", body = VersionByKind),
        AuthErrors, NotFoundError, ParameterError,
    ))]
async fn platform_get_version(
    State(state): State<AppState>,
    principal: Principal,
    Path(path): Path<VersionPath>,
) -> ApiResult<axum::Json<Version>> {
    operations::get_version(state, principal, path).await
}

/// Publish an older version's body again, as a new version.
#[utoipa::path(post, path = "/v1/platform/metadata/{kind}/{name}/rollback", tag = "platform metadata",
    security(("bearer" = ["platform_admin"])),
    params(
        ("kind" = PlatformKindSchema, Path, description = "`payment-method` or `order-flow`"),
        ("name" = inline(super::DocumentNameParam), Path, description = "The document's name"),
    ),
    request_body = RollbackRequest,
    responses(
        (status = 201, description = "Published as a new version", body = Published),
        AuthErrors, BodyErrors, NotFoundError, WriteConflicts,
    ))]
async fn platform_rollback(
    State(state): State<AppState>,
    principal: Principal,
    Path(path): Path<DocumentPath>,
    request: Deferred<Json<Value>>,
) -> ApiResult<(StatusCode, axum::Json<Published>)> {
    operations::rollback(state, principal, path, request).await
}

/// The platform scope's audit log, newest first: draft saves, publishes, rollbacks.
#[utoipa::path(get, path = "/v1/platform/audit-log", tag = "platform metadata",
    security(("bearer" = ["platform_admin", "merchant_admin"])),
    params(PageParams),
    responses(
        (status = 200, description = "A page of audit entries", body = List<AuditEntry>),
        AuthErrors, ParameterError,
    ))]
async fn platform_audit_log(
    State(state): State<AppState>,
    principal: Principal,
    Query(params): Query<PageParams>,
) -> ApiResult<axum::Json<List<AuditEntry>>> {
    operations::audit_log(state, principal, None, params).await
}
