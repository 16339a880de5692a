//! What is published, read cheaply: the newest version of every document in a set of scopes
//! comes from one query, and bodies from a cache of published versions, which are immutable.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use domain::Kind;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::{ApiError, ApiResult};
use crate::persistence::metadata as metadata_rows;
use crate::services::metadata::parse_body;
use crate::state::AppState;

/// Bodies of published versions by (document id, version). A published version never
/// changes, so entries never go stale.
#[derive(Default)]
pub struct VersionBodies(Mutex<HashMap<(i64, i32), Arc<Value>>>);

/// The newest published version of every document of some scopes, at one moment.
pub struct Snapshot {
    versions: HashMap<(String, String, String), (i64, i32)>,
}

impl Snapshot {
    pub async fn load(state: &AppState, scopes: &[String]) -> ApiResult<Self> {
        let rows = metadata_rows::published_in_scopes(&state.db, scopes).await?;
        Ok(Self {
            versions: rows
                .into_iter()
                .map(|(scope, kind, name, id, version)| ((scope, kind, name), (id, version)))
                .collect(),
        })
    }

    pub fn version(&self, scope: &str, kind: Kind, name: &str) -> Option<i32> {
        self.entry(scope, kind, name).map(|(_, version)| version)
    }

    fn entry(&self, scope: &str, kind: Kind, name: &str) -> Option<(i64, i32)> {
        self.versions
            .get(&(scope.to_owned(), kind.as_str().to_owned(), name.to_owned()))
            .copied()
    }

    /// The newest version of each published document of a kind in a scope, by name.
    pub fn versions_of(&self, scope: &str, kind: Kind) -> BTreeMap<String, i32> {
        self.versions
            .iter()
            .filter(|((s, k, _), _)| s == scope && k == kind.as_str())
            .map(|((_, _, name), (_, version))| (name.clone(), *version))
            .collect()
    }

    /// The newest published body of a document, typed.
    pub async fn body<T: DeserializeOwned>(
        &self,
        state: &AppState,
        scope: &str,
        kind: Kind,
        name: &str,
    ) -> ApiResult<Option<(i32, T)>> {
        let Some((id, version)) = self.entry(scope, kind, name) else {
            return Ok(None);
        };
        let body = version_body(state, id, version).await?;
        let parsed = domain::documents::parse(&body).map_err(|_| {
            ApiError::internal(format!(
                "published {kind} '{name}' v{version} does not parse"
            ))
        })?;
        Ok(Some((version, parsed)))
    }
}

async fn version_body(state: &AppState, id: i64, version: i32) -> ApiResult<Arc<Value>> {
    let cached = state
        .bodies
        .0
        .lock()
        .ok()
        .and_then(|b| b.get(&(id, version)).cloned());
    if let Some(body) = cached {
        return Ok(body);
    }
    let row = metadata_rows::find_version(&state.db, id, version)
        .await?
        .ok_or_else(|| {
            ApiError::internal(format!(
                "published version {version} of document {id} is gone"
            ))
        })?;
    let body = Arc::new(parse_body(&row.body)?);
    if let Ok(mut bodies) = state.bodies.0.lock() {
        bodies.insert((id, version), body.clone());
    }
    Ok(body)
}
