use std::ops::Deref;
use std::sync::Arc;

use sea_orm::DatabaseConnection;

use crate::metrics::Metrics;
use crate::persistence::api_keys::KnownKeys;
use crate::persistence::merchants::KnownMerchants;
use crate::persistence::recent_executions::RecentExecutions;
use crate::persistence::writer::Writer;
use crate::published::Published;
use crate::scripts::Scripts;

/// What every handler may reach: cheap to clone, never mutated after start.
#[derive(Clone)]
pub struct AppState(Arc<App>);

pub struct App {
    /// Reads. Every write goes through `writer`.
    pub db: DatabaseConnection,
    pub writer: Writer,
    /// SHA-256 (hex) of `ORDERFLOW_ADMIN_KEY`, when set.
    pub admin_key_hash: Option<String>,
    /// The script engine, its compiled-script caches and its worker pool.
    pub scripts: Arc<Scripts>,
    /// Published metadata, read and compiled once per version.
    pub published: Published,
    /// Merchants known to exist.
    pub merchants: KnownMerchants,
    /// API keys found before.
    pub keys: KnownKeys,
    /// The executions this instance wrote last, to stage their next change from.
    pub recent_executions: RecentExecutions,
    pub metrics: Metrics,
    /// The most events an execution's history may hold.
    pub history_limit: i32,
    /// Webhook endpoints may point at loopback, private and link-local addresses.
    pub webhook_allow_private: bool,
    /// Sends every webhook delivery and test event.
    pub webhook_client: reqwest::Client,
}

impl AppState {
    pub fn new(app: App) -> Self {
        Self(Arc::new(app))
    }
}

impl Deref for AppState {
    type Target = App;

    fn deref(&self) -> &App {
        &self.0
    }
}
