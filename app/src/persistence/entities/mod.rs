//! sea-orm entities: database rows, nothing more. API types and domain types are others.

pub mod api_key;
pub mod audit_entry;
pub mod merchant;
pub mod metadata_document;
pub mod metadata_version;
