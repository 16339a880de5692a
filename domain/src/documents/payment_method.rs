use std::collections::BTreeMap;

use serde::Deserialize;

/// A platform catalog entry. Its document name is its code.
#[derive(Debug, Clone, Deserialize)]
pub struct PaymentMethod {
    pub code: String,
    pub names: BTreeMap<String, String>,
    pub icon: Option<String>,
    pub online: bool,
}
