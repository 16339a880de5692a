//! Building and running the application: what `serve` does, and what tests start.

use std::sync::Arc;
use std::time::Duration;

use migrations::{Migrator, MigratorTrait};
use sea_orm::DatabaseConnection;
use tokio::net::TcpListener;

use crate::config::{DatabaseArgs, NatsArgs, Secret, ServeArgs};
use crate::http::auth::{KeyScope, NewKey, hash_key};
use crate::metrics::Metrics;
use crate::persistence::api_keys::KnownKeys;
use crate::persistence::fan_out::Sinks;
use crate::persistence::merchants::KnownMerchants;
use crate::persistence::recent_executions::RecentExecutions;
use crate::persistence::writer::{WriteError, Writer};
use crate::persistence::{self, api_keys};
use crate::published::Published;
use crate::scripts::Scripts;
use crate::services::merchants;
use crate::services::{deliveries, nats, seed, timers};
use crate::state::{App, AppState};
use domain::function::Limits;

/// A bound, ready application. Tests start one on port 0.
pub struct Application {
    listener: TcpListener,
    router: axum::Router,
    state: AppState,
    fire_timers: bool,
    deliver_webhooks: bool,
    nats: NatsArgs,
    /// How long requests in flight get to finish after the shutdown signal.
    drain: Duration,
    /// A platform admin key generated at this start (never stored in clear), to show once.
    pub generated_admin_key: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("database: {0}")]
    Database(#[from] sea_orm::DbErr),
    #[error("demo data: {0}")]
    Seed(#[from] seed::SeedError),
    #[error("cannot listen: {0}")]
    Listen(#[from] std::io::Error),
    #[error("metrics: {0}")]
    Metrics(#[from] prometheus::Error),
    #[error("writer: {0}")]
    Writer(#[from] WriteError),
    #[error("storing the generated admin key: {0}")]
    AdminKey(#[source] crate::error::ServiceError),
}

/// How often a start tries to connect, migrate, and seed: instances starting together on
/// an empty database race to switch it to WAL (SQLite) and to create the same tables and
/// rows, and the one that loses finds them made when it tries again.
const START_ATTEMPTS: u32 = 10;
const START_RETRY_PAUSE: Duration = Duration::from_millis(300);

async fn retrying<T, E: std::fmt::Display, F: Future<Output = Result<T, E>>>(
    what: &str,
    mut attempt: impl FnMut() -> F,
) -> Result<T, E> {
    let mut attempts = 1;
    loop {
        match attempt().await {
            Err(error) if attempts < START_ATTEMPTS => {
                tracing::warn!(%error, attempts, "{what} failed (another instance starting?); retrying");
                attempts += 1;
                tokio::time::sleep(START_RETRY_PAUSE).await;
            }
            outcome => return outcome,
        }
    }
}

/// Connects and brings the schema up to date.
pub async fn open_database(args: &DatabaseArgs) -> Result<DatabaseConnection, sea_orm::DbErr> {
    let db = retrying("connecting to the database", || {
        persistence::connect(
            &args.database_url,
            args.sqlite_sync,
            persistence::Pool::Requests {
                size: args.pool_size,
            },
        )
    })
    .await?;
    retrying("migrating the database", || Migrator::up(&db, None)).await?;
    Ok(db)
}

/// Connects, migrates, and starts the writer: the state every handler, the timer loop and
/// the seed loader share.
pub async fn build_state(
    database: &DatabaseArgs,
    admin_key: Option<&Secret>,
    history_limit: i32,
    recent_executions: usize,
    webhook_allow_private: bool,
    sinks: Sinks,
) -> Result<AppState, StartError> {
    let db = open_database(database).await?;
    let metrics = Metrics::new()?;
    let writer = retrying("starting the writer", || {
        Writer::start(
            &db,
            &database.database_url,
            database.sqlite_sync,
            database.writer_transactions,
            metrics.writer.clone(),
            sinks,
        )
    })
    .await?;
    let scripts = Arc::new(Scripts::new(Limits::default()));
    Ok(AppState::new(App {
        published: Published::new(db.clone(), scripts.clone()),
        db,
        writer,
        admin_key_hash: admin_key.map(|k| hash_key(&k.0)),
        scripts,
        merchants: KnownMerchants::default(),
        keys: KnownKeys::default(),
        recent_executions: RecentExecutions::new(recent_executions),
        metrics,
        history_limit,
        webhook_allow_private,
        webhook_client: deliveries::client(webhook_allow_private),
    }))
}

/// Loads the demo data into an empty database.
async fn seed_if_empty(state: &AppState) -> Result<(), StartError> {
    if seed::database_is_empty(&state.db).await? {
        let report = seed::load(state).await?;
        tracing::info!(
            merchants = report.merchants_created,
            documents = report.documents_published,
            "loaded the demo data from seeds/"
        );
    }
    Ok(())
}

impl Application {
    pub async fn build(config: &ServeArgs) -> Result<Self, StartError> {
        let state = build_state(
            &config.database,
            config.admin_key.as_ref(),
            config.history_limit,
            config.recent_executions,
            config.webhook_allow_private,
            Sinks {
                nats: config.nats.url.is_some(),
            },
        )
        .await?;
        if config.seed {
            retrying("loading the demo data", || seed_if_empty(&state)).await?;
        }
        let generated_admin_key = if config.admin_key.is_none()
            && !api_keys::any_with_scope(&state.db, KeyScope::PlatformAdmin.as_str()).await?
        {
            let key = NewKey::generate();
            merchants::create_api_key(
                &state.writer,
                &key.id,
                &key.hash,
                KeyScope::PlatformAdmin.as_str(),
                None,
            )
            .await
            .map_err(StartError::AdminKey)?;
            Some(key.secret)
        } else {
            None
        };
        let limits = crate::http::Limits {
            request_timeout: Duration::from_secs(config.request_timeout_secs),
            rate_per_second: config.rate_limit_per_second,
        };
        // Every request ends within the request timeout; a few seconds more let the answers
        // go out.
        let drain = limits.request_timeout + Duration::from_secs(5);
        let router = crate::http::app(state.clone(), limits);
        let listener = TcpListener::bind(config.addr).await?;
        Ok(Self {
            listener,
            router,
            state,
            fire_timers: config.timers,
            deliver_webhooks: config.webhooks,
            nats: config.nats.clone(),
            drain,
            generated_admin_key,
        })
    }

    pub fn port(&self) -> u16 {
        self.listener.local_addr().map(|a| a.port()).unwrap_or(0)
    }

    /// Serves, fires timers, delivers webhooks and publishes to NATS until SIGTERM or Ctrl-C; then finishes
    /// the requests and the webhook attempts in flight.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let timer_loop = self
            .fire_timers
            .then(|| tokio::spawn(timers::run(self.state.clone(), stopped.clone())));
        let nats_loop = self.nats.url.clone().map(|url| {
            tokio::spawn(nats::run(
                self.state.clone(),
                url,
                self.nats.subject_prefix.clone(),
                stopped.clone(),
            ))
        });
        let delivery_loop = self
            .deliver_webhooks
            .then(|| tokio::spawn(deliveries::run(self.state, stopped)));
        crate::http::server::serve(self.listener, self.router, shutdown_signal(), self.drain).await;
        let _ = stop.send(true);
        for background in [timer_loop, delivery_loop, nats_loop].into_iter().flatten() {
            let _ = background.await;
        }
        Ok(())
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}
