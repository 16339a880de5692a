//! The JSON Schemas of the metadata kinds, compiled once, and validation against them.

use std::collections::HashMap;
use std::sync::OnceLock;

use serde_json::Value;

use crate::kind::Kind;
use crate::violation::Violation;

/// The schema text of a kind, embedded at build time so the binary needs no files.
pub fn schema_source(kind: Kind) -> &'static str {
    match kind {
        Kind::PaymentMethod => include_str!("../schemas/payment-method.schema.json"),
        Kind::PaymentCombination => include_str!("../schemas/payment-combination.schema.json"),
        Kind::CheckoutPage => include_str!("../schemas/checkout-page.schema.json"),
        Kind::DiscountFunction => include_str!("../schemas/discount-function.schema.json"),
        Kind::RoutingTable => include_str!("../schemas/routing-table.schema.json"),
        Kind::OrderFlow => include_str!("../schemas/order-flow.schema.json"),
    }
}

struct Compiled {
    document: Value,
    validator: jsonschema::Validator,
}

fn compiled() -> &'static HashMap<Kind, Compiled> {
    static SCHEMAS: OnceLock<HashMap<Kind, Compiled>> = OnceLock::new();
    SCHEMAS.get_or_init(|| {
        Kind::ALL
            .into_iter()
            .map(|kind| {
                // The schemas are part of the build and meta-validated by a unit test, so a
                // failure here is a programming error, not an input error.
                let document: Value = serde_json::from_str(schema_source(kind))
                    .unwrap_or_else(|e| panic!("schema of {kind} is not JSON: {e}"));
                let validator = jsonschema::draft202012::options()
                    .should_validate_formats(true)
                    .build(&document)
                    .unwrap_or_else(|e| panic!("schema of {kind} does not compile: {e}"));
                (
                    kind,
                    Compiled {
                        document,
                        validator,
                    },
                )
            })
            .collect()
    })
}

/// The parsed JSON Schema of a kind.
pub fn schema(kind: Kind) -> &'static Value {
    &compiled()[&kind].document
}

/// The most violations one response lists, and the longest message: a hostile document must
/// not turn into a huge error response.
const MAX_VIOLATIONS: usize = 100;
const MAX_MESSAGE_CHARS: usize = 300;

/// Validates a document against its kind's schema, reporting every violation.
pub fn validate(kind: Kind, document: &Value) -> Result<(), Vec<Violation>> {
    let validator = &compiled()[&kind].validator;
    let mut violations: Vec<Violation> = validator
        .iter_errors(document)
        .map(|error| Violation::new(error.instance_path().as_str(), shorten(error.to_string())))
        .collect();
    let mut money = Vec::new();
    fractional_money(document, &mut String::new(), &mut money);
    money.retain(|m| !violations.iter().any(|v| v.pointer == m.pointer));
    violations.extend(money);
    if violations.is_empty() {
        return Ok(());
    }
    violations.sort_by(|a, b| a.pointer.cmp(&b.pointer));
    violations.dedup();
    if violations.len() > MAX_VIOLATIONS {
        let more = violations.len() - MAX_VIOLATIONS;
        violations.truncate(MAX_VIOLATIONS);
        violations.push(Violation::new("", format!("… and {more} more violations")));
    }
    Err(violations)
}

fn shorten(message: String) -> String {
    if message.chars().count() <= MAX_MESSAGE_CHARS {
        return message;
    }
    let mut short: String = message.chars().take(MAX_MESSAGE_CHARS).collect();
    short.push('…');
    short
}

/// Money is integer minor units: JSON Schema's `integer` also accepts `5.0` and `1e3`, so
/// amounts (`*_minor`, and a test's `expect`) are checked to be written as integers.
fn fractional_money(value: &Value, pointer: &mut String, violations: &mut Vec<Violation>) {
    match value {
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                let length = pointer.len();
                pointer.push_str(&format!("/{i}"));
                fractional_money(item, pointer, violations);
                pointer.truncate(length);
            }
        }
        Value::Object(fields) => {
            for (key, item) in fields {
                let length = pointer.len();
                pointer.push('/');
                pointer.push_str(&crate::violation::escape_token(key));
                let is_money = key.ends_with("_minor") || key == "expect";
                if is_money
                    && let Value::Number(number) = item
                    && number.is_f64()
                {
                    violations.push(Violation::new(
                        pointer.clone(),
                        format!("{number} is not an integer: money is integer minor units"),
                    ));
                }
                fractional_money(item, pointer, violations);
                pointer.truncate(length);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn every_schema_is_a_valid_draft_2020_12_schema() {
        for kind in Kind::ALL {
            let document: Value = serde_json::from_str(schema_source(kind)).unwrap();
            assert_eq!(
                document["$schema"], "https://json-schema.org/draft/2020-12/schema",
                "{kind}"
            );
            if let Err(e) = jsonschema::draft202012::meta::validate(&document) {
                panic!("schema of {kind} is not a valid 2020-12 schema: {e}");
            }
            for key in ["title", "description", "examples"] {
                assert!(document.get(key).is_some(), "schema of {kind} lacks {key}");
            }
        }
    }

    #[test]
    fn every_schema_accepts_its_own_examples() {
        for kind in Kind::ALL {
            let examples = schema(kind)["examples"].as_array().unwrap();
            assert!(!examples.is_empty(), "{kind} has no examples");
            for example in examples {
                assert_eq!(validate(kind, example), Ok(()), "{kind}: {example}");
            }
        }
    }

    #[test]
    fn violations_carry_json_pointers() {
        let doc = json!({"methods": [{"method": "alipay"}, {"method": 7}], "extra": true});
        let violations = validate(Kind::PaymentCombination, &doc).unwrap_err();
        let pointers: Vec<&str> = violations.iter().map(|v| v.pointer.as_str()).collect();
        assert!(pointers.contains(&"/methods/1/method"), "{violations:?}");
        assert!(pointers.contains(&""), "{violations:?}");
    }

    #[test]
    fn money_written_as_a_float_is_rejected_even_when_whole() {
        let doc = json!({"methods": [{"method": "alipay", "min_amount_minor": 5.0, "max_amount_minor": 1e3}]});
        let violations = validate(Kind::PaymentCombination, &doc).unwrap_err();
        let pointers: Vec<&str> = violations.iter().map(|v| v.pointer.as_str()).collect();
        assert_eq!(
            pointers,
            ["/methods/0/max_amount_minor", "/methods/0/min_amount_minor"]
        );
    }

    #[test]
    fn a_hostile_document_gets_a_bounded_answer() {
        let methods: Vec<Value> = (0..10_000).map(|i| json!({"method": i})).collect();
        let violations =
            validate(Kind::PaymentCombination, &json!({ "methods": methods })).unwrap_err();
        assert_eq!(violations.len(), MAX_VIOLATIONS + 1);
        assert!(
            violations
                .iter()
                .all(|v| v.message.chars().count() <= MAX_MESSAGE_CHARS + 1)
        );
    }

    #[test]
    fn empty_combination_is_rejected() {
        let violations = validate(Kind::PaymentCombination, &json!({"methods": []})).unwrap_err();
        assert_eq!(violations[0].pointer, "/methods");
    }

    #[test]
    fn wrong_types_are_rejected_not_coerced() {
        assert!(validate(Kind::PaymentCombination, &json!([])).is_err());
        assert!(validate(Kind::PaymentCombination, &json!("methods")).is_err());
        assert!(validate(Kind::PaymentCombination, &json!(null)).is_err());
        let negative = json!({"methods": [{"method": "alipay", "min_amount_minor": -1}]});
        assert!(validate(Kind::PaymentCombination, &negative).is_err());
        let float = json!({"methods": [{"method": "alipay", "min_amount_minor": 1.5}]});
        assert!(validate(Kind::PaymentCombination, &float).is_err());
    }

    /// Every seed document is valid against its kind's schema (the folder names the kind).
    #[test]
    fn every_seed_file_is_valid() {
        let seeds = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../seeds");
        let mut checked = 0;
        let mut pending = vec![seeds];
        while let Some(dir) = pending.pop() {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    pending.push(path);
                    continue;
                }
                let kind_folder = path
                    .parent()
                    .and_then(|p| p.file_name())
                    .and_then(|n| n.to_str());
                let Some(kind) = kind_folder.and_then(Kind::parse) else {
                    continue;
                };
                let document: Value =
                    serde_json::from_str(&std::fs::read_to_string(&path).unwrap())
                        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                assert_eq!(validate(kind, &document), Ok(()), "{}", path.display());
                checked += 1;
            }
        }
        assert_eq!(checked, 18, "the demo data has 18 documents");
    }
}
