//! Checking a discount-function document before it is published: the script compiles and
//! every embedded test passes.

use serde_json::Value;

use super::{DiscountOutput, FunctionError, FunctionRuntime};
use crate::Violation;

/// What a test expects: the final amount only, or the amount and (when given) the label.
enum Expectation {
    Amount(i64),
    Output {
        amount_minor: i64,
        label: Option<String>,
    },
}

impl Expectation {
    fn parse(expect: &Value) -> Option<Self> {
        match expect {
            Value::Number(n) => n.as_i64().map(Self::Amount),
            Value::Object(fields) => {
                if fields
                    .keys()
                    .any(|key| key != "amount_minor" && key != "label")
                {
                    return None;
                }
                let amount_minor = fields.get("amount_minor")?.as_i64()?;
                let label = match fields.get("label") {
                    None => None,
                    Some(label) => Some(label.as_str()?.to_owned()),
                };
                Some(Self::Output {
                    amount_minor,
                    label,
                })
            }
            _ => None,
        }
    }

    fn is_met_by(&self, output: &DiscountOutput) -> bool {
        match self {
            Self::Amount(amount) => output.amount_minor == *amount,
            Self::Output {
                amount_minor,
                label,
            } => {
                output.amount_minor == *amount_minor
                    && label
                        .as_ref()
                        .is_none_or(|label| output.label.as_ref() == Some(label))
            }
        }
    }
}

fn show_output(output: &DiscountOutput) -> String {
    match &output.label {
        Some(label) => {
            serde_json::json!({"amount_minor": output.amount_minor, "label": label}).to_string()
        }
        None => output.amount_minor.to_string(),
    }
}

fn show_error(error: &FunctionError) -> String {
    format!(
        "{}: {}{}",
        error.kind.as_str(),
        error.message,
        if error.kind == super::FunctionErrorKind::CompileError {
            String::new()
        } else {
            error.location_suffix()
        }
    )
}

impl FunctionRuntime {
    /// Compiles `document` (a discount-function document: `{script, description, tests:
    /// [{name?, input, expect}]}`) and runs every embedded test.
    ///
    /// Returns one violation per problem: a compile error at `/script` (its message says
    /// "line L, column C"), each failing test at `/tests/{i}` naming the test, what it
    /// expected and what the script produced.
    pub fn check_document(&self, document: &Value) -> Vec<Violation> {
        let Some(source) = document.get("script").and_then(Value::as_str) else {
            return vec![Violation::new(
                "/script",
                "the script is missing or not a string",
            )];
        };
        let script = match self.compile(source) {
            Ok(script) => script,
            Err(error) => {
                return vec![
                    Violation::new("/script", error.message).in_script(error.line, error.column),
                ];
            }
        };
        let tests = match document.get("tests") {
            None => return Vec::new(),
            Some(Value::Array(tests)) => tests,
            Some(_) => {
                return vec![Violation::new(
                    "/tests",
                    "tests must be an array of test cases",
                )];
            }
        };
        let mut violations = Vec::new();
        for (i, test) in tests.iter().enumerate() {
            // Messages count test cases from 1, like the console's table; pointers stay
            // 0-based.
            let number = i + 1;
            let title = match test.get("name").and_then(Value::as_str) {
                Some(name) => format!("test {number} \"{name}\""),
                None => format!("test {number}"),
            };
            let Some(expect) = test.get("expect") else {
                violations.push(Violation::new(
                    format!("/tests/{i}/expect"),
                    format!("{title} has no expectation"),
                ));
                continue;
            };
            let Some(expectation) = Expectation::parse(expect) else {
                violations.push(Violation::new(
                    format!("/tests/{i}/expect"),
                    format!(
                        "{title}: expect must be an integer or an object {{amount_minor, label}}"
                    ),
                ));
                continue;
            };
            let input = test.get("input").unwrap_or(&Value::Null);
            let evaluation = self.run_discount(&script, input);
            let (actual, line, column) = match &evaluation.outcome {
                Ok(output) if expectation.is_met_by(output) => continue,
                Ok(output) => (show_output(output), None, None),
                Err(error) => (show_error(error), error.line, error.column),
            };
            violations.push(
                Violation::new(
                    format!("/tests/{i}"),
                    format!("{title} failed: expected {expect}, got {actual}"),
                )
                .in_script(line, column),
            );
        }
        violations
    }
}
