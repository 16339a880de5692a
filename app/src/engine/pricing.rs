//! Pricing a payment: the routing table picks a discount function, the function prices the
//! order. The workflow's `apply_discount` and the routing evaluate endpoint share this.

use domain::function::{DiscountOutput, Evaluation, FunctionError, FunctionRuntime};
use domain::routing::{CompiledRoutingTable, Route, Routing};
use serde_json::Value;

use crate::published::{FunctionVersion, PricingFunctions};

/// What pricing a payment came to.
#[derive(Debug)]
pub enum Pricing {
    /// A function ran; its evaluation holds the output or the error.
    Priced {
        rule: Option<usize>,
        function: FunctionVersion,
        evaluation: Evaluation<DiscountOutput>,
    },
    /// No rule matched and the table's default is to cancel.
    Cancel,
    /// No rule matched and there is no default.
    NoRoute,
    /// The route names a function that is not published.
    FunctionNotPublished {
        rule: Option<usize>,
        function: String,
    },
    /// A rule's condition failed to evaluate.
    ConditionFailed(FunctionError),
}

/// The pricing, with what the routing conditions logged.
#[derive(Debug)]
pub struct PricingOutcome {
    pub pricing: Pricing,
    pub routing_logs: Vec<String>,
    pub routing_operations: u64,
}

/// Routes the payment described by `order` (its `method` and `amount_minor` included) and
/// runs the selected function from `functions`. Runs scripts: call it on a script worker.
pub fn price(
    runtime: &FunctionRuntime,
    table: &CompiledRoutingTable,
    order: &Value,
    functions: &PricingFunctions,
) -> PricingOutcome {
    let Routing {
        outcome,
        logs: routing_logs,
        operations: routing_operations,
    } = table.route(runtime, order);
    let pricing = match outcome {
        Err(error) => Pricing::ConditionFailed(error),
        Ok(Route::Cancel) => Pricing::Cancel,
        Ok(Route::NotFound) => Pricing::NoRoute,
        Ok(Route::Function { rule, function }) => {
            run_function(runtime, functions, rule, &function, order)
        }
    };
    PricingOutcome {
        pricing,
        routing_logs,
        routing_operations,
    }
}

/// Runs the function named `name` from `functions` (chosen by `rule`, or by the flow).
pub fn run_function(
    runtime: &FunctionRuntime,
    functions: &PricingFunctions,
    rule: Option<usize>,
    name: &str,
    order: &Value,
) -> Pricing {
    match functions.get(name) {
        None => Pricing::FunctionNotPublished {
            rule,
            function: name.to_owned(),
        },
        Some((version, script)) => Pricing::Priced {
            rule,
            function: version.clone(),
            evaluation: runtime.run_discount(script, order),
        },
    }
}
