//! NATS JetStream as a second sink: every merchant event reaches its subject once (the
//! stream de-duplicates by event id), in order per order, also after a restart. Runs when
//! `ORDERFLOW_TEST_NATS_URL` names a NATS server with JetStream (CI sets it).

use std::time::Duration;

use async_nats::jetstream::{self, consumer};
use tests::{Backend, TestApp};

fn nats_url() -> Option<String> {
    std::env::var("ORDERFLOW_TEST_NATS_URL").ok()
}

/// A subject prefix (and so a stream) of this test's own.
fn prefix() -> String {
    format!("t{}", &uuid::Uuid::new_v4().simple().to_string()[..12])
}

async fn spawn(backend: Backend, url: &str, prefix: &str, deliver: bool) -> Option<TestApp> {
    let (url, prefix) = (url.to_owned(), prefix.to_owned());
    TestApp::spawn_configured(backend, move |config| {
        config.nats.url = deliver.then_some(url);
        config.nats.subject_prefix = prefix;
    })
    .await
}

/// The order events on the stream, in stream order: (subject, Nats-Msg-Id, body).
async fn stream_messages(
    context: &jetstream::Context,
    prefix: &str,
    expected: usize,
) -> Vec<(String, String, serde_json::Value)> {
    let stream_name = prefix.to_ascii_uppercase();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    let stream = loop {
        match context.get_stream(&stream_name).await {
            Ok(stream) => break stream,
            Err(error) => {
                assert!(
                    tokio::time::Instant::now() < deadline,
                    "no stream {stream_name}: {error}"
                );
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    };
    // The seed's publishes are on the stream too (`<prefix>.<merchant>.metadata.published`).
    let consumer = stream
        .create_consumer(consumer::pull::Config {
            filter_subject: format!("{prefix}.*.order.>"),
            ..Default::default()
        })
        .await
        .expect("a consumer");
    let mut messages = Vec::new();
    while messages.len() < expected && tokio::time::Instant::now() < deadline {
        let mut batch = consumer
            .fetch()
            .max_messages(expected)
            .expires(Duration::from_millis(500))
            .messages()
            .await
            .expect("messages");
        while let Some(message) = futures_util::StreamExt::next(&mut batch).await {
            messages.push(message.expect("a message"));
        }
    }
    let messages = messages.into_iter().map(|message| {
        let id = message
            .headers
            .as_ref()
            .and_then(|h| h.get("Nats-Msg-Id"))
            .map(|v| v.to_string())
            .unwrap_or_default();
        let body = serde_json::from_slice(&message.payload).expect("a JSON event");
        (message.subject.to_string(), id, body)
    });
    let messages = messages.collect();
    let _ = context.delete_stream(&stream_name).await;
    messages
}

async fn every_event_is_published_once_in_order(backend: Backend) {
    let Some(url) = nats_url() else {
        eprintln!("ORDERFLOW_TEST_NATS_URL is not set: NATS test skipped");
        return;
    };
    let prefix = prefix();
    // Events committed while this instance cannot reach NATS wait for the next one.
    let Some(app) = spawn(backend, "nats://127.0.0.1:1", &prefix, true).await else {
        eprintln!("ORDERFLOW_TEST_DATABASE_URL is not set: PostgreSQL half skipped");
        return;
    };
    let first = app.create_order("haidilao").await["order_id"]
        .as_str()
        .expect("id")
        .to_owned();
    let database_url = app.database_url().to_owned();
    let configured = prefix.clone();
    let publisher = TestApp::spawn_on_configured(backend, &database_url, move |config| {
        config.seed = false;
        config.nats.url = Some(url);
        config.nats.subject_prefix = configured;
    })
    .await;
    let second = publisher.create_order("haidilao").await["order_id"]
        .as_str()
        .expect("id")
        .to_owned();
    publisher.pay(&second, "alipay").await.assert_status(200);

    let client = async_nats::connect(nats_url().expect("set"))
        .await
        .expect("NATS");
    let context = jetstream::new(client);
    let messages = stream_messages(&context, &prefix, 6).await;
    let of = |order: &str| -> Vec<String> {
        messages
            .iter()
            .filter(|(_, _, body)| body["order_id"] == order)
            .map(|(subject, _, _)| subject.clone())
            .collect()
    };
    assert_eq!(
        of(&first),
        [
            format!("{prefix}.haidilao.order.created"),
            format!("{prefix}.haidilao.order.awaiting_payment"),
        ]
    );
    assert_eq!(
        of(&second),
        [
            "order.created",
            "order.awaiting_payment",
            "order.paid",
            "order.completed"
        ]
        .map(|t| format!("{prefix}.haidilao.{t}"))
    );
    for (_, id, body) in &messages {
        assert_eq!(body["id"], id.as_str(), "Nats-Msg-Id is the event id");
    }
    let feed = publisher
        .list_all(&format!("/v1/merchants/haidilao/events?order_id={second}"))
        .await;
    let feed_ids: Vec<&str> = feed.iter().map(|e| e["id"].as_str().expect("id")).collect();
    let published: Vec<&str> = messages
        .iter()
        .filter(|(_, _, body)| body["order_id"] == second.as_str())
        .map(|(_, id, _)| id.as_str())
        .collect();
    assert_eq!(published, feed_ids);
    drop(app);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_event_is_published_once_in_order_sqlite() {
    every_event_is_published_once_in_order(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_event_is_published_once_in_order_postgres() {
    every_event_is_published_once_in_order(Backend::Postgres).await;
}
