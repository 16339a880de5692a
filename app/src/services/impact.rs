//! Impact preview: replays a merchant's orders that reached pricing through a candidate
//! document (a discount function, the routing table, the payment combination or the checkout
//! page) instead of the version each order ran with, and summarises what would change.
//!
//! Each order keeps everything else it pinned (flow, routing table, function versions);
//! only the candidate's document is swapped in. Orders are read a page at a time (the next
//! page is read while the scripts run on the current one) and folded into a
//! [`domain::impact::Impact`], so memory stays bounded by a page and the summary, not by the
//! sample. Scripts run on the script workers with the same sandbox and limits as the order
//! workflow. Nothing is written: neither the orders nor anything else.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use domain::documents::checkout_page::{CheckoutPage, CompiledCheckoutPage};
use domain::documents::flow::{Action, Step};
use domain::documents::payment_combination::PaymentCombination;
use domain::documents::{self, routing_table::RoutingTable};
use domain::function::CompiledScript;
use domain::impact::{FailureReason, Impact, ImpactReport, PriceOutcome, ReplayedOrder};
use domain::lifecycle::CancelReason;
use domain::routing::CompiledRoutingTable;
use domain::{Kind, MerchantId, Scope, Violation};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::engine::pricing::{self, Pricing};
use crate::engine::{self, Pinned};
use crate::error::{ServiceError, ServiceResult};
use crate::persistence::impact::{SampleRange, SampledOrder, priced_orders};
use crate::persistence::{metadata as metadata_rows, stored_json};
use crate::problem_type::ProblemType;
use crate::published::{DEFAULT, FunctionVersion, PricingFunctions, ROUTING_TABLE};
use crate::services::metadata::{self, DocumentRef};
use crate::state::AppState;

/// The most orders one preview replays.
pub const MAX_SAMPLE: u64 = 10_000;
/// How many it replays when the request does not say.
pub const DEFAULT_SAMPLE: u64 = 1_000;
/// How many of the largest price changes the summary lists.
pub const LARGEST_CHANGES: usize = 20;
/// How many of the orders that would now fail the summary lists (all are counted).
pub const FAILING_LISTED: usize = 100;
/// Orders read and replayed at a time.
const PAGE: u64 = 500;
/// The version a candidate function is reported under internally (published versions
/// start at 1); shown as no version.
const CANDIDATE_VERSION: i32 = 0;

/// A candidate document, parsed and compiled.
pub enum Candidate {
    Function {
        name: String,
        script: CompiledScript,
    },
    RoutingTable(Arc<CompiledRoutingTable>),
    PaymentCombination(PaymentCombination),
    CheckoutPage(Arc<CompiledCheckoutPage>),
}

/// The kinds with an impact preview: the documents that price or accept an order.
pub const PREVIEWABLE: [Kind; 4] = [
    Kind::DiscountFunction,
    Kind::RoutingTable,
    Kind::PaymentCombination,
    Kind::CheckoutPage,
];

/// Whether the kind has an impact preview, and under which names: the documents orders
/// use are a merchant's discount functions (any name) and its `default` routing table,
/// payment combination and checkout page.
pub fn check_previewable(at: &DocumentRef) -> ServiceResult<()> {
    if !PREVIEWABLE.contains(&at.kind) {
        return Err(ServiceError::NotFound(format!(
            "there is no impact preview for {} documents; it covers discount-function, \
             routing-table, payment-combination and checkout-page",
            at.kind
        )));
    }
    let uses_default = at.kind != Kind::DiscountFunction;
    let default = if at.kind == Kind::RoutingTable {
        ROUTING_TABLE
    } else {
        DEFAULT
    };
    if uses_default && at.name.as_str() != default {
        return Err(ServiceError::NotFound(format!(
            "orders use only the {} named '{default}', so only it has an impact preview",
            at.kind
        )));
    }
    Ok(())
}

/// The candidate: `document` when given (its problems point under `/document`), else the
/// saved draft (a 409 `no-draft` when there is none). It must pass the kind's JSON Schema
/// and compile, as publishing requires.
pub async fn candidate(
    state: &AppState,
    at: &DocumentRef,
    document: Option<Value>,
) -> ServiceResult<Candidate> {
    let (document, prefix) = match document {
        Some(document) => (document, "/document"),
        None => {
            let row = metadata::find(&state.db, at).await?;
            let draft = row.draft.ok_or_else(|| ServiceError::Conflict {
                problem: ProblemType::NoDraft,
                detail: format!(
                    "{} '{}' has no draft to preview; save one, or pass the candidate as \
                     `document`",
                    at.kind, at.name
                ),
            })?;
            (stored_json(&draft)?, "")
        }
    };
    let prefixed = |violations: Vec<Violation>| {
        ServiceError::invalid(
            violations
                .into_iter()
                .map(|v| Violation::new(format!("{prefix}{}", v.pointer), v.message))
                .collect(),
        )
    };
    domain::schema::validate(at.kind, &document).map_err(prefixed)?;
    Ok(match at.kind {
        Kind::DiscountFunction => {
            #[derive(Deserialize)]
            struct ScriptOnly {
                script: String,
            }
            let body: ScriptOnly = documents::parse(&document).map_err(prefixed)?;
            let script = state
                .scripts
                .run(move |runtime| runtime.compile(&body.script))
                .await?
                .map_err(|error| {
                    ServiceError::invalid_field(
                        &format!("{prefix}/script"),
                        format!("the script does not compile: {error}"),
                    )
                })?;
            Candidate::Function {
                name: at.name.to_string(),
                script,
            }
        }
        Kind::RoutingTable => {
            let table: RoutingTable = documents::parse(&document).map_err(prefixed)?;
            let compiled = state
                .published
                .compile_routing_table(table)
                .await?
                .map_err(prefixed)?;
            Candidate::RoutingTable(compiled)
        }
        Kind::PaymentCombination => {
            Candidate::PaymentCombination(documents::parse(&document).map_err(prefixed)?)
        }
        Kind::CheckoutPage => {
            let page: CheckoutPage = documents::parse(&document).map_err(prefixed)?;
            Candidate::CheckoutPage(Arc::new(
                CompiledCheckoutPage::compile(page).map_err(prefixed)?,
            ))
        }
        other => {
            return Err(ServiceError::internal(format!(
                "{other} has no impact preview"
            )));
        }
    })
}

/// Which orders a preview replays: the newest `limit` that reached pricing, within `range`.
#[derive(Debug, Clone, Copy)]
pub struct Sample {
    pub limit: u64,
    pub range: SampleRange,
}

/// What pricing an order with one set of pins would run, with the candidate swapped in.
struct PinnedPricing {
    /// The flow prices the payment through the routing table (`apply_discount`).
    routes: bool,
    /// Else, the function its `run_function` step names, if any.
    named: Option<String>,
    routing_table: Option<Arc<CompiledRoutingTable>>,
    functions: PricingFunctions,
}

/// Replays the sample through `candidate` and summarises it.
pub async fn preview(
    state: &AppState,
    merchant: &MerchantId,
    candidate: Candidate,
    sample: Sample,
) -> ServiceResult<ImpactReport> {
    let scope = Scope::Merchant(merchant.clone());
    let newest =
        metadata_rows::published_versions(&state.db, &scope.key(), Kind::DiscountFunction.as_str())
            .await?;
    let candidate = Arc::new(candidate);
    let mut pricings: HashMap<String, Arc<PinnedPricing>> = HashMap::new();
    let mut impact = Impact::new(LARGEST_CHANGES, FAILING_LISTED);
    let limit = sample.limit.min(MAX_SAMPLE);
    let page_size = |read: u64| PAGE.min(limit - read);

    let mut read = 0;
    let mut rows = priced_orders(
        &state.db,
        merchant.as_str(),
        sample.range,
        None,
        page_size(0),
    )
    .await?;
    while !rows.is_empty() {
        let requested = page_size(read);
        read += rows.len() as u64;
        let more = rows.len() as u64 == requested && read < limit;
        let last = rows.last().map(|row| row.id.clone());

        let mut batch = Vec::with_capacity(rows.len());
        for row in rows {
            let pinned: Pinned = serde_json::from_str(&row.pinned)
                .map_err(|e| ServiceError::internal(format!("execution {} pins: {e}", row.id)))?;
            let key = pin_key(&pinned);
            let pricing = match pricings.get(&key) {
                Some(pricing) => pricing.clone(),
                None => {
                    let pricing = Arc::new(
                        pinned_pricing(state, merchant, &scope, &pinned, &newest, &candidate)
                            .await?,
                    );
                    pricings.insert(key, pricing.clone());
                    pricing
                }
            };
            batch.push((row, pricing));
        }

        let candidate = candidate.clone();
        let replay = state.scripts.run(move |runtime| {
            batch
                .iter()
                .map(|(row, pricing)| replay(runtime, row, pricing, &candidate))
                .collect::<ServiceResult<Vec<_>>>()
        });
        let next = async {
            match (&last, more) {
                (Some(last), true) => {
                    priced_orders(
                        &state.db,
                        merchant.as_str(),
                        sample.range,
                        Some(last),
                        page_size(read),
                    )
                    .await
                }
                _ => Ok(Vec::new()),
            }
        };
        let (replayed, next) = tokio::join!(replay, next);
        for order in replayed?? {
            impact.add(order);
        }
        rows = next?;
    }
    Ok(impact.finish())
}

/// What tells one set of pins from another, for what pricing needs.
fn pin_key(pinned: &Pinned) -> String {
    format!(
        "{}:{}:{}|{:?}|{:?}",
        pinned.flow.scope,
        pinned.flow.name,
        pinned.flow.version,
        pinned.routing_table.as_ref().map(|p| p.version),
        pinned.functions
    )
}

/// The pricing an order with `pinned` ran with, the candidate swapped in. Functions it did
/// not pin (published since) are taken at their newest version, as an order placed now
/// would: a candidate routing table may name them.
async fn pinned_pricing(
    state: &AppState,
    merchant: &MerchantId,
    scope: &Scope,
    pinned: &Pinned,
    newest: &BTreeMap<String, i32>,
    candidate: &Candidate,
) -> ServiceResult<PinnedPricing> {
    let flow = engine::pinned_flow(state, merchant.as_str(), &pinned.flow).await?;
    let routes = flow.runs(Action::ApplyDiscount);
    let named = flow.steps().iter().find_map(|step| match step {
        Step::Task(task) if task.action == Action::RunFunction => task.function.clone(),
        _ => None,
    });
    let routing_table = match (candidate, &pinned.routing_table) {
        (Candidate::RoutingTable(table), _) => Some(table.clone()),
        (_, Some(pin)) => state
            .published
            .routing_table(scope, Some(pin.version))
            .await?
            .map(|(_, table)| table),
        (_, None) => None,
    };
    let mut versions = newest.clone();
    versions.extend(pinned.functions.clone());
    let mut functions = state.published.functions(scope, &versions).await?;
    if let Candidate::Function { name, script } = candidate {
        let version = FunctionVersion {
            name: name.clone(),
            version: CANDIDATE_VERSION,
        };
        functions.insert(name.clone(), (version, script.clone()));
    }
    Ok(PinnedPricing {
        routes,
        named,
        routing_table,
        functions,
    })
}

/// One order: what it came to as it ran, and under the candidate.
fn replay(
    runtime: &domain::function::FunctionRuntime,
    row: &SampledOrder,
    pricing: &PinnedPricing,
    candidate: &Candidate,
) -> ServiceResult<ReplayedOrder> {
    let method = row.payment_method.clone().unwrap_or_default();
    let before = before(row)?;
    let after = match candidate {
        Candidate::PaymentCombination(combination) => {
            match refused_method(combination, &method, row.amount_minor) {
                Some(failure) => failure,
                None => price(runtime, row, &method, pricing)?,
            }
        }
        Candidate::CheckoutPage(page) => {
            let violations =
                page.validate_order(&stored_object(&row.address)?, &stored_object(&row.fields)?);
            if violations.is_empty() {
                price(runtime, row, &method, pricing)?
            } else {
                PriceOutcome::Failed {
                    reason: FailureReason::CheckoutRejected,
                    message: violations
                        .iter()
                        .map(|v| format!("{}: {}", v.pointer, v.message))
                        .collect::<Vec<_>>()
                        .join("; "),
                }
            }
        }
        Candidate::Function { .. } | Candidate::RoutingTable(_) => {
            price(runtime, row, &method, pricing)?
        }
    };
    Ok(ReplayedOrder {
        order_id: row.id.clone(),
        payment_method: method,
        currency: row.currency.clone(),
        amount_minor: row.amount_minor,
        before,
        after,
    })
}

/// What the order came to as it ran, from its row.
fn before(row: &SampledOrder) -> ServiceResult<PriceOutcome> {
    if let Some(final_amount_minor) = row.final_amount_minor {
        let discount = row.discount.as_deref().map(stored_json).transpose()?;
        let discount = discount.as_ref();
        return Ok(PriceOutcome::Priced {
            final_amount_minor,
            function: discount.and_then(|d| d["function"].as_str().map(str::to_owned)),
            version: discount.and_then(|d| d["version"].as_i64().and_then(|v| v.try_into().ok())),
        });
    }
    let reason = match row.cancel_reason.as_deref().map(str::parse::<CancelReason>) {
        Some(Ok(CancelReason::NoRoute)) => FailureReason::NoRoute,
        _ => FailureReason::ScriptError,
    };
    Ok(PriceOutcome::Failed {
        reason,
        message: format!(
            "canceled: {}",
            row.cancel_reason.as_deref().unwrap_or_default()
        ),
    })
}

/// Why the combination would refuse paying `amount` by `method`, if it would.
fn refused_method(
    combination: &PaymentCombination,
    method: &str,
    amount: i64,
) -> Option<PriceOutcome> {
    let enabled = combination.methods.iter().find(|m| m.method == method);
    let message = match enabled {
        None => format!("'{method}' is not in the payment combination"),
        Some(m) if m.min_amount_minor.is_some_and(|min| amount < min) => format!(
            "'{method}' is offered from {} minor units; the order is {amount}",
            m.min_amount_minor.unwrap_or_default()
        ),
        Some(m) if m.max_amount_minor.is_some_and(|max| amount > max) => format!(
            "'{method}' is offered up to {} minor units; the order is {amount}",
            m.max_amount_minor.unwrap_or_default()
        ),
        Some(_) => return None,
    };
    Some(PriceOutcome::Failed {
        reason: FailureReason::MethodNotOffered,
        message,
    })
}

/// Prices the order as its flow would: through the routing table (`apply_discount`), or by
/// the function its `run_function` step names; a flow that prices neither way charges the
/// amount.
fn price(
    runtime: &domain::function::FunctionRuntime,
    row: &SampledOrder,
    method: &str,
    pricing: &PinnedPricing,
) -> ServiceResult<PriceOutcome> {
    // The order map the scripts see, as the workflow builds it.
    let order_map = json!({
        "amount_minor": row.amount_minor,
        "currency": row.currency,
        "method": method,
        "merchant_id": row.merchant_id,
        "items": stored_json(&row.items)?,
        "fields": stored_json(&row.fields)?,
    });
    let priced = if pricing.routes {
        match &pricing.routing_table {
            Some(table) => pricing::price(runtime, table, &order_map, &pricing.functions).pricing,
            None => Pricing::NoRoute,
        }
    } else if let Some(name) = &pricing.named {
        pricing::run_function(runtime, &pricing.functions, None, name, &order_map)
    } else {
        return Ok(PriceOutcome::Priced {
            final_amount_minor: row.amount_minor,
            function: None,
            version: None,
        });
    };
    let failed = |reason, message| PriceOutcome::Failed { reason, message };
    Ok(match priced {
        Pricing::Priced {
            function,
            evaluation,
            ..
        } => match evaluation.outcome {
            Ok(output) => PriceOutcome::Priced {
                final_amount_minor: output.amount_minor,
                version: Some(function.version).filter(|v| *v != CANDIDATE_VERSION),
                function: Some(function.name),
            },
            Err(error) => failed(
                FailureReason::ScriptError,
                format!(
                    "{} in '{}': {}",
                    error.kind.as_str(),
                    function.name,
                    error.message
                ),
            ),
        },
        Pricing::Cancel => failed(
            FailureReason::NoRoute,
            format!("no rule routes '{method}' and the default cancels"),
        ),
        Pricing::NoRoute => failed(
            FailureReason::NoRoute,
            format!("no rule routes '{method}' and there is no default"),
        ),
        Pricing::FunctionNotPublished { function, .. } => failed(
            FailureReason::NoRoute,
            format!("the route names discount function '{function}', which is not published"),
        ),
        Pricing::ConditionFailed(error) => failed(
            FailureReason::ScriptError,
            format!("a routing condition failed: {}", error.message),
        ),
    })
}

fn stored_object(text: &str) -> ServiceResult<Map<String, Value>> {
    match stored_json(text)? {
        Value::Object(map) => Ok(map),
        _ => Ok(Map::new()),
    }
}

#[cfg(test)]
mod tests {
    use domain::documents::payment_combination::EnabledMethod;

    use super::*;

    fn row(final_amount: Option<i64>, cancel_reason: Option<&str>) -> SampledOrder {
        SampledOrder {
            id: "0193a0c4-5e1f-7c3a-9d2b-1f0e4c5d6a7b".into(),
            merchant_id: "haidilao".into(),
            cancel_reason: cancel_reason.map(str::to_owned),
            currency: "CNY".into(),
            amount_minor: 10_000,
            final_amount_minor: final_amount,
            payment_method: Some("alipay".into()),
            discount: final_amount
                .map(|_| r#"{"function":"alipay-discount","version":3,"label":"x"}"#.to_owned()),
            items: "[]".into(),
            address: "{}".into(),
            fields: "{}".into(),
            pinned: "{}".into(),
        }
    }

    #[test]
    fn before_is_what_the_order_row_says() {
        assert_eq!(
            before(&row(Some(8000), None)).ok(),
            Some(PriceOutcome::Priced {
                final_amount_minor: 8000,
                function: Some("alipay-discount".into()),
                version: Some(3),
            })
        );
        let failure = |reason| match before(&row(None, Some(reason))) {
            Ok(PriceOutcome::Failed { reason, .. }) => Some(reason),
            _ => None,
        };
        assert_eq!(failure("no_route"), Some(FailureReason::NoRoute));
        assert_eq!(failure("function_error"), Some(FailureReason::ScriptError));
    }

    #[test]
    fn a_combination_refuses_methods_it_lacks_or_amounts_outside_its_bounds() {
        let combination = PaymentCombination {
            methods: vec![EnabledMethod {
                method: "alipay".into(),
                label: None,
                min_amount_minor: Some(100),
                max_amount_minor: Some(5000),
            }],
        };
        let refused = |method, amount| refused_method(&combination, method, amount).is_some();
        assert!(!refused("alipay", 100));
        assert!(!refused("alipay", 5000));
        assert!(refused("alipay", 99));
        assert!(refused("alipay", 5001));
        assert!(refused("wechat_pay", 1000));
    }
}
