//! The baseline: a minimal in-process axum server whose one endpoint, `POST /rows`, parses
//! the JSON body and inserts it as one row (an id, the JSON text, a timestamp) through
//! sea-orm. Its database is set up the way the real server sets up its own (WAL,
//! `synchronous` as chosen, a 10 s busy timeout, a pool of 16), so measuring it with the same
//! worker loop gives the ceiling this machine allows for "HTTP in, one committed write, HTTP
//! out".

use std::fmt;
use std::net::SocketAddr;
use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{ActiveValue::Set, DbErr};
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, EntityTrait, Schema};
use serde_json::{Value, json};
use tokio::task::JoinHandle;

/// SQLite durability, as the server's `ORDERFLOW_SQLITE_SYNC`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SqliteSync {
    /// Every commit reaches the disk before it is acknowledged (the server's default).
    Full,
    /// Faster; a power cut may lose the last commits.
    Normal,
}

impl fmt::Display for SqliteSync {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SqliteSync::Full => "full",
            SqliteSync::Normal => "normal",
        })
    }
}

mod row {
    use sea_orm::entity::prelude::*;

    /// One row per request, shaped like a small order: an id and a JSON text column.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "loadgen_baseline_rows")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        #[sea_orm(column_type = "Text")]
        pub body: String,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// The running baseline server; stopped when dropped.
pub struct BaselineServer {
    addr: SocketAddr,
    task: JoinHandle<()>,
}

impl BaselineServer {
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for BaselineServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn connect(url: &str, sync: SqliteSync) -> Result<DatabaseConnection, DbErr> {
    let mut options = ConnectOptions::new(url.to_owned());
    options
        .connect_timeout(Duration::from_secs(10))
        .acquire_timeout(Duration::from_secs(10))
        .max_connections(16)
        .min_connections(1)
        .sqlx_logging(false);
    if url.starts_with("sqlite:") {
        options.map_sqlx_sqlite_opts(move |o| {
            o.journal_mode(SqliteJournalMode::Wal)
                .synchronous(match sync {
                    SqliteSync::Full => SqliteSynchronous::Full,
                    SqliteSync::Normal => SqliteSynchronous::Normal,
                })
                .busy_timeout(Duration::from_secs(10))
        });
    }
    Database::connect(options).await
}

/// Connects, creates the table if it is missing, and serves `POST /rows` on 127.0.0.1:0.
pub async fn start(database_url: &str, sync: SqliteSync) -> Result<BaselineServer, String> {
    let db = connect(database_url, sync)
        .await
        .map_err(|e| format!("baseline: cannot connect to the database: {e}"))?;
    let mut create = Schema::new(db.get_database_backend()).create_table_from_entity(row::Entity);
    create.if_not_exists();
    db.execute(&create)
        .await
        .map_err(|e| format!("baseline: cannot create the table: {e}"))?;

    let app = Router::new()
        .route("/rows", post(insert_row))
        .with_state(db);
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
        .await
        .map_err(|e| format!("baseline: cannot listen: {e}"))?;
    let addr = listener
        .local_addr()
        .map_err(|e| format!("baseline: no local address: {e}"))?;
    let task = tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            eprintln!("loadgen: baseline server stopped: {e}");
        }
    });
    Ok(BaselineServer { addr, task })
}

/// `POST /rows`: one INSERT, autocommitted; 201 `{"id"}`.
async fn insert_row(State(db): State<DatabaseConnection>, Json(body): Json<Value>) -> Response {
    let id = uuid::Uuid::now_v7().to_string();
    let row = row::ActiveModel {
        id: Set(id.clone()),
        body: Set(body.to_string()),
        created_at: Set(chrono::Utc::now()),
    };
    match row::Entity::insert(row).exec_without_returning(&db).await {
        Ok(_) => (StatusCode::CREATED, Json(json!({"id": id}))).into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}
