//! Impact preview of a merchant document: what publishing a candidate would have done to
//! the orders that already reached pricing. Read-only.

use std::borrow::Cow;

use axum::extract::State;
use chrono::{DateTime, Utc};
use domain::impact::{FailureReason, ImpactReport, PriceOutcome, ReplayedOrder, Tally};
use domain::{DocumentName, Scope};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::Schema;
use utoipa::{PartialSchema, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::http::auth::Principal;
use crate::http::docs::{AuthErrors, BodyErrors, NotFoundError, conflict_responses};
use crate::http::extract::{Deferred, Json, Path, from_value};
use crate::http::merchants::authorize_merchant;
use crate::http::problem::{ApiError, ApiResult};
use crate::http::schemas::parse_kind;
use crate::openapi_enums::PreviewableKindSchema;
use crate::openapi_kinds::optional_body;
use crate::persistence::impact::SampleRange;
use crate::services::impact::{self, DEFAULT_SAMPLE, MAX_SAMPLE, Sample};
use crate::services::metadata::DocumentRef;
use crate::state::AppState;

conflict_responses! {
    /// 409 of an impact preview: no `document` in the body and no saved draft.
    ImpactConflicts: read = [NoDraft];
}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(preview_impact))
}

#[derive(Debug, Deserialize)]
struct ImpactPath {
    merchant_id: String,
    kind: String,
    name: String,
}

/// What to preview, and on which orders. `{}` previews the saved draft on the newest
/// 1,000 orders that reached pricing.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"sample": {"limit": 1000}}))]
pub struct ImpactRequest {
    #[schema(schema_with = candidate_schema)]
    pub document: Option<Value>,
    /// Which orders to replay; the newest 1,000 that reached pricing when omitted.
    pub sample: Option<SampleRequest>,
}

/// `document`: a body of one of the kinds an impact preview covers. The path's `kind` says
/// which, and a request schema cannot be selected by a path parameter, so the schema takes
/// any of them; the server holds the body to the path's kind (422 otherwise).
fn candidate_schema() -> Schema {
    optional_body(
        &impact::PREVIEWABLE,
        "The candidate document, a body of the path's `kind` (its component here, or \
         `GET /v1/schemas/{kind}`). When omitted or null, the document's saved draft.",
    )
}

/// The orders a preview replays: the merchant's newest orders that reached pricing (paid,
/// then priced or canceled `no_route`/`function_error`), optionally within a time range.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SampleRequest {
    /// At most this many orders (1 to 10,000; default 1,000).
    #[schema(minimum = 1, maximum = 10000, example = 1000)]
    pub limit: Option<u64>,
    /// Orders created at or after this time (RFC 3339).
    pub created_from: Option<DateTime<Utc>>,
    /// Orders created before this time (RFC 3339).
    pub created_to: Option<DateTime<Utc>>,
}

/// Why an order would not be priced: `script_error` (the discount function or a routing
/// condition failed; the order would be canceled `function_error`), `no_route` (canceled
/// `no_route`), `method_not_offered` (the payment combination no longer offers the order's
/// method at its amount: the payment would be refused), `checkout_rejected` (the checkout
/// page refuses the order's address or fields: it could not be placed).
pub struct FailureReasonSchema;

impl PartialSchema for FailureReasonSchema {
    fn schema() -> RefOr<Schema> {
        crate::openapi_enums::string_enum(FailureReason::ALL.iter().map(|r| r.as_str()))
    }
}

impl ToSchema for FailureReasonSchema {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("ImpactFailureReason")
    }
}

/// The candidate previewed.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CandidateSource {
    /// The document's saved draft.
    Draft,
    /// The `document` of the request.
    Request,
}

/// What the candidate would have done to the sample.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "kind": "discount-function", "name": "alipay-discount", "candidate": "draft",
    "sample": {"limit": 1000, "created_from": null, "created_to": null},
    "orders": {"evaluated": 3, "unchanged": 1, "changed": 1, "now_failing": 1},
    "by_currency": [{"currency": "CNY", "evaluated": 3, "unchanged": 1, "changed": 1, "now_failing": 1,
        "discount_before_minor": 7000, "discount_after_minor": 5500, "discount_difference_minor": -1500}],
    "by_payment_method": [
        {"payment_method": "alipay", "currency": "CNY", "evaluated": 2, "unchanged": 1, "changed": 1, "now_failing": 0,
         "discount_before_minor": 4000, "discount_after_minor": 5500, "discount_difference_minor": 1500},
        {"payment_method": "wechat_pay", "currency": "CNY", "evaluated": 1, "unchanged": 0, "changed": 0, "now_failing": 1,
         "discount_before_minor": 3000, "discount_after_minor": 0, "discount_difference_minor": -3000}],
    "failing_by_reason": [{"reason": "script_error", "orders": 1}],
    "failing": [{"order_id": "0193a0c4-5e1f-7c3a-9d2b-1f0e4c5d6a7b", "payment_method": "wechat_pay",
        "reason": "script_error", "message": "Function.RuntimeError in 'wechat-pay-discount': ..."}],
    "histogram": [{"currency": "CNY", "from_minor": -9999, "to_minor": -1000, "orders": 1},
                  {"currency": "CNY", "from_minor": 0, "to_minor": 0, "orders": 1}],
    "largest_changes": [{"order_id": "0193a0c4-5e1f-7c3a-9d2b-1f0e4c5d6a7c", "payment_method": "alipay",
        "currency": "CNY", "amount_minor": 10000, "price_change_minor": -1500,
        "before": {"final_amount_minor": 8000, "discount_minor": 2000, "function": "alipay-discount", "version": 1},
        "after": {"final_amount_minor": 6500, "discount_minor": 3500, "function": "alipay-discount", "version": null}}]
}))]
pub struct ImpactResponse {
    #[schema(value_type = crate::openapi_enums::MetadataKindSchema)]
    pub kind: String,
    pub name: String,
    pub candidate: CandidateSource,
    /// The sample asked for.
    pub sample: SampleUsed,
    /// How many orders were replayed, and how they fare.
    pub orders: OrderCounts,
    /// Counts and discount totals per currency (discounts in different currencies do not
    /// add up).
    pub by_currency: Vec<CurrencyImpact>,
    /// The same, per payment method and currency.
    pub by_payment_method: Vec<MethodImpact>,
    /// Orders that would now fail, by reason.
    pub failing_by_reason: Vec<ReasonCount>,
    /// The first 100 orders (newest first) that would now fail, each with its reason.
    pub failing: Vec<FailingOrder>,
    /// The price change (after − before, minor units) of the orders priced both times, by
    /// currency, in buckets: `0` alone, then decades on each side (1 to 9, 10 to 99, …;
    /// −9 to −1, …). Bounds are inclusive; only non-empty buckets are listed, ascending.
    pub histogram: Vec<HistogramBucket>,
    /// The 20 orders priced both times whose price changed most (by absolute change; ties:
    /// the newer order first), with before and after.
    pub largest_changes: Vec<LargestChange>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SampleUsed {
    pub limit: u64,
    pub created_from: Option<DateTime<Utc>>,
    pub created_to: Option<DateTime<Utc>>,
}

/// `evaluated` = `unchanged` + `changed` + `now_failing`.
#[derive(Debug, Serialize, ToSchema)]
pub struct OrderCounts {
    /// Orders replayed.
    pub evaluated: u64,
    /// Same final amount, or the same failure as before.
    pub unchanged: u64,
    /// Priced at a different final amount, or priced where it failed before.
    pub changed: u64,
    /// Would fail (see `failing`) where it was priced, or failed for another reason.
    pub now_failing: u64,
}

impl From<&Tally> for OrderCounts {
    fn from(tally: &Tally) -> Self {
        Self {
            evaluated: tally.evaluated,
            unchanged: tally.unchanged,
            changed: tally.changed,
            now_failing: tally.now_failing,
        }
    }
}

/// Counts, and the discount given (amount − final amount of the orders priced; an order
/// not priced gives none) as the orders ran and under the candidate.
#[derive(Debug, Serialize, ToSchema)]
pub struct ImpactTotals {
    #[serde(flatten)]
    pub orders: OrderCounts,
    pub discount_before_minor: i64,
    pub discount_after_minor: i64,
    /// after − before.
    pub discount_difference_minor: i64,
}

impl From<&Tally> for ImpactTotals {
    fn from(tally: &Tally) -> Self {
        Self {
            orders: tally.into(),
            discount_before_minor: tally.discount_before_minor,
            discount_after_minor: tally.discount_after_minor,
            discount_difference_minor: tally.discount_difference_minor(),
        }
    }
}

/// One currency's orders.
#[derive(Debug, Serialize, ToSchema)]
pub struct CurrencyImpact {
    #[schema(example = "CNY")]
    pub currency: String,
    #[serde(flatten)]
    pub totals: ImpactTotals,
}

/// One payment method's orders in one currency.
#[derive(Debug, Serialize, ToSchema)]
pub struct MethodImpact {
    #[schema(example = "alipay")]
    pub payment_method: String,
    #[schema(example = "CNY")]
    pub currency: String,
    #[serde(flatten)]
    pub totals: ImpactTotals,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReasonCount {
    #[schema(value_type = FailureReasonSchema)]
    pub reason: &'static str,
    pub orders: u64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FailingOrder {
    pub order_id: String,
    pub payment_method: String,
    #[schema(value_type = FailureReasonSchema)]
    pub reason: &'static str,
    /// What would go wrong, e.g. the script's error or the checkout page's violations.
    pub message: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HistogramBucket {
    pub currency: String,
    /// The lowest change in the bucket (minor units, inclusive).
    pub from_minor: i64,
    /// The highest change in the bucket (minor units, inclusive).
    pub to_minor: i64,
    pub orders: u64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LargestChange {
    pub order_id: String,
    pub payment_method: String,
    pub currency: String,
    pub amount_minor: i64,
    /// after − before (negative: the customer pays less).
    pub price_change_minor: i64,
    pub before: PricedOrder,
    pub after: PricedOrder,
}

/// An order's price under one configuration.
#[derive(Debug, Serialize, ToSchema)]
pub struct PricedOrder {
    pub final_amount_minor: i64,
    pub discount_minor: i64,
    /// The discount function that set the price; null when the flow prices nothing.
    pub function: Option<String>,
    /// Its published version; null for the candidate function.
    pub version: Option<i32>,
}

impl PricedOrder {
    fn new(outcome: &PriceOutcome, amount_minor: i64) -> Self {
        let (function, version) = match outcome {
            PriceOutcome::Priced {
                function, version, ..
            } => (function.clone(), *version),
            PriceOutcome::Failed { .. } => (None, None),
        };
        Self {
            final_amount_minor: outcome.final_amount().unwrap_or(amount_minor),
            discount_minor: outcome.discount(amount_minor),
            function,
            version,
        }
    }
}

impl LargestChange {
    fn new(order: &ReplayedOrder) -> Self {
        Self {
            order_id: order.order_id.clone(),
            payment_method: order.payment_method.clone(),
            currency: order.currency.clone(),
            amount_minor: order.amount_minor,
            price_change_minor: order.price_change().unwrap_or_default(),
            before: PricedOrder::new(&order.before, order.amount_minor),
            after: PricedOrder::new(&order.after, order.amount_minor),
        }
    }
}

/// Preview a candidate's impact on past orders.
///
/// Replays the merchant's orders that reached pricing (the newest `sample.limit`, at most
/// 10,000, optionally within `created_from`/`created_to`) through a candidate document
/// instead of the version each order ran with, and reports: how many orders are
/// unchanged, changed, or would now fail (with each failure's reason); the discount given
/// before and after, per currency and per payment method; a histogram of the price change
/// per order; and the 20 largest changes.
///
/// The candidate is `document` from the body, else the document's saved draft (409
/// `no-draft` when there is none); it must pass the kind's JSON Schema and compile (422).
/// Kinds: `discount-function` (any name), and the `default` `routing-table`,
/// `payment-combination` and `checkout-page`; others are a 404. Each order keeps
/// everything else it pinned (flow, routing table, function versions; a function it did
/// not pin is taken at its newest version, as an order placed now would), its own amount,
/// method, items, address and fields. A payment-combination candidate fails orders whose
/// method it no longer offers at their amount; a checkout-page candidate fails orders whose
/// address or fields it refuses. Scripts run in the same sandbox with the same limits as
/// the workflow. Nothing is written, and the sampled orders are only read.
#[utoipa::path(post, path = "/v1/merchants/{merchant_id}/metadata/{kind}/{name}/impact", tag = "merchant metadata",
    security(("bearer" = ["platform_admin", "merchant_admin"])),
    params(
        ("merchant_id" = inline(crate::http::docs::MerchantIdParam), Path, description = "The merchant's id"),
        ("kind" = PreviewableKindSchema, Path, description = "`discount-function`, `routing-table`, `payment-combination` or `checkout-page`"),
        ("name" = inline(super::metadata::DocumentNameParam), Path, description = "The document's name: a discount function's, or `default`"),
    ),
    request_body = ImpactRequest,
    responses(
        (status = 200, description = "What the candidate would have done to the sample", body = ImpactResponse),
        AuthErrors, BodyErrors, NotFoundError, ImpactConflicts,
    ))]
async fn preview_impact(
    State(state): State<AppState>,
    principal: Principal,
    Path(path): Path<ImpactPath>,
    body: Deferred<Json<Value>>,
) -> ApiResult<axum::Json<ImpactResponse>> {
    let merchant = authorize_merchant(&state, &principal, &path.merchant_id).await?;
    let kind = parse_kind(&path.kind)?;
    let name = DocumentName::parse(&path.name).map_err(|e| ApiError::BadRequest(e.to_string()))?;
    let at = DocumentRef {
        scope: Scope::Merchant(merchant.clone()),
        kind,
        name,
    };
    impact::check_previewable(&at)?;
    let Json(raw) = body.read()?;
    let request: ImpactRequest = from_value(raw)?;
    let sample = sample(request.sample)?;
    let source = if request.document.is_some() {
        CandidateSource::Request
    } else {
        CandidateSource::Draft
    };
    let candidate = impact::candidate(&state, &at, request.document).await?;
    let report = impact::preview(&state, &merchant, candidate, sample).await?;
    Ok(axum::Json(response(&at, source, sample, report)))
}

fn sample(request: Option<SampleRequest>) -> ApiResult<Sample> {
    let request = request.unwrap_or(SampleRequest {
        limit: None,
        created_from: None,
        created_to: None,
    });
    let limit = request.limit.unwrap_or(DEFAULT_SAMPLE);
    if !(1..=MAX_SAMPLE).contains(&limit) {
        return Err(ApiError::invalid_field(
            "/sample/limit",
            format!("limit must be from 1 to {MAX_SAMPLE}"),
        ));
    }
    if let (Some(from), Some(to)) = (request.created_from, request.created_to)
        && from >= to
    {
        return Err(ApiError::invalid_field(
            "/sample/created_to",
            "created_to must be after created_from",
        ));
    }
    Ok(Sample {
        limit,
        range: SampleRange {
            created_from: request.created_from,
            created_to: request.created_to,
        },
    })
}

fn response(
    at: &DocumentRef,
    candidate: CandidateSource,
    sample: Sample,
    report: ImpactReport,
) -> ImpactResponse {
    ImpactResponse {
        kind: at.kind.to_string(),
        name: at.name.to_string(),
        candidate,
        sample: SampleUsed {
            limit: sample.limit,
            created_from: sample.range.created_from,
            created_to: sample.range.created_to,
        },
        orders: OrderCounts::from(&report.overall),
        by_currency: report
            .by_currency
            .iter()
            .map(|(currency, tally)| CurrencyImpact {
                currency: currency.clone(),
                totals: tally.into(),
            })
            .collect(),
        by_payment_method: report
            .by_method
            .iter()
            .map(|((method, currency), tally)| MethodImpact {
                payment_method: method.clone(),
                currency: currency.clone(),
                totals: tally.into(),
            })
            .collect(),
        failing_by_reason: report
            .failing_by_reason
            .iter()
            .map(|(reason, orders)| ReasonCount {
                reason: reason.as_str(),
                orders: *orders,
            })
            .collect(),
        failing: report
            .failing
            .into_iter()
            .map(|failing| FailingOrder {
                order_id: failing.order_id,
                payment_method: failing.payment_method,
                reason: failing.reason.as_str(),
                message: failing.message,
            })
            .collect(),
        histogram: report
            .histogram
            .iter()
            .flat_map(|(currency, buckets)| {
                buckets.iter().map(|(bucket, orders)| HistogramBucket {
                    currency: currency.clone(),
                    from_minor: bucket.from_minor,
                    to_minor: bucket.to_minor,
                    orders: *orders,
                })
            })
            .collect(),
        largest_changes: report.largest.iter().map(LargestChange::new).collect(),
    }
}
