//! The black-box suite: one test binary (each binary links the whole server), a module per
//! area of the API. Every test starts the real server on a random port against a fresh
//! database of its own; `on_both_databases!` runs it on SQLite and on PostgreSQL.

mod auth;
mod checkout;
mod console;
mod deadlines;
mod deliveries;
mod events;
mod faults;
mod functions;
mod history;
mod history_limit;
mod hostile_input;
mod idempotency;
mod impact;
mod isolation;
mod limits;
mod merchants;
mod metadata;
mod metrics;
mod nats;
mod openapi;
mod ops;
mod order_stats;
mod overview;
mod publish_checks;
mod rollouts;
mod routing;
mod seeds;
mod tasks;
mod webhooks;
mod workflow;
