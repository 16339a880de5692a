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

use regex::Regex;
use serde_json::{Map, Value};

use crate::violation::{Violation, escape_token};

/// A checkout page with every field's pattern compiled: built once per published version
/// (and at check and publish, where a pattern that does not compile is refused), then used
/// to validate every order.
#[derive(Debug, Clone)]
pub struct CompiledCheckoutPage {
    page: CheckoutPage,
    /// The compiled `constraints.pattern` of each field, by section then field index.
    patterns: Vec<Vec<Option<Regex>>>,
}

impl CompiledCheckoutPage {
    /// Compiles every field's pattern; one that is not a valid regular expression is
    /// reported at its pointer, naming the field.
    pub fn compile(page: CheckoutPage) -> Result<Self, Vec<Violation>> {
        let mut violations = Vec::new();
        let patterns = page
            .sections
            .iter()
            .enumerate()
            .map(|(s, section)| {
                section
                    .fields
                    .iter()
                    .enumerate()
                    .map(|(f, field)| {
                        let pattern = field.constraints.pattern.as_deref()?;
                        Regex::new(pattern)
                            .map_err(|e| {
                                violations.push(Violation::new(
                                    format!("/sections/{s}/fields/{f}/constraints/pattern"),
                                    format!(
                                        "the pattern of field '{}' is not a valid regular expression: {}",
                                        field.name,
                                        regex_error(&e)
                                    ),
                                ))
                            })
                            .ok()
                    })
                    .collect()
            })
            .collect();
        if violations.is_empty() {
            Ok(Self { page, patterns })
        } else {
            Err(violations)
        }
    }

    pub fn page(&self) -> &CheckoutPage {
        &self.page
    }

    /// Validates an order's `address` and `fields` against the page: fields of `address`
    /// sections fill `address`, all others `fields`. Unknown keys are rejected so that a typo
    /// is not silently dropped.
    pub fn validate_order(
        &self,
        address: &Map<String, Value>,
        fields: &Map<String, Value>,
    ) -> Vec<Violation> {
        let mut violations = Vec::new();
        for (target, values, is_address) in
            [("/address", address, true), ("/fields", fields, false)]
        {
            let defined: Vec<(&Field, Option<&Regex>)> = self
                .page
                .sections
                .iter()
                .zip(&self.patterns)
                .filter(|(s, _)| (s.kind == SectionKind::Address) == is_address)
                .flat_map(|(s, patterns)| s.fields.iter().zip(patterns.iter().map(Option::as_ref)))
                .collect();
            for (field, pattern) in &defined {
                let pointer = format!("{target}/{}", escape_token(&field.name));
                match values.get(&field.name) {
                    None | Some(Value::Null) if field.required => {
                        violations.push(Violation::new(
                            pointer,
                            format!("{} is required", field.name),
                        ));
                    }
                    None | Some(Value::Null) => {}
                    Some(value) => {
                        if let Err(message) = field.check(value, *pattern) {
                            violations.push(Violation::new(pointer, message));
                        }
                    }
                }
            }
            for key in values.keys() {
                if !defined.iter().any(|(f, _)| &f.name == key) {
                    violations.push(Violation::new(
                        format!("{target}/{}", escape_token(key)),
                        format!("'{key}' is not a field of the checkout page"),
                    ));
                }
            }
        }
        violations
    }
}

/// A regex error in one line: the parser's message without its drawing of the pattern.
fn regex_error(error: &regex::Error) -> String {
    match error {
        regex::Error::Syntax(text) => text
            .lines()
            .rev()
            .find_map(|line| line.strip_prefix("error: "))
            .unwrap_or(text)
            .to_owned(),
        other => other.to_string(),
    }
}

impl Field {
    /// Checks a value; `pattern` is the field's compiled `constraints.pattern`.
    fn check(&self, value: &Value, pattern: Option<&Regex>) -> Result<(), String> {
        let c = &self.constraints;
        match self.field_type {
            FieldType::Boolean => value
                .as_bool()
                .map(|_| ())
                .ok_or("must be true or false".into()),
            FieldType::Integer | FieldType::Number => {
                let number = if self.field_type == FieldType::Integer {
                    value
                        .as_i64()
                        .map(|n| n as f64)
                        .ok_or("must be an integer")?
                } else {
                    value.as_f64().ok_or("must be a number")?
                };
                if c.minimum.is_some_and(|min| number < min)
                    || c.maximum.is_some_and(|max| number > max)
                {
                    return Err(format!(
                        "must be between {} and {}",
                        c.minimum.map_or("-∞".into(), |m| m.to_string()),
                        c.maximum.map_or("∞".into(), |m| m.to_string())
                    ));
                }
                Ok(())
            }
            FieldType::Text
            | FieldType::Textarea
            | FieldType::Phone
            | FieldType::Email
            | FieldType::Select
            | FieldType::Datetime => {
                let text = value.as_str().ok_or("must be a string")?;
                let length = text.chars().count() as u64;
                if c.min_length.is_some_and(|min| length < min) {
                    return Err(format!(
                        "must be at least {} characters",
                        c.min_length.unwrap_or(0)
                    ));
                }
                if c.max_length.is_some_and(|max| length > max) {
                    return Err(format!(
                        "must be at most {} characters",
                        c.max_length.unwrap_or(0)
                    ));
                }
                if let Some(pattern) = pattern
                    && !pattern.is_match(text)
                {
                    return Err(format!("must match the pattern {}", pattern.as_str()));
                }
                if self.field_type == FieldType::Email && !text.contains('@') {
                    return Err("must be an email address".into());
                }
                if let Some(options) = &c.options
                    && !options.iter().any(|o| o.value == text)
                {
                    let allowed: Vec<&str> = options.iter().map(|o| o.value.as_str()).collect();
                    return Err(format!("must be one of: {}", allowed.join(", ")));
                }
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn page() -> CompiledCheckoutPage {
        let page: CheckoutPage = crate::documents::parse(&json!({"sections": [
            {"id": "address", "kind": "address", "fields": [
                {"name": "recipient", "type": "text", "label": "R", "required": true, "constraints": {"max_length": 5}},
                {"name": "phone", "type": "phone", "label": "P", "required": true, "constraints": {"pattern": "^[0-9]{3,}$"}}]},
            {"id": "when", "kind": "delivery_time", "fields": [
                {"name": "delivery_time", "type": "select", "label": "W",
                 "constraints": {"options": [{"value": "asap", "label": "ASAP"}]}},
                {"name": "guests", "type": "integer", "label": "G", "constraints": {"minimum": 1, "maximum": 20}}]},
            {"id": "items", "kind": "items_summary"}
        ]}))
        .unwrap();
        CompiledCheckoutPage::compile(page).unwrap()
    }

    #[test]
    fn a_pattern_that_does_not_compile_is_reported_at_its_pointer() {
        let page: CheckoutPage = crate::documents::parse(&json!({"sections": [
            {"id": "address", "kind": "address", "fields": [
                {"name": "recipient", "type": "text", "label": "R"},
                {"name": "phone", "type": "phone", "label": "P", "constraints": {"pattern": "[a-"}}]}
        ]}))
        .unwrap();
        let violations = CompiledCheckoutPage::compile(page).unwrap_err();
        assert_eq!(violations.len(), 1, "{violations:?}");
        assert_eq!(
            violations[0].pointer,
            "/sections/0/fields/1/constraints/pattern"
        );
        assert!(
            violations[0]
                .message
                .starts_with("the pattern of field 'phone' is not a valid regular expression: ")
                && !violations[0].message.contains('\n'),
            "{}",
            violations[0].message
        );
    }

    fn object(value: Value) -> Map<String, Value> {
        value.as_object().unwrap().clone()
    }

    #[test]
    fn a_complete_order_passes() {
        let violations = page().validate_order(
            &object(json!({"recipient": "Li", "phone": "13800"})),
            &object(json!({"delivery_time": "asap", "guests": 2})),
        );
        assert_eq!(violations, vec![]);
    }

    #[test]
    fn every_problem_is_reported_at_its_pointer() {
        let violations = page().validate_order(
            &object(json!({"recipient": "Zhang San", "extra": 1})),
            &object(json!({"delivery_time": "tomorrow", "guests": 0, "typo": "x"})),
        );
        let pointers: Vec<&str> = violations.iter().map(|v| v.pointer.as_str()).collect();
        assert_eq!(
            pointers,
            [
                "/address/recipient",
                "/address/phone",
                "/address/extra",
                "/fields/delivery_time",
                "/fields/guests",
                "/fields/typo"
            ]
        );
    }

    #[test]
    fn wrong_types_are_rejected() {
        let violations = page().validate_order(
            &object(json!({"recipient": 5, "phone": "12a"})),
            &object(json!({"guests": 2.5})),
        );
        assert_eq!(violations.len(), 3, "{violations:?}");
    }
}
