//! What can go wrong with a script, in terms a merchant can act on.

use rhai::{EvalAltResult, ParseError, Position};
use serde::Serialize;

use super::Limits;

/// The class of a script failure; [`as_str`](FunctionErrorKind::as_str) is the name flows
/// catch (`Function.LimitExceeded`, …) and the dry-run API reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum FunctionErrorKind {
    /// The script (or condition) does not parse.
    CompileError,
    /// The script failed while running: unknown variable or function, a type mismatch,
    /// an arithmetic overflow, a `throw`, a money helper given bad arguments, a bad input.
    RuntimeError,
    /// The script hit one of the [`Limits`]: operations, call depth, data sizes, variables.
    LimitExceeded,
    /// The script ran past the wall-clock limit.
    Timeout,
    /// The script finished but its result breaks the output contract or the guardrail.
    InvalidResult,
}

impl FunctionErrorKind {
    pub const ALL: [FunctionErrorKind; 5] = [
        Self::CompileError,
        Self::RuntimeError,
        Self::LimitExceeded,
        Self::Timeout,
        Self::InvalidResult,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::CompileError => "Function.CompileError",
            Self::RuntimeError => "Function.RuntimeError",
            Self::LimitExceeded => "Function.LimitExceeded",
            Self::Timeout => "Function.Timeout",
            Self::InvalidResult => "Function.InvalidResult",
        }
    }
}

/// A failed compile or run. `line` and `column` (1-based) locate the problem in the script
/// when rhai knows where it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{kind:?}: {message}")]
pub struct FunctionError {
    pub kind: FunctionErrorKind,
    pub message: String,
    pub line: Option<usize>,
    pub column: Option<usize>,
}

impl FunctionError {
    pub(crate) fn new(kind: FunctionErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            line: None,
            column: None,
        }
    }

    pub(crate) fn at(mut self, position: Position) -> Self {
        self.line = position.line();
        self.column = position.line().map(|_| position.position().unwrap_or(1));
        self
    }

    /// `" (line L, column C)"`, or nothing when the location is unknown.
    pub(crate) fn location_suffix(&self) -> String {
        match (self.line, self.column) {
            (Some(line), Some(column)) => format!(" (line {line}, column {column})"),
            (Some(line), None) => format!(" (line {line})"),
            _ => String::new(),
        }
    }

    /// A compile error; the message ends with the location so that it reads well on its own
    /// (publish violations carry only the message).
    pub(crate) fn compile(error: &ParseError) -> Self {
        let mut out = Self::new(
            FunctionErrorKind::CompileError,
            format!("syntax error: {}", error.err_type()),
        )
        .at(error.position());
        out.message.push_str(&out.location_suffix());
        out
    }

    /// Maps a rhai evaluation error to its kind and a message for the script's author.
    pub(crate) fn runtime(error: &EvalAltResult, limits: &Limits) -> Self {
        // Function calls wrap the real error; name the functions it went through (outermost
        // first, each once) and report the innermost location, where the problem is.
        let mut functions: Vec<&str> = Vec::new();
        let mut root = error;
        let mut position = error.position();
        while let EvalAltResult::ErrorInFunctionCall(name, _, inner, pos) = root {
            if !pos.is_none() {
                position = *pos;
            }
            let shown = if name.starts_with("anon$") {
                "<closure>"
            } else {
                name.as_str()
            };
            if !functions.contains(&shown) && functions.len() < 5 {
                functions.push(shown);
            }
            root = inner;
        }
        if !root.position().is_none() {
            position = root.position();
        }

        use EvalAltResult as E;
        use FunctionErrorKind as K;
        let (kind, mut message) = match root {
            E::ErrorTooManyOperations(..) => (
                K::LimitExceeded,
                format!(
                    "the script exceeded the limit of {} operations (is there an endless loop?)",
                    limits.max_operations
                ),
            ),
            E::ErrorStackOverflow(..) => (
                K::LimitExceeded,
                format!(
                    "the script exceeded the limit of {} nested function calls (is there an endless recursion?)",
                    limits.max_call_levels
                ),
            ),
            E::ErrorDataTooLarge(what, ..) => (K::LimitExceeded, data_too_large(what, limits)),
            E::ErrorTooManyVariables(..) => (
                K::LimitExceeded,
                format!(
                    "the script exceeded the limit of {} variables",
                    limits.max_variables
                ),
            ),
            E::ErrorTooManyModules(..) => (
                K::LimitExceeded,
                "the script may not import modules".to_owned(),
            ),
            E::ErrorTerminated(..) => (
                K::Timeout,
                format!(
                    "the script ran longer than {} ms and was stopped",
                    limits.wall_clock.as_millis()
                ),
            ),
            // Only a function pointer to a reserved name (`Fn("eval")`) gets here.
            E::ErrorParsing(parse, ..) => (K::RuntimeError, format!("syntax error: {parse}")),
            E::ErrorVariableNotFound(name, ..) => (
                K::RuntimeError,
                format!(
                    "unknown variable '{name}' (the script sees only `order` and its own variables)"
                ),
            ),
            E::ErrorFunctionNotFound(signature, ..) => (
                K::RuntimeError,
                format!(
                    "function not found: {signature} (no such function, or not for these argument types)"
                ),
            ),
            E::ErrorModuleNotFound(name, ..) => (
                K::RuntimeError,
                format!("modules cannot be imported ('{name}')"),
            ),
            E::ErrorRuntime(value, ..) if value.is_unit() => {
                (K::RuntimeError, "the script threw an error".to_owned())
            }
            E::ErrorRuntime(value, ..) => (K::RuntimeError, format!("the script threw: {value}")),
            other => {
                // rhai's own wording, without the "(line L, position P)" it appends.
                let text = other.to_string();
                let suffix = format!(" ({})", other.position());
                let text = match text.strip_suffix(&suffix) {
                    Some(text) if !other.position().is_none() => text.to_owned(),
                    _ => text,
                };
                (K::RuntimeError, text)
            }
        };
        if !functions.is_empty() {
            message.push_str(&format!(" (in function {})", functions.join(" → ")));
        }
        Self::new(kind, message).at(position)
    }
}

fn data_too_large(what: &str, limits: &Limits) -> String {
    let lower = what.to_lowercase();
    if lower.contains("string") {
        format!(
            "a string grew beyond the limit of {} bytes",
            limits.max_string_size
        )
    } else if lower.contains("array") {
        format!(
            "an array grew beyond the limit of {} items",
            limits.max_array_size
        )
    } else if lower.contains("map") {
        format!(
            "an object map grew beyond the limit of {} entries",
            limits.max_map_size
        )
    } else {
        format!("{what} grew beyond its limit")
    }
}
