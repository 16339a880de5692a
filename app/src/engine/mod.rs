//! The executor: runs the flow interpreter and the actions on an execution read without a
//! lock, and turns the outcome into [`ExecutionChanges`] for the writer. Scripts (choice
//! conditions, routing, discount functions) run on the script workers, and only for
//! advances that can reach one before the next wait.

mod actions;
mod changes;
mod environment;
mod execution;
mod pins;
pub mod pricing;
#[cfg(test)]
mod tests;

use domain::Scope;
use std::sync::Arc;

use domain::workflow::{Event, Flow};

pub use changes::ExecutionChanges;
pub use execution::{Execution, PricingResources, StoredExecution};
pub use pins::{Pinned, PinnedDocument};

use crate::error::{ServiceError, ServiceResult};
use crate::state::AppState;

/// Advances `execution` by `event`: in place when no script can run before the execution
/// waits again, otherwise on a script worker with its pinned pricing resources loaded.
pub async fn advance(
    state: &AppState,
    mut execution: Execution,
    event: Event,
) -> ServiceResult<Execution> {
    if !execution.may_run_scripts() {
        let conditions = state.scripts.conditions();
        execution.advance(state.scripts.runtime(), &conditions, event)?;
        return Ok(execution);
    }
    execution.pricing = Some(pricing_resources(state, &execution).await?);
    let conditions = state.scripts.conditions();
    let (mut execution, advanced) = state
        .scripts
        .run(move |runtime| {
            let advanced = execution.advance(runtime, &conditions, event);
            (execution, advanced)
        })
        .await?;
    advanced?;
    for evaluation in execution.evaluations.drain(..) {
        state
            .metrics
            .observe_function(evaluation.duration, evaluation.error);
    }
    Ok(execution)
}

/// The order's pinned routing table and functions, compiled (cached per version).
async fn pricing_resources(
    state: &AppState,
    execution: &Execution,
) -> ServiceResult<PricingResources> {
    let merchant = domain::MerchantId::parse(&execution.order().merchant_id)
        .map_err(|e| ServiceError::internal(e.to_string()))?;
    let scope = Scope::Merchant(merchant);
    let routing_table = match &execution.pinned.routing_table {
        Some(pin) => state
            .published
            .routing_table(&scope, Some(pin.version))
            .await?
            .map(|(_, table)| table),
        None => None,
    };
    let functions = state
        .published
        .functions(&scope, &execution.pinned.functions)
        .await?;
    Ok(PricingResources {
        routing_table,
        functions,
    })
}

/// The pinned flow of an order of `merchant`, compiled and cached.
pub async fn pinned_flow(
    state: &AppState,
    merchant: &str,
    pinned: &PinnedDocument,
) -> ServiceResult<Arc<Flow>> {
    let scope = if pinned.scope == "platform" {
        Scope::Platform.key()
    } else {
        format!("merchant:{merchant}")
    };
    state
        .published
        .flow(&scope, &pinned.name, pinned.version)
        .await
}
