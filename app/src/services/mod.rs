//! Operations that combine the domain's rules with persistence, each in one transaction.

pub mod metadata;
pub mod seed;
