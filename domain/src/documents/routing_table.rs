use serde::Deserialize;

/// Which discount function an order's payment method selects: rules in order, first match wins.
#[derive(Debug, Clone, Deserialize)]
pub struct RoutingTable {
    pub rules: Vec<Rule>,
    pub default: Option<DefaultRoute>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Rule {
    pub when: Condition,
    pub function: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Condition {
    pub method: String,
    pub min_amount_minor: Option<i64>,
    pub max_amount_minor: Option<i64>,
    pub condition: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum DefaultRoute {
    Cancel { action: CancelAction },
    Function { function: String },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CancelAction {
    Cancel,
}
