//! The domain's named enums as OpenAPI schemas: a string that takes exactly the domain's
//! values, read from its `ALL`, never a hand-written copy that could drift.

use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};

/// A string schema that takes exactly `values`.
pub fn string_enum(values: impl IntoIterator<Item = &'static str>) -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(values))
        .into()
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
    /// [`HistoryKind`](domain::lifecycle::HistoryKind): what a history entry records.
    HistoryKindSchema as "HistoryKind" = domain::lifecycle::HistoryKind
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
