//! Running merchants' scripts: one shared engine, compiled scripts and routing tables cached
//! per published version, and evaluation off the async executor on a bounded pool, so a
//! hostile script can slow only its own request.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use domain::function::{CompiledScript, FunctionRuntime, Limits};
use domain::routing::CompiledRoutingTable;
use tokio::sync::Semaphore;

use crate::error::{ApiError, ApiResult};

/// A published discount function version: (scope key, name, version).
type ScriptKey = (String, String, i32);
/// A published routing table version: (scope key, name, version).
type TableKey = (String, String, i32);

pub struct Functions {
    runtime: Arc<FunctionRuntime>,
    scripts: Mutex<HashMap<ScriptKey, CompiledScript>>,
    tables: Mutex<HashMap<TableKey, Arc<CompiledRoutingTable>>>,
    permits: Arc<Semaphore>,
}

impl Functions {
    pub fn new(limits: Limits) -> Self {
        let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
        Self {
            runtime: Arc::new(FunctionRuntime::new(limits)),
            scripts: Mutex::default(),
            tables: Mutex::default(),
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
    ) -> ApiResult<T> {
        let _permit = self
            .permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| ApiError::internal("function pool closed"))?;
        let runtime = self.runtime.clone();
        tokio::task::spawn_blocking(move || work(&runtime))
            .await
            .map_err(|e| ApiError::internal(format!("function evaluation panicked: {e}")))
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
}
