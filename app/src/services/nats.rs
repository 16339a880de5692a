//! NATS JetStream, a second sink for the events: every merchant event committed while
//! `ORDERFLOW_NATS_URL` is set gets a delivery to NATS in the same commit (see
//! [`fan_out`](crate::persistence::fan_out)), and this loop publishes them to
//! `<prefix>.<merchant>.<event type>` with `Nats-Msg-Id` set to the event id, so the
//! stream drops the duplicates an at-least-once publisher may send. One order's events are
//! published in order; a broker that is away is retried until it is back.

use std::time::{Duration, Instant};

use async_nats::jetstream::{self, context::PublishAckFuture, message::PublishMessage};
use domain::lifecycle::DeliveryStatus;
use domain::webhooks::republish_delay;
use tokio::sync::watch;

use crate::error::ServiceResult;
use crate::events::Event;
use crate::persistence;
use crate::persistence::changes::{AttemptRecord, ChangeSet, Write};
use crate::persistence::entities::{event, webhook_attempt};
use crate::persistence::leases::{LeasedDelivery, Sink};
use crate::services::deliveries::{self, DeliveryTarget};
use crate::state::AppState;

/// Events published at a time (their acknowledgements are awaited together).
const BATCH: usize = 512;
/// How long a leased delivery is left to this instance (a publish is acknowledged within
/// seconds); one in flight when its instance died is published again after it.
const LEASE: Duration = Duration::from_secs(20);
/// How often an idle loop looks for due deliveries.
const IDLE_POLL: Duration = Duration::from_millis(100);
/// How long to wait before connecting again after the broker could not be reached.
const RECONNECT: Duration = Duration::from_secs(2);
/// How long the stream keeps events, and de-duplicates by id.
const RETENTION: Duration = Duration::from_secs(7 * 24 * 3600);
const DUPLICATE_WINDOW: Duration = Duration::from_secs(120);

/// The stream that takes `<prefix>.>`: the prefix in capitals.
pub fn stream_name(prefix: &str) -> String {
    prefix.to_ascii_uppercase().replace('-', "_")
}

/// The subject of an event: `<prefix>.<merchant>.<event type>`.
pub fn subject(prefix: &str, event: &event::Model) -> Option<String> {
    Some(format!(
        "{prefix}.{}.{}",
        event.merchant_id.as_deref()?,
        event.event_type
    ))
}

/// Publishes due NATS deliveries until `shutdown`.
pub async fn run(
    state: AppState,
    url: String,
    prefix: String,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        let context = tokio::select! {
            connected = connect(&url, &prefix) => connected,
            _ = shutdown.changed() => return,
        };
        let context = match context {
            Ok(context) => context,
            Err(error) => {
                tracing::warn!(%error, %url, "NATS JetStream is not reachable; trying again");
                tokio::select! {
                    () = tokio::time::sleep(RECONNECT) => continue,
                    _ = shutdown.changed() => return,
                }
            }
        };
        tracing::info!(%url, stream = %stream_name(&prefix), "publishing events to NATS JetStream");
        loop {
            let published = match publish_due(&state, &context, &prefix).await {
                Ok(published) => published,
                Err(error) => {
                    tracing::error!(%error, "publishing events to NATS failed");
                    0
                }
            };
            if published == BATCH {
                continue;
            }
            tokio::select! {
                () = tokio::time::sleep(IDLE_POLL) => {}
                _ = shutdown.changed() => return,
            }
        }
    }
}

async fn connect(url: &str, prefix: &str) -> Result<jetstream::Context, String> {
    let client = async_nats::ConnectOptions::new()
        .connection_timeout(Duration::from_secs(5))
        .connect(url)
        .await
        .map_err(|e| e.to_string())?;
    let context = jetstream::new(client);
    context
        .get_or_create_stream(jetstream::stream::Config {
            name: stream_name(prefix),
            subjects: vec![format!("{prefix}.>")],
            max_age: RETENTION,
            duplicate_window: DUPLICATE_WINDOW,
            ..Default::default()
        })
        .await
        .map_err(|e| format!("the stream {}: {e}", stream_name(prefix)))?;
    Ok(context)
}

/// Leases due NATS deliveries, publishes them and records what came of each; returns how
/// many were leased.
async fn publish_due(
    state: &AppState,
    context: &jetstream::Context,
    prefix: &str,
) -> ServiceResult<usize> {
    let (leased, events) = deliveries::lease(
        state,
        DeliveryTarget {
            sink: Sink::Nats,
            limit: BATCH,
            busy_endpoints: vec![],
            lease_for: LEASE,
        },
    )
    .await?;
    if leased.is_empty() {
        return Ok(0);
    }
    // Sent one after another so the broker stores them in lease order; acknowledged together.
    let mut pending = Vec::with_capacity(leased.len());
    for delivery in &leased {
        let started = Instant::now();
        let sent = match events.get(&delivery.event_id) {
            Some(event) => send(context, prefix, event).await,
            None => Err("the event no longer exists".to_owned()),
        };
        pending.push((delivery, started, sent));
    }
    let mut writes = Vec::with_capacity(leased.len());
    for (delivery, started, sent) in pending {
        // The context bounds the wait for each acknowledgement.
        let outcome = match sent {
            Ok(ack) => ack.await.map(|_| ()).map_err(|e| e.to_string()),
            Err(error) => Err(error),
        };
        writes.push(record(delivery, started, outcome));
    }
    state.writer.commit(ChangeSet::unguarded(writes)).await?;
    Ok(leased.len())
}

async fn send(
    context: &jetstream::Context,
    prefix: &str,
    event: &event::Model,
) -> Result<PublishAckFuture, String> {
    let subject = subject(prefix, event).ok_or("an event without a merchant has no subject")?;
    let body = serde_json::to_vec(&Event::new(event.clone()).map_err(|e| e.to_string())?)
        .map_err(|e| e.to_string())?;
    context
        .send_publish(
            subject,
            PublishMessage::build()
                .message_id(&event.id)
                .payload(body.into()),
        )
        .await
        .map_err(|e| e.to_string())
}

/// Where a publish leaves its delivery: done, or due again after a backoff.
fn record(delivery: &LeasedDelivery, started: Instant, outcome: Result<(), String>) -> Write {
    let now = persistence::now();
    let attempts = u32::try_from(delivery.attempt_count).unwrap_or(0) + 1;
    let (status, next_attempt_at, error) = match outcome {
        Ok(()) => (DeliveryStatus::Succeeded, now, None),
        Err(error) => {
            let delay = chrono::Duration::from_std(republish_delay(attempts)).unwrap_or_default();
            (DeliveryStatus::Pending, now + delay, Some(error))
        }
    };
    Write::RecordAttempt(AttemptRecord {
        attempts_before: delivery.attempt_count,
        status,
        next_attempt_at,
        attempt: webhook_attempt::Model {
            id: 0,
            delivery_id: delivery.id,
            attempted_at: now,
            response_status: None,
            latency_ms: i32::try_from(started.elapsed().as_millis()).unwrap_or(i32::MAX),
            response_body: None,
            error,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subjects_name_the_merchant_and_the_type() {
        let event = event::Model {
            position: 1,
            id: "evt_1".into(),
            merchant_id: Some("haidilao".into()),
            order_id: Some("o".into()),
            sequence: Some(1),
            event_type: "order.paid".into(),
            data: "{}".into(),
            created_at: chrono::DateTime::from_timestamp(0, 0).expect("a time"),
        };
        assert_eq!(
            subject("orderflow", &event).as_deref(),
            Some("orderflow.haidilao.order.paid")
        );
        assert_eq!(stream_name("t-1a"), "T_1A");
        let platform = event::Model {
            merchant_id: None,
            ..event
        };
        assert_eq!(subject("orderflow", &platform), None);
    }
}
