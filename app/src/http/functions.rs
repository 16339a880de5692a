//! The discount function editor's "code on the left, result on the right": dry-runs.

use axum::extract::State;
use domain::Scope;
use domain::function::{DiscountOutput, Evaluation, FunctionError};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::http::auth::Principal;
use crate::http::docs::{AuthErrors, BodyErrors, NotFoundError};
use crate::http::extract::{Deferred, Json, Path, from_value};
use crate::http::merchants::authorize_merchant;
use crate::http::problem::{ApiError, ApiResult};
use crate::openapi_enums::FunctionErrorKindSchema;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(dry_run))
}

/// The longest inline script, as the discount-function schema allows.
const MAX_SCRIPT_CHARS: usize = 65_536;

/// Run a script, or a published function version, on a sample order.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DryRunRequest {
    /// An inline script to try (e.g. the editor's unsaved text). Give this, or `name`.
    pub script: Option<String>,
    /// A published discount function of the merchant.
    #[schema(example = "alipay-discount")]
    pub name: Option<String>,
    /// With `name`: the version to run; the newest published when omitted.
    pub version: Option<i32>,
    /// The `order` map the script sees.
    #[schema(value_type = ScriptOrder, example = json!({"amount_minor": 10000, "currency": "CNY", "method": "alipay", "merchant_id": "haidilao", "items": [], "fields": {}}))]
    pub input: Value,
}

/// The `order` map a script sees. Only `amount_minor` is required; what else it carries
/// reaches the script as given.
#[allow(
    dead_code,
    reason = "describes a JSON body in the OpenAPI document; read as a map"
)]
#[derive(ToSchema)]
pub struct ScriptOrder {
    /// The order's amount in minor units.
    #[schema(minimum = 0, maximum = 9_007_199_254_740_991_i64, example = 10000)]
    amount_minor: i64,
    #[schema(example = "CNY")]
    currency: Option<String>,
    #[schema(example = "alipay")]
    method: Option<String>,
    merchant_id: Option<String>,
    #[schema(value_type = Option<Vec<Object>>)]
    items: Option<Vec<Value>>,
    #[schema(value_type = Option<Object>)]
    fields: Option<Value>,
}

/// A script's result, as the editor shows it. The same checks as a real evaluation apply:
/// limits, output shape, and 0 ≤ final ≤ original.
#[derive(Debug, Serialize, ToSchema)]
pub struct EvaluationResult {
    /// Whether the script produced a valid result.
    pub ok: bool,
    /// The result, when `ok`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output: Option<FunctionOutput>,
    /// What went wrong, when not `ok`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ScriptError>,
    /// What the script printed with `print` and `debug`.
    pub logs: Vec<String>,
    /// Operations the engine counted (the limit is 200,000).
    pub operations: u64,
    pub duration_us: u64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FunctionOutput {
    /// The final amount, in minor units.
    #[schema(example = 8000)]
    pub amount_minor: i64,
    #[schema(required = true, example = "Alipay: 20% off")]
    pub label: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ScriptError {
    #[schema(value_type = FunctionErrorKindSchema, example = "Function.RuntimeError")]
    pub kind: String,
    pub message: String,
    /// 1-based, when the error has a position in the script.
    #[schema(required = true)]
    pub line: Option<usize>,
    #[schema(required = true)]
    pub column: Option<usize>,
}

impl From<FunctionError> for ScriptError {
    fn from(error: FunctionError) -> Self {
        Self {
            kind: error.kind.as_str().to_owned(),
            message: error.message,
            line: error.line,
            column: error.column,
        }
    }
}

impl EvaluationResult {
    pub fn new(evaluation: Evaluation<DiscountOutput>) -> Self {
        let (output, error) = match evaluation.outcome {
            Ok(output) => (
                Some(FunctionOutput {
                    amount_minor: output.amount_minor,
                    label: output.label,
                }),
                None,
            ),
            Err(error) => (None, Some(error.into())),
        };
        Self {
            ok: output.is_some(),
            output,
            error,
            logs: evaluation.logs,
            operations: evaluation.operations,
            duration_us: u64::try_from(evaluation.duration.as_micros()).unwrap_or(u64::MAX),
        }
    }

    fn compile_error(error: FunctionError) -> Self {
        Self {
            ok: false,
            output: None,
            error: Some(error.into()),
            logs: vec![],
            operations: 0,
            duration_us: 0,
        }
    }
}

/// Dry-run a discount function.
///
/// Runs an inline `script`, or a published function (`name`, optional `version`), on
/// `input`. A script that fails is still a 200 with `ok: false` and the error's kind,
/// message, line and column: this is the editor's feedback loop.
#[utoipa::path(post, path = "/v1/merchants/{merchant_id}/functions/dry-run", tag = "functions",
    security(("bearer" = ["platform_admin", "merchant_admin"])),
    params(("merchant_id" = inline(crate::http::docs::MerchantIdParam), Path, description = "The merchant's id")),
    request_body = DryRunRequest,
    responses(
        (status = 200, description = "The result, or the script's error", body = EvaluationResult),
        AuthErrors, BodyErrors, NotFoundError,
    ))]
async fn dry_run(
    State(state): State<AppState>,
    principal: Principal,
    Path(merchant_id): Path<String>,
    body: Deferred<Json<Value>>,
) -> ApiResult<axum::Json<EvaluationResult>> {
    let merchant = authorize_merchant(&state, &principal, &merchant_id).await?;
    let Json(raw) = body.read()?;
    let request: DryRunRequest = from_value(raw)?;
    crate::services::discounts::require_order_map(&request.input, "/input")?;
    if request.script.is_some() && request.version.is_some() {
        return Err(ApiError::invalid_field(
            "/version",
            "version goes with name, not with an inline script",
        ));
    }
    let script = match (request.script, request.name) {
        (Some(script), None) => {
            if script.chars().count() > MAX_SCRIPT_CHARS {
                return Err(ApiError::invalid_field(
                    "/script",
                    format!("a script is at most {MAX_SCRIPT_CHARS} characters"),
                ));
            }
            match state
                .scripts
                .run(move |runtime| runtime.compile(&script))
                .await?
            {
                Ok(compiled) => compiled,
                Err(error) => return Ok(axum::Json(EvaluationResult::compile_error(error))),
            }
        }
        (None, Some(name)) => {
            let scope = Scope::Merchant(merchant);
            state
                .published
                .function(&scope, &name, request.version)
                .await?
                .map(|(_, script)| script)
                .ok_or_else(|| {
                    let version = request
                        .version
                        .map(|v| format!(" version {v}"))
                        .unwrap_or_default();
                    ApiError::invalid_field(
                        "/name",
                        format!("no published discount function '{name}'{version}"),
                    )
                })?
        }
        _ => {
            return Err(ApiError::invalid_field(
                "",
                "give either `script` or `name`, not both",
            ));
        }
    };
    let evaluation =
        crate::services::discounts::run_discount(&state, script, request.input).await?;
    Ok(axum::Json(EvaluationResult::new(evaluation)))
}
