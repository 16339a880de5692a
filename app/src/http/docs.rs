//! The OpenAPI document: its root, the bearer scheme, and the error responses that many
//! operations share (each a problem+json body).

use std::collections::BTreeMap;

use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder, response::Response};
use utoipa::{IntoResponses, Modify, OpenApi};

use crate::http::events::EventWebhooks;
use crate::http::problem::{PROBLEM_JSON, Problem, ProblemViolation};

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
    components(schemas(Problem, ProblemViolation)),
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
            let response = ResponseBuilder::new()
                .description(*description)
                .content(
                    PROBLEM_JSON,
                    ContentBuilder::new()
                        .schema(Some(Ref::from_schema_name("Problem")))
                        .build(),
                )
                .build();
            ((*status).to_owned(), RefOr::T(response))
        })
        .collect()
}

/// 401 and 403: every authenticated operation.
pub struct AuthErrors;

impl IntoResponses for AuthErrors {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        problems(&[
            ("401", "No API key, or an unknown one"),
            ("403", "The API key lacks the scope this operation needs"),
            (
                "429",
                "Too many requests for this API key; see the Retry-After header",
            ),
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

/// 429: for operations that take no API key (all anonymous callers share one budget).
pub struct RateLimitError;

impl IntoResponses for RateLimitError {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        problems(&[("429", "Too many requests; see the Retry-After header")])
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

/// Appends to each operation's description the key scopes its security requirement names:
/// the generators carry descriptions into the SDKs' docstrings, not security requirements.
pub struct ScopesInDescriptions;

impl Modify for ScopesInDescriptions {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for item in openapi.paths.paths.values_mut() {
            let operations = [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
            ];
            for operation in operations.into_iter().flatten() {
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
                if scopes.is_empty() {
                    continue;
                }
                let mut line = format!("Who may call: API keys with scope {}", scopes.join(" or "));
                if scopes.len() > 1 {
                    line.push_str("; a merchant's keys reach only that merchant's resources");
                }
                line.push('.');
                operation.description = Some(match operation.description.take() {
                    Some(description) => format!("{description}\n\n{line}"),
                    None => line,
                });
            }
        }
    }
}
