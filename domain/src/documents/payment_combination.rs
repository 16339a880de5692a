use serde::Deserialize;

/// A merchant's enabled payment methods, in display order.
#[derive(Debug, Clone, Deserialize)]
pub struct PaymentCombination {
    pub methods: Vec<EnabledMethod>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct EnabledMethod {
    pub method: String,
    pub label: Option<String>,
    pub min_amount_minor: Option<i64>,
    pub max_amount_minor: Option<i64>,
}
