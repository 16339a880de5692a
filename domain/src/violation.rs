use serde::Serialize;

/// One reason a document is rejected, located by a JSON pointer (RFC 6901) into the document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Violation {
    pub pointer: String,
    pub message: String,
    /// Where in a discount function's script the problem is (1-based), when it is there.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<usize>,
}

impl Violation {
    pub fn new(pointer: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            pointer: pointer.into(),
            message: message.into(),
            line: None,
            column: None,
        }
    }

    /// The problem's position in the script, so an editor can mark it.
    pub fn in_script(self, line: Option<usize>, column: Option<usize>) -> Self {
        Self {
            line,
            column,
            ..self
        }
    }
}

/// Escapes one reference token for use in a JSON pointer (RFC 6901 §3).
pub fn escape_token(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}
