//! The order lifecycle as types: an order's status and why it was canceled, the states of
//! a waiting task, what a timer is for, and the events told to the outside world. Stored
//! and shown by their names.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::documents::flow::Action;
use crate::workflow::TASK_TIMEOUT;

/// An unknown name for one of the lifecycle enums (e.g. a corrupt row).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{value}' is not a known {what}")]
pub struct UnknownName {
    pub what: &'static str,
    pub value: String,
}

/// Declares a field-less enum stored as snake_case text, with its full list of names.
macro_rules! named_enum {
    ($(#[$meta:meta])* $vis:vis enum $name:ident ($what:literal) {
        $($(#[$vmeta:meta])* $variant:ident = $text:literal,)+
    }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        $vis enum $name {
            $($(#[$vmeta])* #[serde(rename = $text)] $variant,)+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant,)+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)+
                }
            }
        }

        impl FromStr for $name {
            type Err = UnknownName;

            fn from_str(value: &str) -> Result<Self, UnknownName> {
                match value {
                    $($text => Ok($name::$variant),)+
                    _ => Err(UnknownName { what: $what, value: value.to_owned() }),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

named_enum! {
    /// Where an order stands.
    pub enum OrderStatus ("order status") {
        AwaitingPayment = "awaiting_payment",
        /// Paid, and the flow has more to do (e.g. a manual review step).
        Processing = "processing",
        Completed = "completed",
        Canceled = "canceled",
    }
}

named_enum! {
    /// What an event tells: one per change the outside world may act on.
    pub enum EventType ("event type") {
        OrderCreated = "order.created",
        OrderAwaitingPayment = "order.awaiting_payment",
        OrderPaid = "order.paid",
        OrderCompleted = "order.completed",
        /// With the order's `cancel_reason`.
        OrderCanceled = "order.canceled",
        /// A `waitForCallback` step waits: the event carries its task token.
        TaskAwaitingCallback = "task.awaiting_callback",
        TaskTimedOut = "task.timed_out",
        MetadataPublished = "metadata.published",
        /// Sent only by the send-test operation, to the one endpoint it names; never
        /// stored, never subscribed to.
        WebhookTest = "webhook.test",
    }
}

impl EventType {
    /// Whether an endpoint may subscribe to it: every type but `webhook.test`.
    pub fn is_subscribable(self) -> bool {
        self != EventType::WebhookTest
    }

    /// The types an endpoint may subscribe to, in declaration order.
    pub fn subscribable() -> impl Iterator<Item = EventType> {
        EventType::ALL
            .iter()
            .copied()
            .filter(|t| t.is_subscribable())
    }
}

impl OrderStatus {
    /// Completed and canceled orders never change again.
    pub fn is_final(self) -> bool {
        matches!(self, OrderStatus::Completed | OrderStatus::Canceled)
    }
}

named_enum! {
    /// What an entry of an execution's history records.
    pub enum HistoryKind ("history event kind") {
        ExecutionStarted = "ExecutionStarted",
        StepEntered = "StepEntered",
        TaskScheduled = "TaskScheduled",
        TaskSucceeded = "TaskSucceeded",
        TaskFailed = "TaskFailed",
        TaskTimedOut = "TaskTimedOut",
        TaskHeartbeat = "TaskHeartbeat",
        TaskRetryScheduled = "TaskRetryScheduled",
        ChoiceSelected = "ChoiceSelected",
        FunctionEvaluated = "FunctionEvaluated",
        ErrorCaught = "ErrorCaught",
        ExecutionSucceeded = "ExecutionSucceeded",
        ExecutionFailed = "ExecutionFailed",
        ExecutionCanceled = "ExecutionCanceled",
    }
}

named_enum! {
    /// Why an order was canceled.
    pub enum CancelReason ("cancel reason") {
        PaymentTimeout = "payment_timeout",
        FlowTimeout = "flow_timeout",
        NoRoute = "no_route",
        FunctionError = "function_error",
        CustomerCanceled = "customer_canceled",
        /// Canceled by the merchant (an admin key, the console).
        MerchantCanceled = "merchant_canceled",
        Rejected = "rejected",
    }
}

impl CancelReason {
    /// The reason for the error that ended or diverted a flow, raised at a step running
    /// `at_action`.
    pub fn from_error(error: &str, at_action: Option<Action>) -> Self {
        match error {
            TASK_TIMEOUT if at_action == Some(Action::AwaitPayment) => CancelReason::PaymentTimeout,
            errors::FLOW_TIMEOUT => CancelReason::FlowTimeout,
            errors::ROUTE_NOT_FOUND => CancelReason::NoRoute,
            e if e.starts_with(errors::FUNCTION_PREFIX) => CancelReason::FunctionError,
            _ => CancelReason::Rejected,
        }
    }
}

named_enum! {
    /// A task issued by a `waitForCallback` step. It leaves `waiting` exactly once.
    pub enum TaskState ("task state") {
        Waiting = "waiting",
        Succeeded = "succeeded",
        Failed = "failed",
        TimedOut = "timed_out",
    }
}

named_enum! {
    /// What a timer does when it falls due.
    pub enum TimerPurpose ("timer purpose") {
        /// A waiting step's timeout: its task times out.
        StepTimeout = "step_timeout",
        /// The flow's `timeoutSeconds`: the execution fails.
        FlowTimeout = "flow_timeout",
        /// A `wait` step ends.
        Wait = "wait",
        /// A task is retried after its backoff.
        Retry = "retry",
    }
}

named_enum! {
    /// Where a webhook delivery stands. It leaves `pending` once.
    pub enum DeliveryStatus ("delivery status") {
        /// Due now or later, or being attempted.
        Pending = "pending",
        /// The receiver answered 2xx.
        Succeeded = "succeeded",
        /// Given up after the last retry.
        Failed = "failed",
    }
}

named_enum! {
    /// Where a staged rollout of a published version stands. It leaves `active` once.
    pub enum RolloutState ("rollout state") {
        /// The candidate version goes to its percentage of new orders.
        Active = "active",
        /// Every new order gets the candidate.
        Promoted = "promoted",
        /// Every new order gets the stable version again.
        Aborted = "aborted",
    }
}

/// Error names the engine raises itself, beside the interpreter's.
pub mod errors {
    /// The flow's `timeoutSeconds` passed.
    pub const FLOW_TIMEOUT: &str = "States.Timeout";
    /// The history reached its cap.
    pub const HISTORY_LIMIT: &str = "Execution.HistoryLimit";
    /// No route for the payment method, or the route names an unpublished function.
    pub const ROUTE_NOT_FOUND: &str = "Route.NotFound";
    /// A mistake in a discount function or its result (and a failing routing condition).
    pub const FUNCTION_ERROR: &str = "Function.Error";
    pub const FUNCTION_LIMIT_EXCEEDED: &str = "Function.LimitExceeded";
    pub const FUNCTION_TIMEOUT: &str = "Function.Timeout";
    pub(super) const FUNCTION_PREFIX: &str = "Function.";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for status in OrderStatus::ALL {
            assert_eq!(status.as_str().parse::<OrderStatus>(), Ok(*status));
            assert_eq!(
                serde_json::to_value(status).unwrap(),
                serde_json::json!(status.as_str())
            );
        }
        for reason in CancelReason::ALL {
            assert_eq!(reason.as_str().parse::<CancelReason>(), Ok(*reason));
        }
        for state in TaskState::ALL {
            assert_eq!(state.to_string().parse::<TaskState>(), Ok(*state));
        }
        for event in EventType::ALL {
            assert_eq!(event.as_str().parse::<EventType>(), Ok(*event));
            assert_eq!(
                serde_json::to_value(event).unwrap(),
                serde_json::json!(event.as_str())
            );
        }
        for status in DeliveryStatus::ALL {
            assert_eq!(status.as_str().parse::<DeliveryStatus>(), Ok(*status));
        }
        for purpose in TimerPurpose::ALL {
            assert_eq!(purpose.as_str().parse::<TimerPurpose>(), Ok(*purpose));
        }
        for kind in HistoryKind::ALL {
            assert_eq!(kind.as_str().parse::<HistoryKind>(), Ok(*kind));
        }
        assert_eq!(
            "paid".parse::<OrderStatus>(),
            Err(UnknownName {
                what: "order status",
                value: "paid".into()
            })
        );
    }

    #[test]
    fn final_statuses() {
        let finals: Vec<_> = OrderStatus::ALL.iter().filter(|s| s.is_final()).collect();
        assert_eq!(finals, [&OrderStatus::Completed, &OrderStatus::Canceled]);
    }

    #[test]
    fn cancel_reasons_follow_the_error() {
        let payment = Some(Action::AwaitPayment);
        let review = Some(Action::AwaitCallback);
        assert_eq!(
            CancelReason::from_error(TASK_TIMEOUT, payment),
            CancelReason::PaymentTimeout
        );
        // A timeout at another waiting step is not a payment timeout.
        assert_eq!(
            CancelReason::from_error(TASK_TIMEOUT, review),
            CancelReason::Rejected
        );
        assert_eq!(
            CancelReason::from_error(errors::FLOW_TIMEOUT, payment),
            CancelReason::FlowTimeout
        );
        assert_eq!(
            CancelReason::from_error(errors::ROUTE_NOT_FOUND, None),
            CancelReason::NoRoute
        );
        for error in [
            errors::FUNCTION_ERROR,
            errors::FUNCTION_LIMIT_EXCEEDED,
            errors::FUNCTION_TIMEOUT,
        ] {
            assert_eq!(
                CancelReason::from_error(error, None),
                CancelReason::FunctionError
            );
        }
        assert_eq!(
            CancelReason::from_error("Payment.Declined", payment),
            CancelReason::Rejected
        );
    }
}
