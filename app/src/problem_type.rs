//! Every problem type the server answers with, as one closed set. A problem+json body's
//! `type` is one of these URIs; the OpenAPI document lists them as an enum (so each SDK has
//! one), and clients branch on them, so a slug never changes once published. The services
//! name the rule a conflict broke with one; the HTTP edge names everything else.

use serde::{Serialize, Serializer};

/// The URI every slug is appended to; a macro so that `concat!` can build each `uri()`.
macro_rules! base_uri {
    () => {
        "https://orderflow.dev/problems/"
    };
}

/// Declares the problem types. Each variant's doc comment is also its description in the
/// OpenAPI document and the README, so it is written for clients.
macro_rules! problem_types {
    ($($(#[doc = $doc:literal])+ $variant:ident = $slug:literal,)+) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum ProblemType {
            $($(#[doc = $doc])+ $variant,)+
        }

        impl ProblemType {
            /// In the order the document and the README list them.
            pub const ALL: &'static [ProblemType] = &[$(ProblemType::$variant,)+];

            /// The last segment of the URI: what the README and the SDKs' enum names use.
            pub fn slug(self) -> &'static str {
                match self {
                    $(ProblemType::$variant => $slug,)+
                }
            }

            /// The `type` a problem document carries.
            pub fn uri(self) -> &'static str {
                match self {
                    $(ProblemType::$variant => concat!(base_uri!(), $slug),)+
                }
            }

            /// What it means, for clients: the variant's doc comment on one line.
            pub fn description(self) -> &'static str {
                match self {
                    $(ProblemType::$variant => concat!($($doc),+).trim_ascii(),)+
                }
            }
        }
    };
}

problem_types! {
    /// The request is malformed (JSON or YAML that does not parse, a path or query
    /// parameter of the wrong form), or another client error that has no type of its own.
    BadRequest = "bad-request",
    /// No API key, or one the server does not know.
    Unauthorized = "unauthorized",
    /// The API key's scope does not allow the operation.
    Forbidden = "forbidden",
    /// No such resource (another tenant's resource is answered the same), or no such route.
    NotFound = "not-found",
    /// The route does not take this method; the `Allow` header lists those it takes.
    MethodNotAllowed = "method-not-allowed",
    /// The resource was changed concurrently or already exists; read it again and retry.
    Conflict = "conflict",
    /// The resource kept changing while the request was applied; retry it.
    ConcurrentModification = "concurrent-modification",
    /// A request with this `Idempotency-Key` is still being processed; retry shortly.
    IdempotencyKeyInFlight = "idempotency-key-in-flight",
    /// The order's flow cannot take this event in its current state (e.g. a late duplicate).
    InvalidState = "invalid-state",
    /// A merchant with this id already exists.
    MerchantExists = "merchant-exists",
    /// The merchant has not published a document the operation needs; `detail` names it.
    MerchantNotConfigured = "merchant-not-configured",
    /// The document has no active rollout to change, promote or abort.
    NoActiveRollout = "no-active-rollout",
    /// The document has no draft to publish or preview.
    NoDraft = "no-draft",
    /// The draft equals the published version.
    NothingToPublish = "nothing-to-publish",
    /// A rollout needs a published version for the other orders to keep; publish to every
    /// order first.
    NothingToRollOutAgainst = "nothing-to-roll-out-against",
    /// The order is already completed or canceled, or its flow has ended.
    OrderFinal = "order-final",
    /// The order is not waiting for a payment.
    OrderNotAwaitingPayment = "order-not-awaiting-payment",
    /// The `order_num` already names a different order.
    OrderNumConflict = "order-num-conflict",
    /// A rollout of the document is active; promote or abort it first.
    RolloutInProgress = "rollout-in-progress",
    /// The task was already completed.
    TaskAlreadyCompleted = "task-already-completed",
    /// The task's deadline passed before this callback; the task has timed out.
    TaskTimedOut = "task-timed-out",
    /// The merchant already has as many webhook endpoints as allowed.
    TooManyEndpoints = "too-many-endpoints",
    /// `If-Match` names a revision (ETag) that is no longer the newest.
    PreconditionFailed = "precondition-failed",
    /// The request body is larger than the limit.
    PayloadTooLarge = "payload-too-large",
    /// The request body does not say it is JSON (or, where a metadata document is taken,
    /// YAML) in its `Content-Type`.
    UnsupportedMediaType = "unsupported-media-type",
    /// The input breaks the rules (the body, a parameter, or the draft being published);
    /// `errors` has one entry, with its JSON pointer, per violation.
    ValidationFailed = "validation-failed",
    /// Too many requests for this API key; retry after `Retry-After` seconds.
    RateLimited = "rate-limited",
    /// An internal error (it has been logged), or another server error that has no type of
    /// its own.
    Internal = "internal",
    /// The database cannot be reached or cannot take writes now; nothing was applied. Retry
    /// after `Retry-After` seconds.
    Unavailable = "unavailable",
    /// The database's storage is full; nothing was written. Retry after `Retry-After`
    /// seconds.
    StorageFull = "storage-full",
    /// The request took longer than the server's request timeout and was abandoned; retry it
    /// (with the same `Idempotency-Key`, a retry never acts twice).
    RequestTimeout = "request-timeout",
}

impl ProblemType {
    /// Every problem type and what it means, as a Markdown table: the OpenAPI document
    /// describes `ProblemType` with it, and the README lists it.
    pub fn table() -> String {
        let mut table = format!(
            "| `type` (after `{}`) | Meaning |\n|---|---|\n",
            base_uri!()
        );
        for problem in ProblemType::ALL {
            table.push_str(&format!(
                "| `{}` | {} |\n",
                problem.slug(),
                problem.description()
            ));
        }
        table
    }
}

/// On the wire a problem type is its URI.
impl Serialize for ProblemType {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.uri())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::ProblemType;

    const README: &str = include_str!("../../README.md");
    const TABLE_START: &str = "<!-- problem types: generated from app/src/problem_type.rs -->\n";
    const TABLE_END: &str = "<!-- end of problem types -->";

    #[test]
    fn every_problem_type_round_trips_through_its_slug_and_its_uri() {
        for &problem in ProblemType::ALL {
            let slug = problem.slug();
            assert!(
                !slug.is_empty() && slug.bytes().all(|b| b.is_ascii_lowercase() || b == b'-'),
                "{slug:?} is not kebab-case"
            );
            let named: Vec<_> = ProblemType::ALL
                .iter()
                .filter(|other| other.slug() == slug)
                .collect();
            assert_eq!(named, [&problem], "{slug} names more than one problem type");
            assert_eq!(
                problem
                    .uri()
                    .strip_prefix("https://orderflow.dev/problems/"),
                Some(slug)
            );
            assert_eq!(serde_json::to_value(problem).unwrap(), json!(problem.uri()));
            assert!(
                // One line of one table cell.
                problem.description().ends_with('.')
                    && !problem.description().contains(['\n', '|']),
                "{slug}: {:?}",
                problem.description()
            );
        }
    }

    #[test]
    fn the_document_lists_exactly_the_problem_types() {
        let document = serde_json::to_value(crate::http::openapi()).unwrap();
        let schemas = &document["components"]["schemas"];
        assert_eq!(
            schemas["Problem"]["properties"]["type"]["$ref"],
            "#/components/schemas/ProblemType"
        );
        let schema = &schemas["ProblemType"];
        let column = |pick: fn(ProblemType) -> Value| {
            Value::Array(ProblemType::ALL.iter().map(|&p| pick(p)).collect())
        };
        assert_eq!(schema["enum"], column(|p| json!(p.uri())));
        assert!(
            schema["description"]
                .as_str()
                .is_some_and(|d| d.ends_with(&ProblemType::table())),
            "{schema}"
        );
        assert_eq!(
            schema["x-enum-varnames"],
            column(|p| json!(p.slug().to_ascii_uppercase().replace('-', "_")))
        );
    }

    #[test]
    fn the_readme_lists_every_problem_type() {
        let table = ProblemType::table();
        let listed = README
            .split_once(TABLE_START)
            .and_then(|(_, rest)| rest.split_once(TABLE_END))
            .map(|(listed, _)| listed);
        assert_eq!(
            listed,
            Some(table.as_str()),
            "README.md must list the problem types between {TABLE_START:?} and \
             {TABLE_END:?}, as:\n{table}"
        );
    }
}
