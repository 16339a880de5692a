use std::collections::{BTreeMap, BTreeSet};

use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};

use super::entities::metadata_document::{self, Entity as Documents};
use super::entities::metadata_version::{self, Entity as Versions};
use super::{Page, PageRequest};

/// The address of a document: scope key, kind and name.
#[derive(Debug, Clone, Copy)]
pub struct Address<'a> {
    pub scope: &'a str,
    pub kind: &'a str,
    pub name: &'a str,
}

pub async fn find(
    db: &impl ConnectionTrait,
    at: Address<'_>,
) -> Result<Option<metadata_document::Model>, DbErr> {
    Documents::find()
        .filter(metadata_document::Column::Scope.eq(at.scope))
        .filter(metadata_document::Column::Kind.eq(at.kind))
        .filter(metadata_document::Column::Name.eq(at.name))
        .one(db)
        .await
}

pub async fn find_version(
    db: &impl ConnectionTrait,
    document_id: i64,
    version: i32,
) -> Result<Option<metadata_version::Model>, DbErr> {
    Versions::find_by_id((document_id, version)).one(db).await
}

/// The number of the document's newest version: the published one, or above it the
/// candidate of an aborted rollout, which keeps its number.
pub async fn newest_version(
    db: &impl ConnectionTrait,
    document_id: i64,
) -> Result<Option<i32>, DbErr> {
    Versions::find()
        .select_only()
        .column(metadata_version::Column::Version)
        .filter(metadata_version::Column::DocumentId.eq(document_id))
        .order_by_desc(metadata_version::Column::Version)
        .into_tuple()
        .one(db)
        .await
}

/// A document's versions, newest first.
pub async fn list_versions(
    db: &impl ConnectionTrait,
    document_id: i64,
    page: &PageRequest<i32>,
) -> Result<Page<metadata_version::Model, i32>, DbErr> {
    let mut query = Versions::find()
        .filter(metadata_version::Column::DocumentId.eq(document_id))
        .order_by_desc(metadata_version::Column::Version);
    if let Some(before) = page.after {
        query = query.filter(metadata_version::Column::Version.lt(before));
    }
    let rows = query.limit(page.limit + 1).all(db).await?;
    Ok(Page::from_overfetch(rows, page.limit, |v| v.version))
}

/// The documents of one kind in a scope, by name.
pub async fn list(
    db: &impl ConnectionTrait,
    scope: &str,
    kind: &str,
    page: &PageRequest<String>,
) -> Result<Page<metadata_document::Model, String>, DbErr> {
    let mut query = Documents::find()
        .filter(metadata_document::Column::Scope.eq(scope))
        .filter(metadata_document::Column::Kind.eq(kind))
        .order_by_asc(metadata_document::Column::Name);
    if let Some(after) = &page.after {
        query = query.filter(metadata_document::Column::Name.gt(after.as_str()));
    }
    let rows = query.limit(page.limit + 1).all(db).await?;
    Ok(Page::from_overfetch(rows, page.limit, |d| d.name.clone()))
}

/// The newest published version of each document of a kind in a scope, by name.
pub async fn published_versions(
    db: &impl ConnectionTrait,
    scope: &str,
    kind: &str,
) -> Result<BTreeMap<String, i32>, DbErr> {
    let rows: Vec<(String, Option<i32>)> = Documents::find()
        .select_only()
        .column(metadata_document::Column::Name)
        .column(metadata_document::Column::PublishedVersion)
        .filter(metadata_document::Column::Scope.eq(scope))
        .filter(metadata_document::Column::Kind.eq(kind))
        .filter(metadata_document::Column::PublishedVersion.is_not_null())
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(name, version)| Some((name, version?)))
        .collect())
}

/// Names of the documents of a kind in a scope that have a published version.
pub async fn published_names(
    db: &impl ConnectionTrait,
    scope: &str,
    kind: &str,
) -> Result<BTreeSet<String>, DbErr> {
    Ok(published_versions(db, scope, kind)
        .await?
        .into_keys()
        .collect())
}

/// The newest published body of a document, with its version.
pub async fn published_body(
    db: &impl ConnectionTrait,
    at: Address<'_>,
) -> Result<Option<(i32, String)>, DbErr> {
    let Some(document) = find(db, at).await? else {
        return Ok(None);
    };
    let Some(version) = document.published_version else {
        return Ok(None);
    };
    Ok(find_version(db, document.id, version)
        .await?
        .map(|row| (version, row.body)))
}

pub async fn any_exist(db: &impl ConnectionTrait) -> Result<bool, DbErr> {
    Ok(Documents::find().limit(1).one(db).await?.is_some())
}

/// Every published document in the given scopes: (scope, kind, name, document id, newest
/// version), in one query.
pub async fn published_in_scopes(
    db: &impl ConnectionTrait,
    scopes: &[String],
) -> Result<Vec<(String, String, String, i64, i32)>, DbErr> {
    let rows: Vec<(String, String, String, i64, Option<i32>)> = Documents::find()
        .select_only()
        .column(metadata_document::Column::Scope)
        .column(metadata_document::Column::Kind)
        .column(metadata_document::Column::Name)
        .column(metadata_document::Column::Id)
        .column(metadata_document::Column::PublishedVersion)
        .filter(metadata_document::Column::Scope.is_in(scopes.iter().cloned()))
        .filter(metadata_document::Column::PublishedVersion.is_not_null())
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(scope, kind, name, id, version)| Some((scope, kind, name, id, version?)))
        .collect())
}
