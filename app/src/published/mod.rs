//! What is published, read cheaply: the newest version of every document in a set of scopes
//! comes from one query; bodies, flows, compiled scripts and routing tables from caches per
//! published version (versions are immutable, so entries never go stale).

mod checkout;
mod compiled;
mod flows;
mod methods;
mod snapshot;

use std::collections::HashMap;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use domain::documents::checkout_page::CompiledCheckoutPage;
use domain::workflow::Flow;
use sea_orm::DatabaseConnection;
use serde_json::Value;

pub use compiled::{FunctionVersion, PricingFunctions};
pub use methods::{OfferedMethod, methods_from_input, offered_methods};
pub use snapshot::{Assignment, Snapshot};

use crate::scripts::Scripts;

/// The name of the documents a merchant's checkout and orders use: its payment combination,
/// checkout page and order flow.
pub const DEFAULT: &str = "default";

/// The routing table every merchant's workflow consults.
pub const ROUTING_TABLE: &str = DEFAULT;

/// A snapshot and when it was read.
type ReadSnapshot = (Instant, Arc<Snapshot>);

/// Published metadata: read through here, compiled once per version.
pub struct Published {
    db: DatabaseConnection,
    scripts: Arc<Scripts>,
    /// Checkout pages, their patterns compiled, by (scope key, name, version).
    checkout_pages: Mutex<HashMap<(String, String, i32), Arc<CompiledCheckoutPage>>>,
    /// Bodies by (document id, version).
    bodies: Mutex<HashMap<(i64, i32), Arc<Value>>>,
    /// Flows by (scope key, name, version).
    flows: Mutex<HashMap<(String, String, i32), Arc<Flow>>>,
    /// Snapshots by their scopes, with when each was read.
    snapshots: Mutex<HashMap<Vec<String>, ReadSnapshot>>,
    /// Publishes this instance committed: a snapshot read across one is not kept.
    publishes: AtomicU64,
}

impl Published {
    pub fn new(db: DatabaseConnection, scripts: Arc<Scripts>) -> Self {
        Self {
            db,
            scripts,
            checkout_pages: Mutex::default(),
            bodies: Mutex::default(),
            flows: Mutex::default(),
            snapshots: Mutex::default(),
            publishes: AtomicU64::new(0),
        }
    }
}
