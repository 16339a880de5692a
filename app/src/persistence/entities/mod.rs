//! sea-orm entities: database rows, nothing more. API types and domain types are others.

pub mod api_key;
pub mod audit_entry;
pub mod event;
pub mod execution;
pub mod execution_history;
pub mod idempotency_key;
pub mod merchant;
pub mod metadata_document;
pub mod metadata_rollout;
pub mod metadata_version;
pub mod order;
pub mod rollout_order;
pub mod task;
pub mod timer;
pub mod webhook_attempt;
pub mod webhook_delivery;
pub mod webhook_endpoint;
