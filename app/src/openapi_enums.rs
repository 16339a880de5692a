//! The domain's named enums, and the problem types, as OpenAPI schemas: a string that takes
//! exactly the values, read from the type's `ALL`, never a hand-written copy that could drift.

use std::collections::BTreeMap;

use utoipa::openapi::extensions::ExtensionsBuilder;
use utoipa::openapi::schema::{Discriminator, ObjectBuilder, OneOfBuilder, Schema, Type};
use utoipa::openapi::{Ref, RefOr};

use crate::problem_type::ProblemType;

/// A string schema that takes exactly `values`.
pub fn string_enum(values: impl IntoIterator<Item = &'static str>) -> RefOr<Schema> {
    string_enum_object(values).into()
}

fn string_enum_object(values: impl IntoIterator<Item = &'static str>) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(values))
}

/// Declares a schema type for one of the domain's named enums: how a field or parameter the
/// server reads or writes as that enum is documented (`#[schema(value_type = ...)]`, or
/// `#[param(value_type = Option<...>, inline)]` for a parameter), under the name
/// the document gives it.
macro_rules! domain_enum_schema {
    ($(#[$meta:meta])* $name:ident as $schema_name:literal = values($values:expr)) => {
        $(#[$meta])*
        pub struct $name;

        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                $crate::openapi_enums::string_enum($values)
            }
        }

        impl utoipa::ToSchema for $name {
            fn name() -> std::borrow::Cow<'static, str> {
                std::borrow::Cow::Borrowed($schema_name)
            }
        }
    };
    ($(#[$meta:meta])* $name:ident as $schema_name:literal = $domain:ty) => {
        domain_enum_schema! {
            $(#[$meta])*
            $name as $schema_name = values(<$domain>::ALL.iter().map(|value| value.as_str()))
        }
    };
}

domain_enum_schema! {
    /// [`OrderStatus`](domain::lifecycle::OrderStatus).
    OrderStatusSchema as "OrderStatus" = domain::lifecycle::OrderStatus
}

domain_enum_schema! {
    /// [`EventType`](domain::lifecycle::EventType).
    EventTypeSchema as "EventType" = domain::lifecycle::EventType
}

domain_enum_schema! {
    /// [`CancelReason`](domain::lifecycle::CancelReason).
    CancelReasonSchema as "CancelReason" = domain::lifecycle::CancelReason
}

domain_enum_schema! {
    /// [`Kind`](domain::kind::Kind): the kinds of metadata documents.
    MetadataKindSchema as "MetadataKind" = domain::kind::Kind
}

domain_enum_schema! {
    /// The kinds of platform documents ([`Kind::at_platform`](domain::kind::Kind::at_platform)).
    PlatformKindSchema as "PlatformKind" = values(
        domain::kind::Kind::ALL.into_iter().filter(|kind| kind.at_platform()).map(domain::kind::Kind::as_str)
    )
}

domain_enum_schema! {
    /// The kinds of a merchant's documents ([`Kind::at_merchants`](domain::kind::Kind::at_merchants)).
    MerchantKindSchema as "MerchantKind" = values(
        domain::kind::Kind::ALL.into_iter().filter(|kind| kind.at_merchants()).map(domain::kind::Kind::as_str)
    )
}

domain_enum_schema! {
    /// The kinds with an impact preview ([`PREVIEWABLE`](crate::services::impact::PREVIEWABLE)).
    PreviewableKindSchema as "PreviewableKind" = values(
        crate::services::impact::PREVIEWABLE.map(domain::kind::Kind::as_str)
    )
}

domain_enum_schema! {
    /// [`Action`](domain::documents::flow::Action): what a task step runs.
    ActionSchema as "FlowAction" = values(
        domain::documents::flow::Action::ALL.map(domain::documents::flow::Action::as_str)
    )
}

domain_enum_schema! {
    /// A flow step's `type` ([`Step::TYPES`](domain::documents::flow::Step::TYPES)).
    StepTypeSchema as "StepType" = values(domain::documents::flow::Step::TYPES)
}

domain_enum_schema! {
    /// [`FunctionErrorKind`](domain::function::FunctionErrorKind): why a script failed.
    FunctionErrorKindSchema as "FunctionErrorKind" = values(
        domain::function::FunctionErrorKind::ALL.map(domain::function::FunctionErrorKind::as_str)
    )
}

domain_enum_schema! {
    /// [`TaskState`](domain::lifecycle::TaskState).
    TaskStateSchema as "TaskState" = domain::lifecycle::TaskState
}

domain_enum_schema! {
    /// The event types an endpoint may subscribe to: every
    /// [`EventType`](domain::lifecycle::EventType) but `webhook.test`.
    SubscribableEventTypeSchema as "SubscribableEventType" = values(
        domain::lifecycle::EventType::subscribable().map(domain::lifecycle::EventType::as_str)
    )
}

domain_enum_schema! {
    /// [`RolloutState`](domain::lifecycle::RolloutState).
    RolloutStateSchema as "RolloutState" = domain::lifecycle::RolloutState
}

/// The `type` URIs of [`ProblemType`], described by a table of what each means (rather than
/// `x-enum-descriptions`: utoipa keeps extensions in a `HashMap`, so a second one would print
/// in a different order on each run and the committed document would churn). Each member is
/// named after its slug in `x-enum-varnames` (OpenAPI Generator's extension, which the Python
/// SDK's generator reads), so that an SDK's enum member reads `ORDER_FINAL`, not a name
/// mangled from the whole URI.
impl utoipa::PartialSchema for ProblemType {
    fn schema() -> RefOr<Schema> {
        let varnames: Vec<String> = ProblemType::ALL
            .iter()
            .map(|problem| problem.slug().to_ascii_uppercase().replace('-', "_"))
            .collect();
        string_enum_object(ProblemType::ALL.iter().map(|problem| problem.uri()))
            .description(Some(format!(
                "A URI naming a kind of problem; stable, safe to branch on.\n\n{}",
                ProblemType::table()
            )))
            .extensions(Some(
                ExtensionsBuilder::new()
                    .add("x-enum-varnames", varnames)
                    .build(),
            ))
            .into()
    }
}

impl utoipa::ToSchema for ProblemType {
    fn name() -> std::borrow::Cow<'static, str> {
        std::borrow::Cow::Borrowed("ProblemType")
    }
}

/// `oneOf` the named member schemas, told apart by `property`: one (value of `property`,
/// member schema name) per member, so generators pick the member by its tag.
pub fn discriminated_union<'a>(
    description: String,
    property: &str,
    members: impl IntoIterator<Item = (&'a str, String)>,
) -> RefOr<Schema> {
    let mut one_of = OneOfBuilder::new().description(Some(description));
    let mut mapping = BTreeMap::new();
    for (tag, name) in members {
        one_of = one_of.item(Ref::from_schema_name(&name));
        mapping.insert(tag.to_owned(), format!("#/components/schemas/{name}"));
    }
    let mut discriminator = Discriminator::new(property);
    discriminator.mapping = mapping;
    one_of.discriminator(Some(discriminator)).into()
}
