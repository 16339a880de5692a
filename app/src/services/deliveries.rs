//! Webhook delivery: every event committed for a merchant gets a delivery per endpoint
//! subscribed to its type (in the same commit), and this loop attempts them. At least once,
//! in order per order (a later event of an order waits until the earlier one succeeded or
//! was given up), retried with backoff and jitter for about three days, signed the
//! Standard Webhooks way. A slow or dead endpoint holds only its own share of the attempts
//! in flight, never another endpoint's or a checkout.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use domain::lifecycle::{DeliveryStatus, EventType};
use domain::webhooks::{is_delivered, retry_delay, signature_header};
use rand::Rng;
use serde::Serialize;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;
use utoipa::ToSchema;

use crate::error::{ServiceError, ServiceResult};
use crate::events::{Event, EventData, WebhookTestData};
use crate::persistence::changes::{AttemptRecord, ChangeSet, Write};
use crate::persistence::entities::{event, webhook_attempt, webhook_endpoint};
use crate::persistence::leases::{DeliveryLease, LeasedDelivery, Sink};
use crate::persistence::{self, deliveries};
use crate::services::webhooks::is_public;
use crate::state::AppState;

/// How long a receiver has to answer.
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);
/// How much of a receiver's answer is kept.
pub const RESPONSE_CAP: usize = 1024;
/// Attempts in flight at most, in all.
const MAX_IN_FLIGHT: usize = 256;
/// Attempts in flight at most to one endpoint: a slow one cannot take every slot.
const MAX_IN_FLIGHT_PER_ENDPOINT: usize = 64;
/// How long a leased delivery is left to its instance: twice as long as an attempt may
/// take; an attempt in flight when its instance died is made again after it.
const LEASE: Duration = Duration::from_secs(2 * ATTEMPT_TIMEOUT.as_secs());
/// How often an idle loop looks for due deliveries: bounds the delivery lag.
const IDLE_POLL: Duration = Duration::from_millis(100);
/// How often a busy loop takes more.
const BUSY_POLL: Duration = Duration::from_millis(20);
/// After a lease that took all it asked for (more is due), how long the loop lets attempts
/// finish once one has, so that the next lease takes several.
const GATHER: Duration = Duration::from_millis(2);
/// An endpoint none of whose deliveries succeeded for this long is disabled when one is
/// given up.
const FAILING_FOR: chrono::Duration = chrono::Duration::days(3);

/// The HTTP client of every delivery (one per process, in the state, so its connections
/// are reused): no redirects, a deadline per attempt, and (unless the
/// operator allows private addresses) a resolver that refuses hosts resolving to this
/// host's networks, checked at every connection since DNS can change after the endpoint
/// was created.
pub fn client(allow_private: bool) -> reqwest::Client {
    let builder = reqwest::Client::builder()
        .timeout(ATTEMPT_TIMEOUT)
        .connect_timeout(Duration::from_secs(5))
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("orderflow-webhooks/", env!("CARGO_PKG_VERSION")))
        .pool_max_idle_per_host(MAX_IN_FLIGHT_PER_ENDPOINT);
    let builder = if allow_private {
        builder
    } else {
        builder.dns_resolver(Arc::new(PublicAddressesOnly))
    };
    // Only a TLS back end that fails to load makes this fail; without a client nothing
    // could be delivered, and the default client is as good a fallback as any.
    builder.build().unwrap_or_default()
}

struct PublicAddressesOnly;

impl reqwest::dns::Resolve for PublicAddressesOnly {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let resolved: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let public: Vec<SocketAddr> = resolved
                .into_iter()
                .filter(|address| is_public(address.ip()))
                .collect();
            if public.is_empty() {
                return Err(format!(
                    "{host} resolves to no public address (ORDERFLOW_WEBHOOK_ALLOW_PRIVATE is off)"
                )
                .into());
            }
            let addresses: reqwest::dns::Addrs = Box::new(public.into_iter());
            Ok(addresses)
        })
    }
}

/// What one attempt came to.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AttemptOutcome {
    /// The receiver answered 2xx.
    pub delivered: bool,
    /// The receiver's HTTP status; null when no answer came (refused, timed out).
    pub response_status: Option<u16>,
    pub latency_ms: u32,
    /// The start of the answer's body (at most 1 KiB).
    pub response_body: Option<String>,
    /// Why no answer came, or why it was not taken.
    pub error: Option<String>,
}

/// Signs and sends `body` as event `id` to the endpoint.
async fn send(
    client: &reqwest::Client,
    endpoint: &webhook_endpoint::Model,
    id: &str,
    body: Vec<u8>,
    allow_private: bool,
) -> AttemptOutcome {
    let started = Instant::now();
    let refused = |error: String| AttemptOutcome {
        delivered: false,
        response_status: None,
        latency_ms: 0,
        response_body: None,
        error: Some(error),
    };
    // A literal address never reaches the resolver.
    if !allow_private && literal_address(&endpoint.url).is_some_and(|ip| !is_public(ip)) {
        return refused("the URL names a private address".into());
    }
    let now = persistence::now();
    let mut secrets = vec![endpoint.secret.as_str()];
    if let (Some(previous), Some(until)) =
        (&endpoint.previous_secret, endpoint.previous_secret_until)
        && until > now
    {
        secrets.push(previous.as_str());
    }
    let signature = match signature_header(secrets, id, now.timestamp(), &body) {
        Ok(signature) => signature,
        Err(error) => return refused(error.to_string()),
    };
    let sent = client
        .post(&endpoint.url)
        .header("content-type", "application/json")
        .header("webhook-id", id)
        .header("webhook-timestamp", now.timestamp().to_string())
        .header("webhook-signature", signature)
        .body(body)
        .send()
        .await;
    let (response_status, response_body, error) = match sent {
        Ok(mut response) => {
            let status = response.status().as_u16();
            let (body, error) = read_capped(&mut response).await;
            (Some(status), Some(body), error)
        }
        Err(error) => (None, None, Some(describe(&error))),
    };
    let delivered = response_status.is_some_and(is_delivered) && error.is_none();
    AttemptOutcome {
        delivered,
        response_status,
        latency_ms: u32::try_from(started.elapsed().as_millis()).unwrap_or(u32::MAX),
        response_body,
        error: error.or_else(|| {
            response_status
                .filter(|status| !is_delivered(*status))
                .map(|status| format!("the receiver answered {status}"))
        }),
    }
}

/// The start of a response body, up to [`RESPONSE_CAP`] bytes; the rest is not read.
async fn read_capped(response: &mut reqwest::Response) -> (String, Option<String>) {
    let mut body = Vec::new();
    while body.len() < RESPONSE_CAP {
        match response.chunk().await {
            Ok(Some(chunk)) => body.extend_from_slice(&chunk),
            Ok(None) => break,
            Err(error) => return (lossy(body), Some(describe(&error))),
        }
    }
    (lossy(body), None)
}

fn lossy(mut body: Vec<u8>) -> String {
    body.truncate(RESPONSE_CAP);
    String::from_utf8_lossy(&body).into_owned()
}

/// A transport error in a sentence, with its causes (reqwest's own message is terse).
fn describe(error: &reqwest::Error) -> String {
    let mut message = if error.is_timeout() {
        format!("no answer within {} s", ATTEMPT_TIMEOUT.as_secs())
    } else if error.is_connect() {
        "could not connect".to_owned()
    } else {
        error.to_string()
    };
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    message.chars().take(500).collect()
}

fn literal_address(url: &str) -> Option<IpAddr> {
    let uri: axum::http::Uri = url.parse().ok()?;
    let host = uri.host()?.trim_start_matches('[').trim_end_matches(']');
    host.parse().ok()
}

/// Attempts in flight, per endpoint.
#[derive(Default)]
struct InFlight(Mutex<HashMap<String, usize>>);

impl InFlight {
    /// How many deliveries one lease may take: no more than there is room for in all, and
    /// no more than the fullest endpoint the lease may still take from has room for, since
    /// they may all be that endpoint's (a lease cannot say how many of each it wants). With
    /// nothing in flight that is one endpoint's share, so an endpoint with a backlog, dead
    /// or slow, never takes the slots of the others.
    fn lease_limit(&self) -> usize {
        self.0.lock().map_or(0, |m| {
            let total: usize = m.values().sum();
            let fullest = m
                .values()
                .filter(|n| **n < MAX_IN_FLIGHT_PER_ENDPOINT)
                .max()
                .copied()
                .unwrap_or(0);
            MAX_IN_FLIGHT
                .saturating_sub(total)
                .min(MAX_IN_FLIGHT_PER_ENDPOINT - fullest)
        })
    }

    fn busy(&self) -> Vec<String> {
        self.0.lock().map_or_else(
            |_| vec![],
            |m| {
                m.iter()
                    .filter(|(_, n)| **n >= MAX_IN_FLIGHT_PER_ENDPOINT)
                    .map(|(id, _)| id.clone())
                    .collect()
            },
        )
    }

    fn start(&self, endpoint: &str) {
        if let Ok(mut m) = self.0.lock() {
            *m.entry(endpoint.to_owned()).or_default() += 1;
        }
    }

    fn finish(&self, endpoint: &str) {
        if let Ok(mut m) = self.0.lock()
            && let Some(n) = m.get_mut(endpoint)
        {
            *n -= 1;
            if *n == 0 {
                m.remove(endpoint);
            }
        }
    }
}

/// What became of an attempt, told to the loop when the receiver has answered (or not).
struct Answered {
    endpoint_id: String,
    /// What to record; none when nothing was sent (the endpoint was deleted or disabled
    /// since the lease) or the event could not be sent.
    record: Option<Finished>,
}

/// An attempt to record.
struct Finished {
    delivery: LeasedDelivery,
    answered_at: chrono::DateTime<chrono::Utc>,
    event_created_at: Option<chrono::DateTime<chrono::Utc>>,
    outcome: AttemptOutcome,
}

/// Attempts due deliveries until `shutdown`; attempts in flight then finish first, and
/// are recorded.
///
/// The loop records what its attempts came to together with its next lease (both are
/// queued for the writer at once, so they usually share one transaction): one change set
/// for all the attempts answered since the last lease instead of one each, and the next
/// event of an order whose attempt was just recorded can be taken by that same lease.
pub async fn run(state: AppState, mut shutdown: watch::Receiver<bool>) {
    let client = state.webhook_client.clone();
    let in_flight = InFlight::default();
    let (answers, mut answered) = mpsc::unbounded_channel::<Answered>();
    let mut attempts = JoinSet::new();
    let mut finished = Vec::new();
    loop {
        let room = in_flight.lease_limit();
        let records = take_records(&state, &mut finished);
        let started = async {
            if room == 0 {
                return Ok(0);
            }
            lease_and_start(&state, &client, &in_flight, &answers, &mut attempts, room).await
        };
        let (recorded, started) = tokio::join!(records, started);
        if let Err(error) = recorded {
            tracing::error!(%error,
                "recording webhook attempts failed; they are attempted again when their leases end");
        }
        let leased = started.unwrap_or_else(|error| {
            tracing::error!(%error, "taking due webhook deliveries failed");
            0
        });
        while attempts.try_join_next().is_some() {}
        // Leases are writes: taken at most every BUSY_POLL while there is work, each for
        // all the room there is, rather than one per finished attempt. An answer wakes the
        // loop at once (after GATHER, so that several are recorded together): its record
        // lets the order's next event go, and a lease that took all it asked for left
        // more due. Without answers the loop still leases at the poll: the attempts in
        // flight may all be waiting out a hanging receiver, and other endpoints'
        // deliveries must not wait with them.
        let pause = if leased > 0 || room == 0 {
            BUSY_POLL
        } else {
            IDLE_POLL
        };
        tokio::select! {
            () = tokio::time::sleep(pause) => {}
            Some(first) = answered.recv() => {
                tokio::time::sleep(GATHER).await;
                note_answered(&state, &in_flight, first, &mut finished);
            }
            _ = shutdown.changed() => break,
        }
        while let Ok(answer) = answered.try_recv() {
            note_answered(&state, &in_flight, answer, &mut finished);
        }
    }
    drop(answers);
    while attempts.join_next().await.is_some() {}
    while let Some(answer) = answered.recv().await {
        note_answered(&state, &in_flight, answer, &mut finished);
    }
    if let Err(error) = take_records(&state, &mut finished).await {
        tracing::error!(%error, "recording the last webhook attempts before stopping failed");
    }
}

/// Frees the answered attempt's slot, and keeps what is to be recorded of it.
fn note_answered(
    state: &AppState,
    in_flight: &InFlight,
    answer: Answered,
    finished: &mut Vec<Finished>,
) {
    in_flight.finish(&answer.endpoint_id);
    state.metrics.webhook_in_flight.dec();
    finished.extend(answer.record);
}

/// Records the attempts answered since the last call, in one change set.
async fn take_records(state: &AppState, finished: &mut Vec<Finished>) -> ServiceResult<()> {
    if finished.is_empty() {
        return Ok(());
    }
    let mut writes = Vec::with_capacity(finished.len());
    for attempt in finished.drain(..) {
        writes.extend(record(state, attempt).await?);
    }
    state.writer.commit(ChangeSet::unguarded(writes)).await?;
    Ok(())
}

/// Leases up to `room` due deliveries and starts attempting them; returns how many.
async fn lease_and_start(
    state: &AppState,
    client: &reqwest::Client,
    in_flight: &InFlight,
    answers: &mpsc::UnboundedSender<Answered>,
    attempts: &mut JoinSet<()>,
    room: usize,
) -> ServiceResult<usize> {
    let (leased, events) = lease(
        state,
        DeliveryTarget {
            sink: Sink::Webhooks,
            limit: room,
            busy_endpoints: in_flight.busy(),
            lease_for: LEASE,
        },
    )
    .await?;
    if leased.is_empty() {
        return Ok(0);
    }
    let count = leased.len();
    let mut endpoint_ids: Vec<String> = leased.iter().map(|d| d.endpoint_id.clone()).collect();
    endpoint_ids.sort_unstable();
    endpoint_ids.dedup();
    let endpoints: HashMap<String, webhook_endpoint::Model> =
        crate::persistence::webhooks::enabled_by_ids(&state.db, endpoint_ids)
            .await?
            .into_iter()
            .map(|e| (e.id.clone(), e))
            .collect();
    let events = Arc::new(events);
    let endpoints = Arc::new(endpoints);
    for delivery in leased {
        in_flight.start(&delivery.endpoint_id);
        state.metrics.webhook_in_flight.inc();
        let (state, client, answers) = (state.clone(), client.clone(), answers.clone());
        let (events, endpoints) = (events.clone(), endpoints.clone());
        attempts.spawn(async move {
            let event = events.get(&delivery.event_id);
            let sent = attempt(&state, &client, event, endpoints.get(&delivery.endpoint_id)).await;
            // The slot is the endpoint's: it is free once the receiver answered, while the
            // attempt waits for its record to commit (the delivery stays leased until then).
            let endpoint_id = delivery.endpoint_id.clone();
            let record = match sent {
                Ok(outcome) => outcome.map(|outcome| Finished {
                    answered_at: persistence::now(),
                    event_created_at: event.map(|e| e.created_at),
                    outcome,
                    delivery,
                }),
                Err(error) => {
                    tracing::error!(delivery = delivery.id, %error,
                        "a webhook attempt could not be made; it is made again when its lease ends");
                    None
                }
            };
            // The loop outlives its attempts.
            let _ = answers.send(Answered {
                endpoint_id,
                record,
            });
        });
    }
    Ok(count)
}

/// What to lease: due deliveries of one sink.
pub struct DeliveryTarget {
    pub sink: Sink,
    pub limit: usize,
    /// Endpoints none of whose deliveries to take.
    pub busy_endpoints: Vec<String>,
    /// How long the deliveries are this instance's.
    pub lease_for: Duration,
}

/// Leases due deliveries, with the events they carry by id.
pub async fn lease(
    state: &AppState,
    target: DeliveryTarget,
) -> ServiceResult<(Vec<LeasedDelivery>, HashMap<String, event::Model>)> {
    let now = persistence::now();
    let leased = state
        .writer
        .lease_deliveries(DeliveryLease {
            now,
            until: now + chrono::Duration::from_std(target.lease_for).unwrap_or_default(),
            limit: target.limit as u64,
            busy_endpoints: target.busy_endpoints,
            sink: target.sink,
        })
        .await?;
    if leased.is_empty() {
        return Ok((leased, HashMap::new()));
    }
    let mut event_ids: Vec<String> = leased.iter().map(|d| d.event_id.clone()).collect();
    event_ids.sort_unstable();
    event_ids.dedup();
    let events = deliveries::events(&state.db, event_ids)
        .await?
        .into_iter()
        .map(|e| (e.id.clone(), e))
        .collect();
    Ok((leased, events))
}

/// Attempts one delivery; `None` when there is nothing to attempt or record (the endpoint
/// was deleted or disabled since the lease).
async fn attempt(
    state: &AppState,
    client: &reqwest::Client,
    event: Option<&event::Model>,
    endpoint: Option<&webhook_endpoint::Model>,
) -> ServiceResult<Option<AttemptOutcome>> {
    Ok(Some(match (event, endpoint) {
        (Some(event), Some(endpoint)) => {
            let body = serde_json::to_vec(&Event::new(event.clone())?)
                .map_err(|e| ServiceError::internal(e.to_string()))?;
            send(
                client,
                endpoint,
                &event.id,
                body,
                state.webhook_allow_private,
            )
            .await
        }
        (None, _) => AttemptOutcome {
            delivered: false,
            response_status: None,
            latency_ms: 0,
            response_body: None,
            error: Some("the event no longer exists".into()),
        },
        // Deleted or disabled since the lease: nothing is sent, and the delivery is not
        // leased again while the endpoint is not enabled.
        (_, None) => return Ok(None),
    }))
}

/// What an attempt came to, as writes: the delivery's new status, the attempt itself, and
/// the endpoint disabled when it gave up on a delivery after failing for days.
async fn record(state: &AppState, finished: Finished) -> ServiceResult<Vec<Write>> {
    let Finished {
        delivery,
        answered_at: now,
        event_created_at,
        outcome,
    } = finished;
    let attempts = u32::try_from(delivery.attempt_count).unwrap_or(0) + 1;
    let jitter = rand::rng().random_range(-1.0..=1.0);
    let (status, next_attempt_at, metric) = if outcome.delivered {
        if let Some(created_at) = event_created_at {
            let lag = (now - created_at).to_std().unwrap_or_default();
            state.metrics.webhook_lag_seconds.observe(lag.as_secs_f64());
        }
        (DeliveryStatus::Succeeded, now, "delivered")
    } else if let Some(delay) = event_created_at.and(retry_delay(attempts, jitter)) {
        let delay = chrono::Duration::from_std(delay).unwrap_or_default();
        (DeliveryStatus::Pending, now + delay, "retrying")
    } else {
        (DeliveryStatus::Failed, now, "given_up")
    };
    state
        .metrics
        .webhook_attempts
        .with_label_values(&[metric])
        .inc();
    let mut writes = vec![Write::RecordAttempt(AttemptRecord {
        attempts_before: delivery.attempt_count,
        status,
        next_attempt_at,
        attempt: webhook_attempt::Model {
            id: 0,
            delivery_id: delivery.id,
            attempted_at: now,
            response_status: outcome.response_status.map(i32::from),
            latency_ms: i32::try_from(outcome.latency_ms).unwrap_or(i32::MAX),
            response_body: outcome.response_body,
            error: outcome.error,
        },
    })];
    if status == DeliveryStatus::Failed
        && !deliveries::succeeded_since(&state.db, &delivery.endpoint_id, now - FAILING_FOR).await?
    {
        tracing::warn!(endpoint = %delivery.endpoint_id, "disabling a webhook endpoint that failed for days");
        writes.push(Write::DisableWebhookEndpoint {
            id: delivery.endpoint_id.clone(),
            reason: format!(
                "no delivery succeeded for {} days and one was given up at {}; enable the \
                 endpoint again once its receiver answers 2xx",
                FAILING_FOR.num_days(),
                now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            ),
            at: now,
        });
    }
    Ok(writes)
}

/// Sends a `webhook.test` event to the endpoint now, and says what came of it. Nothing is
/// stored: it is for trying a receiver out.
pub async fn send_test(
    state: &AppState,
    endpoint: &webhook_endpoint::Model,
) -> ServiceResult<AttemptOutcome> {
    let event = Event {
        id: persistence::events::new_event_id(),
        event_type: EventType::WebhookTest,
        merchant_id: Some(endpoint.merchant_id.clone()),
        order_id: None,
        sequence: None,
        created_at: persistence::now(),
        data: EventData::WebhookTest(WebhookTestData {
            endpoint_id: endpoint.id.clone(),
            message: "a test event from orderflow".into(),
        })
        .to_value(),
    };
    let body = serde_json::to_vec(&event).map_err(|e| ServiceError::internal(e.to_string()))?;
    Ok(send(
        &state.webhook_client,
        endpoint,
        &event.id,
        body,
        state.webhook_allow_private,
    )
    .await)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_addresses_are_found_in_urls() {
        assert_eq!(
            literal_address("http://127.0.0.1:8080/hook"),
            Some(IpAddr::from([127, 0, 0, 1]))
        );
        assert_eq!(
            literal_address("http://[::1]/hook"),
            Some("::1".parse().expect("an address"))
        );
        assert_eq!(literal_address("https://example.com/hook"), None);
    }

    #[test]
    fn in_flight_counts_per_endpoint() {
        let in_flight = InFlight::default();
        for _ in 0..MAX_IN_FLIGHT_PER_ENDPOINT {
            in_flight.start("we_slow");
        }
        in_flight.start("we_fast");
        assert_eq!(in_flight.busy(), ["we_slow"]);
        in_flight.finish("we_slow");
        assert!(in_flight.busy().is_empty());
    }

    #[test]
    fn a_lease_never_takes_more_than_one_endpoint_has_room_for() {
        let in_flight = InFlight::default();
        // Nothing in flight: every delivery leased may be one endpoint's.
        assert_eq!(in_flight.lease_limit(), MAX_IN_FLIGHT_PER_ENDPOINT);
        for _ in 0..10 {
            in_flight.start("we_fast");
        }
        assert_eq!(in_flight.lease_limit(), MAX_IN_FLIGHT_PER_ENDPOINT - 10);
        // A full endpoint is left out of the lease, so it does not limit it.
        for _ in 0..MAX_IN_FLIGHT_PER_ENDPOINT {
            in_flight.start("we_slow");
        }
        assert_eq!(in_flight.lease_limit(), MAX_IN_FLIGHT_PER_ENDPOINT - 10);
        // Nor more than the room left in all.
        for endpoint in ["we_a", "we_b"] {
            for _ in 0..MAX_IN_FLIGHT_PER_ENDPOINT {
                in_flight.start(endpoint);
            }
        }
        assert_eq!(
            in_flight.lease_limit(),
            MAX_IN_FLIGHT - 3 * MAX_IN_FLIGHT_PER_ENDPOINT - 10
        );
        for _ in 0..MAX_IN_FLIGHT_PER_ENDPOINT - 10 {
            in_flight.start("we_fast");
        }
        assert_eq!(in_flight.lease_limit(), 0);
    }
}
