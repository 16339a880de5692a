//! The OpenAPI document: its root, the bearer scheme, and the error responses that many
//! operations share (each a problem+json body).

use std::collections::BTreeMap;

use utoipa::openapi::extensions::ExtensionsBuilder;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder, response::Response};
use utoipa::{IntoResponses, Modify, OpenApi};

use crate::http::events::EventWebhooks;
use crate::http::problem::{PROBLEM_JSON, Problem, ProblemViolation};
use crate::openapi_enums::{
    MerchantKindSchema, MetadataKindSchema, PlatformKindSchema, PreviewableKindSchema,
};
use crate::problem_type::ProblemType;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "orderflow",
        description = "Metadata-driven order and payment workflows. Merchants' payment combinations, \
checkout pages, discount functions, routing tables and order flows are versioned JSON documents, \
validated by JSON Schemas and published through this API.\n\nAuthenticate with \
`Authorization: Bearer <api key>`. Money is integer minor units with an ISO 4217 currency. \
Errors are RFC 9457 problem+json. Lists are paginated with `limit` and `cursor`.",
        license(name = "Apache-2.0")
    ),
    // The kind path parameters refer to these; utoipa collects only bodies' schemas.
    components(schemas(
        Problem,
        ProblemViolation,
        MetadataKindSchema,
        PlatformKindSchema,
        MerchantKindSchema,
        PreviewableKindSchema
    )),
    modifiers(&BearerAuth, &EventWebhooks),
    tags(
        (name = "schemas", description = "The JSON Schemas of the metadata kinds"),
        (name = "merchants", description = "Merchants and their API keys"),
        (name = "platform metadata", description = "Platform-wide documents: the payment method catalog and the default order flow"),
        (name = "merchant metadata", description = "A merchant's documents: payment combination, checkout page, discount functions, routing table, order flow"),
        (name = "functions", description = "Discount functions and the routing table: dry-runs and evaluation"),
        (name = "storefront", description = "Checkout: the checkout page, starting, paying and canceling orders"),
        (name = "orders", description = "Orders and their execution history, for the merchant's admins"),
        (name = "tasks", description = "Task callbacks: whoever holds a waiting step's token finishes it"),
        (name = "events", description = "What happened to orders, tasks and published documents, in commit order, and the webhook endpoints they go to"),
        (name = "operations", description = "Health and readiness"),
    )
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
    }
}

fn problems(entries: &[(&str, &str)]) -> BTreeMap<String, RefOr<Response>> {
    entries
        .iter()
        .map(|(status, description)| {
            let response = problem_response(description).build();
            ((*status).to_owned(), RefOr::T(response))
        })
        .collect()
}

fn problem_response(description: &str) -> ResponseBuilder {
    ResponseBuilder::new().description(description).content(
        PROBLEM_JSON,
        ContentBuilder::new()
            .schema(Some(Ref::from_schema_name("Problem")))
            .build(),
    )
}

/// The extension on a 409 response that lists the `type` URIs its problems can carry.
pub const PROBLEM_TYPES_EXTENSION: &str = "x-problem-types";

/// What any write can answer 409 with: it lost a race with another writer, too often
/// (`concurrent-modification`) or on a uniqueness rule (`conflict`).
const RACES: [ProblemType; 2] = [ProblemType::ConcurrentModification, ProblemType::Conflict];

/// An operation's 409: `problems` (then, for a write, [`RACES`]), each with what it means in
/// the description and by URI in `x-problem-types`. They are named from the closed
/// [`ProblemType`] enum, so no operation can document a type the server does not have; the
/// black-box tests hold every 409 the server answers to its operation's list.
pub fn conflicts(problems: &[ProblemType], write: bool) -> BTreeMap<String, RefOr<Response>> {
    let races = if write { &RACES[..] } else { &[] };
    let listed: Vec<ProblemType> = problems.iter().chain(races).copied().collect();
    let mut description = String::from("A conflict with the resource's state; `type` is one of:\n");
    for problem in &listed {
        description.push_str(&format!(
            "\n- `{}`: {}",
            problem.slug(),
            problem.description()
        ));
    }
    let uris: Vec<&str> = listed.iter().map(|problem| problem.uri()).collect();
    let response = problem_response(&description)
        .extensions(Some(
            ExtensionsBuilder::new()
                .add(PROBLEM_TYPES_EXTENSION, uris)
                .build(),
        ))
        .build();
    BTreeMap::from([("409".to_owned(), RefOr::T(response))])
}

/// Declares the 409 responses of operations as types for `responses(...)`: `Name: write =
/// [ProblemType variants]` for an operation that writes (and so also answers [`RACES`]),
/// `Name: read = [...]` for one that does not.
macro_rules! conflict_responses {
    ($($(#[doc = $doc:literal])* $name:ident: $access:ident = [$($problem:ident),* $(,)?];)+) => {$(
        $(#[doc = $doc])*
        pub struct $name;

        impl utoipa::IntoResponses for $name {
            fn responses() -> std::collections::BTreeMap<
                String,
                utoipa::openapi::RefOr<utoipa::openapi::response::Response>,
            > {
                $crate::http::docs::conflicts(
                    &[$($crate::problem_type::ProblemType::$problem),*],
                    $crate::http::docs::conflict_responses!(@write $access),
                )
            }
        }
    )+};
    (@write write) => { true };
    (@write read) => { false };
}
pub(crate) use conflict_responses;

conflict_responses! {
    /// 409 of a write whose only conflicts are races.
    WriteConflicts: write = [];
}

/// 401 and 403: every authenticated operation.
pub struct AuthErrors;

impl IntoResponses for AuthErrors {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        problems(&[
            ("401", "No API key, or an unknown one"),
            ("403", "The API key lacks the scope this operation needs"),
        ])
    }
}

/// 400, 413, 415, 422: every operation that reads a JSON body.
pub struct BodyErrors;

impl IntoResponses for BodyErrors {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        problems(&[
            ("400", "Malformed JSON or parameters"),
            ("413", "The body is larger than 1 MiB"),
            (
                "415",
                "The body is not declared JSON (`Content-Type: application/json`; drafts also YAML)",
            ),
            (
                "422",
                "Well-formed but invalid: one `errors[]` entry per violation, each with a JSON pointer",
            ),
        ])
    }
}

/// 404: the resource does not exist, or belongs to another tenant.
pub struct NotFoundError;

impl IntoResponses for NotFoundError {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        problems(&[("404", "Not found, or another tenant's")])
    }
}

/// 400: a query or path parameter does not parse.
pub struct ParameterError;

impl IntoResponses for ParameterError {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        problems(&[(
            "400",
            "A malformed parameter (e.g. limit out of range, bad cursor)",
        )])
    }
}

/// Declares a string path parameter's schema: the pattern the server parses it by, so that
/// the document is as strict as the server.
macro_rules! pattern_param {
    ($(#[doc = $doc:literal])* $name:ident = $pattern:expr) => {
        $(#[doc = $doc])*
        pub struct $name;

        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                utoipa::openapi::schema::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::String)
                    .pattern(Some($pattern))
                    .into()
            }
        }

        impl utoipa::ToSchema for $name {}
    };
}
pub(crate) use pattern_param;

pattern_param! {
    /// The `{merchant_id}` path parameter, documented with the pattern [`MerchantId::parse`]
    /// enforces (an id that does not match names no merchant: a 404, as for an unknown one).
    ///
    /// [`MerchantId::parse`]: domain::MerchantId::parse
    MerchantIdParam = domain::MerchantId::PATTERN
}

/// Every operation of the document.
fn operations_mut(
    openapi: &mut utoipa::openapi::OpenApi,
) -> impl Iterator<Item = &mut utoipa::openapi::path::Operation> {
    openapi.paths.paths.values_mut().flat_map(|item| {
        [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ]
        .into_iter()
        .flatten()
    })
}

/// Documents the 429 of every operation: the rate limit is a layer in front of every route
/// (`http::rate_limit`), so no operation is exempt. Per API key, or for the operations that
/// take none, one budget all anonymous callers share.
pub struct RateLimitedEverywhere;

impl Modify for RateLimitedEverywhere {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for operation in operations_mut(openapi) {
            let keyed = operation
                .security
                .as_ref()
                .is_some_and(|requirements| !requirements.is_empty());
            let description = if keyed {
                "Too many requests for this API key; see the Retry-After header"
            } else {
                "Too many requests; see the Retry-After header"
            };
            operation.responses.responses.insert(
                "429".to_owned(),
                RefOr::T(problem_response(description).build()),
            );
        }
    }
}

/// Appends to each operation's description the key scopes its security requirement names, or
/// that it takes no key: the generators carry descriptions into the SDKs' docstrings, not
/// security requirements.
pub struct ScopesInDescriptions;

impl Modify for ScopesInDescriptions {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for operation in operations_mut(openapi) {
            let scopes: Vec<String> = operation
                .security
                .iter()
                .flatten()
                .filter_map(|requirement| serde_json::to_value(requirement).ok())
                .flat_map(|requirement| {
                    requirement["bearer"]
                        .as_array()
                        .cloned()
                        .unwrap_or_default()
                })
                .filter_map(|scope| scope.as_str().map(|scope| format!("`{scope}`")))
                .collect();
            let line = match scopes.len() {
                // No security requirement: the probes, and task callbacks, whose token
                // in the path is the authority.
                0 => "Who may call: anyone; the operation takes no API key.".to_owned(),
                1 => format!("Who may call: API keys with scope {}.", scopes[0]),
                _ => format!(
                    "Who may call: API keys with scope {}; a merchant's keys reach only that \
                     merchant's resources.",
                    scopes.join(" or ")
                ),
            };
            operation.description = Some(match operation.description.take() {
                Some(description) => format!("{description}\n\n{line}"),
                None => line,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::PROBLEM_TYPES_EXTENSION;
    use crate::problem_type::ProblemType;

    /// No 409 is written by hand: each lists, by URI, problem types the server has.
    #[test]
    fn every_conflict_lists_its_problem_types() {
        let document = crate::http::openapi();
        let operations = document["paths"]
            .as_object()
            .into_iter()
            .flatten()
            .flat_map(|(path, item)| {
                item.as_object()
                    .into_iter()
                    .flatten()
                    .map(move |(method, operation)| (format!("{method} {path}"), operation))
            });
        for (name, operation) in operations {
            let Some(conflict) = operation["responses"].get("409") else {
                continue;
            };
            let listed = conflict[PROBLEM_TYPES_EXTENSION]
                .as_array()
                .unwrap_or_else(|| panic!("{name}: a 409 without {PROBLEM_TYPES_EXTENSION}"));
            assert!(!listed.is_empty(), "{name}");
            for uri in listed {
                assert!(
                    ProblemType::ALL.iter().any(|problem| problem.uri() == uri),
                    "{name}: {uri} is no problem type"
                );
            }
        }
    }
}
