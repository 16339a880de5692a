//! Request and response bodies of the metadata endpoints.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use crate::openapi_enums::MetadataKindSchema;
use crate::openapi_kinds::kind_union_schema;
use crate::persistence::entities::metadata_document;

/// A document: its published version and its draft. Documented per kind, as
/// [`DocumentByKind`].
#[derive(Debug, Serialize, ToSchema)]
pub struct Document {
    #[schema(value_type = MetadataKindSchema, example = "payment-combination")]
    pub kind: String,
    #[schema(example = "default")]
    pub name: String,
    /// `platform` or `merchants/{merchant_id}`.
    #[schema(example = "merchants/haidilao")]
    pub scope: String,
    /// The newest published version; null before the first publish.
    pub published_version: Option<i32>,
    /// The body of the newest published version.
    #[schema(value_type = Option<Object>)]
    pub published: Option<Value>,
    /// The unpublished draft, if any. Publishing consumes it.
    #[schema(value_type = Option<Object>)]
    pub draft: Option<Value>,
    /// Changes on every save, publish and rollback; send it as `If-Match` to avoid
    /// overwriting someone else's change.
    #[schema(example = "\"r3\"")]
    pub etag: String,
    pub draft_updated_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
}

/// A document in a listing.
#[derive(Debug, Serialize, ToSchema)]
pub struct DocumentSummary {
    #[schema(example = "alipay-discount")]
    pub name: String,
    pub published_version: Option<i32>,
    pub has_draft: bool,
    pub updated_at: DateTime<Utc>,
}

impl From<metadata_document::Model> for DocumentSummary {
    fn from(row: metadata_document::Model) -> Self {
        Self {
            name: row.name,
            published_version: row.published_version,
            has_draft: row.draft.is_some(),
            updated_at: row.updated_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Published {
    #[schema(value_type = MetadataKindSchema, example = "routing-table")]
    pub kind: String,
    #[schema(example = "default")]
    pub name: String,
    /// The new version's number.
    #[schema(example = 2)]
    pub version: i32,
    /// What the new version may set off, though nothing in it is wrong (same shape as a
    /// problem: a JSON pointer into the document and a message). For a routing table whose
    /// default cancels, and for a payment combination under such a table: each enabled
    /// payment method no rule routes. Customers can still choose such a method and pay,
    /// and the order is then canceled with `no_route`.
    pub warnings: Vec<crate::http::problem::ProblemViolation>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RollbackRequest {
    /// The version whose body is published again.
    #[schema(example = 1, minimum = 1)]
    pub version: i32,
}

/// A published version in a listing.
#[derive(Debug, Serialize, ToSchema)]
pub struct VersionSummary {
    pub version: i32,
    pub published_at: DateTime<Utc>,
    /// The id of the API key that published it (`seed` for the demo data).
    pub published_by: String,
    /// When this version is a rollback: the version whose body it republished.
    pub rolled_back_from: Option<i32>,
}

kind_union_schema! {
    /// The `Document` component: a [`Document`] per kind, its bodies of the kind's schema.
    DocumentByKind as "Document" = Document, &["published", "draft"]
}

/// A published version, with its body. Documented per kind, as [`VersionByKind`].
#[derive(Debug, Serialize, ToSchema)]
pub struct Version {
    #[schema(value_type = MetadataKindSchema)]
    pub kind: String,
    pub name: String,
    pub version: i32,
    #[schema(value_type = Object)]
    pub body: Value,
    pub published_at: DateTime<Utc>,
    pub published_by: String,
    pub rolled_back_from: Option<i32>,
}

kind_union_schema! {
    /// The `Version` component: a [`Version`] per kind, its body of the kind's schema.
    VersionByKind as "Version" = Version, &["body"]
}

/// One change to a document.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEntry {
    pub id: i64,
    pub at: DateTime<Utc>,
    /// The id of the API key that made the change.
    pub actor: String,
    /// `draft_saved`, `draft_discarded`, `published` or `rolled_back`.
    #[schema(example = "published")]
    pub action: String,
    #[schema(value_type = MetadataKindSchema)]
    pub kind: String,
    pub name: String,
    /// The published version before the change.
    pub from_version: Option<i32>,
    /// The published version the change made (publish, rollback).
    pub to_version: Option<i32>,
}

/// What publishing a document would meet, found without publishing it.
#[derive(Debug, Serialize, ToSchema)]
pub struct CheckResult {
    /// True when publishing this document now would pass every check.
    pub publishable: bool,
    /// Every problem, each at a JSON pointer into the document: the kind's schema
    /// violations or, when the schema holds, what the cross-document checks found (unknown
    /// methods, shadowed rules, failing test cases).
    pub problems: Vec<crate::http::problem::ProblemViolation>,
    /// What publishing it would warn of without refusing it, each at a JSON pointer: see
    /// `Published.warnings`. Listed whether or not the document is publishable.
    pub warnings: Vec<crate::http::problem::ProblemViolation>,
}
