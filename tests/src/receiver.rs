//! A webhook receiver for the tests: a real HTTP server on port 0 that records what
//! arrives and answers with the statuses it is told to (200 once those run out).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use serde_json::Value;

/// One request the receiver got.
#[derive(Debug, Clone)]
pub struct Received {
    pub id: String,
    pub timestamp: String,
    pub signature: String,
    pub body: Bytes,
    /// What the receiver answered.
    pub status: u16,
}

impl Received {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("a JSON body")
    }

    pub fn event_type(&self) -> String {
        self.json()["type"].as_str().unwrap_or_default().to_owned()
    }
}

#[derive(Default)]
struct Shared {
    received: Mutex<Vec<Received>>,
    answers: Mutex<VecDeque<u16>>,
    /// How long each answer takes.
    delay: Duration,
}

pub struct Receiver {
    pub url: String,
    shared: Arc<Shared>,
}

impl Receiver {
    /// Starts a receiver that answers `answers` in turn, then 200.
    pub async fn start(answers: &[u16]) -> Receiver {
        Self::start_with(answers, Duration::ZERO).await
    }

    /// Starts a receiver that records each request at once and answers after `delay`.
    pub async fn start_slow(delay: Duration) -> Receiver {
        Self::start_with(&[], delay).await
    }

    async fn start_with(answers: &[u16], delay: Duration) -> Receiver {
        let shared = Arc::new(Shared {
            delay,
            ..Shared::default()
        });
        shared
            .answers
            .lock()
            .expect("not poisoned")
            .extend(answers.iter().copied());
        let router = axum::Router::new()
            .route("/hooks", post(receive))
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a port");
        let url = format!(
            "http://{}/hooks",
            listener.local_addr().expect("an address")
        );
        tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        Receiver { url, shared }
    }

    pub fn received(&self) -> Vec<Received> {
        self.shared.received.lock().expect("not poisoned").clone()
    }

    /// What arrived once at least `count` requests did; panics after `limit`.
    pub async fn wait_for(&self, count: usize, limit: Duration) -> Vec<Received> {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            let received = self.received();
            if received.len() >= count {
                return received;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{count} deliveries expected within {limit:?}, {} arrived: {:?}",
                received.len(),
                received
                    .iter()
                    .map(Received::event_type)
                    .collect::<Vec<_>>()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

async fn receive(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let status = shared
        .answers
        .lock()
        .expect("not poisoned")
        .pop_front()
        .unwrap_or(200);
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    shared
        .received
        .lock()
        .expect("not poisoned")
        .push(Received {
            id: header("webhook-id"),
            timestamp: header("webhook-timestamp"),
            signature: header("webhook-signature"),
            body,
            status,
        });
    tokio::time::sleep(shared.delay).await;
    StatusCode::from_u16(status).unwrap_or(StatusCode::OK)
}
