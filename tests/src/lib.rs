//! The black-box test harness: every test starts the real application on a random port
//! against a fresh database of its own, and talks to it only over HTTP.
//!
//! [`on_both_databases!`] runs a test on SQLite and, when `ORDERFLOW_TEST_DATABASE_URL`
//! is set, on PostgreSQL.

use std::path::PathBuf;

use app::config::{DatabaseArgs, LogFormat, NatsArgs, Secret, ServeArgs};
use app::persistence::SqliteSync;
use reqwest::Method;
use reqwest::header::HeaderMap;
use sea_orm::{
    ConnectionTrait, Database, DatabaseTransaction, SqliteTransactionMode, TransactionOptions,
    TransactionTrait,
};
use serde_json::Value;

pub use serde_json::json;

pub mod checkout;
pub mod documented;
pub mod receiver;

/// The platform admin key every test app accepts (as `ORDERFLOW_ADMIN_KEY`).
pub const ADMIN_KEY: &str = "test-admin-key-0123456789abcdef";
/// Write transactions in flight on PostgreSQL in tests: more than the default one, so that
/// every test also runs the writer's concurrent path (transactions racing on the same rows,
/// the outbox's order lock), as a deployment that raises it does.
const WRITER_TRANSACTIONS: u32 = 2;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// No NATS sink: tests that publish there configure one.
fn no_nats() -> NatsArgs {
    NatsArgs {
        url: None,
        subject_prefix: "orderflow".into(),
    }
}

/// A running application with its own database.
pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub backend: Backend,
    sqlite_file: Option<PathBuf>,
    database_url: String,
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
        self.assert_documented_problem_type();
        assert_eq!(self.body["status"], status);
        assert!(self.body["title"].is_string() && self.body["detail"].is_string());
        self
    }

    /// Asserts that the problem's `type` is one the OpenAPI document lists, so that an SDK's
    /// enum can read it.
    #[track_caller]
    fn assert_documented_problem_type(&self) {
        let problem_type = &self.body["type"];
        assert!(
            documented_problem_types().contains(problem_type),
            "problem type {problem_type} is not in the document's ProblemType enum: {}",
            self.text
        );
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
        Self::spawn_configured(backend, |config| config.seed = seed).await
    }

    /// Starts an app with the demo data, after `configure` adjusted its configuration.
    pub async fn spawn_configured(
        backend: Backend,
        configure: impl FnOnce(&mut ServeArgs),
    ) -> Option<TestApp> {
        let (database_url, sqlite_file) = match backend {
            Backend::Sqlite => {
                let file = std::env::temp_dir()
                    .join(format!("orderflow-test-{}.db", uuid::Uuid::new_v4()));
                (format!("sqlite://{}?mode=rwc", file.display()), Some(file))
            }
            Backend::Postgres => (fresh_postgres_database().await?, None),
        };
        let mut config = ServeArgs {
            addr: "127.0.0.1:0".parse().expect("literal address"),
            database: DatabaseArgs {
                database_url: database_url.clone(),
                // Tests need no power-cut safety; fsync per commit would only slow them.
                sqlite_sync: SqliteSync::Normal,
                pool_size: None,
                writer_transactions: WRITER_TRANSACTIONS,
            },
            nats: no_nats(),
            admin_key: Some(Secret(ADMIN_KEY.to_owned())),
            seed: true,
            log: "warn".into(),
            log_format: LogFormat::Text,
            request_timeout_secs: 30,
            rate_limit_per_second: 0,
            history_limit: 10_000,
            recent_executions: 1024,
            timers: true,
            webhooks: true,
            // The tests' receivers listen on 127.0.0.1.
            webhook_allow_private: true,
        };
        configure(&mut config);
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
            database_url,
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
        execute(request).await
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

/// Reads a response whole. Every 409 is held to its operation's documented problem types,
/// so that a conflict the server answers but the document does not list fails the test that
/// met it.
async fn read(method: &Method, response: reqwest::Response) -> TestResponse {
    let path = response.url().path().to_owned();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let text = response.text().await.expect("body");
    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
    let response = TestResponse {
        status,
        headers,
        text,
        body,
    };
    if response.status == 409 {
        assert_conflict_documented(method, &path, &response);
    }
    response
}

/// Asserts that the 409's problem `type` is one its operation lists in `x-problem-types`.
fn assert_conflict_documented(method: &Method, path: &str, response: &TestResponse) {
    let operation = documented_operation(method, path).unwrap_or_else(|| {
        panic!("{method} {path} answered 409 but the document has no such operation")
    });
    let listed = &operation["responses"]["409"]["x-problem-types"];
    let listed = listed.as_array().unwrap_or_else(|| {
        panic!(
            "{method} {path} answered 409 but documents no 409 with x-problem-types: {}",
            response.text
        )
    });
    assert!(
        listed.contains(&response.body["type"]),
        "{method} {path} answered 409 {} but documents only {listed:?}",
        response.text
    );
}

/// The document's operation for a concrete request path: the template whose literal
/// segments match most (`/orders/stats` before `/orders/{order_id}`).
fn documented_operation(method: &Method, path: &str) -> Option<&'static Value> {
    let segments: Vec<&str> = path.split('/').collect();
    document()["paths"]
        .as_object()?
        .iter()
        .filter_map(|(template, item)| {
            let parts: Vec<&str> = template.split('/').collect();
            let matches = parts.len() == segments.len()
                && parts
                    .iter()
                    .zip(&segments)
                    .all(|(part, segment)| part.starts_with('{') || part == segment);
            let literal = parts.iter().filter(|part| !part.starts_with('{')).count();
            matches.then_some((literal, item))
        })
        .max_by_key(|(literal, _)| *literal)
        .and_then(|(_, item)| item.get(method.as_str().to_ascii_lowercase()))
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

/// Helpers added for the metadata, auth, hostile-input and seed tests.
impl TestApp {
    /// Starts another app on an existing database (e.g. [`TestApp::database_url`] of a
    /// running app), as a second start or a second instance would. The returned app does not
    /// own the database: dropping it deletes nothing.
    pub async fn spawn_on(backend: Backend, database_url: &str, seed: bool) -> TestApp {
        Self::spawn_on_configured(backend, database_url, |config| config.seed = seed).await
    }

    /// [`TestApp::spawn_on`] with the configuration changed first.
    pub async fn spawn_on_configured(
        backend: Backend,
        database_url: &str,
        configure: impl FnOnce(&mut ServeArgs),
    ) -> TestApp {
        let mut config = ServeArgs {
            addr: "127.0.0.1:0".parse().expect("literal address"),
            database: DatabaseArgs {
                database_url: database_url.to_owned(),
                sqlite_sync: SqliteSync::Normal,
                pool_size: None,
                writer_transactions: WRITER_TRANSACTIONS,
            },
            nats: no_nats(),
            admin_key: Some(Secret(ADMIN_KEY.to_owned())),
            seed: true,
            log: "warn".into(),
            log_format: LogFormat::Text,
            request_timeout_secs: 30,
            rate_limit_per_second: 0,
            history_limit: 10_000,
            recent_executions: 1024,
            timers: true,
            webhooks: true,
            // The tests' receivers listen on 127.0.0.1.
            webhook_allow_private: true,
        };
        configure(&mut config);
        let application = app::Application::build(&config)
            .await
            .unwrap_or_else(|e| panic!("the app did not start on {database_url}: {e}"));
        let base = format!("http://127.0.0.1:{}", application.port());
        tokio::spawn(application.run_until_stopped());
        TestApp {
            base,
            client: reqwest::Client::new(),
            backend,
            sqlite_file: None,
            database_url: database_url.to_owned(),
        }
    }

    /// The URL of the database this app runs on.
    pub fn database_url(&self) -> &str {
        &self.database_url
    }

    /// Takes, in a session of its own, a lock that keeps the server's writer out until the
    /// transaction ends: on SQLite the database's write lock, on PostgreSQL an `EXCLUSIVE`
    /// lock on `postgres_table` (writers of it wait; readers and other tables do not).
    pub async fn hold_write_lock(&self, postgres_table: &str) -> DatabaseTransaction {
        let db = Database::connect(self.database_url())
            .await
            .expect("a session of the test's own");
        match self.backend {
            Backend::Sqlite => db
                .begin_with_options(TransactionOptions {
                    sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
                    ..Default::default()
                })
                .await
                .expect("the SQLite write lock"),
            Backend::Postgres => {
                let txn = db.begin().await.expect("a transaction");
                txn.execute_unprepared(&format!("LOCK TABLE {postgres_table} IN EXCLUSIVE MODE"))
                    .await
                    .expect("the lock");
                txn
            }
        }
    }

    /// Has PostgreSQL end every session of this app's database but the caller's (a restart,
    /// a failover, an operator): every pooled connection of the server is dead at once.
    pub async fn drop_database_connections(&self) {
        let admin = Database::connect(self.database_url())
            .await
            .expect("a session of the test's own");
        admin
            .execute_unprepared(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                 WHERE datname = current_database() AND pid <> pg_backend_pid()",
            )
            .await
            .expect("terminate the server's connections");
    }

    /// A request to this app, authenticated with the platform admin key, to be finished by
    /// the caller (headers, raw bodies) and sent with [`execute`].
    pub fn admin_request(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        self.client
            .request(method, self.url(path))
            .bearer_auth(ADMIN_KEY)
    }

    /// Sends a body as-is (not serialized by the client) with an optional Content-Type,
    /// authenticated with the platform admin key.
    pub async fn send_raw(
        &self,
        method: Method,
        path: &str,
        content_type: Option<&str>,
        body: impl Into<reqwest::Body>,
    ) -> TestResponse {
        self.send_raw_as(method, path, Some(ADMIN_KEY), content_type, body)
            .await
    }

    /// Sends a body as-is with an optional key and Content-Type.
    pub async fn send_raw_as(
        &self,
        method: Method,
        path: &str,
        key: Option<&str>,
        content_type: Option<&str>,
        body: impl Into<reqwest::Body>,
    ) -> TestResponse {
        let mut request = self.client.request(method, self.url(path)).body(body);
        if let Some(key) = key {
            request = request.bearer_auth(key);
        }
        if let Some(content_type) = content_type {
            request = request.header(reqwest::header::CONTENT_TYPE, content_type);
        }
        execute(request).await
    }

    /// Every item of a paginated list, following `next_cursor` (200 items a page), with the
    /// given key.
    pub async fn list_all_as(&self, path: &str, key: &str) -> Vec<Value> {
        let separator = if path.contains('?') { '&' } else { '?' };
        let mut items = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let page_path = match &cursor {
                None => format!("{path}{separator}limit=200"),
                Some(cursor) => format!("{path}{separator}limit=200&cursor={cursor}"),
            };
            let page = self.send(Method::GET, &page_path, Some(key), None).await;
            page.assert_status(200);
            items.extend(page.body["data"].as_array().expect("data").iter().cloned());
            match page.body["next_cursor"].as_str() {
                Some(next) => cursor = Some(next.to_owned()),
                None => return items,
            }
        }
    }

    /// Every item of a paginated list, read with the platform admin key.
    pub async fn list_all(&self, path: &str) -> Vec<Value> {
        self.list_all_as(path, ADMIN_KEY).await
    }
}

/// Sends a prepared request and reads the response whole.
pub async fn execute(request: reqwest::RequestBuilder) -> TestResponse {
    let (client, request) = request.build_split();
    let request = request.expect("a valid request");
    let method = request.method().clone();
    read(
        &method,
        client.execute(request).await.expect("request failed"),
    )
    .await
}

impl TestResponse {
    /// Asserts a 422 whose `errors[]` pointers are exactly `expected`, in any order.
    #[track_caller]
    pub fn assert_violations(&self, expected: &[&str]) -> &Self {
        self.assert_problem(422, "validation-failed");
        let mut found = self.error_pointers();
        found.sort();
        let mut expected: Vec<String> = expected.iter().map(|p| (*p).to_owned()).collect();
        expected.sort();
        assert_eq!(found, expected, "unexpected violations: {}", self.text);
        for error in self.body["errors"].as_array().into_iter().flatten() {
            assert!(
                error["message"].as_str().is_some_and(|m| !m.is_empty()),
                "a violation without a message: {}",
                self.text
            );
        }
        self
    }

    /// Asserts a client error (4xx) reported as problem+json whose `status` matches.
    #[track_caller]
    pub fn assert_client_problem(&self) -> &Self {
        assert!(
            (400..500).contains(&self.status),
            "expected a 4xx, got {}: {}",
            self.status,
            self.text
        );
        assert_eq!(
            self.header("content-type"),
            Some("application/problem+json"),
            "not problem+json ({}): {}",
            self.status,
            self.text
        );
        assert_eq!(self.body["status"], self.status, "{}", self.text);
        assert!(self.body["title"].is_string(), "{}", self.text);
        self.assert_documented_problem_type();
        self
    }
}

/// The values of the document's `ProblemType` enum.
fn documented_problem_types() -> &'static [Value] {
    document()["components"]["schemas"]["ProblemType"]["enum"]
        .as_array()
        .expect("the document's ProblemType is an enum")
}

/// The OpenAPI document the app serves (built in process; a test holds the committed file
/// to it), read once.
fn document() -> &'static Value {
    static DOCUMENT: std::sync::OnceLock<Value> = std::sync::OnceLock::new();
    DOCUMENT.get_or_init(app::http::openapi)
}

/// A response read off the wire by [`TestApp::raw_request`].
#[derive(Debug)]
pub struct RawResponse {
    pub status: u16,
    /// Header names lower-cased, values as sent.
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl RawResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

impl TestApp {
    /// Sends `method target` exactly as written (no URL normalisation, unlike an HTTP client:
    /// `..` and `%2e%2e` reach the server as they are), with the admin key and
    /// `Connection: close`, and reads the whole response.
    pub async fn raw_request(&self, method: &str, target: &str) -> RawResponse {
        use std::io::{Read, Write};
        let address = self.base.trim_start_matches("http://").to_owned();
        let request = format!(
            "{method} {target} HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {ADMIN_KEY}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        );
        let raw = tokio::task::spawn_blocking(move || {
            let mut stream = std::net::TcpStream::connect(&address).expect("connect");
            stream
                .set_read_timeout(Some(std::time::Duration::from_secs(30)))
                .expect("timeout");
            stream.write_all(request.as_bytes()).expect("write");
            let mut raw = Vec::new();
            stream.read_to_end(&mut raw).expect("read");
            raw
        })
        .await
        .expect("raw request task");
        let text = String::from_utf8_lossy(&raw).into_owned();
        let (head, body) = text.split_once("\r\n\r\n").unwrap_or((text.as_str(), ""));
        let mut lines = head.split("\r\n");
        let status = lines
            .next()
            .and_then(|line| line.split(' ').nth(1))
            .and_then(|code| code.parse().ok())
            .unwrap_or_else(|| panic!("no status line in {text:?}"));
        let headers = lines
            .filter_map(|line| line.split_once(':'))
            .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
            .collect();
        RawResponse {
            status,
            headers,
            body: body.to_owned(),
        }
    }
}
