//! Running merchants' scripts: one shared engine, compiled scripts, routing tables and choice
//! conditions cached (per published version, or per expression), and evaluation off the
//! async executor on a bounded pool, so a hostile script can slow only its own request.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use domain::function::{CompiledScript, FunctionRuntime, Limits};
use domain::routing::CompiledRoutingTable;
use tokio::sync::Semaphore;

use crate::error::{ServiceError, ServiceResult};

/// A published discount function version: (scope key, name, version).
type ScriptKey = (String, String, i32);
/// A published routing table version: (scope key, name, version).
type TableKey = (String, String, i32);

pub struct Scripts {
    runtime: Arc<FunctionRuntime>,
    scripts: Mutex<HashMap<ScriptKey, CompiledScript>>,
    tables: Mutex<HashMap<TableKey, Arc<CompiledRoutingTable>>>,
    conditions: Arc<ConditionCache>,
    permits: Arc<Semaphore>,
}

impl Scripts {
    pub fn new(limits: Limits) -> Self {
        let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
        Self {
            runtime: Arc::new(FunctionRuntime::new(limits)),
            scripts: Mutex::default(),
            tables: Mutex::default(),
            conditions: Arc::default(),
            permits: Arc::new(Semaphore::new(workers * 2)),
        }
    }

    pub fn runtime(&self) -> &FunctionRuntime {
        &self.runtime
    }

    /// Runs script work on the blocking pool, at most a few at a time; the wall-clock cap
    /// bounds each.
    pub async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce(&FunctionRuntime) -> T + Send + 'static,
    ) -> ServiceResult<T> {
        let _permit = self
            .permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| ServiceError::internal("function pool closed"))?;
        let runtime = self.runtime.clone();
        tokio::task::spawn_blocking(move || work(&runtime))
            .await
            .map_err(|e| ServiceError::internal(format!("function evaluation panicked: {e}")))
    }

    pub fn cached_script(&self, key: &ScriptKey) -> Option<CompiledScript> {
        self.scripts.lock().ok()?.get(key).cloned()
    }

    pub fn cache_script(&self, key: ScriptKey, script: CompiledScript) {
        if let Ok(mut scripts) = self.scripts.lock() {
            scripts.insert(key, script);
        }
    }

    pub fn cached_table(&self, key: &TableKey) -> Option<Arc<CompiledRoutingTable>> {
        self.tables.lock().ok()?.get(key).cloned()
    }

    pub fn cache_table(&self, key: TableKey, table: Arc<CompiledRoutingTable>) {
        if let Ok(mut tables) = self.tables.lock() {
            tables.insert(key, table);
        }
    }

    /// Choice conditions, compiled once per expression; shared with script workers.
    pub fn conditions(&self) -> Arc<ConditionCache> {
        self.conditions.clone()
    }
}

/// Compiled choice conditions, by expression.
#[derive(Default)]
pub struct ConditionCache(Mutex<HashMap<String, CompiledScript>>);

impl ConditionCache {
    /// The condition `expression`, compiled once.
    pub fn compiled(
        &self,
        runtime: &FunctionRuntime,
        expression: &str,
    ) -> Result<CompiledScript, String> {
        let cached = self.0.lock().ok().and_then(|c| c.get(expression).cloned());
        if let Some(compiled) = cached {
            return Ok(compiled);
        }
        let compiled = runtime
            .compile_condition(expression)
            .map_err(|e| e.message)?;
        if let Ok(mut conditions) = self.0.lock() {
            conditions.insert(expression.to_owned(), compiled.clone());
        }
        Ok(compiled)
    }
}
