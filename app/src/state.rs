use std::ops::Deref;
use std::sync::Arc;

use sea_orm::DatabaseConnection;

/// What every handler may reach: cheap to clone, never mutated after start.
#[derive(Clone)]
pub struct AppState(Arc<App>);

pub struct App {
    pub db: DatabaseConnection,
    /// SHA-256 (hex) of `ORDERFLOW_ADMIN_KEY`, when set.
    pub admin_key_hash: Option<String>,
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
