//! The metadata kinds' JSON Schemas inside the OpenAPI document, and the responses that
//! carry a document body as a union on `kind`, so that generated SDKs have a typed body per
//! kind.
//!
//! A kind's schema (draft 2020-12, the source of truth in `domain/schemas/`) goes in
//! verbatim, as JSON: utoipa's schema model would drop keywords it does not know (`const`,
//! `examples` beside a `$ref`, …), so the schemas are added to the serialized document.
//! Each `$defs` entry becomes a component of its own (`OrderFlowTaskStep`), with the
//! internal `$ref`s pointing there, and `$id`/`$schema` go: an `$id` would make those
//! references resolve against the schema's own URI instead of the document. So does each
//! component's top-level `title` (see [`kind_components`]); `GET /v1/schemas/{kind}` serves
//! the schemas whole.

use std::collections::BTreeMap;

use domain::Kind;
use serde_json::Value;
use utoipa::openapi::schema::{
    AnyOfBuilder, ObjectBuilder, OneOfBuilder, Schema, SchemaType, Type,
};
use utoipa::openapi::{Ref, RefOr};

use crate::openapi_enums::{discriminated_union, string_enum};

/// The component name of a kind's document schema: `payment-combination` →
/// `PaymentCombination`.
pub fn body_schema_name(kind: Kind) -> String {
    kind.as_str().split('-').map(capitalized).collect()
}

/// A request property that holds a document body of one of `kinds`, or null: `anyOf` their
/// components. A path parameter picks the kind, which a schema cannot select by, so the
/// server holds the body to that kind (422 otherwise).
pub fn optional_body(kinds: &[Kind], description: &str) -> Schema {
    kinds
        .iter()
        .fold(
            AnyOfBuilder::new().description(Some(description)),
            |any_of, kind| any_of.item(Ref::from_schema_name(body_schema_name(*kind))),
        )
        .item(ObjectBuilder::new().schema_type(Type::Null))
        .into()
}

/// The component name of an entry of a kind's `$defs`: checkout-page's `section` →
/// `CheckoutPageSection`.
pub fn definition_schema_name(kind: Kind, definition: &str) -> String {
    format!("{}{}", body_schema_name(kind), capitalized(definition))
}

fn capitalized(word: &str) -> String {
    let mut chars = word.chars();
    chars
        .next()
        .map(|first| first.to_ascii_uppercase().to_string() + chars.as_str())
        .unwrap_or_default()
}

/// Adds every kind's schema, and its `$defs`, to the document's components.
pub fn add_kind_schemas(document: &mut Value) {
    let Some(schemas) = document
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    else {
        return;
    };
    for kind in Kind::ALL {
        for (name, schema) in kind_components(kind) {
            // A clash would silently replace another schema; the document's tests catch it.
            assert!(
                schemas.insert(name.clone(), schema).is_none(),
                "the component {name} exists twice"
            );
        }
    }
    // utoipa writes components in name order; keep it so.
    let sorted: BTreeMap<String, Value> = std::mem::take(schemas).into_iter().collect();
    schemas.extend(sorted);
}

/// A kind's schema and its `$defs` as components, named after the kind.
fn kind_components(kind: Kind) -> Vec<(String, Value)> {
    let prefix = body_schema_name(kind);
    let mut root = domain::schema::schema(kind).clone();
    let mut components = Vec::new();
    if let Value::Object(fields) = &mut root {
        // shift_remove keeps the schema's own key order (remove would swap the last in).
        fields.shift_remove("$schema");
        fields.shift_remove("$id");
        if let Some(Value::Object(definitions)) = fields.shift_remove("$defs") {
            components.extend(
                definitions
                    .into_iter()
                    .map(|(name, schema)| (definition_schema_name(kind, &name), schema)),
            );
        }
    }
    components.insert(0, (prefix.clone(), root));
    for (_, schema) in &mut components {
        point_refs_at_components(schema, kind);
        // The component's name names it. Generators that name a class after a schema's
        // `title` (openapi-python-client) would otherwise make clashing classes: four
        // kinds title a definition "Identifier", two "Choice"; discount-function's "Item"
        // is also the order line's.
        if let Value::Object(fields) = schema {
            fields.shift_remove("title");
        }
    }
    components
}

/// Rewrites `#/$defs/x` to `#/components/schemas/<Kind>X`.
fn point_refs_at_components(schema: &mut Value, kind: Kind) {
    match schema {
        Value::Object(fields) => {
            for (key, value) in fields.iter_mut() {
                match (key.as_str(), value) {
                    ("$ref", Value::String(target)) => {
                        if let Some(name) = target.strip_prefix("#/$defs/") {
                            *target = format!(
                                "#/components/schemas/{}",
                                definition_schema_name(kind, name)
                            );
                        }
                    }
                    (_, value) => point_refs_at_components(value, kind),
                }
            }
        }
        Value::Array(items) => {
            for item in items {
                point_refs_at_components(item, kind);
            }
        }
        _ => {}
    }
}

/// How a response that holds document bodies is documented per kind: `union` names the
/// union (`Document`), `template` is its derived object schema, and `bodies` are its
/// properties that hold a body of the kind (nullable when the template's is).
pub struct KindUnion {
    pub union: &'static str,
    pub template: RefOr<Schema>,
    pub bodies: &'static [&'static str],
}

impl KindUnion {
    fn member_name(&self, kind: Kind) -> String {
        format!("{}{}", body_schema_name(kind), self.union)
    }

    /// `oneOf` the per-kind members, with a discriminator on `kind`.
    pub fn schema(&self) -> RefOr<Schema> {
        discriminated_union(
            format!(
                "A {} of one kind: `kind` says which, and so the schema of its body.",
                self.union.to_lowercase()
            ),
            "kind",
            Kind::ALL
                .iter()
                .map(|kind| (kind.as_str(), self.member_name(*kind))),
        )
    }

    /// The per-kind members: the template with `kind` fixed and each body property referring
    /// to the kind's schema.
    pub fn members(&self, schemas: &mut Vec<(String, RefOr<Schema>)>) {
        let RefOr::T(Schema::Object(template)) = &self.template else {
            return;
        };
        for kind in Kind::ALL {
            let mut member = template.clone();
            member.description = Some(format!(
                "{}: its body is a `{}`.",
                kind.as_str(),
                body_schema_name(kind)
            ));
            member
                .properties
                .insert("kind".into(), string_enum([kind.as_str()]));
            for property in self.bodies {
                let Some(current) = member.properties.get_mut(*property) else {
                    continue;
                };
                let (nullable, description) = match current {
                    RefOr::T(Schema::Object(object)) => (
                        matches!(&object.schema_type, SchemaType::Array(types) if types.contains(&Type::Null)),
                        object.description.clone(),
                    ),
                    _ => (false, None),
                };
                let body: RefOr<Schema> = Ref::from_schema_name(body_schema_name(kind)).into();
                *current = if nullable {
                    OneOfBuilder::new()
                        .item(body)
                        .item(ObjectBuilder::new().schema_type(Type::Null))
                        .description(description)
                        .into()
                } else {
                    body
                };
            }
            schemas.push((self.member_name(kind), member.into()));
        }
    }
}

/// Declares the component `$name` for a response type `$template` whose properties
/// `$bodies` hold document bodies: a [`KindUnion`] of `$template`'s derived schema.
macro_rules! kind_union_schema {
    ($(#[$meta:meta])* $type:ident as $name:literal = $template:ty, $bodies:expr) => {
        $(#[$meta])*
        pub struct $type;

        impl $type {
            fn union() -> $crate::openapi_kinds::KindUnion {
                $crate::openapi_kinds::KindUnion {
                    union: $name,
                    template: <$template as utoipa::PartialSchema>::schema(),
                    bodies: $bodies,
                }
            }
        }

        impl utoipa::PartialSchema for $type {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                Self::union().schema()
            }
        }

        impl utoipa::ToSchema for $type {
            fn name() -> std::borrow::Cow<'static, str> {
                std::borrow::Cow::Borrowed($name)
            }

            fn schemas(
                schemas: &mut Vec<(String, utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>)>,
            ) {
                Self::union().members(schemas);
            }
        }
    };
}

pub(crate) use kind_union_schema;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_kind() {
        assert_eq!(
            body_schema_name(Kind::PaymentCombination),
            "PaymentCombination"
        );
        assert_eq!(body_schema_name(Kind::OrderFlow), "OrderFlow");
    }

    /// Every `$ref` of a kind's components names a component of the same kind: nothing
    /// points into a `$defs` that is no longer there.
    #[test]
    fn references_stay_inside_the_document() {
        for kind in Kind::ALL {
            let components = kind_components(kind);
            let names: Vec<String> = components
                .iter()
                .map(|(name, _)| format!("#/components/schemas/{name}"))
                .collect();
            let text =
                serde_json::to_string(&components.iter().map(|(_, s)| s).collect::<Vec<_>>())
                    .unwrap();
            for reference in text.split("\"$ref\":\"").skip(1) {
                let target = reference.split('"').next().unwrap();
                assert!(names.iter().any(|n| n == target), "{kind}: {target}");
            }
            assert!(!text.contains("$id") && !text.contains("$schema"), "{kind}");
        }
    }
}
