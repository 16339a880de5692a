//! The orderflow server: configuration, the HTTP API, persistence and the CLI.

pub mod config;
pub mod engine;
pub mod error;
pub mod events;
pub mod http;
pub mod metrics;
pub mod openapi_enums;
pub mod openapi_kinds;
pub mod persistence;
pub mod problem_type;
pub mod published;
pub mod scripts;
pub mod services;
pub mod startup;
pub mod state;
pub mod telemetry;

pub use startup::Application;
