//! `inputMappings` / `outputMappings`: building a step's input from `$input`, `$local`,
//! `$context` (and `$output` for output mappings), and writing results into `$local`.

use serde_json::{Map, Value};

use crate::documents::flow::Mapping;

/// Where mapping sources are read from.
pub struct Sources<'a> {
    pub input: &'a Value,
    pub local: &'a Map<String, Value>,
    pub context: &'a Value,
    pub output: Option<&'a Value>,
}

/// Resolves a source: a `$input`/`$local`/`$context`/`$output` path (dot-separated, array
/// indexes as numbers), or a JSON literal, or else the text itself.
pub fn resolve(source: &Value, from: &Sources<'_>) -> Value {
    let Some(text) = source.as_str() else {
        return source.clone();
    };
    let mut parts = text.split('.');
    let root = match parts.next() {
        Some("$input") => from.input.clone(),
        Some("$local") => Value::Object(from.local.clone()),
        Some("$context") => from.context.clone(),
        Some("$output") => from.output.cloned().unwrap_or(Value::Null),
        _ => return serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_owned())),
    };
    parts.fold(root, |value, key| match value {
        Value::Object(mut map) => map.remove(key).unwrap_or(Value::Null),
        Value::Array(mut items) => key
            .parse::<usize>()
            .ok()
            .filter(|&i| i < items.len())
            .map(|i| items.swap_remove(i))
            .unwrap_or(Value::Null),
        _ => Value::Null,
    })
}

/// Builds an object from mappings: each `target` key gets its resolved `source`.
pub fn build(mappings: &[Mapping], from: &Sources<'_>) -> Value {
    Value::Object(
        mappings
            .iter()
            .map(|m| (m.target.clone(), resolve(&m.source, from)))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn resolves_paths_literals_and_text() {
        let input = json!({"amount_minor": 10000, "items": [{"sku": "beef"}]});
        let local = json!({"payment": {"method": "alipay"}});
        let context = json!({"task": {"token": "t1"}, "step": {"name": "payment"}});
        let from = Sources {
            input: &input,
            local: local.as_object().unwrap(),
            context: &context,
            output: None,
        };
        assert_eq!(resolve(&json!("$input.amount_minor"), &from), json!(10000));
        assert_eq!(resolve(&json!("$input.items.0.sku"), &from), json!("beef"));
        assert_eq!(
            resolve(&json!("$local.payment.method"), &from),
            json!("alipay")
        );
        assert_eq!(resolve(&json!("$context.task.token"), &from), json!("t1"));
        assert_eq!(resolve(&json!("$input.missing.deeper"), &from), Value::Null);
        assert_eq!(resolve(&json!("42"), &from), json!(42));
        assert_eq!(
            resolve(&json!("manual review"), &from),
            json!("manual review")
        );
    }
}
