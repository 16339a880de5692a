//! Flow definitions, in the spirit of the FDL of serverless workflow engines.

use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Debug, Clone, Deserialize)]
pub struct FlowDefinition {
    #[serde(rename = "timeoutSeconds")]
    pub timeout_seconds: Option<u64>,
    pub steps: Vec<Step>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum Step {
    Task(TaskStep),
    Choice(ChoiceStep),
    Pass(PassStep),
    Wait(WaitStep),
    Succeed(TerminalStep),
    Fail(TerminalStep),
}

impl Step {
    /// Every step's `type`, as the history names it (the API documents them as an enum).
    pub const TYPES: [&'static str; 6] = ["task", "choice", "pass", "wait", "succeed", "fail"];

    pub fn type_name(&self) -> &'static str {
        match self {
            Step::Task(_) => "task",
            Step::Choice(_) => "choice",
            Step::Pass(_) => "pass",
            Step::Wait(_) => "wait",
            Step::Succeed(_) => "succeed",
            Step::Fail(_) => "fail",
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct TaskStep {
    pub name: String,
    pub action: Action,
    pub function: Option<String>,
    pub pattern: Option<Pattern>,
    #[serde(rename = "timeoutSeconds")]
    pub timeout_seconds: Option<u64>,
    #[serde(rename = "inputMappings", default)]
    pub input_mappings: Vec<Mapping>,
    #[serde(rename = "outputMappings", default)]
    pub output_mappings: Vec<Mapping>,
    #[serde(default)]
    pub retry: Vec<Retry>,
    #[serde(default)]
    pub catch: Vec<Catch>,
    pub goto: Option<String>,
    #[serde(default)]
    pub end: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    ResolvePaymentCombination,
    AwaitPayment,
    ApplyDiscount,
    RunFunction,
    CompleteOrder,
    CancelOrder,
    AwaitCallback,
}

impl Action {
    /// Every action, for the API's documentation of the history's `TaskScheduled`.
    pub const ALL: [Action; 7] = [
        Action::ResolvePaymentCombination,
        Action::AwaitPayment,
        Action::ApplyDiscount,
        Action::RunFunction,
        Action::CompleteOrder,
        Action::CancelOrder,
        Action::AwaitCallback,
    ];

    /// The name flows and the history use (its serde name).
    pub fn as_str(self) -> &'static str {
        match self {
            Action::ResolvePaymentCombination => "resolve_payment_combination",
            Action::AwaitPayment => "await_payment",
            Action::ApplyDiscount => "apply_discount",
            Action::RunFunction => "run_function",
            Action::CompleteOrder => "complete_order",
            Action::CancelOrder => "cancel_order",
            Action::AwaitCallback => "await_callback",
        }
    }

    /// Actions that wait for an outside system and so need `pattern: waitForCallback`.
    pub fn waits_for_callback(self) -> bool {
        matches!(self, Action::AwaitPayment | Action::AwaitCallback)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum Pattern {
    #[serde(rename = "waitForCallback")]
    WaitForCallback,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Mapping {
    pub target: String,
    pub source: Value,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Retry {
    pub errors: Vec<String>,
    #[serde(rename = "maxAttempts")]
    pub max_attempts: Option<u32>,
    #[serde(rename = "intervalSeconds")]
    pub interval_seconds: Option<u64>,
    pub multiplier: Option<f64>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Catch {
    pub errors: Vec<String>,
    pub goto: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ChoiceStep {
    pub name: String,
    pub choices: Vec<Choice>,
    pub default: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Choice {
    pub condition: String,
    pub goto: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct PassStep {
    pub name: String,
    #[serde(rename = "outputMappings", default)]
    pub output_mappings: Vec<Mapping>,
    pub goto: Option<String>,
    #[serde(default)]
    pub end: bool,
}

#[derive(Debug, Clone, Deserialize)]
pub struct WaitStep {
    pub name: String,
    pub seconds: u64,
    pub goto: Option<String>,
    #[serde(default)]
    pub end: bool,
}

#[derive(Debug, Clone, Deserialize)]
pub struct TerminalStep {
    pub name: String,
    pub error: Option<String>,
    pub cause: Option<String>,
}

impl Step {
    pub fn name(&self) -> &str {
        match self {
            Step::Task(s) => &s.name,
            Step::Choice(s) => &s.name,
            Step::Pass(s) => &s.name,
            Step::Wait(s) => &s.name,
            Step::Succeed(s) | Step::Fail(s) => &s.name,
        }
    }

    /// Where control may go from this step, each with the JSON pointer (relative to the
    /// step) of the field that names it. `None` as target means "the next step in the list".
    pub fn transitions(&self) -> Vec<(String, Option<&str>)> {
        fn sequential(goto: &Option<String>, end: bool) -> Vec<(String, Option<&str>)> {
            match (goto, end) {
                (_, true) => vec![],
                (Some(target), false) => vec![("/goto".to_owned(), Some(target.as_str()))],
                (None, false) => vec![(String::new(), None)],
            }
        }
        match self {
            Step::Task(task) => {
                let mut out = sequential(&task.goto, task.end);
                out.extend(
                    task.catch
                        .iter()
                        .enumerate()
                        .map(|(i, c)| (format!("/catch/{i}/goto"), Some(c.goto.as_str()))),
                );
                out
            }
            Step::Choice(choice) => {
                let mut out: Vec<_> = choice
                    .choices
                    .iter()
                    .enumerate()
                    .map(|(i, c)| (format!("/choices/{i}/goto"), Some(c.goto.as_str())))
                    .collect();
                out.push(("/default".to_owned(), Some(choice.default.as_str())));
                out
            }
            Step::Pass(pass) => sequential(&pass.goto, pass.end),
            Step::Wait(wait) => sequential(&wait.goto, wait.end),
            Step::Succeed(_) | Step::Fail(_) => vec![],
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::*;
    use crate::Kind;

    /// The lists the API documents the history with are the ones the order-flow schema
    /// accepts, so neither can gain a value the other lacks.
    #[test]
    fn actions_and_step_types_are_the_schemas() {
        let schema = crate::schema::schema(Kind::OrderFlow);
        let actions: Vec<&str> = schema["$defs"]["taskStep"]["properties"]["action"]["enum"]
            .as_array()
            .expect("the action enum")
            .iter()
            .filter_map(Value::as_str)
            .collect();
        assert_eq!(actions, Action::ALL.map(Action::as_str));
        for action in Action::ALL {
            assert_eq!(serde_json::to_value(action).unwrap(), action.as_str());
        }
        let types: Vec<&str> = schema["$defs"]["step"]["oneOf"]
            .as_array()
            .expect("one schema per step type")
            .iter()
            .map(|step| {
                let name = step["$ref"]
                    .as_str()
                    .expect("a $ref")
                    .trim_start_matches("#/$defs/");
                schema["$defs"][name]["properties"]["type"]["const"]
                    .as_str()
                    .expect("the step's type")
            })
            .collect();
        assert_eq!(types, Step::TYPES);
    }
}
