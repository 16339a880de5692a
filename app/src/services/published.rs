//! What is published, read cheaply: the newest version of every document in a set of scopes
//! comes from one query, bodies from a cache of published versions (which are immutable),
//! and compiled scripts and routing tables from caches per version.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use domain::documents::{self, routing_table::RoutingTable};
use domain::routing::CompiledRoutingTable;
use domain::{Kind, Scope};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::engine::pricing::{FunctionVersion, PricingFunctions};
use crate::error::{ApiError, ApiResult};
use crate::persistence::metadata::{self as metadata_rows, Address};
use crate::services::metadata::parse_body;
use crate::state::AppState;

/// The routing table every merchant's workflow consults.
pub const ROUTING_TABLE: &str = "default";

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

#[derive(Deserialize)]
struct ScriptOnly {
    script: String,
}

/// A published version of a document, compiled once: what `cached` holds for it, or else
/// its stored body (to compile and cache). `version` picks one; `None` means the newest.
/// `None` when the document or that version is not published.
async fn compiled_or_body<T>(
    state: &AppState,
    scope_key: &str,
    kind: Kind,
    name: &str,
    version: Option<i32>,
    cached: impl Fn(i32) -> Option<T>,
) -> ApiResult<Option<(i32, Result<T, Value>)>> {
    // A pinned version that was compiled before needs no query at all.
    if let Some(version) = version
        && let Some(compiled) = cached(version)
    {
        return Ok(Some((version, Ok(compiled))));
    }
    let address = Address {
        scope: scope_key,
        kind: kind.as_str(),
        name,
    };
    let Some(document) = metadata_rows::find(&state.db, address).await? else {
        return Ok(None);
    };
    let Some(version) = version.or(document.published_version) else {
        return Ok(None);
    };
    if let Some(compiled) = cached(version) {
        return Ok(Some((version, Ok(compiled))));
    }
    let Some(row) = metadata_rows::find_version(&state.db, document.id, version).await? else {
        return Ok(None);
    };
    Ok(Some((version, Err(parse_body(&row.body)?))))
}

/// The compiled script of a published discount function: the given version, or the newest.
/// `None` when the function or that version is not published.
pub async fn function(
    state: &AppState,
    scope: &Scope,
    name: &str,
    version: Option<i32>,
) -> ApiResult<Option<(FunctionVersion, domain::function::CompiledScript)>> {
    let scope_key = scope.key();
    let key = |version| (scope_key.clone(), name.to_owned(), version);
    let cached = |version| state.functions.cached_script(&key(version));
    let found = compiled_or_body(
        state,
        &scope_key,
        Kind::DiscountFunction,
        name,
        version,
        cached,
    );
    let Some((version, compiled)) = found.await? else {
        return Ok(None);
    };
    let function = FunctionVersion {
        name: name.to_owned(),
        version,
    };
    let body = match compiled {
        Ok(script) => return Ok(Some((function, script))),
        Err(body) => body,
    };
    let body: ScriptOnly = serde_json::from_value(body)
        .map_err(|e| ApiError::internal(format!("published function {name} v{version}: {e}")))?;
    let script = state
        .functions
        .run(move |runtime| runtime.compile(&body.script))
        .await?
        .map_err(|e| {
            ApiError::internal(format!(
                "published function {name} v{version} does not compile: {e}"
            ))
        })?;
    state.functions.cache_script(key(version), script.clone());
    Ok(Some((function, script)))
}

/// The given versions of a scope's discount functions, compiled, by name.
pub async fn functions(
    state: &AppState,
    scope: &Scope,
    versions: &BTreeMap<String, i32>,
) -> ApiResult<PricingFunctions> {
    let mut compiled = PricingFunctions::new();
    for (name, version) in versions {
        if let Some(found) = function(state, scope, name, Some(*version)).await? {
            compiled.insert(name.clone(), found);
        }
    }
    Ok(compiled)
}

/// The merchant's published routing table, compiled: the given version, or the newest.
pub async fn routing_table(
    state: &AppState,
    scope: &Scope,
    version: Option<i32>,
) -> ApiResult<Option<(i32, Arc<CompiledRoutingTable>)>> {
    let scope_key = scope.key();
    let key = |version| (scope_key.clone(), ROUTING_TABLE.to_owned(), version);
    let cached = |version| state.functions.cached_table(&key(version));
    let found = compiled_or_body(
        state,
        &scope_key,
        Kind::RoutingTable,
        ROUTING_TABLE,
        version,
        cached,
    );
    let Some((version, compiled)) = found.await? else {
        return Ok(None);
    };
    let body = match compiled {
        Ok(table) => return Ok(Some((version, table))),
        Err(body) => body,
    };
    let table: RoutingTable = documents::parse(&body).map_err(|_| {
        ApiError::internal(format!("published routing table v{version} does not parse"))
    })?;
    let compiled = compile_routing_table(state, table).await?.map_err(|_| {
        ApiError::internal(format!(
            "published routing table v{version} does not compile"
        ))
    })?;
    state.functions.cache_table(key(version), compiled.clone());
    Ok(Some((version, compiled)))
}

/// Compiles a routing table's conditions on the script workers.
pub async fn compile_routing_table(
    state: &AppState,
    table: RoutingTable,
) -> ApiResult<Result<Arc<CompiledRoutingTable>, Vec<domain::Violation>>> {
    state
        .functions
        .run(move |runtime| CompiledRoutingTable::compile(runtime, table).map(Arc::new))
        .await
}
