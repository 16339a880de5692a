//! Typed views of the metadata documents. A document is first validated against its kind's
//! JSON Schema; these types are then what the rules read.

pub mod checkout_page;
pub mod flow;
pub mod payment_combination;
pub mod payment_method;
pub mod routing_table;

use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::violation::Violation;

/// Reads a schema-valid document as its typed form. The schemas and these types describe
/// the same shape, so a failure here means the two disagree; it is reported, not panicked.
pub fn parse<T: DeserializeOwned>(document: &Value) -> Result<T, Vec<Violation>> {
    T::deserialize(document).map_err(|e| vec![Violation::new("", e.to_string())])
}
