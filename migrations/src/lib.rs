//! orderflow's database schema. The only place tables are defined; `app` runs
//! [`Migrator::up`] at start, so every binary brings its database up to date.

pub use sea_orm_migration::prelude::*;

mod m20261127_000001_create_merchants_and_keys;
mod m20261127_000002_create_metadata;
mod m20261127_000003_create_orders_and_executions;
mod m20261128_000001_create_events;
mod m20261128_000002_create_webhook_endpoints;
mod m20261202_000001_create_webhook_deliveries;
mod m20261202_000002_create_rollouts;
mod m20261202_000003_history_by_advance;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261127_000001_create_merchants_and_keys::Migration),
            Box::new(m20261127_000002_create_metadata::Migration),
            Box::new(m20261127_000003_create_orders_and_executions::Migration),
            Box::new(m20261128_000001_create_events::Migration),
            Box::new(m20261128_000002_create_webhook_endpoints::Migration),
            Box::new(m20261202_000001_create_webhook_deliveries::Migration),
            Box::new(m20261202_000002_create_rollouts::Migration),
            Box::new(m20261202_000003_history_by_advance::Migration),
        ]
    }
}
