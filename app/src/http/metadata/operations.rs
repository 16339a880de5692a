//! The metadata endpoints' behaviour, shared by both scopes.

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use domain::{DocumentName, Kind, Scope};
use serde::Deserialize;
use serde_json::Value;

use super::views::{
    AuditEntry, CheckResult, Document, DocumentSummary, Published, RollbackRequest, Version,
    VersionSummary,
};
use crate::http::auth::Principal;
use crate::http::extract::{Deferred, Json, JsonOrYaml};
use crate::http::merchants::authorize_merchant;
use crate::http::pagination::{List, PageParams};
use crate::http::problem::{ApiError, ApiResult};
use crate::http::schemas::parse_kind;
use crate::persistence::entities::metadata_document;
use crate::persistence::stored_json;
use crate::persistence::{audit, metadata as rows};
use crate::services::metadata::{self, DocumentRef, etag};
use crate::state::AppState;

/// Path parameters of a document; `merchant_id` is absent at platform scope.
#[derive(Debug, Deserialize)]
pub struct DocumentPath {
    pub merchant_id: Option<String>,
    pub kind: String,
    pub name: String,
}

#[derive(Debug, Deserialize)]
pub struct KindPath {
    pub merchant_id: Option<String>,
    pub kind: String,
}

#[derive(Debug, Deserialize)]
pub struct VersionPath {
    pub merchant_id: Option<String>,
    pub kind: String,
    pub name: String,
    pub version: i32,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Access {
    Read,
    Write,
}

/// Platform documents are readable by any admin and writable by platform admins; a
/// merchant's documents belong to its admins.
async fn authorize_scope(
    state: &AppState,
    principal: &Principal,
    merchant_id: Option<&str>,
    access: Access,
) -> ApiResult<Scope> {
    match merchant_id {
        None => {
            match access {
                Access::Read => principal.require_admin()?,
                Access::Write => principal.require_platform_admin()?,
            }
            Ok(Scope::Platform)
        }
        Some(raw) => Ok(Scope::Merchant(
            authorize_merchant(state, principal, raw).await?,
        )),
    }
}

fn kind_in_scope(raw: &str, scope: &Scope) -> ApiResult<Kind> {
    let kind = parse_kind(raw)?;
    if kind.allowed_in(scope) {
        Ok(kind)
    } else {
        Err(ApiError::not_found(format!(
            "{kind} documents live at {} scope, not here",
            kind.scopes_description()
        )))
    }
}

pub(super) async fn document_ref(
    state: &AppState,
    principal: &Principal,
    path: &DocumentPath,
    access: Access,
) -> ApiResult<DocumentRef> {
    let scope = authorize_scope(state, principal, path.merchant_id.as_deref(), access).await?;
    let kind = kind_in_scope(&path.kind, &scope)?;
    let name = DocumentName::parse(&path.name).map_err(|e| ApiError::BadRequest(e.to_string()))?;
    Ok(DocumentRef { scope, kind, name })
}

pub(in crate::http) fn scope_label(scope: &Scope) -> String {
    match scope {
        Scope::Platform => "platform".into(),
        Scope::Merchant(id) => format!("merchants/{id}"),
    }
}

pub(super) fn if_match(headers: &HeaderMap) -> ApiResult<Option<&str>> {
    headers
        .get(header::IF_MATCH)
        .map(|v| {
            v.to_str()
                .map_err(|_| ApiError::BadRequest("If-Match is not valid ASCII".into()))
        })
        .transpose()
}

async fn document_response(
    state: &AppState,
    at: &DocumentRef,
    row: metadata_document::Model,
) -> ApiResult<Response> {
    let published = match row.published_version {
        Some(version) => metadata::version_body(&state.db, row.id, version)
            .await?
            .map(|(_, body)| body),
        None => None,
    };
    let draft = row.draft.as_deref().map(stored_json).transpose()?;
    let tag = etag(row.revision);
    let document = Document {
        kind: at.kind.to_string(),
        name: at.name.to_string(),
        scope: scope_label(&at.scope),
        published_version: row.published_version,
        published,
        draft,
        etag: tag.clone(),
        draft_updated_at: row.draft_updated_at,
        updated_at: row.updated_at,
    };
    let mut response = axum::Json(document).into_response();
    if let Ok(value) = HeaderValue::from_str(&tag) {
        response.headers_mut().insert(header::ETAG, value);
    }
    Ok(response)
}

pub async fn save_draft(
    state: AppState,
    principal: Principal,
    path: DocumentPath,
    headers: HeaderMap,
    body: Deferred<JsonOrYaml>,
) -> ApiResult<Response> {
    let at = document_ref(&state, &principal, &path, Access::Write).await?;
    let JsonOrYaml(body) = body.read()?;
    let row = metadata::save_draft(
        &state,
        &at,
        &body,
        if_match(&headers)?.into(),
        &principal.key_id,
    )
    .await?;
    document_response(&state, &at, row).await
}

pub async fn discard_draft(
    state: AppState,
    principal: Principal,
    path: DocumentPath,
    headers: HeaderMap,
) -> ApiResult<StatusCode> {
    let at = document_ref(&state, &principal, &path, Access::Write).await?;
    metadata::discard_draft(&state, &at, if_match(&headers)?.into(), &principal.key_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn get_document(
    state: AppState,
    principal: Principal,
    path: DocumentPath,
) -> ApiResult<Response> {
    let at = document_ref(&state, &principal, &path, Access::Read).await?;
    let row = metadata::find(&state.db, &at).await?;
    document_response(&state, &at, row).await
}

pub async fn list_documents(
    state: AppState,
    principal: Principal,
    path: KindPath,
    params: PageParams,
) -> ApiResult<axum::Json<List<DocumentSummary>>> {
    let scope = authorize_scope(
        &state,
        &principal,
        path.merchant_id.as_deref(),
        Access::Read,
    )
    .await?;
    let kind = kind_in_scope(&path.kind, &scope)?;
    let page = rows::list(&state.db, &scope.key(), kind.as_str(), &params.request()?).await?;
    Ok(axum::Json(List::new(page, DocumentSummary::from)))
}

pub async fn publish(
    state: AppState,
    principal: Principal,
    path: DocumentPath,
    headers: HeaderMap,
) -> ApiResult<(StatusCode, axum::Json<Published>)> {
    let at = document_ref(&state, &principal, &path, Access::Write).await?;
    let publication = metadata::publish(
        &state,
        &at,
        if_match(&headers)?.into(),
        &principal.key_id,
        None,
    )
    .await?;
    Ok(published(&at, publication))
}

fn published(
    at: &DocumentRef,
    publication: metadata::Publication,
) -> (StatusCode, axum::Json<Published>) {
    (
        StatusCode::CREATED,
        axum::Json(Published {
            kind: at.kind.to_string(),
            name: at.name.to_string(),
            version: publication.version,
            warnings: publication.warnings.into_iter().map(Into::into).collect(),
        }),
    )
}

pub async fn check(
    state: AppState,
    principal: Principal,
    path: DocumentPath,
    body: Deferred<JsonOrYaml>,
) -> ApiResult<axum::Json<CheckResult>> {
    let at = document_ref(&state, &principal, &path, Access::Write).await?;
    let JsonOrYaml(body) = body.read()?;
    let findings = metadata::findings(&state.db, &state.scripts, &at, body).await?;
    Ok(axum::Json(CheckResult {
        publishable: findings.problems.is_empty(),
        problems: findings.problems.into_iter().map(Into::into).collect(),
        warnings: findings.warnings.into_iter().map(Into::into).collect(),
    }))
}

pub async fn rollback(
    state: AppState,
    principal: Principal,
    path: DocumentPath,
    request: Deferred<Json<Value>>,
) -> ApiResult<(StatusCode, axum::Json<Published>)> {
    let at = document_ref(&state, &principal, &path, Access::Write).await?;
    let Json(request) = request.read()?;
    let request: RollbackRequest = crate::http::extract::from_value(request)?;
    let publication = metadata::rollback(&state, &at, request.version, &principal.key_id).await?;
    Ok(published(&at, publication))
}

pub async fn list_versions(
    state: AppState,
    principal: Principal,
    path: DocumentPath,
    params: PageParams,
) -> ApiResult<axum::Json<List<VersionSummary>>> {
    let at = document_ref(&state, &principal, &path, Access::Read).await?;
    let document = metadata::find(&state.db, &at).await?;
    let page = rows::list_versions(&state.db, document.id, &params.request()?).await?;
    Ok(axum::Json(List::new(page, |row| VersionSummary {
        version: row.version,
        published_at: row.published_at,
        published_by: row.published_by,
        rolled_back_from: row.rolled_back_from,
    })))
}

pub async fn get_version(
    state: AppState,
    principal: Principal,
    path: VersionPath,
) -> ApiResult<axum::Json<Version>> {
    let document_path = DocumentPath {
        merchant_id: path.merchant_id,
        kind: path.kind,
        name: path.name,
    };
    let at = document_ref(&state, &principal, &document_path, Access::Read).await?;
    let document = metadata::find(&state.db, &at).await?;
    let (row, body) = metadata::version_body(&state.db, document.id, path.version)
        .await?
        .ok_or_else(|| {
            ApiError::not_found(format!(
                "{} '{}' has no version {}",
                at.kind, at.name, path.version
            ))
        })?;
    Ok(axum::Json(Version {
        kind: at.kind.to_string(),
        name: at.name.to_string(),
        version: row.version,
        body,
        published_at: row.published_at,
        published_by: row.published_by,
        rolled_back_from: row.rolled_back_from,
    }))
}

pub async fn audit_log(
    state: AppState,
    principal: Principal,
    merchant_id: Option<&str>,
    params: PageParams,
) -> ApiResult<axum::Json<List<AuditEntry>>> {
    let scope = authorize_scope(&state, &principal, merchant_id, Access::Read).await?;
    let page = audit::list(&state.db, &scope.key(), &params.request()?).await?;
    Ok(axum::Json(List::new(page, |row| AuditEntry {
        id: row.id,
        at: row.at,
        actor: row.actor,
        action: row.action,
        kind: row.kind,
        name: row.name,
        from_version: row.from_version,
        to_version: row.to_version,
    })))
}
