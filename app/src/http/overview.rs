//! A merchant at a glance (`GET /v1/merchants/{merchant_id}/overview`): everything the
//! console's merchant home and documents pages show, in one request.

use std::collections::BTreeMap;

use axum::extract::State;
use domain::Kind;
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;
use utoipa::openapi::Ref;
use utoipa::openapi::schema::{
    KnownFormat, ObjectBuilder, OneOfBuilder, Schema, SchemaFormat, Type,
};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::http::auth::Principal;
use crate::http::docs::{AuthErrors, NotFoundError};
use crate::http::extract::Path;
use crate::http::merchants::{Merchant, authorize_merchant};
use crate::http::metadata::operations::scope_label;
use crate::http::metadata::views::DocumentSummary;
use crate::http::pagination::List;
use crate::http::problem::ApiResult;
use crate::http::routing::EvaluateResponse;
use crate::openapi_enums::MetadataKindSchema;
use crate::openapi_kinds::body_schema_name;
use crate::services::order_stats::OrderStats;
use crate::services::overview::{self, AcceptedMethod, EXAMPLE_AMOUNT_MINOR};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(merchant_overview))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MerchantOverview {
    pub merchant: Merchant,
    /// Every kind a merchant may hold, each with its first documents by name (as the first
    /// page of `GET .../metadata/{kind}?limit=200`).
    pub documents: Vec<KindDocuments>,
    /// The published version of the payment combination `default`; null when none is.
    pub payment_combination_version: Option<i32>,
    /// The methods the published payment combination accepts, in display order, each priced
    /// on `example_order` by the published routing table.
    pub payment_methods: Vec<MethodOverview>,
    /// The order each method is priced on: 10000 minor units in the currency of the
    /// merchant's newest order (`CNY` when it has none).
    pub example_order: ExampleOrder,
    #[schema(schema_with = published_routing_table)]
    pub routing_table: Option<PublishedBody>,
    #[schema(schema_with = published_checkout_page)]
    pub checkout_page: Option<PublishedBody>,
    /// The flow new orders run: the merchant's own published `order-flow/default`, else the
    /// platform's.
    pub order_flow: Option<FlowInUse>,
    /// The merchant's orders created in the last 24 hours (hourly buckets) and 7 days (daily
    /// buckets), as `GET .../orders/stats` gives them.
    pub orders: RecentOrders,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct KindDocuments {
    #[schema(value_type = MetadataKindSchema, example = "discount-function")]
    pub kind: String,
    pub documents: Vec<DocumentSummary>,
    /// Pass as `cursor` to `GET .../metadata/{kind}?limit=200` for the rest; null when
    /// these are all.
    pub next_cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ExampleOrder {
    #[schema(example = 10000)]
    pub amount_minor: i64,
    #[schema(example = "CNY")]
    pub currency: String,
}

/// The newest published version of a document, with its body. Documented per kind
/// ([`published`]): its `body` is a document of the field's kind.
#[derive(Debug, Serialize)]
pub struct PublishedBody {
    pub version: i32,
    pub body: Value,
}

/// A [`PublishedBody`] of `kind`, or null. utoipa makes one schema of one Rust type, so
/// the per-kind schema is built here.
fn published(kind: Kind, description: &str) -> Schema {
    let version = ObjectBuilder::new()
        .schema_type(Type::Integer)
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int32)));
    let found = ObjectBuilder::new()
        .property("version", version)
        .required("version")
        .property("body", Ref::from_schema_name(body_schema_name(kind)))
        .required("body");
    OneOfBuilder::new()
        .item(found)
        .item(ObjectBuilder::new().schema_type(Type::Null))
        .description(Some(description))
        .into()
}

fn published_routing_table() -> Schema {
    published(
        Kind::RoutingTable,
        "The published routing table `default`; null when none is.",
    )
}

fn published_checkout_page() -> Schema {
    published(
        Kind::CheckoutPage,
        "The published checkout page `default`; null when none is.",
    )
}

fn order_flow_body() -> Ref {
    Ref::from_schema_name(body_schema_name(Kind::OrderFlow))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FlowInUse {
    /// `platform` or `merchants/{merchant_id}`: whose flow it is.
    #[schema(example = "platform")]
    pub scope: String,
    pub version: i32,
    #[schema(schema_with = order_flow_body)]
    pub body: Value,
}

/// A method the merchant accepts, and what paying with it comes to.
#[derive(Debug, Serialize, ToSchema)]
pub struct MethodOverview {
    #[schema(example = "alipay")]
    pub method: String,
    /// The payment combination's own label for the method, if it gives one.
    pub label: Option<String>,
    /// What the storefront's checkout page calls it: `label`, else the catalog's English
    /// name, else the code.
    #[schema(example = "Alipay")]
    pub storefront_label: String,
    /// The platform catalog's display names by locale; empty when the catalog has no such
    /// method.
    #[schema(example = json!({"en": "Alipay", "zh-CN": "支付宝"}))]
    pub names: BTreeMap<String, String>,
    /// Where the routing table sends the example order paid with this method, and its
    /// price, as `POST .../routing/evaluate` answers; null without a published routing
    /// table, or when the route names an unpublished function (see `route_problem`).
    pub route: Option<EvaluateResponse>,
    /// Why the example order could not be priced.
    pub route_problem: Option<String>,
    /// The `description` of the discount function the route selects.
    pub function_description: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RecentOrders {
    pub last_24h: OrderStats,
    pub last_7d: OrderStats,
}

impl MethodOverview {
    fn new(accepted: AcceptedMethod, routing_table_version: Option<i32>) -> Self {
        let (route, route_problem) = match accepted.pricing {
            None => (None, None),
            Some(outcome) => match EvaluateResponse::new(outcome, routing_table_version) {
                Ok(response) => (Some(response), None),
                Err(unpublished) => (None, Some(unpublished.message())),
            },
        };
        Self {
            method: accepted.method,
            label: accepted.label,
            storefront_label: accepted.storefront_label,
            names: accepted.names,
            route,
            route_problem,
            function_description: accepted.function_description,
        }
    }
}

/// A merchant at a glance.
///
/// The merchant; its documents of every kind, each with its published version and whether
/// a draft is pending; the payment methods it accepts, each with the route the published
/// routing table takes for an example order of 10000 minor units and what the customer then
/// pays; the published routing table, checkout page and order flow; and its orders in
/// numbers over the last 24 hours and 7 days. One request for what the console's merchant
/// home shows.
#[utoipa::path(get, path = "/v1/merchants/{merchant_id}/overview", tag = "merchants",
    security(("bearer" = ["platform_admin", "merchant_admin"])),
    params(("merchant_id" = inline(crate::http::docs::MerchantIdParam), Path, description = "The merchant's id")),
    responses(
        (status = 200, description = "The merchant at a glance", body = MerchantOverview),
        AuthErrors, NotFoundError,
    ))]
async fn merchant_overview(
    State(state): State<AppState>,
    principal: Principal,
    Path(merchant_id): Path<String>,
) -> ApiResult<axum::Json<MerchantOverview>> {
    let merchant = authorize_merchant(&state, &principal, &merchant_id).await?;
    let found = overview::overview(&state, &merchant, crate::persistence::now()).await?;
    let routing_table_version = found.routing_table.as_ref().map(|(version, _)| *version);
    let published = |(version, body)| PublishedBody { version, body };
    Ok(axum::Json(MerchantOverview {
        merchant: found.merchant.into(),
        documents: found
            .documents
            .into_iter()
            .map(|(kind, page)| {
                let list = List::new(page, DocumentSummary::from);
                KindDocuments {
                    kind: kind.to_string(),
                    documents: list.data,
                    next_cursor: list.next_cursor,
                }
            })
            .collect(),
        payment_combination_version: found.payment_combination_version,
        payment_methods: found
            .methods
            .into_iter()
            .map(|accepted| MethodOverview::new(accepted, routing_table_version))
            .collect(),
        example_order: ExampleOrder {
            amount_minor: EXAMPLE_AMOUNT_MINOR,
            currency: found.example_currency,
        },
        routing_table: found.routing_table.map(published),
        checkout_page: found.checkout_page.map(published),
        order_flow: found.order_flow.map(|flow| FlowInUse {
            scope: scope_label(&flow.scope),
            version: flow.version,
            body: flow.body,
        }),
        orders: RecentOrders {
            last_24h: found.last_24h,
            last_7d: found.last_7d,
        },
    }))
}
