//! What an order pinned when it started: later publishes never change these versions.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// A pinned document version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PinnedDocument {
    /// `platform` or `merchant`.
    pub scope: String,
    pub name: String,
    pub version: i32,
}

/// The metadata versions an order resolved when it started.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pinned {
    pub flow: PinnedDocument,
    pub payment_combination: PinnedDocument,
    pub checkout_page: Option<PinnedDocument>,
    pub routing_table: Option<PinnedDocument>,
    /// Every discount function published for the merchant, by name.
    pub functions: BTreeMap<String, i32>,
}
