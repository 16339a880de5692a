//! The rules of orderflow, free of I/O: identifiers, metadata kinds and their JSON Schemas,
//! the typed documents, and the checks a document must pass before it is published.
//!
//! `app` parses input into these types at the edge and asks this crate what is allowed.

pub mod checks;
pub mod documents;
pub mod function;
pub mod ids;
pub mod impact;
pub mod kind;
pub mod lifecycle;
pub mod rollout;
pub mod routing;
pub mod schema;
pub mod violation;
pub mod webhooks;
pub mod workflow;

pub use ids::{DocumentName, IdError, MerchantId};
pub use kind::{Kind, Scope};
pub use violation::Violation;
