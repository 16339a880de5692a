//! Trying discount functions and routing outside an order: the dry-run and the routing
//! evaluate endpoints, on the same pricing code the workflow runs.

use std::sync::Arc;

use domain::function::{CompiledScript, DiscountOutput, Evaluation};
use domain::routing::CompiledRoutingTable;
use domain::{Kind, Scope};
use serde_json::Value;

use crate::engine::pricing::{self, PricingOutcome};
use crate::error::{ServiceError, ServiceResult};
use crate::persistence::metadata as metadata_rows;
use crate::services::orders::MAX_AMOUNT_MINOR;
use crate::state::AppState;

/// The order map the scripts see is an object whose `amount_minor` is an integer from 0 to
/// [`MAX_AMOUNT_MINOR`] (the bound of every amount, as the OpenAPI `ScriptOrder` says);
/// `pointer` locates the map in the request.
pub fn require_order_map(order: &Value, pointer: &str) -> ServiceResult<()> {
    if !order.is_object() {
        return Err(ServiceError::invalid_field(
            pointer,
            "must be an object: the order map the scripts see",
        ));
    }
    if order["amount_minor"]
        .as_i64()
        .is_none_or(|a| !(0..=MAX_AMOUNT_MINOR).contains(&a))
    {
        return Err(ServiceError::invalid_field(
            &format!("{pointer}/amount_minor"),
            format!("amount_minor must be an integer from 0 to {MAX_AMOUNT_MINOR} (minor units)"),
        ));
    }
    // The members the document names have its types (absent or null is always fine); any
    // other member reaches the script as given.
    let typed: [TypedMember; 5] = [
        ("currency", Value::is_string, "a string"),
        ("method", Value::is_string, "a string"),
        ("merchant_id", Value::is_string, "a string"),
        ("fields", Value::is_object, "an object"),
        ("items", is_array_of_objects, "an array of objects"),
    ];
    for (member, has_type, expected) in typed {
        match order.get(member) {
            Some(value) if !value.is_null() && !has_type(value) => {
                return Err(ServiceError::invalid_field(
                    &format!("{pointer}/{member}"),
                    format!("{member} must be {expected} or null"),
                ));
            }
            _ => {}
        }
    }
    Ok(())
}

/// A member of the order map, a test of its type, and the type's name for the error.
type TypedMember = (&'static str, fn(&Value) -> bool, &'static str);

fn is_array_of_objects(value: &Value) -> bool {
    value
        .as_array()
        .is_some_and(|items| items.iter().all(Value::is_object))
}

/// Runs a discount function on the script workers, and counts it in the metrics.
pub async fn run_discount(
    state: &AppState,
    script: CompiledScript,
    order: Value,
) -> ServiceResult<Evaluation<DiscountOutput>> {
    let evaluation = state
        .scripts
        .run(move |runtime| runtime.run_discount(&script, &order))
        .await?;
    observe(state, &evaluation);
    Ok(evaluation)
}

/// Routes the payment described by `order` with `table` and runs the newest published
/// version of the function it selects.
pub async fn evaluate(
    state: &AppState,
    scope: &Scope,
    table: Arc<CompiledRoutingTable>,
    order: Value,
) -> ServiceResult<PricingOutcome> {
    let newest =
        metadata_rows::published_versions(&state.db, &scope.key(), Kind::DiscountFunction.as_str())
            .await?;
    let functions = state.published.functions(scope, &newest).await?;
    let outcome = state
        .scripts
        .run(move |runtime| pricing::price(runtime, &table, &order, &functions))
        .await?;
    if let pricing::Pricing::Priced { evaluation, .. } = &outcome.pricing {
        observe(state, evaluation);
    }
    Ok(outcome)
}

fn observe(state: &AppState, evaluation: &Evaluation<DiscountOutput>) {
    state.metrics.observe_function(
        evaluation.duration,
        evaluation.outcome.as_ref().err().map(|e| e.kind),
    );
}
