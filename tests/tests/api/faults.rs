//! Faults of the write path: the database cannot take writes for a while. Another session
//! holds a lock the writer needs (SQLite: the database's write lock; PostgreSQL: an
//! `EXCLUSIVE` lock on `orders`). Writes must fail with a 503 problem in bounded time and
//! leave nothing half-applied, reads must go on meanwhile, and the writer must recover on
//! its own once the lock is gone.

use std::time::{Duration, Instant};

use reqwest::Method;
use tests::checkout::order_body;
use tests::{ADMIN_KEY, Backend, TestApp, on_both_databases};

async fn order_count(app: &TestApp) -> usize {
    app.list_all("/v1/merchants/haidilao/orders").await.len()
}

on_both_databases! {
    async fn a_write_the_database_cannot_take_answers_503_and_the_writer_recovers(app: TestApp) {
        let existing = app.create_order("haidilao").await;
        let existing_id = existing["order_id"].as_str().expect("order_id").to_owned();
        let before = order_count(&app).await;

        let lock = app.hold_write_lock("orders").await;
        let started = Instant::now();
        let blocked = {
            let request = app
                .admin_request(Method::POST, "/v1/storefront/orders")
                .header("Idempotency-Key", "during-the-outage")
                .json(&order_body("haidilao"));
            tokio::spawn(tests::execute(request))
        };

        // Reads do not queue behind the stuck write.
        tokio::time::sleep(Duration::from_millis(500)).await;
        let read = app.get(&format!("/v1/orders/{existing_id}")).await;
        read.assert_status(200);
        assert_eq!(read.body["status"], "awaiting_payment");
        assert!(!blocked.is_finished(), "the write should still be waiting for the lock");

        let refused = blocked.await.expect("the blocked request");
        let waited = started.elapsed();
        refused.assert_problem(503, "unavailable");
        assert_eq!(refused.header("retry-after"), Some("1"), "{:?}", refused.headers);
        assert!(
            waited < Duration::from_secs(25),
            "the 503 must come from the writer, before the request timeout; took {waited:?}"
        );
        // Not ready while writes cannot commit, and it says so at once. (On PostgreSQL only
        // `orders` is locked: other writes commit, and the
        // instance is rightly ready.)
        if app.backend == Backend::Sqlite {
            let probed = Instant::now();
            app.get("/readyz").await.assert_problem(503, "unavailable");
            assert!(probed.elapsed() < Duration::from_secs(2), "readyz took {:?}", probed.elapsed());
        }

        lock.rollback().await.expect("release the lock");
        assert_eq!(order_count(&app).await, before, "nothing of the refused write was applied");

        // The writer recovers on its own, and the key of the refused request was not kept.
        let retried = app
            .send_with_idempotency(
                Method::POST,
                "/v1/storefront/orders",
                ADMIN_KEY,
                Some("during-the-outage"),
                Some(&order_body("haidilao")),
            )
            .await;
        retried.assert_status(201);
        assert_eq!(retried.header("idempotent-replayed"), None);
        app.get("/readyz").await.assert_status(200);
        let paid = app.pay(&existing_id, "alipay").await;
        paid.assert_status(200);
        assert_eq!(paid.body["status"], "completed", "{}", paid.text);
        assert_eq!(order_count(&app).await, before + 1);
    }
}

async fn a_request_that_outlives_its_timeout_is_abandoned_not_applied_later(backend: Backend) {
    let Some(app) =
        TestApp::spawn_configured(backend, |config| config.request_timeout_secs = 1).await
    else {
        eprintln!("ORDERFLOW_TEST_DATABASE_URL is not set: PostgreSQL half skipped");
        return;
    };
    let before = order_count(&app).await;
    let lock = app.hold_write_lock("orders").await;
    let started = Instant::now();
    let timed_out = app
        .create_order_as(ADMIN_KEY, &order_body("haidilao"))
        .await;
    timed_out.assert_problem(503, "request-timeout");
    assert_eq!(
        timed_out.header("retry-after"),
        Some("1"),
        "{:?}",
        timed_out.headers
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "took {:?}",
        started.elapsed()
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    lock.rollback().await.expect("release the lock");

    app.create_order("haidilao").await;
    let after = order_count(&app).await;
    match app.backend {
        // The writer took the change set, then waited for the database's write lock; by
        // the time it had it, no one was waiting for the answer, so it left the set out.
        Backend::Sqlite => assert_eq!(after, before + 1, "the abandoned order was applied"),
        // PostgreSQL's writer was past that point, inside its transaction waiting on the
        // table lock, when the request gave up: the order may or may not exist, the one
        // answer a timeout can give (a retry with the same Idempotency-Key is safe).
        Backend::Postgres => assert!((before + 1..=before + 2).contains(&after), "{after}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_that_outlives_its_timeout_is_abandoned_not_applied_later_sqlite() {
    a_request_that_outlives_its_timeout_is_abandoned_not_applied_later(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_that_outlives_its_timeout_is_abandoned_not_applied_later_postgres() {
    a_request_that_outlives_its_timeout_is_abandoned_not_applied_later(Backend::Postgres).await;
}

/// PostgreSQL drops every connection of the server (a restart, a failover, an operator):
/// writes answer 201 or 503, never 500, and the writer reconnects on its own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_writer_reconnects_after_postgres_drops_its_connections() {
    let Some(app) = TestApp::spawn(Backend::Postgres).await else {
        eprintln!("ORDERFLOW_TEST_DATABASE_URL is not set: skipped");
        return;
    };
    let before = order_count(&app).await;
    app.drop_database_connections().await;

    let deadline = Instant::now() + Duration::from_secs(20);
    let mut created = 0;
    let mut unavailable = 0;
    while created < 3 {
        assert!(
            Instant::now() < deadline,
            "no write succeeded after the drop"
        );
        // A read on a connection PostgreSQL closed is the database's outage too.
        let read = app.get("/v1/merchants/haidilao/orders?limit=1").await;
        if read.status != 200 {
            read.assert_problem(503, "unavailable");
        }
        let response = app
            .create_order_as(ADMIN_KEY, &order_body("haidilao"))
            .await;
        match response.status {
            201 => created += 1,
            503 => {
                response.assert_problem(503, "unavailable");
                unavailable += 1;
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            _ => panic!(
                "a dropped connection must not answer {}: {}",
                response.status, response.text
            ),
        }
    }
    eprintln!("{unavailable} writes answered 503 while the writer reconnected");
    assert_eq!(
        order_count(&app).await,
        before + 3,
        "each 201 stored once, each 503 nothing"
    );
}

/// Slow clients (slowloris): connections that send part of a request's headers and then
/// nothing. They hold no worker, the server goes on answering others at once, and each is
/// closed once the header read timeout (10 s) passes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_that_never_finish_their_headers_are_cut_off() {
    let app = TestApp::spawn(Backend::Sqlite)
        .await
        .expect("SQLite always runs");
    let address = app.url("").trim_start_matches("http://").to_owned();
    let mut slow = Vec::new();
    for _ in 0..50 {
        let stream = tokio::net::TcpStream::connect(&address)
            .await
            .expect("connect");
        stream.writable().await.expect("writable");
        stream
            .try_write(b"GET /v1/merchants HTTP/1.1\r\nHost: x\r\n")
            .expect("send part of the headers");
        slow.push(stream);
    }
    for _ in 0..5 {
        let asked = Instant::now();
        app.get("/healthz").await.assert_status(200);
        assert!(
            asked.elapsed() < Duration::from_secs(1),
            "healthz took {:?} beside 50 slow clients",
            asked.elapsed()
        );
    }
    let started = Instant::now();
    for stream in &slow {
        let closed = tokio::time::timeout(Duration::from_secs(20), async {
            loop {
                stream.readable().await.expect("readable");
                let mut buffer = [0u8; 512];
                match stream.try_read(&mut buffer) {
                    // Whatever the server says before it closes (e.g. a 408) is read past.
                    Ok(read) if read > 0 => {}
                    Err(error) if error.kind() == std::io::ErrorKind::WouldBlock => {}
                    // Closed (end of stream), or reset.
                    _ => return,
                }
            }
        })
        .await;
        assert!(
            closed.is_ok(),
            "a slow client was still connected after 20 s"
        );
    }
    assert!(
        started.elapsed() >= Duration::from_secs(5),
        "slow clients were cut off too early ({:?}): the timeout is 10 s",
        started.elapsed()
    );
}
