//! Trying the routing table: which rule a payment matches, which function it selects, and
//! what that function charges. The same code path as the order workflow.

use axum::extract::State;
use domain::documents::{self, routing_table::RoutingTable};
use domain::{Kind, Scope};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use utoipa::openapi::schema::Schema;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::engine::pricing::{Pricing, PricingOutcome};
use crate::error::ServiceError;
use crate::http::auth::Principal;
use crate::http::docs::{AuthErrors, BodyErrors, NotFoundError, conflict_responses};
use crate::http::extract::{Deferred, Json, Path, from_value};
use crate::http::functions::{EvaluationResult, ScriptError};
use crate::http::merchants::authorize_merchant;
use crate::http::problem::{ApiError, ApiResult};
use crate::openapi_kinds::optional_body;
use crate::published::ROUTING_TABLE;
use crate::services::discounts;
use crate::state::AppState;

conflict_responses! {
    /// 409 of an evaluation: no published routing table and none in the body.
    EvaluateConflicts: read = [MerchantNotConfigured];
}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(evaluate_routing))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EvaluateRequest {
    /// The order map the scripts see. `method` and `merchant_id` are set from the request.
    #[schema(value_type = crate::http::functions::ScriptOrder, example = json!({"amount_minor": 10000, "currency": "CNY", "items": [], "fields": {}}))]
    pub order: Value,
    #[schema(example = "alipay")]
    pub payment_method: String,
    #[schema(schema_with = routing_table_schema)]
    pub routing_table: Option<Value>,
}

fn routing_table_schema() -> Schema {
    optional_body(
        &[Kind::RoutingTable],
        "A routing table to try instead of the published one (e.g. an unpublished draft).",
    )
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RouteKind {
    /// A rule matched.
    Rule,
    /// No rule matched; the default names a function.
    Default,
    /// No rule matched; the default cancels the order (`no_route`).
    Cancel,
    /// No rule matched and there is no default (`Route.NotFound`).
    NotFound,
    /// A rule's condition failed to evaluate (see `condition_error`); the workflow raises
    /// `Function.Error`.
    ConditionFailed,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SelectedFunction {
    #[schema(example = "alipay-discount")]
    pub name: String,
    pub version: i32,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EvaluateResponse {
    pub route: RouteKind,
    /// The index of the matching rule, when one matched.
    pub rule_index: Option<usize>,
    /// The published routing table version used; null when a `routing_table` was given.
    pub routing_table_version: Option<i32>,
    /// The function selected, with the version that ran.
    pub function: Option<SelectedFunction>,
    /// The function's result, when one ran.
    pub result: Option<EvaluationResult>,
    /// A rule condition that failed to evaluate.
    pub condition_error: Option<ScriptError>,
    /// What the rule conditions printed.
    pub routing_logs: Vec<String>,
}

/// Evaluate the routing table for a payment.
///
/// Returns which rule matched, which function and version it selects, and that function's
/// output, using the same code path as the order workflow. Pass `routing_table` to try a
/// draft before publishing it.
#[utoipa::path(post, path = "/v1/merchants/{merchant_id}/routing/evaluate", tag = "functions",
    security(("bearer" = ["platform_admin", "merchant_admin"])),
    params(("merchant_id" = inline(crate::http::docs::MerchantIdParam), Path, description = "The merchant's id")),
    request_body = EvaluateRequest,
    responses(
        (status = 200, description = "Where the payment is routed, and its price", body = EvaluateResponse),
        AuthErrors, BodyErrors, NotFoundError, EvaluateConflicts,
    ))]
async fn evaluate_routing(
    State(state): State<AppState>,
    principal: Principal,
    Path(merchant_id): Path<String>,
    body: Deferred<Json<Value>>,
) -> ApiResult<axum::Json<EvaluateResponse>> {
    let merchant = authorize_merchant(&state, &principal, &merchant_id).await?;
    let Json(raw) = body.read()?;
    let request: EvaluateRequest = from_value(raw)?;
    discounts::require_order_map(&request.order, "/order")?;
    let mut order = request.order;
    if let Value::Object(fields) = &mut order {
        fields.insert("method".into(), Value::String(request.payment_method));
        fields.insert("merchant_id".into(), Value::String(merchant.to_string()));
    }
    let scope = Scope::Merchant(merchant);

    let (table_version, table) = match request.routing_table {
        Some(draft) => {
            let prefixed = |violations: Vec<domain::Violation>| {
                ApiError::invalid(
                    violations
                        .into_iter()
                        .map(|v| {
                            domain::Violation::new(
                                format!("/routing_table{}", v.pointer),
                                v.message,
                            )
                        })
                        .collect(),
                )
            };
            domain::schema::validate(Kind::RoutingTable, &draft).map_err(prefixed)?;
            let table: RoutingTable = documents::parse(&draft).map_err(prefixed)?;
            (
                None,
                state
                    .published
                    .compile_routing_table(table)
                    .await?
                    .map_err(prefixed)?,
            )
        }
        None => {
            let (version, table) = state
                .published
                .routing_table(&scope, None)
                .await?
                .ok_or_else(|| {
                    ServiceError::not_configured(
                        &format!("routing-table '{ROUTING_TABLE}'"),
                        "publish one, or pass routing_table",
                    )
                })?;
            (Some(version), table)
        }
    };

    let outcome = discounts::evaluate(&state, &scope, table, order).await?;
    EvaluateResponse::new(outcome, table_version)
        .map(axum::Json)
        .map_err(|unpublished| {
            let pointer = match unpublished.rule {
                Some(index) => format!("/routing_table/rules/{index}/function"),
                None => "/routing_table/default/function".to_owned(),
            };
            ApiError::invalid_field(&pointer, unpublished.message())
        })
}

/// A route names a discount function the merchant has not published, so nothing was priced.
pub struct UnpublishedFunction {
    /// The rule naming it; `None` for the default route.
    pub rule: Option<usize>,
    pub function: String,
}

impl UnpublishedFunction {
    pub fn message(&self) -> String {
        format!(
            "discount function '{}' is not published for this merchant",
            self.function
        )
    }
}

impl EvaluateResponse {
    /// What pricing came to, as this API reports it (the merchant overview reports it too).
    pub fn new(
        outcome: PricingOutcome,
        routing_table_version: Option<i32>,
    ) -> Result<Self, UnpublishedFunction> {
        let mut response = EvaluateResponse {
            route: RouteKind::NotFound,
            rule_index: None,
            routing_table_version,
            function: None,
            result: None,
            condition_error: None,
            routing_logs: outcome.routing_logs,
        };
        match outcome.pricing {
            Pricing::Priced {
                rule,
                function,
                evaluation,
            } => {
                response.route = if rule.is_some() {
                    RouteKind::Rule
                } else {
                    RouteKind::Default
                };
                response.rule_index = rule;
                response.function = Some(SelectedFunction {
                    name: function.name,
                    version: function.version,
                });
                response.result = Some(EvaluationResult::new(evaluation));
            }
            Pricing::Cancel => response.route = RouteKind::Cancel,
            Pricing::NoRoute => response.route = RouteKind::NotFound,
            Pricing::ConditionFailed(error) => {
                response.route = RouteKind::ConditionFailed;
                response.condition_error = Some(error.into());
            }
            Pricing::FunctionNotPublished { rule, function } => {
                return Err(UnpublishedFunction { rule, function });
            }
        }
        Ok(response)
    }
}
