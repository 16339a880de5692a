//! Operations that combine the domain's rules with persistence, each in one transaction.

pub mod discounts;
pub mod engine;
pub mod functions;
pub mod merchants;
pub mod metadata;
pub mod orders;
pub mod published;
pub mod seed;
pub mod timers;
