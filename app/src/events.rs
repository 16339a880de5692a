//! Events as the outside world sees them, in the feed, in every webhook delivery and on
//! NATS: the envelope, and what each type of event carries. The engine and the metadata
//! service build an event from one of these payloads, so that its type and its data cannot
//! disagree, and the OpenAPI document describes the data from the same types.

use chrono::{DateTime, Utc};
use domain::lifecycle::{CancelReason, EventType};
use sea_orm::DbErr;
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use crate::openapi_enums::{CancelReasonSchema, EventTypeSchema, MetadataKindSchema};
use crate::persistence::entities::event;
use crate::persistence::stored_json;
use crate::published::OfferedMethod;

/// Something that happened, written in the same commit as the change it tells of: it exists
/// if and only if that change committed.
#[derive(Debug, Serialize, ToSchema)]
pub struct Event {
    /// Stable: the same event delivered twice has the same id.
    #[schema(example = "evt_0193a9c1d2e37f5a8b9c0d1e2f3a4b5c")]
    pub id: String,
    /// What happened; it says which shape `data` has.
    #[serde(rename = "type")]
    #[schema(value_type = EventTypeSchema, example = "order.paid")]
    pub event_type: EventType,
    pub merchant_id: Option<String>,
    /// The order it tells of, for order and task events.
    pub order_id: Option<String>,
    /// For order and task events: the position in the order's history of the step it
    /// tells of. Increases with every event of an order.
    pub sequence: Option<i32>,
    pub created_at: DateTime<Utc>,
    /// What the event tells: the shape named after its `type`.
    #[schema(value_type = EventData)]
    pub data: Value,
}

impl Event {
    pub fn new(row: event::Model) -> Result<Self, DbErr> {
        Ok(Self {
            event_type: row
                .event_type
                .parse()
                .map_err(|e| DbErr::Custom(format!("event {}: {e}", row.id)))?,
            data: stored_json(&row.data)?,
            id: row.id,
            merchant_id: row.merchant_id,
            order_id: row.order_id,
            sequence: row.sequence,
            created_at: row.created_at,
        })
    }
}

/// What an event carries, one shape per event type. Every field is always present (`null`
/// when unknown) and no other is, so exactly one shape matches.
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub enum EventData {
    OrderCreated(OrderCreatedData),
    OrderAwaitingPayment(OrderAwaitingPaymentData),
    OrderPaid(OrderPaidData),
    OrderCompleted(OrderCompletedData),
    OrderCanceled(OrderCanceledData),
    TaskAwaitingCallback(TaskAwaitingCallbackData),
    TaskTimedOut(TaskTimedOutData),
    MetadataPublished(MetadataPublishedData),
    WebhookTest(WebhookTestData),
}

impl EventData {
    pub fn event_type(&self) -> EventType {
        match self {
            EventData::OrderCreated(_) => EventType::OrderCreated,
            EventData::OrderAwaitingPayment(_) => EventType::OrderAwaitingPayment,
            EventData::OrderPaid(_) => EventType::OrderPaid,
            EventData::OrderCompleted(_) => EventType::OrderCompleted,
            EventData::OrderCanceled(_) => EventType::OrderCanceled,
            EventData::TaskAwaitingCallback(_) => EventType::TaskAwaitingCallback,
            EventData::TaskTimedOut(_) => EventType::TaskTimedOut,
            EventData::MetadataPublished(_) => EventType::MetadataPublished,
            EventData::WebhookTest(_) => EventType::WebhookTest,
        }
    }

    /// As sent, for an event built on the spot (the send-test operation).
    pub fn to_value(&self) -> Value {
        // Plain structs of strings, numbers and times: serializing them cannot fail.
        serde_json::to_value(self).unwrap_or(Value::Null)
    }

    /// As stored in the outbox: written straight to text, without a `Value` in between
    /// (four of these per checkout).
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| "null".to_owned())
    }

    /// The name of the schema of this type's data in the OpenAPI document.
    pub fn schema_name(event_type: EventType) -> std::borrow::Cow<'static, str> {
        match event_type {
            EventType::OrderCreated => OrderCreatedData::name(),
            EventType::OrderAwaitingPayment => OrderAwaitingPaymentData::name(),
            EventType::OrderPaid => OrderPaidData::name(),
            EventType::OrderCompleted => OrderCompletedData::name(),
            EventType::OrderCanceled => OrderCanceledData::name(),
            EventType::TaskAwaitingCallback => TaskAwaitingCallbackData::name(),
            EventType::TaskTimedOut => TaskTimedOutData::name(),
            EventType::MetadataPublished => MetadataPublishedData::name(),
            EventType::WebhookTest => WebhookTestData::name(),
        }
    }
}

/// `order.created`: an order was placed.
#[derive(Debug, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrderCreatedData {
    #[schema(required = true)]
    pub order_num: Option<String>,
    /// In minor units of `currency`.
    pub amount_minor: i64,
    #[schema(example = "CNY")]
    pub currency: String,
}

/// `order.awaiting_payment`: the order waits for its payment until `payment_deadline`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrderAwaitingPaymentData {
    pub amount_minor: i64,
    pub currency: String,
    pub payment_deadline: DateTime<Utc>,
    /// The methods the customer may pay with, in display order.
    #[schema(value_type = Vec<OfferedMethod>)]
    pub payment_methods: Value,
}

/// `order.paid`: the payment step succeeded.
#[derive(Debug, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrderPaidData {
    #[schema(required = true, example = "alipay")]
    pub payment_method: Option<String>,
}

/// `order.completed`: the flow finished; `final_amount_minor` is what the customer paid
/// after the discount.
#[derive(Debug, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrderCompletedData {
    pub amount_minor: i64,
    #[schema(required = true)]
    pub final_amount_minor: Option<i64>,
    #[schema(required = true)]
    pub payment_method: Option<String>,
}

/// `order.canceled`, with why.
#[derive(Debug, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrderCanceledData {
    #[schema(required = true, value_type = Option<CancelReasonSchema>)]
    pub cancel_reason: Option<CancelReason>,
}

/// `task.awaiting_callback`: a `waitForCallback` step waits for whoever holds `token` to
/// call `/v1/tasks/{token}/success` (or `/failure`) before `deadline`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TaskAwaitingCallbackData {
    pub step: String,
    pub token: String,
    /// The step's input: the fields its `inputMappings` name, or without mappings the
    /// execution's input (`ExecutionInput`). The mappings are the merchant's flow's, so the
    /// object is left open.
    #[schema(value_type = Object)]
    pub input: Value,
    pub deadline: DateTime<Utc>,
}

/// `task.timed_out`: a step's task was not finished in time.
#[derive(Debug, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TaskTimedOutData {
    pub step: String,
}

/// `metadata.published`: a version of a document was published (or rolled back to).
#[derive(Debug, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MetadataPublishedData {
    /// `platform` or `merchant:<id>`.
    #[schema(example = "merchant:xibei")]
    pub scope: String,
    #[schema(value_type = MetadataKindSchema)]
    pub kind: &'static str,
    pub name: String,
    pub version: i32,
    /// The version whose body this one republished, for a rollback.
    #[schema(required = true)]
    pub rolled_back_from: Option<i32>,
    /// For a staged rollout: the share of new orders, in percent, that get this version
    /// (the others keep the version published before); null when every new order does.
    #[schema(required = true, minimum = 1, maximum = 99)]
    pub rollout_percent: Option<u8>,
}

/// `webhook.test`: what the send-test operation sends to try a receiver out.
#[derive(Debug, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookTestData {
    pub endpoint_id: String,
    pub message: String,
}
