use serde::Deserialize;

/// What the storefront renders at checkout, and what an order's fields are validated against.
#[derive(Debug, Clone, Deserialize)]
pub struct CheckoutPage {
    pub title: Option<String>,
    pub sections: Vec<Section>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Section {
    pub id: String,
    pub kind: SectionKind,
    #[serde(default)]
    pub fields: Vec<Field>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SectionKind {
    Address,
    DeliveryTime,
    Notes,
    ItemsSummary,
    PaymentMethods,
    Custom,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Field {
    pub name: String,
    #[serde(rename = "type")]
    pub field_type: FieldType,
    #[serde(default)]
    pub required: bool,
    #[serde(default)]
    pub constraints: Constraints,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldType {
    Text,
    Textarea,
    Number,
    Integer,
    Boolean,
    Select,
    Phone,
    Email,
    Datetime,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct Constraints {
    pub min_length: Option<u64>,
    pub max_length: Option<u64>,
    pub pattern: Option<String>,
    pub minimum: Option<f64>,
    pub maximum: Option<f64>,
    pub options: Option<Vec<SelectOption>>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct SelectOption {
    pub value: String,
    pub label: String,
}
