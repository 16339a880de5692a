//! An execution's history as the API shows it: one shape per [`HistoryKind`], so that a
//! client knows exactly what each entry's `detail` holds.
//!
//! The entries are served as stored (`execution_events.detail`, written by the interpreter
//! and the engine), never re-encoded: rows written by any earlier version keep their exact
//! bytes. The `*Detail` types below describe those objects in the OpenAPI document; the
//! black-box tests validate every history they read against it, so a producer that changes a
//! detail without its type here fails them.

use std::borrow::Cow;

use chrono::{DateTime, Utc};
use domain::lifecycle::HistoryKind;
use serde::Serialize;
use serde_json::Value;
use utoipa::openapi::schema::{
    AdditionalProperties, KnownFormat, ObjectBuilder, Schema, SchemaFormat, Type,
};
use utoipa::openapi::{Ref, RefOr};
use utoipa::{PartialSchema, ToSchema};

use crate::openapi_enums::{discriminated_union, string_enum};
use crate::persistence::entities::execution_history;
use details::*;

/// One event of an execution's history. Documented as one schema per `type`
/// ([`PartialSchema`] below); served as stored.
#[derive(Debug, Serialize)]
pub struct HistoryEvent {
    pub seq: i32,
    #[serde(rename = "type")]
    pub event_type: String,
    pub step: Option<String>,
    pub at: DateTime<Utc>,
    pub detail: Value,
}

impl From<execution_history::Entry> for HistoryEvent {
    fn from(entry: execution_history::Entry) -> Self {
        Self {
            detail: entry.detail,
            seq: entry.seq,
            event_type: entry.kind,
            step: entry.step,
            at: entry.at,
        }
    }
}

/// What each kind of entry means, and its detail's schema: an exhaustive match, so that a
/// new kind cannot go undocumented. `schemas` collects the detail's schema and those it
/// refers to.
fn kind_shape(
    kind: HistoryKind,
    schemas: &mut Vec<(String, RefOr<Schema>)>,
) -> (&'static str, Cow<'static, str>) {
    fn detail<T: ToSchema>(schemas: &mut Vec<(String, RefOr<Schema>)>) -> Cow<'static, str> {
        schemas.push((T::name().into_owned(), T::schema()));
        T::schemas(schemas);
        T::name()
    }
    match kind {
        HistoryKind::ExecutionStarted => (
            "The execution started: what the order pinned, and its input.",
            detail::<ExecutionStartedDetail>(schemas),
        ),
        HistoryKind::StepEntered => ("A step was entered.", detail::<StepEnteredDetail>(schemas)),
        HistoryKind::TaskScheduled => (
            "A task step's action was started (again, on a retry).",
            detail::<TaskScheduledDetail>(schemas),
        ),
        HistoryKind::TaskSucceeded => (
            "A task finished: its action's result, or a callback's output.",
            detail::<TaskSucceededDetail>(schemas),
        ),
        HistoryKind::TaskFailed => (
            "A task failed: its action's error, or a failure callback's.",
            detail::<FailureDetail>(schemas),
        ),
        HistoryKind::TaskTimedOut => (
            "A waiting task's timeout passed before its callback.",
            detail::<TaskTimedOutDetail>(schemas),
        ),
        HistoryKind::TaskHeartbeat => (
            "The holder of a waiting task's token reported that it is still working.",
            detail::<NoDetail>(schemas),
        ),
        HistoryKind::TaskRetryScheduled => (
            "A failed task will run again, per its step's `retry`.",
            detail::<TaskRetryScheduledDetail>(schemas),
        ),
        HistoryKind::ChoiceSelected => (
            "A choice step picked where to go.",
            detail::<ChoiceSelectedDetail>(schemas),
        ),
        HistoryKind::FunctionEvaluated => (
            "A discount function ran: which, on what, and its result or error.",
            detail::<FunctionEvaluatedDetail>(schemas),
        ),
        HistoryKind::ErrorCaught => (
            "A step's error was handed to its `catch`.",
            detail::<ErrorCaughtDetail>(schemas),
        ),
        HistoryKind::ExecutionSucceeded => {
            ("The flow ended successfully.", detail::<NoDetail>(schemas))
        }
        HistoryKind::ExecutionFailed => (
            "The flow ended with an error: a `fail` step, an uncaught error, the flow's timeout or the history's cap.",
            detail::<FailureDetail>(schemas),
        ),
        HistoryKind::ExecutionCanceled => (
            "The order was canceled from outside the flow (by the customer or the merchant).",
            detail::<ExecutionCanceledDetail>(schemas),
        ),
    }
}

/// Whether entries of a kind belong to a step (`step` is its name) or to the whole
/// execution (`step` is null).
fn at_step(kind: HistoryKind) -> bool {
    !matches!(
        kind,
        HistoryKind::ExecutionStarted
            | HistoryKind::ExecutionSucceeded
            | HistoryKind::ExecutionFailed
            | HistoryKind::ExecutionCanceled
    )
}

/// The schema name of the entries of one kind, e.g. `HistoryEventTaskScheduled`.
fn event_schema_name(kind: HistoryKind) -> String {
    format!("HistoryEvent{}", kind.as_str())
}

impl PartialSchema for HistoryEvent {
    fn schema() -> RefOr<Schema> {
        discriminated_union(
            "One event of an execution's history; `type` says what it records and so which shape `detail` has.".into(),
            "type",
            HistoryKind::ALL
                .iter()
                .map(|kind| (kind.as_str(), event_schema_name(*kind))),
        )
    }
}

impl ToSchema for HistoryEvent {
    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        for kind in HistoryKind::ALL {
            let (description, detail) = kind_shape(*kind, schemas);
            let step = if at_step(*kind) {
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .description(Some("The step's name"))
            } else {
                ObjectBuilder::new()
                    .schema_type(Type::Null)
                    .description(Some("An execution-wide entry: no step"))
            };
            let event = ObjectBuilder::new()
                .description(Some(format!("`{kind}`: {description}")))
                .property(
                    "seq",
                    ObjectBuilder::new()
                        .schema_type(Type::Integer)
                        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int32)))
                        .minimum(Some(1))
                        .description(Some("The position in the history, from 1")),
                )
                .required("seq")
                .property("type", string_enum([kind.as_str()]))
                .required("type")
                .property("step", step)
                .required("step")
                .property(
                    "at",
                    ObjectBuilder::new()
                        .schema_type(Type::String)
                        .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime))),
                )
                .required("at")
                .property("detail", Ref::from_schema_name(detail))
                .required("detail")
                .additional_properties(Some(AdditionalProperties::FreeForm(false)));
            schemas.push((event_schema_name(*kind), event.into()));
        }
    }
}

/// The detail of each kind, field for field what the producers write.
mod details {
    // Documentation of stored JSON, never built in Rust (see the module's comment).
    #![allow(
        dead_code,
        reason = "describes stored history JSON in the OpenAPI document"
    )]

    use std::collections::BTreeMap;

    use serde_json::Value;
    use utoipa::ToSchema;
    use utoipa::openapi::{RefOr, schema::Schema};

    use crate::http::functions::{FunctionOutput, ScriptError};
    use crate::openapi_enums::{ActionSchema, CancelReasonSchema, StepTypeSchema, string_enum};
    use crate::published::OfferedMethod;
    use crate::services::orders::Item;

    /// `ExecutionStarted`: the versions the order pinned and the execution's input.
    #[derive(ToSchema)]
    #[serde(deny_unknown_fields)]
    pub struct ExecutionStartedDetail {
        pinned: PinnedVersions,
        input: ExecutionInput,
    }

    /// The metadata versions an order resolved when it started; later publishes never change
    /// them.
    #[derive(ToSchema)]
    #[serde(deny_unknown_fields)]
    pub struct PinnedVersions {
        flow: PinnedVersion,
        payment_combination: PinnedVersion,
        /// Null when the merchant has no checkout page.
        #[schema(required = true)]
        checkout_page: Option<PinnedVersion>,
        /// Null when the merchant has no routing table.
        #[schema(required = true)]
        routing_table: Option<PinnedVersion>,
        /// Every discount function published for the merchant: name → version.
        #[schema(example = json!({"alipay-discount": 1, "wechat-pay-discount": 1}))]
        functions: BTreeMap<String, i32>,
    }

    /// A pinned document version.
    #[derive(ToSchema)]
    #[serde(deny_unknown_fields)]
    pub struct PinnedVersion {
        scope: PinnedScope,
        #[schema(example = "default")]
        name: String,
        #[schema(minimum = 1)]
        version: i32,
    }

    /// Whose document: the platform's or the order's merchant's.
    #[derive(ToSchema)]
    #[serde(rename_all = "snake_case")]
    pub enum PinnedScope {
        Platform,
        Merchant,
    }

    /// The execution's input: the order as created, with the methods it may be paid with.
    /// Task steps without `inputMappings` receive it.
    #[derive(ToSchema)]
    #[serde(deny_unknown_fields)]
    pub struct ExecutionInput {
        order_id: String,
        #[schema(example = "haidilao")]
        merchant_id: String,
        #[schema(example = 10000)]
        amount_minor: i64,
        #[schema(example = "CNY")]
        currency: String,
        items: Vec<Item>,
        #[schema(schema_with = crate::http::orders::address_schema)]
        address: Value,
        #[schema(schema_with = crate::http::orders::fields_schema)]
        fields: Value,
        payment_methods: Vec<OfferedMethod>,
    }

    /// `StepEntered`: the entered step's type.
    #[derive(ToSchema)]
    #[serde(deny_unknown_fields)]
    pub struct StepEnteredDetail {
        #[serde(rename = "type")]
        #[schema(value_type = StepTypeSchema)]
        step_type: String,
    }

    /// `TaskScheduled`: the action, which attempt, and (only when the step has
    /// `inputMappings`) the input they built; without mappings the task's input is the
    /// execution's, recorded once in `ExecutionStarted`.
    #[derive(ToSchema)]
    #[serde(deny_unknown_fields)]
    pub struct TaskScheduledDetail {
        #[schema(value_type = ActionSchema)]
        action: String,
        /// 1 for the first run, then one more per retry.
        #[schema(minimum = 1)]
        attempt: u32,
        /// One member per `inputMappings` target.
        #[schema(value_type = Option<Object>, nullable = false)]
        input: Option<Value>,
    }

    /// `TaskSucceeded`: the task's output. An action's result, or what a success callback
    /// gave as `output` (`null` when it gave none); for a payment step
    /// `{"payment_method": …}`.
    #[derive(ToSchema)]
    #[serde(deny_unknown_fields)]
    pub struct TaskSucceededDetail {
        #[schema(required = true)]
        output: Value,
    }

    /// `TaskFailed` and `ExecutionFailed`: an error name and what caused it. The names are
    /// open-ended: the engine raises `Task.Timeout`, `States.Timeout`, `States.Runtime`,
    /// `Execution.HistoryLimit`, `Route.NotFound`, `Function.Error`, `Function.LimitExceeded`,
    /// `Function.Timeout`, a `fail` step `States.Fail` or its own `error`, and a failure
    /// callback any name it chooses (e.g. `Payment.Declined`).
    #[derive(ToSchema)]
    #[serde(deny_unknown_fields)]
    pub struct FailureDetail {
        #[schema(example = "Route.NotFound")]
        error: String,
        cause: String,
    }

    /// `TaskTimedOut`: always the error `Task.Timeout`.
    #[derive(ToSchema)]
    #[serde(deny_unknown_fields)]
    pub struct TaskTimedOutDetail {
        #[schema(schema_with = task_timeout_error)]
        error: String,
    }

    /// `TaskHeartbeat` and `ExecutionSucceeded`: an empty object.
    #[derive(ToSchema)]
    #[serde(deny_unknown_fields)]
    pub struct NoDetail {}

    /// `TaskRetryScheduled`: the error being retried, the attempt that failed, and the delay.
    #[derive(ToSchema)]
    #[serde(deny_unknown_fields)]
    pub struct TaskRetryScheduledDetail {
        #[schema(example = "Payment.Declined")]
        error: String,
        #[schema(minimum = 1)]
        attempt: u32,
        /// The next attempt runs this many seconds later (at most a day).
        #[schema(maximum = 86_400)]
        in_seconds: u64,
    }

    /// `ChoiceSelected`: which condition matched, and where the flow goes.
    #[derive(ToSchema)]
    #[serde(deny_unknown_fields)]
    pub struct ChoiceSelectedDetail {
        /// The index in `choices` of the first condition that held; null when none did and
        /// the step's `default` was taken.
        #[schema(required = true)]
        choice: Option<u32>,
        /// The step entered next.
        goto: String,
    }

    /// `FunctionEvaluated`: which discount function ran, on what order, what it printed and
    /// counted, and either its `output` or its `error` (exactly one of the two).
    #[derive(ToSchema)]
    #[serde(deny_unknown_fields)]
    pub struct FunctionEvaluatedDetail {
        /// The routing table version that chose the function; null for a `run_function` step,
        /// which names its function.
        #[schema(required = true)]
        routing_table_version: Option<i32>,
        /// The index of the routing rule that matched; null when the table's default chose
        /// the function, or no table did.
        #[schema(required = true)]
        rule: Option<u32>,
        #[schema(example = "alipay-discount")]
        function: String,
        version: i32,
        input: FunctionInput,
        /// What the script printed with `print` and `debug`.
        logs: Vec<String>,
        /// Operations the engine counted.
        operations: u64,
        duration_us: u64,
        #[schema(nullable = false)]
        output: Option<FunctionOutput>,
        #[schema(nullable = false)]
        error: Option<ScriptError>,
    }

    /// The `order` map a discount function saw.
    #[derive(ToSchema)]
    #[serde(deny_unknown_fields)]
    pub struct FunctionInput {
        amount_minor: i64,
        currency: String,
        /// The payment method the customer chose.
        #[schema(required = true, example = "alipay")]
        method: Option<String>,
        merchant_id: String,
        items: Vec<Item>,
        #[schema(schema_with = crate::http::orders::fields_schema)]
        fields: Value,
    }

    /// `ErrorCaught`: the error, its cause, and the step the `catch` goes to.
    #[derive(ToSchema)]
    #[serde(deny_unknown_fields)]
    pub struct ErrorCaughtDetail {
        #[schema(example = "Task.Timeout")]
        error: String,
        cause: String,
        goto: String,
    }

    /// `ExecutionCanceled`: why the order was canceled.
    #[derive(ToSchema)]
    #[serde(deny_unknown_fields)]
    pub struct ExecutionCanceledDetail {
        #[schema(value_type = CancelReasonSchema)]
        reason: String,
    }

    fn task_timeout_error() -> RefOr<Schema> {
        string_enum([domain::workflow::TASK_TIMEOUT])
    }
}
