//! The input and output contracts: what a script sees and what it may return.

use rhai::{Dynamic, Map};
use serde::Serialize;
use serde_json::Value;

use super::error::{FunctionError, FunctionErrorKind};

/// The longest label a discount may carry, in characters.
pub(crate) const MAX_LABEL_CHARS: usize = 200;

/// What a discount function decided: the final amount and an optional label for the customer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DiscountOutput {
    pub amount_minor: i64,
    pub label: Option<String>,
}

/// The order's amount before the discount: a non-negative integer, or a RuntimeError.
pub(crate) fn original_amount(order: &Value) -> Result<i64, FunctionError> {
    let Some(fields) = order.as_object() else {
        return Err(FunctionError::new(
            FunctionErrorKind::RuntimeError,
            format!("order must be a JSON object, not {}", json_type(order)),
        ));
    };
    fields
        .get("amount_minor")
        .and_then(Value::as_i64)
        .filter(|amount| *amount >= 0)
        .ok_or_else(|| {
            FunctionError::new(
                FunctionErrorKind::RuntimeError,
                "order.amount_minor must be a non-negative integer",
            )
        })
}

/// The JSON value as the script sees it: objects become maps, integers `i64`, other
/// numbers floats, `null` the unit `()`. (Direct, rather than through rhai's serde
/// serializer, which costs about twice as much for a typical order.)
pub(crate) fn to_script(value: &Value) -> Dynamic {
    match value {
        Value::Null => Dynamic::UNIT,
        Value::Bool(b) => Dynamic::from_bool(*b),
        Value::Number(n) => match n.as_i64() {
            Some(i) => Dynamic::from_int(i),
            None => Dynamic::from_float(n.as_f64().unwrap_or(f64::NAN)),
        },
        Value::String(s) => Dynamic::from(rhai::ImmutableString::from(s.as_str())),
        Value::Array(items) => Dynamic::from_array(items.iter().map(to_script).collect()),
        Value::Object(fields) => {
            let mut map = Map::new();
            for (key, value) in fields {
                map.insert(key.as_str().into(), to_script(value));
            }
            Dynamic::from_map(map)
        }
    }
}

/// Applies the output contract and the guardrail `0 ≤ final ≤ original`.
pub(crate) fn discount_output(
    value: Dynamic,
    original: i64,
) -> Result<DiscountOutput, FunctionError> {
    let invalid = |message: String| FunctionError::new(FunctionErrorKind::InvalidResult, message);
    let output = if let Ok(amount) = value.as_int() {
        DiscountOutput {
            amount_minor: amount,
            label: None,
        }
    } else if value.is_map() {
        let map = value.cast::<Map>();
        map_output(&map).map_err(invalid)?
    } else {
        return Err(invalid(format!(
            "the script returned {}; it must return the final amount as an integer (minor units) \
             or a map #{{amount_minor: <integer>, label: <string>}}",
            describe(&value)
        )));
    };
    if output.amount_minor < 0 {
        return Err(invalid(format!(
            "the final amount {} is negative; it must be between 0 and the order amount {original}",
            output.amount_minor
        )));
    }
    if output.amount_minor > original {
        return Err(invalid(format!(
            "the final amount {} would raise the price above the order amount {original}",
            output.amount_minor
        )));
    }
    Ok(output)
}

fn map_output(map: &Map) -> Result<DiscountOutput, String> {
    if let Some(key) = map
        .keys()
        .find(|key| !matches!(key.as_str(), "amount_minor" | "label"))
    {
        return Err(format!(
            "the script returned a map with the unknown key '{key}'; only amount_minor and label are allowed"
        ));
    }
    let amount_minor = match map.get("amount_minor") {
        None => {
            return Err("the script returned a map without amount_minor; \
                        return #{amount_minor: <integer>, label: <string>}"
                .to_owned());
        }
        Some(amount) => amount.as_int().map_err(|_| {
            format!(
                "amount_minor must be an integer (minor units), not {}",
                describe(amount)
            )
        })?,
    };
    let label = match map.get("label") {
        None => None,
        Some(label) if label.is_string() => {
            let label = label.to_string();
            if label.chars().count() > MAX_LABEL_CHARS {
                return Err(format!(
                    "the label is longer than {MAX_LABEL_CHARS} characters"
                ));
            }
            Some(label)
        }
        Some(label) => return Err(format!("label must be a string, not {}", describe(label))),
    };
    Ok(DiscountOutput {
        amount_minor,
        label,
    })
}

/// The result of a condition: a boolean, else InvalidResult.
pub(crate) fn condition_output(value: Dynamic) -> Result<bool, FunctionError> {
    value.as_bool().map_err(|_| {
        FunctionError::new(
            FunctionErrorKind::InvalidResult,
            format!(
                "the condition returned {}; it must be true or false",
                describe(&value)
            ),
        )
    })
}

/// "a float (1.5)", "a string (\"abc\")", "nothing (())": for messages about a value.
pub(crate) fn describe(value: &Dynamic) -> String {
    if value.is_unit() {
        return "nothing (the unit value `()`: does the script end with a statement or `;`?)"
            .to_owned();
    }
    let what = if value.is_int() {
        "an integer"
    } else if value.is_float() {
        "a float"
    } else if value.is_string() {
        "a string"
    } else if value.is_bool() {
        "a boolean"
    } else if value.is_char() {
        "a character"
    } else if value.is_array() {
        "an array"
    } else if value.is_map() {
        "a map"
    } else {
        "a value of type"
    };
    let shown = if value.is_string() || value.is_char() {
        format!("{value:?}")
    } else if what == "a value of type" {
        value.type_name().to_owned()
    } else {
        value.to_string()
    };
    format!("{what} ({})", truncate(&shown, 80))
}

fn truncate(text: &str, max_chars: usize) -> String {
    match text.char_indices().nth(max_chars) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_owned(),
    }
}

fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}
