//! Pricing a payment: the routing table picks a discount function, the function prices the
//! order. The routing evaluate endpoint and the order workflow share this code path.

use std::sync::Arc;

use domain::documents::{self, routing_table::RoutingTable};
use domain::function::{CompiledScript, DiscountOutput, Evaluation, FunctionError};
use domain::routing::{CompiledRoutingTable, Route, Routing};
use domain::{Kind, Scope};
use sea_orm::ConnectionTrait;
use serde::Deserialize;
use serde_json::Value;

use crate::error::{ApiError, ApiResult};
use crate::persistence::metadata::{self, Address};
use crate::services::metadata::parse_body;
use crate::state::AppState;

/// The routing table every merchant's workflow consults.
pub const ROUTING_TABLE: &str = "default";

/// A published function version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionVersion {
    pub name: String,
    pub version: i32,
}

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

#[derive(Deserialize)]
struct ScriptOnly {
    script: String,
}

/// The compiled script of a published discount function: the given version, or the newest.
/// `None` when the function or that version is not published.
pub async fn published_function(
    state: &AppState,
    db: &impl ConnectionTrait,
    scope: &Scope,
    name: &str,
    version: Option<i32>,
) -> ApiResult<Option<(FunctionVersion, CompiledScript)>> {
    let scope_key = scope.key();
    // A pinned version that was compiled before needs no query at all.
    if let Some(version) = version
        && let Some(script) =
            state
                .functions
                .cached_script(&(scope_key.clone(), name.to_owned(), version))
    {
        let function = FunctionVersion {
            name: name.to_owned(),
            version,
        };
        return Ok(Some((function, script)));
    }
    let address = Address {
        scope: &scope_key,
        kind: Kind::DiscountFunction.as_str(),
        name,
    };
    let Some(document) = metadata::find(db, address).await? else {
        return Ok(None);
    };
    let Some(version) = version.or(document.published_version) else {
        return Ok(None);
    };
    let function = FunctionVersion {
        name: name.to_owned(),
        version,
    };
    let key = (scope_key, name.to_owned(), version);
    if let Some(script) = state.functions.cached_script(&key) {
        return Ok(Some((function, script)));
    }
    let Some(row) = metadata::find_version(db, document.id, version).await? else {
        return Ok(None);
    };
    let body: ScriptOnly = serde_json::from_value(parse_body(&row.body)?)
        .map_err(|e| ApiError::internal(format!("published function {name} v{version}: {e}")))?;
    let script = state
        .functions
        .run(move |runtime| runtime.compile(&body.script))
        .await?
        .map_err(|e| {
            ApiError::internal(format!(
                "published function {name} v{version} does not compile: {e}"
            ))
        })?;
    state.functions.cache_script(key, script.clone());
    Ok(Some((function, script)))
}

/// The merchant's published routing table, compiled: the given version, or the newest.
pub async fn published_routing_table(
    state: &AppState,
    db: &impl ConnectionTrait,
    scope: &Scope,
    version: Option<i32>,
) -> ApiResult<Option<(i32, Arc<CompiledRoutingTable>)>> {
    let scope_key = scope.key();
    if let Some(version) = version
        && let Some(table) =
            state
                .functions
                .cached_table(&(scope_key.clone(), ROUTING_TABLE.to_owned(), version))
    {
        return Ok(Some((version, table)));
    }
    let address = Address {
        scope: &scope_key,
        kind: Kind::RoutingTable.as_str(),
        name: ROUTING_TABLE,
    };
    let Some(document) = metadata::find(db, address).await? else {
        return Ok(None);
    };
    let Some(version) = version.or(document.published_version) else {
        return Ok(None);
    };
    let key = (scope_key, ROUTING_TABLE.to_owned(), version);
    if let Some(table) = state.functions.cached_table(&key) {
        return Ok(Some((version, table)));
    }
    let Some(row) = metadata::find_version(db, document.id, version).await? else {
        return Ok(None);
    };
    let table: RoutingTable = documents::parse(&parse_body(&row.body)?).map_err(|_| {
        ApiError::internal(format!("published routing table v{version} does not parse"))
    })?;
    let compiled = compile_routing_table(state, table).await?.map_err(|_| {
        ApiError::internal(format!(
            "published routing table v{version} does not compile"
        ))
    })?;
    state.functions.cache_table(key, compiled.clone());
    Ok(Some((version, compiled)))
}

/// Compiles a routing table's conditions on the function pool.
pub async fn compile_routing_table(
    state: &AppState,
    table: RoutingTable,
) -> ApiResult<Result<Arc<CompiledRoutingTable>, Vec<domain::Violation>>> {
    state
        .functions
        .run(move |runtime| CompiledRoutingTable::compile(runtime, table).map(Arc::new))
        .await
}

/// The order map the scripts see is an object whose `amount_minor` is a non-negative
/// integer; `pointer` locates the map in the request.
pub fn require_order_map(order: &Value, pointer: &str) -> ApiResult<()> {
    if !order.is_object() {
        return Err(ApiError::invalid_field(
            pointer,
            "must be an object: the order map the scripts see",
        ));
    }
    if order["amount_minor"]
        .as_u64()
        .is_none_or(|a| i64::try_from(a).is_err())
    {
        return Err(ApiError::invalid_field(
            &format!("{pointer}/amount_minor"),
            "amount_minor must be a non-negative integer (minor units)",
        ));
    }
    Ok(())
}

/// Runs a discount function on the function pool, and counts it in the metrics.
pub async fn run_discount(
    state: &AppState,
    script: CompiledScript,
    order: Value,
) -> ApiResult<Evaluation<DiscountOutput>> {
    let evaluation = state
        .functions
        .run(move |runtime| runtime.run_discount(&script, &order))
        .await?;
    state.metrics.observe_function(&evaluation);
    Ok(evaluation)
}

/// Routes the payment described by `order` (its `method` and `amount_minor` included) and
/// runs the selected function. `function_version` picks the version of a named function;
/// `None` means the newest published.
pub async fn price(
    state: &AppState,
    db: &impl ConnectionTrait,
    scope: &Scope,
    table: Arc<CompiledRoutingTable>,
    order: Value,
    function_version: impl Fn(&str) -> Option<i32>,
) -> ApiResult<PricingOutcome> {
    let routing_order = order.clone();
    let Routing {
        outcome,
        logs: routing_logs,
        operations: routing_operations,
    } = state
        .functions
        .run(move |runtime| table.route(runtime, &routing_order))
        .await?;
    let done = |pricing| {
        Ok(PricingOutcome {
            pricing,
            routing_logs: routing_logs.clone(),
            routing_operations,
        })
    };
    let (rule, name) = match outcome {
        Err(error) => return done(Pricing::ConditionFailed(error)),
        Ok(Route::Cancel) => return done(Pricing::Cancel),
        Ok(Route::NotFound) => return done(Pricing::NoRoute),
        Ok(Route::Function { rule, function }) => (rule, function),
    };
    let Some((function, script)) =
        published_function(state, db, scope, &name, function_version(&name)).await?
    else {
        return done(Pricing::FunctionNotPublished {
            rule,
            function: name,
        });
    };
    let evaluation = run_discount(state, script, order).await?;
    done(Pricing::Priced {
        rule,
        function,
        evaluation,
    })
}
