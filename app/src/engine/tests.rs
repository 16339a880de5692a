//! The executor on its own: an execution in memory, advanced without a database, and the
//! changes it comes to.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use domain::documents::routing_table::RoutingTable;
use domain::function::{FunctionRuntime, Limits};
use domain::lifecycle::{CancelReason, OrderStatus, TaskState, TimerPurpose};
use domain::routing::CompiledRoutingTable;
use domain::workflow::{Event, Flow};
use serde_json::{Value, json};

use super::{
    Execution, ExecutionChanges, Pinned, PinnedDocument, PricingResources, StoredExecution,
};
use crate::persistence::changes::{Guard, TimerDeletion, Write};
use crate::persistence::entities::order;
use crate::published::FunctionVersion;
use crate::scripts::ConditionCache;

const HISTORY_LIMIT: i32 = 10_000;

fn now() -> DateTime<Utc> {
    DateTime::from_timestamp(1_800_000_000, 0).expect("a valid timestamp")
}

/// The platform's default flow, as seeded.
fn default_flow() -> Arc<Flow> {
    let seeded: Value = serde_json::from_str(include_str!(
        "../../../seeds/platform/order-flow/default.json"
    ))
    .expect("the seeded flow is JSON");
    let definition = domain::documents::parse(&seeded).expect("the default flow parses");
    Arc::new(Flow::new(definition))
}

fn pin(version: i32) -> PinnedDocument {
    PinnedDocument {
        scope: "merchant".into(),
        name: "default".into(),
        version,
    }
}

fn started(history_limit: i32) -> Execution {
    let pinned = Pinned {
        flow: pin(1),
        payment_combination: pin(1),
        checkout_page: None,
        routing_table: Some(pin(1)),
        functions: BTreeMap::from([("alipay-discount".into(), 1)]),
    };
    let input = json!({"payment_methods": [{"code": "alipay", "label": "Alipay", "icon": null}]});
    Execution::start(
        order::Model::awaiting_payment("o-1", now()),
        pinned,
        default_flow(),
        input,
        history_limit,
        now(),
    )
    .expect("an execution starts")
}

fn runtime() -> FunctionRuntime {
    FunctionRuntime::new(Limits::default())
}

fn advance(execution: &mut Execution, event: Event) {
    execution
        .advance(&runtime(), &ConditionCache::default(), event)
        .expect("the event applies");
}

/// What the writer stored for `changes`, read back a moment later.
fn resumed(changes: &ExecutionChanges, after_seconds: i64) -> Execution {
    StoredExecution::parse(changes.execution.clone(), changes.order.clone())
        .expect("stored rows parse")
        .resume(
            default_flow(),
            HISTORY_LIMIT,
            now() + Duration::seconds(after_seconds),
        )
}

/// The seed's pricing: alipay pays 80%, other methods have no rule and cancel.
fn pricing() -> PricingResources {
    let runtime = runtime();
    let table: RoutingTable = domain::documents::parse(&json!({
        "rules": [{"when": {"method": "alipay"}, "function": "alipay-discount"}],
        "default": {"action": "cancel"}
    }))
    .expect("the table parses");
    let script = runtime
        .compile(
            r#"#{ amount_minor: percent_of(order.amount_minor, 80), label: "Alipay: 20% off" }"#,
        )
        .expect("the script compiles");
    let function = FunctionVersion {
        name: "alipay-discount".into(),
        version: 1,
    };
    PricingResources {
        routing_table: Some(Arc::new(
            CompiledRoutingTable::compile(&runtime, table).expect("the table compiles"),
        )),
        functions: [("alipay-discount".to_owned(), (function, script))].into(),
    }
}

fn kinds(changes: &ExecutionChanges) -> Vec<&str> {
    changes.events.iter().map(|e| e.kind.as_str()).collect()
}

fn waiting_order() -> ExecutionChanges {
    let mut execution = started(HISTORY_LIMIT);
    advance(&mut execution, Event::Start);
    execution.into_changes().expect("changes")
}

#[test]
fn starting_runs_to_the_payment_wait_and_inserts_everything() {
    let changes = waiting_order();
    assert_eq!(
        changes.expected_version, None,
        "a new execution is inserted"
    );
    assert_eq!(changes.execution.version, 1);
    assert_eq!(changes.order.status, "awaiting_payment");
    assert_eq!(
        kinds(&changes),
        [
            "ExecutionStarted",
            "StepEntered",
            "TaskScheduled",
            "TaskSucceeded",
            "StepEntered",
            "TaskScheduled"
        ]
    );
    let seqs: Vec<i32> = changes.events.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, [1, 2, 3, 4, 5, 6]);
    assert_eq!(changes.execution.event_count, 6);
    assert_eq!(changes.new_tasks.len(), 1);
    assert_eq!(changes.new_tasks[0].state, "waiting");
    assert_eq!(changes.new_tasks[0].step, "payment");
    let purposes: Vec<TimerPurpose> = changes.new_timers.iter().map(|t| t.purpose).collect();
    assert_eq!(
        purposes,
        [TimerPurpose::FlowTimeout, TimerPurpose::StepTimeout]
    );
    assert_eq!(
        changes.order.payment_deadline,
        Some(now() + Duration::seconds(300))
    );
    assert!(changes.deleted_timers.is_empty() && changes.settled_tasks.is_empty());
    assert_eq!(changes.finished, None);
    assert_eq!(
        outbox(&changes),
        [
            ("order.created", Some(1)),
            ("order.awaiting_payment", Some(6))
        ],
        "each event sits at the history position of what it tells"
    );

    let set = changes.into_change_set();
    assert!(matches!(set.guard.as_deref(), Some(Guard::InsertOrder(_))));
    assert!(
        !set.writes
            .iter()
            .any(|w| matches!(w, Write::ExpireWaitingTasks { .. })),
        "a new execution has nothing stored to end"
    );
}

#[test]
fn paying_settles_the_task_prices_and_completes_under_a_compare_and_set() {
    let waiting = waiting_order();
    let token = waiting.new_tasks[0].token.clone();
    let mut execution = resumed(&waiting, 5);
    assert_eq!(execution.awaited_payment(), Some(token.as_str()));
    assert!(
        execution.may_run_scripts(),
        "the payment leads to the discount"
    );
    assert!(execution.settle_task(&token, TaskState::Succeeded));
    execution.paid_with("alipay");
    execution.pricing = Some(pricing());
    advance(
        &mut execution,
        Event::TaskSucceeded {
            output: json!({"payment_method": "alipay"}),
        },
    );
    assert_eq!(execution.evaluations.len(), 1);
    let changes = execution.into_changes().expect("changes");
    assert_eq!(changes.expected_version, Some(1));
    assert_eq!(changes.execution.version, 2);
    assert_eq!(changes.execution.status, "succeeded");
    assert_eq!(changes.order.status, "completed");
    assert_eq!(changes.order.final_amount_minor, Some(8_000));
    assert_eq!(changes.order.payment_method.as_deref(), Some("alipay"));
    let told = outbox(&changes);
    assert_eq!(
        told.iter().map(|(t, _)| *t).collect::<Vec<_>>(),
        ["order.paid", "order.completed"]
    );
    assert!(told[0].1 < told[1].1 && told[0].1 > Some(6), "{told:?}");
    let discount: Value =
        serde_json::from_str(changes.order.discount.as_deref().expect("a discount")).expect("json");
    assert_eq!(
        discount,
        json!({"function": "alipay-discount", "version": 1, "label": "Alipay: 20% off"})
    );
    assert!(kinds(&changes).contains(&"FunctionEvaluated"));
    assert_eq!(kinds(&changes).last(), Some(&"ExecutionSucceeded"));
    assert_eq!(
        changes.events[0].seq, 7,
        "the history continues where it was"
    );
    assert_eq!(changes.settled_tasks.len(), 1);
    assert_eq!(changes.settled_tasks[0].state, TaskState::Succeeded);
    assert_eq!(
        changes.deleted_timers,
        [TimerDeletion::Tokens(vec![token.clone()])]
    );
    assert!(changes.ended && changes.new_timers.is_empty());
    assert_eq!(changes.finished, Some((OrderStatus::Completed, None)));

    let set = changes.into_change_set();
    assert!(matches!(
        set.guard.as_deref(),
        Some(Guard::AdvanceExecution {
            expected_version: 1,
            ..
        })
    ));
    assert!(set.writes.iter().any(|w| matches!(
        w,
        Write::DeleteTimers(TimerDeletion::OfExecution(id)) if id == "o-1"
    )));
    // The execution's timers go in one deletion, and the task it settled needs no expiry.
    assert!(!set.writes.iter().any(|w| matches!(
        w,
        Write::DeleteTimers(TimerDeletion::Tokens(_)) | Write::ExpireWaitingTasks { .. }
    )));
}

#[test]
fn a_task_settles_once_and_only_the_awaited_one() {
    let waiting = waiting_order();
    let token = waiting.new_tasks[0].token.clone();
    let mut execution = resumed(&waiting, 1);
    assert!(!execution.settle_task("tt_another", TaskState::Succeeded));
    assert!(execution.settle_task(&token, TaskState::TimedOut));
    assert!(
        !execution.settle_task(&token, TaskState::Succeeded),
        "the loser of a race changes nothing"
    );
}

#[test]
fn a_payment_timeout_cancels_the_order() {
    let waiting = waiting_order();
    let token = waiting.new_tasks[0].token.clone();
    let mut execution = resumed(&waiting, 301);
    execution.timer_fired(42);
    assert!(execution.settle_task(&token, TaskState::TimedOut));
    advance(&mut execution, Event::TaskTimedOut);
    let changes = execution.into_changes().expect("changes");
    assert_eq!(changes.order.status, "canceled");
    assert_eq!(
        changes.order.cancel_reason.as_deref(),
        Some("payment_timeout")
    );
    assert_eq!(
        changes.finished,
        Some((OrderStatus::Canceled, Some(CancelReason::PaymentTimeout)))
    );
    assert!(
        changes
            .deleted_timers
            .contains(&TimerDeletion::Ids(vec![42]))
    );
}

#[test]
fn a_customer_cancel_ends_the_waits() {
    let waiting = waiting_order();
    let mut execution = resumed(&waiting, 1);
    execution.cancel_now(CancelReason::CustomerCanceled);
    let changes = execution.into_changes().expect("changes");
    assert_eq!(
        changes.order.cancel_reason.as_deref(),
        Some("customer_canceled")
    );
    assert_eq!(kinds(&changes), ["ExecutionCanceled"]);
    assert!(changes.ended);
    let set = changes.into_change_set();
    assert!(
        set.writes
            .iter()
            .any(|w| matches!(w, Write::ExpireWaitingTasks { .. }))
    );
}

#[test]
fn the_history_cap_fails_the_execution() {
    let mut execution = started(4);
    advance(&mut execution, Event::Start);
    let changes = execution.into_changes().expect("changes");
    assert_eq!(changes.order.status, "canceled");
    assert_eq!(changes.order.cancel_reason.as_deref(), Some("rejected"));
    assert_eq!(kinds(&changes).last(), Some(&"ExecutionFailed"));
    assert!(changes.ended && changes.new_timers.is_empty());
    assert!(
        changes.new_tasks.iter().all(|t| t.state == "timed_out"),
        "a task of an ended execution cannot be completed"
    );
}

#[test]
fn pricing_without_its_resources_is_an_error_not_a_missing_route() {
    let waiting = waiting_order();
    let token = waiting.new_tasks[0].token.clone();
    let mut execution = resumed(&waiting, 5);
    assert!(execution.settle_task(&token, TaskState::Succeeded));
    execution.paid_with("alipay");
    let advanced = execution.advance(
        &runtime(),
        &ConditionCache::default(),
        Event::TaskSucceeded {
            output: json!({"payment_method": "alipay"}),
        },
    );
    assert!(
        matches!(advanced, Err(crate::error::ServiceError::Internal(_))),
        "{:?}",
        advanced.err()
    );
}

/// The outbox of a change: each event's type and sequence.
fn outbox(changes: &ExecutionChanges) -> Vec<(&str, Option<i32>)> {
    changes
        .outbox
        .iter()
        .map(|e| (e.event_type.as_str(), e.sequence))
        .collect()
}
