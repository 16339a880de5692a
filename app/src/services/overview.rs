//! A merchant at a glance, read in one go: its documents, what is live (the methods it
//! accepts, where its routing table sends each and what that charges, its checkout page, the
//! flow its orders run) and its recent orders in numbers. The console's merchant home shows
//! this; asking for it piece by piece took the console 21 requests.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use domain::documents::payment_combination::PaymentCombination;
use domain::documents::payment_method::PaymentMethod;
use domain::{Kind, MerchantId, Scope};
use serde_json::{Value, json};

use crate::engine::pricing::{Pricing, PricingOutcome};
use crate::error::{ServiceError, ServiceResult};
use crate::persistence::entities::{merchant, metadata_document};
use crate::persistence::{self, Page, PageRequest, merchants, metadata as metadata_rows};
use crate::published::{DEFAULT, ROUTING_TABLE, offered_methods};
use crate::services::discounts;
use crate::services::order_stats::{self, OrderStats, Window};
use crate::state::AppState;

/// The order every accepted method is priced on: ¥100.00 when the merchant has no orders yet.
pub const EXAMPLE_AMOUNT_MINOR: i64 = 10_000;
/// The example's currency when the merchant has no order to take one from: the demo
/// merchants' (the API keeps no currency per merchant).
const FALLBACK_CURRENCY: &str = "CNY";
/// The documents listed per kind: the list operation's largest page, so that its
/// `next_cursor` continues the listing there.
const DOCUMENTS_PER_KIND: u64 = 200;

pub struct Overview {
    pub merchant: merchant::Model,
    /// The first documents of every kind a merchant may hold, by name.
    pub documents: Vec<(Kind, Page<metadata_document::Model, String>)>,
    pub payment_combination_version: Option<i32>,
    pub routing_table: Option<(i32, Value)>,
    pub checkout_page: Option<(i32, Value)>,
    pub order_flow: Option<FlowInUse>,
    pub example_currency: String,
    pub methods: Vec<AcceptedMethod>,
    pub last_24h: OrderStats,
    pub last_7d: OrderStats,
}

/// The published flow new orders of the merchant run: its own `default`, else the platform's.
pub struct FlowInUse {
    pub scope: Scope,
    pub version: i32,
    pub body: Value,
}

/// A method of the published payment combination.
pub struct AcceptedMethod {
    pub method: String,
    /// The combination's own label for it.
    pub label: Option<String>,
    /// What the storefront calls it: that label, else the catalog's English name, else the
    /// code.
    pub storefront_label: String,
    /// The platform catalog's names, by locale; empty when the catalog has no such method.
    pub names: BTreeMap<String, String>,
    /// How the example order paid with it is priced; `None` without a routing table.
    pub pricing: Option<PricingOutcome>,
    /// The `description` of the discount function the route selects.
    pub function_description: Option<String>,
}

pub async fn overview(
    state: &AppState,
    merchant: &MerchantId,
    now: DateTime<Utc>,
) -> ServiceResult<Overview> {
    let scope = Scope::Merchant(merchant.clone());
    let (merchant_key, platform_key) = (scope.key(), Scope::Platform.key());
    let db = &state.db;
    let scopes = [platform_key.clone(), merchant_key.clone()];
    // Independent reads run at once; each takes its own pooled connection.
    let (row, documents, currency, last_24h, last_7d, snapshot) = tokio::try_join!(
        async { Ok::<_, ServiceError>(merchants::find(db, merchant.as_str()).await?) },
        documents(db, &scope),
        async {
            Ok::<_, ServiceError>(
                persistence::overview::newest_order_currency(db, merchant.as_str()).await?,
            )
        },
        order_stats::stats(db, merchant, Window::Day, now),
        order_stats::stats(db, merchant, Window::Week, now),
        state.published.snapshot(&scopes),
    )?;
    let merchant_row =
        row.ok_or_else(|| ServiceError::NotFound(format!("merchant '{merchant}' not found")))?;
    let example_currency = currency.unwrap_or_else(|| FALLBACK_CURRENCY.to_owned());

    let published = &state.published;
    let body = async |scope_key: &str, kind, name: &str| {
        snapshot
            .body::<Value>(published, scope_key, kind, name)
            .await
    };
    let combination = snapshot
        .body::<PaymentCombination>(published, &merchant_key, Kind::PaymentCombination, DEFAULT)
        .await?;
    let routing_table = body(&merchant_key, Kind::RoutingTable, ROUTING_TABLE).await?;
    let checkout_page = body(&merchant_key, Kind::CheckoutPage, DEFAULT).await?;
    let order_flow = match body(&merchant_key, Kind::OrderFlow, DEFAULT).await? {
        Some((version, body)) => Some(FlowInUse {
            scope: scope.clone(),
            version,
            body,
        }),
        None => body(&platform_key, Kind::OrderFlow, DEFAULT)
            .await?
            .map(|(version, body)| FlowInUse {
                scope: Scope::Platform,
                version,
                body,
            }),
    };

    let (enabled, offered) = match &combination {
        Some((_, combination)) => (
            combination.methods.clone(),
            offered_methods(published, &snapshot, combination, None).await?,
        ),
        None => (Vec::new(), Vec::new()),
    };
    // The version the snapshot names, so the table priced with is the one returned.
    let table = match &routing_table {
        Some((version, _)) => published.routing_table(&scope, Some(*version)).await?,
        None => None,
    };
    let mut methods = Vec::with_capacity(enabled.len());
    // Every enabled method is offered when no amount narrows them, in the same order.
    for (method, offered) in enabled.into_iter().zip(offered) {
        let names = snapshot
            .body::<PaymentMethod>(
                published,
                &platform_key,
                Kind::PaymentMethod,
                &method.method,
            )
            .await?
            .map(|(_, entry)| entry.names)
            .unwrap_or_default();
        let pricing = match &table {
            Some((_, table)) => {
                let order = json!({
                    "amount_minor": EXAMPLE_AMOUNT_MINOR,
                    "currency": example_currency,
                    "method": method.method,
                    "merchant_id": merchant.as_str(),
                    "items": [],
                    "fields": {},
                });
                Some(discounts::evaluate(state, &scope, table.clone(), order).await?)
            }
            None => None,
        };
        let function_description = match pricing.as_ref().map(|p| &p.pricing) {
            Some(Pricing::Priced { function, .. }) => {
                body(&merchant_key, Kind::DiscountFunction, &function.name)
                    .await?
                    .and_then(|(_, body)| body["description"].as_str().map(str::to_owned))
            }
            _ => None,
        };
        methods.push(AcceptedMethod {
            method: method.method,
            label: method.label,
            storefront_label: offered.label,
            names,
            pricing,
            function_description,
        });
    }

    Ok(Overview {
        merchant: merchant_row,
        documents,
        payment_combination_version: combination.map(|(version, _)| version),
        routing_table,
        checkout_page,
        order_flow,
        example_currency,
        methods,
        last_24h,
        last_7d,
    })
}

/// The first [`DOCUMENTS_PER_KIND`] documents of each kind the scope may hold.
async fn documents(
    db: &sea_orm::DatabaseConnection,
    scope: &Scope,
) -> ServiceResult<Vec<(Kind, Page<metadata_document::Model, String>)>> {
    let first = PageRequest {
        after: None,
        limit: DOCUMENTS_PER_KIND,
    };
    let mut pages = Vec::new();
    for kind in Kind::ALL.into_iter().filter(|k| k.allowed_in(scope)) {
        pages.push((
            kind,
            metadata_rows::list(db, &scope.key(), kind.as_str(), &first).await?,
        ));
    }
    Ok(pages)
}
