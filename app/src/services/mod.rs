//! Operations that combine the domain's rules with persistence. Each reads what it needs
//! and stages its changes for the writer.

pub mod commit;
pub mod deliveries;
pub mod discounts;
pub mod idempotency;
pub mod impact;
pub mod merchants;
pub mod metadata;
pub mod nats;
pub mod order_stats;
pub mod orders;
pub mod overview;
pub mod rollouts;
pub mod seed;
pub mod timers;
pub mod webhooks;
