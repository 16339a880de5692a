//! The black-box test harness: every test starts the real application on a random port
//! against a fresh database of its own, and talks to it only over HTTP.
//!
//! [`on_both_databases!`] runs a test on SQLite and, when `ORDERFLOW_TEST_DATABASE_URL`
//! is set, on PostgreSQL.

use std::path::PathBuf;

use app::config::{DatabaseArgs, LogFormat, Secret, ServeArgs};
use app::persistence::SqliteSync;
use reqwest::Method;
use reqwest::header::HeaderMap;
use sea_orm::{ConnectionTrait, Database};
use serde_json::Value;

pub use serde_json::json;

/// The platform admin key every test app accepts (as `ORDERFLOW_ADMIN_KEY`).
pub const ADMIN_KEY: &str = "test-admin-key-0123456789abcdef";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A running application with its own database.
pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub backend: Backend,
    sqlite_file: Option<PathBuf>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(file) = &self.sqlite_file {
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", file.display()));
            }
        }
    }
}

/// A response, read whole. `body` is the parsed JSON, or `Null` when the body is not JSON.
#[derive(Debug)]
pub struct TestResponse {
    pub status: u16,
    pub headers: HeaderMap,
    pub text: String,
    pub body: Value,
}

impl TestResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts the status, showing the body when it differs.
    #[track_caller]
    pub fn assert_status(&self, expected: u16) -> &Self {
        assert_eq!(
            self.status, expected,
            "unexpected status; body: {}",
            self.text
        );
        self
    }

    /// Asserts an RFC 9457 problem with this status and a `type` ending in `suffix`.
    #[track_caller]
    pub fn assert_problem(&self, status: u16, suffix: &str) -> &Self {
        self.assert_status(status);
        assert_eq!(
            self.header("content-type"),
            Some("application/problem+json"),
            "not problem+json: {}",
            self.text
        );
        let problem_type = self.body["type"].as_str().unwrap_or_default();
        assert!(
            problem_type.ends_with(suffix),
            "problem type {problem_type:?} does not end in {suffix:?}: {}",
            self.text
        );
        assert_eq!(self.body["status"], status);
        assert!(self.body["title"].is_string() && self.body["detail"].is_string());
        self
    }

    /// The JSON pointers of a 422's `errors[]`.
    pub fn error_pointers(&self) -> Vec<String> {
        self.body["errors"]
            .as_array()
            .map(|errors| {
                errors
                    .iter()
                    .map(|e| e["pointer"].as_str().unwrap_or_default().to_owned())
                    .collect()
            })
            .unwrap_or_default()
    }
}

impl TestApp {
    /// Starts an app on SQLite or PostgreSQL with the demo data loaded. Returns `None` for
    /// PostgreSQL when `ORDERFLOW_TEST_DATABASE_URL` is not set.
    pub async fn spawn(backend: Backend) -> Option<TestApp> {
        Self::spawn_with(backend, true).await
    }

    pub async fn spawn_with(backend: Backend, seed: bool) -> Option<TestApp> {
        let (database_url, sqlite_file) = match backend {
            Backend::Sqlite => {
                let file = std::env::temp_dir()
                    .join(format!("orderflow-test-{}.db", uuid::Uuid::new_v4()));
                (format!("sqlite://{}?mode=rwc", file.display()), Some(file))
            }
            Backend::Postgres => (fresh_postgres_database().await?, None),
        };
        let config = ServeArgs {
            addr: "127.0.0.1:0".parse().expect("literal address"),
            database: DatabaseArgs {
                database_url,
                // Tests need no power-cut safety; fsync per commit would only slow them.
                sqlite_sync: SqliteSync::Normal,
            },
            admin_key: Some(Secret(ADMIN_KEY.to_owned())),
            seed,
            log: "warn".into(),
            log_format: LogFormat::Text,
            request_timeout_secs: 30,
        };
        let application = app::Application::build(&config)
            .await
            .unwrap_or_else(|e| panic!("the app did not start on {backend:?}: {e}"));
        let base = format!("http://127.0.0.1:{}", application.port());
        tokio::spawn(application.run_until_stopped());
        Some(TestApp {
            base,
            client: reqwest::Client::new(),
            backend,
            sqlite_file,
        })
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Sends a request with an optional bearer key and JSON body.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        key: Option<&str>,
        body: Option<&Value>,
    ) -> TestResponse {
        let mut request = self.client.request(method, self.url(path));
        if let Some(key) = key {
            request = request.bearer_auth(key);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        read(request.send().await.expect("request failed")).await
    }

    pub async fn get(&self, path: &str) -> TestResponse {
        self.send(Method::GET, path, Some(ADMIN_KEY), None).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> TestResponse {
        self.send(Method::POST, path, Some(ADMIN_KEY), Some(body))
            .await
    }

    pub async fn put(&self, path: &str, body: &Value) -> TestResponse {
        self.send(Method::PUT, path, Some(ADMIN_KEY), Some(body))
            .await
    }

    /// Creates a merchant and returns its id.
    pub async fn create_merchant(&self, id: &str) -> String {
        self.post(
            "/v1/merchants",
            &json!({"id": id, "name": format!("Merchant {id}")}),
        )
        .await
        .assert_status(201);
        id.to_owned()
    }

    /// Creates an API key for a merchant and returns the secret.
    pub async fn create_key(&self, merchant: &str, scope: &str) -> String {
        let response = self
            .post(
                &format!("/v1/merchants/{merchant}/api-keys"),
                &json!({"scope": scope}),
            )
            .await;
        response.assert_status(201);
        response.body["key"]
            .as_str()
            .expect("key in response")
            .to_owned()
    }

    /// Saves a draft and publishes it, asserting both succeed; returns the new version.
    pub async fn publish(&self, scope_path: &str, kind: &str, name: &str, body: &Value) -> i64 {
        let base = format!("{scope_path}/metadata/{kind}/{name}");
        self.put(&format!("{base}/draft"), body)
            .await
            .assert_status(200);
        let published = self.post(&format!("{base}/publish"), &json!({})).await;
        published.assert_status(201);
        published.body["version"].as_i64().expect("version")
    }
}

pub async fn read(response: reqwest::Response) -> TestResponse {
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let text = response.text().await.expect("body");
    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
    TestResponse {
        status,
        headers,
        text,
        body,
    }
}

/// Creates an empty database on the PostgreSQL server named by
/// `ORDERFLOW_TEST_DATABASE_URL` and returns its URL.
async fn fresh_postgres_database() -> Option<String> {
    let server = std::env::var("ORDERFLOW_TEST_DATABASE_URL").ok()?;
    let admin = Database::connect(&server)
        .await
        .unwrap_or_else(|e| panic!("cannot reach ORDERFLOW_TEST_DATABASE_URL: {e}"));
    let name = format!("orderflow_test_{}", uuid::Uuid::new_v4().simple());
    admin
        .execute_unprepared(&format!("CREATE DATABASE {name}"))
        .await
        .expect("create test database");
    let _ = admin.close().await;
    let (without_db, _) = server.rsplit_once('/').expect("database URL has a path");
    Some(format!("{without_db}/{name}"))
}

/// Declares tests that run once on SQLite and once on PostgreSQL (skipped when
/// `ORDERFLOW_TEST_DATABASE_URL` is unset). Each gets a fresh app with the demo data.
///
/// ```ignore
/// on_both_databases! {
///     async fn lists_merchants(app: TestApp) { app.get("/v1/merchants").await.assert_status(200); }
/// }
/// ```
#[macro_export]
macro_rules! on_both_databases {
    ($(async fn $name:ident($app:ident: TestApp) $body:block)*) => {
        $(
            mod $name {
                #[allow(unused_imports)]
                use super::*;

                async fn run($app: $crate::TestApp) $body

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    let app = $crate::TestApp::spawn($crate::Backend::Sqlite).await.expect("sqlite app");
                    run(app).await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    match $crate::TestApp::spawn($crate::Backend::Postgres).await {
                        Some(app) => run(app).await,
                        None => eprintln!("ORDERFLOW_TEST_DATABASE_URL is not set: PostgreSQL half skipped"),
                    }
                }
            }
        )*
    };
}
