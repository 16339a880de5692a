//! The actions a task step runs synchronously, turned into the interpreter's next event.

use domain::documents::flow::Action;
use domain::function::{FunctionErrorKind, FunctionRuntime};
use domain::lifecycle::{CancelReason, HistoryKind, OrderStatus, errors};
use domain::workflow::{Event, RUNTIME_ERROR};
use serde_json::{Value, json};

use super::execution::{EvaluationRecord, Execution};
use super::pricing::{self, Pricing};
use crate::error::{ServiceError, ServiceResult};

impl Execution {
    pub(super) fn run_action(
        &mut self,
        runtime: &FunctionRuntime,
        step: &str,
        action: Action,
        function: Option<&str>,
        input: Value,
    ) -> ServiceResult<Event> {
        Ok(match action {
            Action::ResolvePaymentCombination => Event::TaskSucceeded {
                output: json!({"payment_combination": self.pinned.payment_combination.version,
                               "methods": input.get("payment_methods").cloned().unwrap_or(Value::Null)}),
            },
            Action::ApplyDiscount => self.apply_discount(runtime, step, None)?,
            Action::RunFunction => self.apply_discount(runtime, step, function)?,
            Action::CompleteOrder => {
                self.status = OrderStatus::Completed;
                self.cancel_reason = None;
                if self.order.final_amount_minor.is_none() {
                    self.order.final_amount_minor = Some(self.order.amount_minor);
                }
                Event::TaskSucceeded {
                    output: json!({"status": OrderStatus::Completed, "final_amount_minor": self.order.final_amount_minor}),
                }
            }
            Action::CancelOrder => {
                let reason = self.cancel_reason_from_state();
                self.cancel_order(reason);
                Event::TaskSucceeded {
                    output: json!({"status": OrderStatus::Canceled, "cancel_reason": reason}),
                }
            }
            // Waiting actions are always scheduled with the callback pattern (checked at publish).
            Action::AwaitPayment | Action::AwaitCallback => Event::TaskFailed {
                error: RUNTIME_ERROR.into(),
                cause: "a waiting action was run without the waitForCallback pattern".into(),
            },
        })
    }

    /// The order map the scripts see.
    fn order_map(&self) -> ServiceResult<Value> {
        Ok(json!({
            "amount_minor": self.order.amount_minor,
            "currency": self.order.currency,
            "method": self.order.payment_method,
            "merchant_id": self.order.merchant_id,
            "items": crate::persistence::stored_json(&self.order.items)?,
            "fields": crate::persistence::stored_json(&self.order.fields)?,
        }))
    }

    /// `apply_discount` (the routing table picks the function) or `run_function` (named),
    /// with the pinned versions loaded beforehand.
    fn apply_discount(
        &mut self,
        runtime: &FunctionRuntime,
        step: &str,
        named: Option<&str>,
    ) -> ServiceResult<Event> {
        let order_map = self.order_map()?;
        let resources = self.pricing.as_ref().ok_or_else(|| {
            ServiceError::internal("a pricing step ran without its pricing loaded")
        })?;
        let pricing = match (named, &resources.routing_table) {
            (Some(name), _) => {
                pricing::run_function(runtime, &resources.functions, None, name, &order_map)
            }
            (None, None) => Pricing::NoRoute,
            (None, Some(table)) => {
                pricing::price(runtime, table, &order_map, &resources.functions).pricing
            }
        };
        let routing_table_version = self
            .pinned
            .routing_table
            .as_ref()
            .map(|p| p.version)
            .filter(|_| named.is_none());
        Ok(match pricing {
            Pricing::Priced {
                rule,
                function,
                evaluation,
            } => {
                self.evaluations.push(EvaluationRecord {
                    duration: evaluation.duration,
                    error: evaluation.outcome.as_ref().err().map(|e| e.kind),
                });
                let duration_us =
                    u64::try_from(evaluation.duration.as_micros()).unwrap_or(u64::MAX);
                let mut detail = json!({
                    "routing_table_version": routing_table_version,
                    "rule": rule,
                    "function": function.name,
                    "version": function.version,
                    "input": order_map,
                    "logs": evaluation.logs,
                    "operations": evaluation.operations,
                    "duration_us": duration_us,
                });
                match evaluation.outcome {
                    Ok(output) => {
                        detail["output"] =
                            json!({"amount_minor": output.amount_minor, "label": output.label});
                        self.record(HistoryKind::FunctionEvaluated, Some(step), detail);
                        let discount = json!({"function": function.name, "version": function.version, "label": output.label});
                        self.order.final_amount_minor = Some(output.amount_minor);
                        self.order.discount = Some(discount.to_string());
                        Event::TaskSucceeded {
                            output: json!({"final_amount_minor": output.amount_minor, "discount": discount}),
                        }
                    }
                    Err(error) => {
                        detail["error"] = json!({"kind": error.kind.as_str(), "message": error.message,
                                                 "line": error.line, "column": error.column});
                        self.record(HistoryKind::FunctionEvaluated, Some(step), detail);
                        Event::TaskFailed {
                            error: flow_error_name(error.kind).into(),
                            cause: error.message,
                        }
                    }
                }
            }
            Pricing::Cancel | Pricing::NoRoute => Event::TaskFailed {
                error: errors::ROUTE_NOT_FOUND.into(),
                cause: format!(
                    "no route for payment method '{}'",
                    self.order.payment_method.as_deref().unwrap_or_default()
                ),
            },
            Pricing::FunctionNotPublished { function, .. } => Event::TaskFailed {
                error: errors::ROUTE_NOT_FOUND.into(),
                cause: format!(
                    "the route names discount function '{function}', which is not published"
                ),
            },
            Pricing::ConditionFailed(error) => Event::TaskFailed {
                error: errors::FUNCTION_ERROR.into(),
                cause: format!("a routing condition failed: {}", error.message),
            },
        })
    }

    fn cancel_reason_from_state(&self) -> CancelReason {
        match &self.state.error {
            Some(caught) => CancelReason::from_error(&caught.error, self.step_action(&caught.step)),
            None => CancelReason::Rejected,
        }
    }
}

/// The error a function failure raises in the flow: `Function.Error` for mistakes in the
/// script or its result, the specific name for limits and timeouts.
fn flow_error_name(kind: FunctionErrorKind) -> &'static str {
    match kind {
        FunctionErrorKind::LimitExceeded => errors::FUNCTION_LIMIT_EXCEEDED,
        FunctionErrorKind::Timeout => errors::FUNCTION_TIMEOUT,
        FunctionErrorKind::CompileError
        | FunctionErrorKind::RuntimeError
        | FunctionErrorKind::InvalidResult => errors::FUNCTION_ERROR,
    }
}
