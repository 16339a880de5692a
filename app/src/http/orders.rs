//! Orders as clients see them: the storefront's checkout endpoints and the admin's views.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use chrono::{DateTime, Utc};
use domain::{MerchantId, Violation};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::error::{ServiceError, ServiceResult};
use crate::http::auth::{KeyScope, Principal};
use crate::http::docs::{
    AuthErrors, BodyErrors, NotFoundError, ParameterError, conflict_responses,
};
use crate::http::extract::{Deferred, Json, Path, Query};
use crate::http::history::HistoryEvent;
use crate::http::idempotency::{IdempotencyKeyHeader, idempotent};
use crate::http::merchants::authorize_merchant;
use crate::http::pagination::{List, PageParams};
use crate::http::problem::{ApiError, ApiResult};
use crate::openapi_enums::{CancelReasonSchema, OrderStatusSchema};
use crate::persistence::entities::order;
use crate::persistence::{executions, orders as order_rows};
use crate::published::OfferedMethod;
use crate::services::idempotency::Answer;
use crate::services::order_stats::{self, OrderStats, Window};
use crate::services::orders::{self, Created, Item, NewOrder};
use crate::state::AppState;
use domain::lifecycle::{CancelReason, OrderStatus};

conflict_responses! {
    /// 409 of reading the checkout page: the merchant has no published payment combination.
    CheckoutPageConflicts: read = [MerchantNotConfigured];
    /// 409 of starting an order: its `order_num` names another, the merchant has not
    /// published what an order needs, or the `Idempotency-Key` is in flight.
    CreateOrderConflicts: write = [OrderNumConflict, MerchantNotConfigured, IdempotencyKeyInFlight];
    /// 409 of paying: the order does not await payment, or its deadline passed.
    PayConflicts: write = [OrderNotAwaitingPayment, TaskTimedOut, InvalidState, IdempotencyKeyInFlight];
    /// 409 of canceling: the order or its flow has ended.
    CancelConflicts: write = [OrderFinal, InvalidState, IdempotencyKeyInFlight];
}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(checkout_page))
        .routes(routes!(create_order))
        .routes(routes!(get_storefront_order))
        .routes(routes!(pay_order))
        .routes(routes!(cancel_order))
        .routes(routes!(list_orders))
        .routes(routes!(order_stats))
        .routes(routes!(get_order))
        .routes(routes!(order_history))
}

/// The discount applied to an order.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Discount {
    #[schema(example = "alipay-discount")]
    pub function: String,
    pub version: i32,
    #[schema(example = "Alipay: 20% off")]
    pub label: Option<String>,
}

/// An order.
#[derive(Debug, Serialize, ToSchema)]
pub struct OrderView {
    #[schema(example = "01936b2e-8c1a-7cc3-9a4e-5f0e2b7d9c11")]
    pub order_id: String,
    #[schema(example = "haidilao")]
    pub merchant_id: String,
    /// The client's own id for the order, when it gave one.
    pub order_num: Option<String>,
    /// `awaiting_payment`, `processing` (paid; the flow has more steps), `completed` or `canceled`.
    #[schema(value_type = OrderStatusSchema, example = "awaiting_payment")]
    pub status: String,
    /// When canceled: `payment_timeout`, `flow_timeout`, `no_route`, `function_error`,
    /// `customer_canceled`, `merchant_canceled` or `rejected`.
    #[schema(value_type = Option<CancelReasonSchema>)]
    pub cancel_reason: Option<String>,
    #[schema(example = "CNY")]
    pub currency: String,
    /// The sum of the items, in minor units.
    #[schema(example = 10000)]
    pub amount_minor: i64,
    /// What the customer pays after the discount; set once priced.
    #[schema(example = 8000)]
    pub final_amount_minor: Option<i64>,
    pub payment_method: Option<String>,
    pub discount: Option<Discount>,
    pub items: Vec<Item>,
    #[schema(schema_with = address_schema)]
    pub address: Value,
    #[schema(schema_with = fields_schema)]
    pub fields: Value,
    /// The methods the customer may pay with, in display order (omitted in lists).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payment_methods: Option<Vec<OfferedMethod>>,
    /// When the payment step times out, while the order awaits payment.
    pub payment_deadline: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl OrderView {
    fn new(
        order: order::Model,
        payment_methods: Option<Vec<OfferedMethod>>,
    ) -> ServiceResult<Self> {
        let payment_deadline = order
            .payment_deadline
            .filter(|_| order.status == OrderStatus::AwaitingPayment.as_str());
        Ok(Self {
            items: serde_json::from_str(&order.items)
                .map_err(|e| ServiceError::internal(e.to_string()))?,
            address: crate::persistence::stored_json(&order.address)?,
            fields: crate::persistence::stored_json(&order.fields)?,
            discount: order
                .discount
                .as_deref()
                .map(serde_json::from_str)
                .transpose()
                .map_err(|e| ServiceError::internal(e.to_string()))?,
            order_id: order.id,
            merchant_id: order.merchant_id,
            order_num: order.order_num,
            status: order.status,
            cancel_reason: order.cancel_reason,
            currency: order.currency,
            amount_minor: order.amount_minor,
            final_amount_minor: order.final_amount_minor,
            payment_method: order.payment_method,
            payment_methods,
            payment_deadline,
            created_at: order.created_at,
            updated_at: order.updated_at,
        })
    }

    async fn full(state: &AppState, order: order::Model) -> ApiResult<Self> {
        let methods = orders::order_methods(state, &order.id).await?;
        Ok(Self::new(order, Some(methods))?)
    }
}

/// A storefront endpoint's answer: the status and the order as JSON.
fn answer(
    status: StatusCode,
    order: order::Model,
    methods: Vec<OfferedMethod>,
) -> ServiceResult<Answer> {
    Ok(Answer {
        status: status.as_u16(),
        body: to_value(&OrderView::new(order, Some(methods))?)?,
    })
}

fn to_value<T: Serialize>(value: &T) -> ServiceResult<Value> {
    serde_json::to_value(value).map_err(|e| ServiceError::internal(e.to_string()))
}

/// Checkout access to a merchant: its storefront and admin keys, and platform admins.
fn require_checkout(principal: &Principal, merchant: &MerchantId) -> ApiResult<()> {
    match (principal.scope, &principal.merchant_id) {
        (KeyScope::PlatformAdmin, _) => Ok(()),
        (_, Some(own)) if own == merchant => Ok(()),
        _ => Err(crate::http::auth::merchant_not_found(merchant)),
    }
}

/// A merchant the caller may check out with, that exists; otherwise a 404.
async fn checkout_merchant(
    state: &AppState,
    principal: &Principal,
    raw_id: &str,
) -> ApiResult<MerchantId> {
    let merchant = MerchantId::parse(raw_id)
        .map_err(|_| ApiError::not_found(format!("merchant '{raw_id}' not found")))?;
    require_checkout(principal, &merchant)?;
    if !state.merchants.exists(&state.db, merchant.as_str()).await? {
        return Err(crate::http::auth::merchant_not_found(&merchant));
    }
    Ok(merchant)
}

/// Loads an order the caller may see at checkout; another tenant's is a 404.
async fn checkout_order(
    state: &AppState,
    principal: &Principal,
    order_id: &str,
) -> ApiResult<order::Model> {
    let order = order_rows::find(&state.db, order_id)
        .await?
        .ok_or_else(|| order_not_found(order_id))?;
    may_checkout(principal, &order)?;
    Ok(order)
}

/// Whether the caller may see the order at checkout; another tenant's is a 404.
fn may_checkout(principal: &Principal, order: &order::Model) -> ServiceResult<()> {
    MerchantId::parse(&order.merchant_id)
        .ok()
        .and_then(|merchant| require_checkout(principal, &merchant).ok())
        .ok_or_else(|| order_not_found(&order.id))
}

fn order_not_found(order_id: &str) -> ServiceError {
    ServiceError::NotFound(format!("order {order_id} not found"))
}

/// Loads an order for its merchant's admins.
async fn admin_order(
    state: &AppState,
    principal: &Principal,
    order_id: &str,
) -> ApiResult<order::Model> {
    principal.require_admin()?;
    let not_found = || ApiError::not_found(format!("order {order_id} not found"));
    let order = order_rows::find(&state.db, order_id)
        .await?
        .ok_or_else(not_found)?;
    let merchant = MerchantId::parse(&order.merchant_id).map_err(|_| not_found())?;
    principal
        .require_merchant_admin(&merchant)
        .map_err(|_| not_found())?;
    Ok(order)
}

/// A checkout page, resolved for rendering.
#[derive(Debug, Serialize, ToSchema)]
pub struct ResolvedCheckoutPage {
    pub merchant_id: String,
    pub versions: CheckoutVersions,
    #[schema(example = "Checkout · Haidilao Hot Pot")]
    pub title: Option<String>,
    #[schema(schema_with = checkout_sections)]
    pub sections: Value,
    /// The merchant's enabled methods in display order.
    pub payment_methods: Vec<OfferedMethod>,
}

/// The published versions a checkout page was resolved from.
#[derive(Debug, Serialize, ToSchema)]
pub struct CheckoutVersions {
    /// Null when the merchant has no published checkout page (then there are no sections).
    #[schema(example = 1)]
    pub checkout_page: Option<i32>,
    #[schema(example = 1)]
    pub payment_combination: i32,
}

/// The page's sections: the `sections` of the merchant's checkout-page document.
fn checkout_sections() -> utoipa::openapi::schema::Array {
    utoipa::openapi::schema::ArrayBuilder::new()
        .items(utoipa::openapi::Ref::from_schema_name(
            crate::openapi_kinds::definition_schema_name(domain::Kind::CheckoutPage, "section"),
        ))
        .description(Some(
            "The sections and fields, as the merchant's checkout-page document defines them.",
        ))
        .build()
}

/// Get the merchant's checkout page: its sections and fields, and the payment methods it
/// offers in display order.
#[utoipa::path(get, path = "/v1/storefront/merchants/{merchant_id}/checkout-page", tag = "storefront",
    security(("bearer" = ["platform_admin", "merchant_admin", "storefront"])),
    params(("merchant_id" = inline(crate::http::docs::MerchantIdParam), Path, description = "The merchant's id")),
    responses(
        (status = 200, description = "The resolved checkout page", body = ResolvedCheckoutPage),
        AuthErrors, NotFoundError, CheckoutPageConflicts,
    ))]
async fn checkout_page(
    State(state): State<AppState>,
    principal: Principal,
    Path(merchant_id): Path<String>,
) -> ApiResult<axum::Json<ResolvedCheckoutPage>> {
    let merchant = checkout_merchant(&state, &principal, &merchant_id).await?;
    let resolved = orders::resolve_checkout(&state, &merchant).await?;
    let (page_version, page) = match resolved.page {
        Some((version, page)) => (Some(version), page),
        None => (None, serde_json::json!({"sections": []})),
    };
    Ok(axum::Json(ResolvedCheckoutPage {
        merchant_id: merchant.to_string(),
        versions: CheckoutVersions {
            checkout_page: page_version,
            payment_combination: resolved.combination.0,
        },
        title: page["title"].as_str().map(str::to_owned),
        sections: page["sections"].clone(),
        payment_methods: resolved.methods,
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateOrder {
    #[schema(example = "haidilao")]
    pub merchant_id: String,
    /// Your own id for the order: creating it again with the same body returns the existing
    /// order (200); with a different body, 409.
    #[schema(example = "table-12-0001")]
    pub order_num: Option<String>,
    /// Your own reference of the customer (1 to 128 characters). While a change is rolled
    /// out to part of the orders, it decides which version an order gets, so that a customer
    /// sees one price across orders; without it, the order id decides.
    #[schema(example = "customer-8812", min_length = 1, max_length = 128)]
    pub customer_ref: Option<String>,
    /// ISO 4217, e.g. `CNY`.
    #[schema(example = "CNY")]
    pub currency: String,
    pub items: Vec<Item>,
    #[serde(default)]
    #[schema(schema_with = address_schema)]
    pub address: Map<String, Value>,
    #[serde(default)]
    #[schema(schema_with = fields_schema)]
    pub fields: Map<String, Value>,
}

// An order's address and fields are keyed by the fields of the merchant's checkout page, a
// document the merchant publishes: the keys and each value's type are known only at run
// time, so the schemas stay open objects and say so. utoipa drops `example` beside
// `value_type = Object`, so they are described by hand; the examples are what the demo
// merchants' checkout pages ask for. The order's other appearances (its read, its
// execution's input) use the same two.

pub(crate) fn address_schema() -> utoipa::openapi::Object {
    free_form_object(
        "The order's address: the merchant's checkout page's address fields (its sections of \
         kind `address`) by name, each a string, number or boolean as the field's `type` says \
         (`null` counts as absent). Which fields there are is the merchant's published \
         checkout page, so this schema leaves the object open; without a checkout page any \
         object is taken.",
        serde_json::json!({"recipient": "Li Lei", "phone": "+86 138 0000 0000", "street": "1 Chaoyang Road, Building 3, Floor 12"}),
    )
}

pub(crate) fn fields_schema() -> utoipa::openapi::Object {
    free_form_object(
        "The order's other checkout fields: the merchant's checkout page's fields outside its \
         address sections, by name, each a string, number or boolean as the field's `type` \
         says (`null` counts as absent). Which fields there are is the merchant's published \
         checkout page, so this schema leaves the object open; without a checkout page any \
         object is taken.",
        serde_json::json!({"delivery_time": "asap", "notes": "No cilantro, please"}),
    )
}

fn free_form_object(description: &str, example: Value) -> utoipa::openapi::Object {
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::Object)
        .description(Some(description))
        .examples([example])
        .build()
}

fn validate_new_order(body: &CreateOrder) -> Vec<Violation> {
    let mut violations = Vec::new();
    if !(body.currency.len() == 3 && body.currency.bytes().all(|b| b.is_ascii_uppercase())) {
        violations.push(Violation::new(
            "/currency",
            "currency must be an ISO 4217 code such as CNY",
        ));
    }
    if let Some(order_num) = &body.order_num
        && !(1..=128).contains(&order_num.len())
    {
        violations.push(Violation::new(
            "/order_num",
            "order_num must be 1 to 128 characters",
        ));
    }
    if let Some(customer_ref) = &body.customer_ref
        && !(1..=128).contains(&customer_ref.chars().count())
    {
        violations.push(Violation::new(
            "/customer_ref",
            "customer_ref must be 1 to 128 characters",
        ));
    }
    if body.items.is_empty() || body.items.len() > 500 {
        violations.push(Violation::new("/items", "an order has 1 to 500 items"));
    }
    for (i, item) in body.items.iter().enumerate() {
        if !(1..=100_000).contains(&item.quantity) {
            violations.push(Violation::new(
                format!("/items/{i}/quantity"),
                "quantity must be 1 to 100000",
            ));
        }
        if !(0..=orders::MAX_AMOUNT_MINOR).contains(&item.unit_price_minor) {
            violations.push(Violation::new(
                format!("/items/{i}/unit_price_minor"),
                "unit_price_minor must be a non-negative integer in minor units",
            ));
        }
        for (field, value) in [("sku", &item.sku), ("name", &item.name)] {
            if value.trim().is_empty() || value.chars().count() > 200 {
                violations.push(Violation::new(
                    format!("/items/{i}/{field}"),
                    format!("{field} must be 1 to 200 characters"),
                ));
            }
        }
    }
    violations
}

/// Start an order.
///
/// Resolves and pins the merchant's published metadata (flow, payment combination, checkout
/// page, routing table, functions), validates `address` and `fields` against the checkout
/// page, and runs the flow up to its first waiting step. Honours `Idempotency-Key`.
#[utoipa::path(post, path = "/v1/storefront/orders", tag = "storefront",
    security(("bearer" = ["platform_admin", "merchant_admin", "storefront"])),
    params(IdempotencyKeyHeader),
    request_body = CreateOrder,
    responses(
        (status = 201, description = "Started; usually awaiting payment", body = OrderView),
        (status = 200, description = "An order with this order_num and body already exists", body = OrderView),
        AuthErrors, BodyErrors, NotFoundError, CreateOrderConflicts,
    ))]
async fn create_order(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Json(raw): Json<Value>,
) -> ApiResult<Response> {
    let body: CreateOrder = crate::http::extract::from_value(raw.clone())?;
    let merchant = checkout_merchant(&state, &principal, &body.merchant_id).await?;
    let violations = validate_new_order(&body);
    if !violations.is_empty() {
        return Err(ApiError::invalid(violations));
    }
    let fingerprint = orders::fingerprint(&raw);
    let new = NewOrder {
        merchant,
        order_num: body.order_num,
        customer_ref: body.customer_ref,
        currency: body.currency,
        items: body.items,
        address: body.address,
        fields: body.fields,
        fingerprint,
    };
    idempotent(
        &state,
        &principal,
        "POST /v1/storefront/orders",
        &headers,
        &raw,
        || async {
            orders::stage_create(&state, &new)
                .await?
                .try_map(|created| match created {
                    Created::New(order, methods) => answer(StatusCode::CREATED, order, methods),
                    Created::Existing(order, methods) => answer(StatusCode::OK, order, methods),
                })
        },
    )
    .await
}

/// Get an order (storefront).
#[utoipa::path(get, path = "/v1/storefront/orders/{order_id}", tag = "storefront",
    security(("bearer" = ["platform_admin", "merchant_admin", "storefront"])),
    params(("order_id" = String, Path, description = "The order's id")),
    responses((status = 200, description = "The order", body = OrderView), AuthErrors, NotFoundError))]
async fn get_storefront_order(
    State(state): State<AppState>,
    principal: Principal,
    Path(order_id): Path<String>,
) -> ApiResult<axum::Json<OrderView>> {
    let order = checkout_order(&state, &principal, &order_id).await?;
    Ok(axum::Json(OrderView::full(&state, order).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PayOrder {
    /// One of the order's `payment_methods`.
    #[schema(example = "alipay")]
    pub payment_method: String,
}

/// Pay an order.
///
/// Completes the order's payment step and runs the flow on (discount, completion), so the
/// answer carries the final status and amount. A method the order does not offer is a 422
/// and the order keeps waiting. A payment after the deadline is a 409 `task-timed-out`, and
/// the order is canceled with `payment_timeout`, whether the timer or this request got there
/// first. Honours `Idempotency-Key`.
#[utoipa::path(post, path = "/v1/storefront/orders/{order_id}/payment", tag = "storefront",
    security(("bearer" = ["platform_admin", "merchant_admin", "storefront"])),
    params(
        ("order_id" = String, Path, description = "The order's id"),
        IdempotencyKeyHeader,
    ),
    request_body = PayOrder,
    responses(
        (status = 200, description = "The order after its flow ran: read `status`. `completed` (or `processing` while a later step waits) is paid and done; `canceled` with a `cancel_reason` (e.g. `no_route`) is an order the flow canceled after the payment step", body = OrderView),
        AuthErrors, BodyErrors, NotFoundError, PayConflicts,
    ))]
async fn pay_order(
    State(state): State<AppState>,
    principal: Principal,
    Path(order_id): Path<String>,
    headers: HeaderMap,
    body: Deferred<Json<Value>>,
) -> ApiResult<Response> {
    // Who may pay is decided from the order, which the payment reads in its own transaction.
    // A body that cannot be taken is refused only after the same decision, read here, so
    // that a caller who may not pay gets the 404 a valid body would get: only the happy
    // path skips the extra read.
    let read = body.read().and_then(|Json(raw)| {
        Ok((
            crate::http::extract::from_value::<PayOrder>(raw.clone())?,
            raw,
        ))
    });
    let (body, raw) = match read {
        Ok(read) => read,
        Err(refused) => {
            checkout_order(&state, &principal, &order_id).await?;
            return Err(refused);
        }
    };
    let endpoint = format!("POST /v1/storefront/orders/{order_id}/payment");
    idempotent(&state, &principal, &endpoint, &headers, &raw, || async {
        let authorize = |order: &order::Model| may_checkout(&principal, order);
        orders::stage_pay(&state, &order_id, &body.payment_method, None, authorize)
            .await?
            .try_map(|(paid, methods)| answer(StatusCode::OK, paid, methods))
    })
    .await
}

/// Cancel an order that has not ended. With a storefront key the customer changed their
/// mind (`cancel_reason: customer_canceled`); with an admin key the merchant canceled it
/// (`merchant_canceled`).
#[utoipa::path(post, path = "/v1/storefront/orders/{order_id}/cancel", tag = "storefront",
    security(("bearer" = ["platform_admin", "merchant_admin", "storefront"])),
    params(
        ("order_id" = String, Path, description = "The order's id"),
        IdempotencyKeyHeader,
    ),
    responses(
        (status = 200, description = "Canceled", body = OrderView),
        AuthErrors, NotFoundError, ParameterError, CancelConflicts,
    ))]
async fn cancel_order(
    State(state): State<AppState>,
    principal: Principal,
    Path(order_id): Path<String>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let endpoint = format!("POST /v1/storefront/orders/{order_id}/cancel");
    idempotent(
        &state,
        &principal,
        &endpoint,
        &headers,
        &Value::Null,
        || async {
            let authorize = |order: &order::Model| may_checkout(&principal, order);
            let reason = match principal.scope {
                KeyScope::Storefront => CancelReason::CustomerCanceled,
                KeyScope::MerchantAdmin | KeyScope::PlatformAdmin => CancelReason::MerchantCanceled,
            };
            orders::stage_cancel(&state, &order_id, reason, authorize)
                .await?
                .try_map(|(canceled, methods)| answer(StatusCode::OK, canceled, methods))
        },
    )
    .await
}

/// A query parameter holding an RFC 3339 instant, in UTC.
fn instant(name: &str, raw: Option<&str>) -> ApiResult<Option<DateTime<Utc>>> {
    raw.map(|raw| {
        DateTime::parse_from_rfc3339(raw)
            .map(|t| t.with_timezone(&Utc))
            .map_err(|e| {
                ApiError::BadRequest(format!(
                    "{name} must be an RFC 3339 date-time such as 2026-11-28T00:00:00Z: {e}"
                ))
            })
    })
    .transpose()
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StatsParams {
    /// `24h` (the default: 24 buckets of an hour) or `7d` (7 buckets of a day).
    #[param(inline)]
    pub window: Option<Window>,
}

/// A merchant's orders in numbers over the last 24 hours or 7 days.
///
/// Counts by status and by cancel reason, the discount completed orders were given (per
/// currency, in minor units) and the orders created per hour (`24h`) or per day (`7d`). The
/// window ends now; its buckets are consecutive, oldest first.
#[utoipa::path(get, path = "/v1/merchants/{merchant_id}/orders/stats", tag = "orders",
    security(("bearer" = ["platform_admin", "merchant_admin"])),
    params(("merchant_id" = inline(crate::http::docs::MerchantIdParam), Path, description = "The merchant's id"), StatsParams),
    responses((status = 200, description = "The statistics", body = OrderStats), AuthErrors, NotFoundError, ParameterError))]
async fn order_stats(
    State(state): State<AppState>,
    principal: Principal,
    Path(merchant_id): Path<String>,
    Query(params): Query<StatsParams>,
) -> ApiResult<axum::Json<OrderStats>> {
    let merchant = authorize_merchant(&state, &principal, &merchant_id).await?;
    let window = params.window.unwrap_or(Window::Day);
    let stats = order_stats::stats(&state.db, &merchant, window, crate::persistence::now()).await?;
    Ok(axum::Json(stats))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OrderFilter {
    /// Only orders with this status.
    #[param(value_type = Option<OrderStatusSchema>, inline)]
    pub status: Option<String>,
    /// Only the order with this client-given `order_num` (exact).
    pub order_num: Option<String>,
    /// Only orders whose id starts with this: at least 4 characters of an order id
    /// (hexadecimal digits and `-`, any case).
    #[param(min_length = 4, max_length = 36, example = "0193")]
    pub order_id_prefix: Option<String>,
    /// Only orders paid (or attempted) with this payment method.
    #[param(example = "alipay")]
    pub payment_method: Option<String>,
    /// Only orders created at or after this instant (RFC 3339; compared in UTC).
    #[param(example = "2026-11-27T00:00:00Z")]
    pub created_from: Option<String>,
    /// Only orders created before this instant (RFC 3339; compared in UTC).
    #[param(example = "2026-11-28T00:00:00Z")]
    pub created_to: Option<String>,
}

/// List a merchant's orders, newest first.
#[utoipa::path(get, path = "/v1/merchants/{merchant_id}/orders", tag = "orders",
    security(("bearer" = ["platform_admin", "merchant_admin"])),
    params(("merchant_id" = inline(crate::http::docs::MerchantIdParam), Path, description = "The merchant's id"), OrderFilter, PageParams),
    responses((status = 200, description = "A page of orders", body = List<OrderView>), AuthErrors, NotFoundError, ParameterError))]
async fn list_orders(
    State(state): State<AppState>,
    principal: Principal,
    Path(merchant_id): Path<String>,
    Query(filter): Query<OrderFilter>,
    Query(page): Query<PageParams>,
) -> ApiResult<axum::Json<List<OrderView>>> {
    let merchant = authorize_merchant(&state, &principal, &merchant_id).await?;
    if let Some(status) = &filter.status
        && status.parse::<OrderStatus>().is_err()
    {
        let names: Vec<&str> = OrderStatus::ALL.iter().map(|s| s.as_str()).collect();
        return Err(ApiError::BadRequest(format!(
            "status must be one of {}",
            names.join(", ")
        )));
    }
    let prefix = filter
        .order_id_prefix
        .as_deref()
        .map(|prefix| {
            let valid = (4..=36).contains(&prefix.len())
                && prefix.chars().all(|c| c.is_ascii_hexdigit() || c == '-');
            valid.then(|| prefix.to_ascii_lowercase()).ok_or_else(|| {
                ApiError::BadRequest(
                    "order_id_prefix must be 4 to 36 characters of an order id (hexadecimal digits and '-')".into(),
                )
            })
        })
        .transpose()?;
    let search = order_rows::OrderSearch {
        status: filter.status.as_deref(),
        order_num: filter.order_num.as_deref(),
        order_id_prefix: prefix.as_deref(),
        payment_method: filter.payment_method.as_deref(),
        created_from: instant("created_from", filter.created_from.as_deref())?,
        created_to: instant("created_to", filter.created_to.as_deref())?,
    };
    let page = order_rows::list(&state.db, merchant.as_str(), &search, &page.request()?).await?;
    let data = page
        .rows
        .into_iter()
        .map(|order| OrderView::new(order, None))
        .collect::<ServiceResult<Vec<_>>>()?;
    Ok(axum::Json(List {
        data,
        next_cursor: page
            .next
            .as_ref()
            .map(crate::http::pagination::encode_cursor),
    }))
}

/// Get an order (admin).
#[utoipa::path(get, path = "/v1/orders/{order_id}", tag = "orders",
    security(("bearer" = ["platform_admin", "merchant_admin"])),
    params(("order_id" = String, Path, description = "The order's id")),
    responses((status = 200, description = "The order", body = OrderView), AuthErrors, NotFoundError))]
async fn get_order(
    State(state): State<AppState>,
    principal: Principal,
    Path(order_id): Path<String>,
) -> ApiResult<axum::Json<OrderView>> {
    let order = admin_order(&state, &principal, &order_id).await?;
    Ok(axum::Json(OrderView::full(&state, order).await?))
}

/// An order's execution history, in order: what it pinned, every step, which route and
/// function ran with what input and output, and how it ended.
#[utoipa::path(get, path = "/v1/orders/{order_id}/history", tag = "orders",
    security(("bearer" = ["platform_admin", "merchant_admin"])),
    params(("order_id" = String, Path, description = "The order's id"), PageParams),
    responses((status = 200, description = "A page of events, oldest first", body = List<HistoryEvent>), AuthErrors, NotFoundError, ParameterError))]
async fn order_history(
    State(state): State<AppState>,
    principal: Principal,
    Path(order_id): Path<String>,
    Query(params): Query<PageParams>,
) -> ApiResult<axum::Json<List<HistoryEvent>>> {
    let order = admin_order(&state, &principal, &order_id).await?;
    let page = executions::list_events(&state.db, &order.id, &params.request()?).await?;
    let data = page.rows.into_iter().map(HistoryEvent::from).collect();
    Ok(axum::Json(List {
        data,
        next_cursor: page
            .next
            .as_ref()
            .map(crate::http::pagination::encode_cursor),
    }))
}
