//! Command line and environment. Flags win over the environment.

use std::fmt;
use std::net::SocketAddr;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::persistence::SqliteSync;

#[derive(Debug, Parser)]
#[command(
    name = "orderflow",
    version,
    about = "Metadata-driven order and payment workflows"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub serve: ServeArgs,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP server (the default).
    Serve(ServeArgs),
    /// Apply pending database migrations and exit.
    Migrate(DatabaseArgs),
    /// Load the demo data from seeds/ (what is already there is left alone).
    Seed(DatabaseArgs),
    /// Print the OpenAPI document.
    Openapi,
}

/// Write transactions in flight at once on PostgreSQL, unless configured. One: a second
/// transaction splits the queue into batches half as large, and both wait on the outbox's
/// order lock before committing; measured on a co-located PostgreSQL, one made 6–13% more
/// checkouts/s at 32 and 128 clients and 9% fewer at 8 (BENCHMARKS.md). A database a
/// network hop away, where a batch waits on round trips, may take more.
pub const DEFAULT_WRITER_TRANSACTIONS: u32 = 1;

#[derive(Debug, Clone, Args)]
pub struct DatabaseArgs {
    /// Database URL: sqlite://path?mode=rwc or postgres://user@host/db.
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "sqlite://orderflow.db?mode=rwc"
    )]
    pub database_url: String,
    /// SQLite durability: `full` survives a power cut, `normal` is faster.
    #[arg(
        long,
        env = "ORDERFLOW_SQLITE_SYNC",
        value_enum,
        default_value = "full"
    )]
    pub sqlite_sync: SqliteSync,
    /// Database connections in the pool (at least 2; default 16).
    #[arg(long, env = "ORDERFLOW_DB_POOL")]
    pub pool_size: Option<u32>,
    /// PostgreSQL: write transactions in flight at once (SQLite writes one at a time).
    #[arg(long, env = "ORDERFLOW_WRITER_TRANSACTIONS", default_value_t = DEFAULT_WRITER_TRANSACTIONS, value_parser = clap::value_parser!(u32).range(1..=16))]
    pub writer_transactions: u32,
}

/// NATS JetStream, a second sink for the events.
#[derive(Debug, Clone, Args)]
pub struct NatsArgs {
    /// Also publish every merchant event to NATS JetStream at this URL (e.g.
    /// `nats://127.0.0.1:4222`), at least once, with `Nats-Msg-Id` set to the event id. Set
    /// it on every instance sharing a database.
    #[arg(long = "nats-url", env = "ORDERFLOW_NATS_URL")]
    pub url: Option<String>,
    /// Subjects are `<prefix>.<merchant>.<event type>`; the stream (created when missing)
    /// is the prefix in capitals.
    #[arg(long = "nats-subject-prefix", env = "ORDERFLOW_NATS_SUBJECT_PREFIX", default_value = "orderflow", value_parser = subject_prefix)]
    pub subject_prefix: String,
}

fn subject_prefix(text: &str) -> Result<String, String> {
    let valid = !text.is_empty()
        && text.len() <= 32
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if valid {
        Ok(text.to_owned())
    } else {
        Err("1 to 32 letters, digits, '_' or '-'".into())
    }
}

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "ORDERFLOW_ADDR", default_value = "127.0.0.1:8080")]
    pub addr: SocketAddr,
    #[command(flatten)]
    pub database: DatabaseArgs,
    #[command(flatten)]
    pub nats: NatsArgs,
    /// A platform admin API key. When unset and the database has no platform admin key,
    /// one is generated and printed once.
    #[arg(long, env = "ORDERFLOW_ADMIN_KEY", hide_env_values = true)]
    pub admin_key: Option<Secret>,
    /// Load the demo data into an empty database at start.
    #[arg(long, env = "ORDERFLOW_SEED", default_value_t = true, action = clap::ArgAction::Set)]
    pub seed: bool,
    /// Tracing filter, e.g. `info` or `orderflow=debug,tower_http=info`.
    #[arg(long, env = "ORDERFLOW_LOG", default_value = "info")]
    pub log: String,
    /// Log line format.
    #[arg(long, env = "ORDERFLOW_LOG_FORMAT", value_enum, default_value = "text")]
    pub log_format: LogFormat,
    /// Seconds before a request is abandoned with 503.
    #[arg(long, env = "ORDERFLOW_REQUEST_TIMEOUT", default_value_t = 30)]
    pub request_timeout_secs: u64,
    /// Requests a second allowed per API key (bursts of as many); 0 turns the limit off.
    #[arg(long, env = "ORDERFLOW_RATE_LIMIT", default_value_t = 5_000)]
    pub rate_limit_per_second: u32,
    /// Executions this instance keeps as it last wrote them, so that the next request on
    /// one (a payment soon after its order was created) needs no read; 0 keeps none. About
    /// 4 KB each.
    #[arg(long, env = "ORDERFLOW_RECENT_EXECUTIONS", default_value_t = 1024)]
    pub recent_executions: usize,
    /// The most events one execution's history may hold; reaching it fails the execution
    /// with `Execution.HistoryLimit` and cancels its order.
    #[arg(long, env = "ORDERFLOW_HISTORY_LIMIT", default_value_t = 10_000, value_parser = clap::value_parser!(i32).range(100..))]
    pub history_limit: i32,
    /// Fire due timers (payment timeouts, waits, retries) on this instance. Instances
    /// sharing a PostgreSQL database share the timers, so any may; one that only serves
    /// requests can leave it to the others. A callback after its deadline is refused either
    /// way.
    #[arg(long, env = "ORDERFLOW_TIMERS", default_value_t = true, action = clap::ArgAction::Set)]
    pub timers: bool,
    /// Deliver webhooks from this instance. Instances sharing a PostgreSQL database share
    /// the deliveries (each is leased by one), so any may.
    #[arg(long, env = "ORDERFLOW_WEBHOOKS", default_value_t = true, action = clap::ArgAction::Set)]
    pub webhooks: bool,
    /// Accept webhook endpoints on loopback, private and link-local addresses. Off, an
    /// endpoint cannot point the server at its own network (SSRF); tests and single-host
    /// set-ups turn it on.
    #[arg(long, env = "ORDERFLOW_WEBHOOK_ALLOW_PRIVATE", default_value_t = false, action = clap::ArgAction::Set)]
    pub webhook_allow_private: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// A secret that never prints.
#[derive(Clone)]
pub struct Secret(pub String);

impl std::str::FromStr for Secret {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.len() < 16 {
            Err("must be at least 16 characters".into())
        } else {
            Ok(Secret(s.to_owned()))
        }
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}
