//! The payment methods an order is offered: the merchant's enabled methods, labelled from
//! the platform catalog.

use domain::documents::payment_combination::PaymentCombination;
use domain::documents::payment_method::PaymentMethod;
use domain::{Kind, Scope};
use serde::Serialize;
use serde_json::Value;

use super::{Published, Snapshot};
use crate::error::{ServiceError, ServiceResult};

/// A payment method as the storefront shows it.
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct OfferedMethod {
    #[schema(example = "alipay")]
    pub code: String,
    #[schema(example = "Alipay")]
    pub label: String,
    pub icon: Option<String>,
}

/// The merchant's enabled methods that accept `amount`, in display order, with their labels.
pub async fn offered_methods(
    published: &Published,
    snapshot: &Snapshot,
    combination: &PaymentCombination,
    amount: Option<i64>,
) -> ServiceResult<Vec<OfferedMethod>> {
    let platform = Scope::Platform.key();
    let mut offered = Vec::new();
    for enabled in &combination.methods {
        if let Some(amount) = amount
            && (enabled.min_amount_minor.is_some_and(|min| amount < min)
                || enabled.max_amount_minor.is_some_and(|max| amount > max))
        {
            continue;
        }
        let catalog: Option<(i32, PaymentMethod)> = snapshot
            .body(published, &platform, Kind::PaymentMethod, &enabled.method)
            .await?;
        let catalog = catalog.map(|(_, m)| m);
        let label = enabled
            .label
            .clone()
            .or_else(|| catalog.as_ref().and_then(|m| m.names.get("en").cloned()))
            .unwrap_or_else(|| enabled.method.clone());
        offered.push(OfferedMethod {
            code: enabled.method.clone(),
            label,
            icon: catalog.and_then(|m| m.icon),
        });
    }
    Ok(offered)
}

/// The methods an order offers, as pinned in its execution's input at start.
pub fn methods_from_input(input: &Value) -> ServiceResult<Vec<OfferedMethod>> {
    serde_json::from_value(input["payment_methods"].clone())
        .map_err(|e| ServiceError::internal(format!("execution input: {e}")))
}
