//! Published discount functions and routing tables, compiled once per version on the script
//! workers.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use domain::documents::{self, routing_table::RoutingTable};
use domain::function::CompiledScript;
use domain::routing::CompiledRoutingTable;
use domain::{Kind, Scope};
use serde::Deserialize;
use serde_json::Value;

use super::{Published, ROUTING_TABLE};
use crate::error::{ServiceError, ServiceResult};
use crate::persistence::{self, metadata as metadata_rows};

/// A published function version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionVersion {
    pub name: String,
    pub version: i32,
}

/// The functions a pricing may select, compiled, by name.
pub type PricingFunctions = HashMap<String, (FunctionVersion, CompiledScript)>;

#[derive(Deserialize)]
struct ScriptOnly {
    script: String,
}

impl Published {
    /// A published version of a document, compiled once: what `cached` holds for it, or
    /// else its stored body (to compile and cache). `version` picks one; `None` means the
    /// newest. `None` when the document or that version is not published.
    async fn compiled_or_body<T>(
        &self,
        scope_key: &str,
        kind: Kind,
        name: &str,
        version: Option<i32>,
        cached: impl Fn(i32) -> Option<T>,
    ) -> ServiceResult<Option<(i32, Result<T, Value>)>> {
        // A pinned version that was compiled before needs no query at all.
        if let Some(version) = version
            && let Some(compiled) = cached(version)
        {
            return Ok(Some((version, Ok(compiled))));
        }
        let address = metadata_rows::Address {
            scope: scope_key,
            kind: kind.as_str(),
            name,
        };
        let Some(document) = metadata_rows::find(&self.db, address).await? else {
            return Ok(None);
        };
        let Some(version) = version.or(document.published_version) else {
            return Ok(None);
        };
        if let Some(compiled) = cached(version) {
            return Ok(Some((version, Ok(compiled))));
        }
        let Some(row) = metadata_rows::find_version(&self.db, document.id, version).await? else {
            return Ok(None);
        };
        Ok(Some((version, Err(persistence::stored_json(&row.body)?))))
    }

    /// The compiled script of a published discount function: the given version, or the
    /// newest. `None` when the function or that version is not published.
    pub async fn function(
        &self,
        scope: &Scope,
        name: &str,
        version: Option<i32>,
    ) -> ServiceResult<Option<(FunctionVersion, CompiledScript)>> {
        let scope_key = scope.key();
        let key = |version| (scope_key.clone(), name.to_owned(), version);
        let cached = |version| self.scripts.cached_script(&key(version));
        let found =
            self.compiled_or_body(&scope_key, Kind::DiscountFunction, name, version, cached);
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
        let body: ScriptOnly = serde_json::from_value(body).map_err(|e| {
            ServiceError::internal(format!("published function {name} v{version}: {e}"))
        })?;
        let script = self
            .scripts
            .run(move |runtime| runtime.compile(&body.script))
            .await?
            .map_err(|e| {
                ServiceError::internal(format!(
                    "published function {name} v{version} does not compile: {e}"
                ))
            })?;
        self.scripts.cache_script(key(version), script.clone());
        Ok(Some((function, script)))
    }

    /// The given versions of a scope's discount functions, compiled, by name.
    pub async fn functions(
        &self,
        scope: &Scope,
        versions: &BTreeMap<String, i32>,
    ) -> ServiceResult<PricingFunctions> {
        let mut compiled = PricingFunctions::new();
        for (name, version) in versions {
            if let Some(found) = self.function(scope, name, Some(*version)).await? {
                compiled.insert(name.clone(), found);
            }
        }
        Ok(compiled)
    }

    /// The merchant's published routing table, compiled: the given version, or the newest.
    pub async fn routing_table(
        &self,
        scope: &Scope,
        version: Option<i32>,
    ) -> ServiceResult<Option<(i32, Arc<CompiledRoutingTable>)>> {
        let scope_key = scope.key();
        let key = |version| (scope_key.clone(), ROUTING_TABLE.to_owned(), version);
        let cached = |version| self.scripts.cached_table(&key(version));
        let found = self.compiled_or_body(
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
            ServiceError::internal(format!("published routing table v{version} does not parse"))
        })?;
        let compiled = self.compile_routing_table(table).await?.map_err(|_| {
            ServiceError::internal(format!(
                "published routing table v{version} does not compile"
            ))
        })?;
        self.scripts.cache_table(key(version), compiled.clone());
        Ok(Some((version, compiled)))
    }

    /// Compiles a routing table's conditions on the script workers.
    pub async fn compile_routing_table(
        &self,
        table: RoutingTable,
    ) -> ServiceResult<Result<Arc<CompiledRoutingTable>, Vec<domain::Violation>>> {
        self.scripts
            .run(move |runtime| CompiledRoutingTable::compile(runtime, table).map(Arc::new))
            .await
    }
}
