//! The flow interpreter: a pure function from (definition, state, event) to a new state and
//! the commands the caller must carry out. It does no I/O: actions are run by the caller,
//! which reports their results back as events; tokens and choice conditions come from an
//! [`Environment`] the caller provides.

pub mod mapping;

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::documents::flow::{Action, FlowDefinition, Pattern, Retry, Step, TaskStep};
use crate::lifecycle::HistoryKind;
use mapping::Sources;

/// The error raised when a waiting step's timeout passes.
pub const TASK_TIMEOUT: &str = "Task.Timeout";
/// The catch-all error name in `retry` and `catch`.
pub const ALL_ERRORS: &str = "States.ALL";
/// Raised when a flow keeps moving without ever waiting (e.g. a choice loop).
pub const RUNTIME_ERROR: &str = "States.Runtime";

/// How many steps one event may move an execution through before it is deemed stuck.
const MAX_TRANSITIONS_PER_EVENT: usize = 1_000;

/// A flow definition with its step names indexed.
#[derive(Debug, Clone)]
pub struct Flow {
    definition: FlowDefinition,
    index: HashMap<String, usize>,
    /// By step index: whether resuming at that step may evaluate a script (a choice
    /// condition, a discount function) before the execution waits again.
    scripts_ahead: Vec<bool>,
}

impl Flow {
    pub fn new(definition: FlowDefinition) -> Self {
        let index: HashMap<String, usize> = definition
            .steps
            .iter()
            .enumerate()
            .map(|(i, step)| (step.name().to_owned(), i))
            .collect();
        let scripts_ahead = (0..definition.steps.len())
            .map(|from| scripts_reachable(&definition.steps, &index, from))
            .collect();
        Self {
            definition,
            index,
            scripts_ahead,
        }
    }

    /// Whether an event may evaluate a script before the execution waits again: the
    /// event resumes at `step` (the current step; `None` for the start). Lets the caller
    /// run script-free advances where it stands instead of on a script worker.
    pub fn may_run_scripts(&self, step: Option<&str>) -> bool {
        let from = match step {
            None => 0,
            Some(name) => match self.index.get(name) {
                Some(&i) => i,
                None => return true,
            },
        };
        self.scripts_ahead.get(from).copied().unwrap_or(false)
    }

    pub fn timeout_seconds(&self) -> Option<u64> {
        self.definition.timeout_seconds
    }

    pub fn steps(&self) -> &[Step] {
        &self.definition.steps
    }

    /// Whether some step of the flow runs `action`.
    pub fn runs(&self, action: Action) -> bool {
        self.definition
            .steps
            .iter()
            .any(|step| matches!(step, Step::Task(task) if task.action == action))
    }

    fn step(&self, name: &str) -> Result<(usize, &Step), FlowError> {
        self.index
            .get(name)
            .map(|&i| (i, &self.definition.steps[i]))
            .ok_or_else(|| FlowError::UnknownStep(name.to_owned()))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Moving: an action's result is awaited from the caller.
    Running,
    /// Waiting for a callback or a timer.
    Waiting,
    Succeeded,
    Failed,
}

/// What the execution is waiting for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "for", rename_all = "snake_case")]
pub enum Pending {
    Action,
    Callback {
        token: String,
        /// When the wait times out, in Unix milliseconds. The runtime that schedules the
        /// timeout sets it, so that a callback arriving after it is refused even when the
        /// timer has not fired yet. Absent in executions stored before it was kept.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        deadline_ms: Option<i64>,
    },
    Wait,
    Retry,
}

/// An error that a `catch` took, kept so later steps (e.g. `cancel_order`) know why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaughtError {
    pub error: String,
    pub cause: String,
    pub step: String,
}

/// The durable state of one execution; stored as JSON between events.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExecutionState {
    pub status: Status,
    pub step: Option<String>,
    /// Attempts made at the current step (1 for the first run).
    pub attempt: u32,
    pub input: Value,
    pub local: Map<String, Value>,
    pub error: Option<CaughtError>,
    pub pending: Option<Pending>,
}

impl ExecutionState {
    pub fn new(input: Value) -> Self {
        Self {
            status: Status::Running,
            step: None,
            attempt: 0,
            input,
            local: Map::new(),
            error: None,
            pending: None,
        }
    }

    pub fn is_final(&self) -> bool {
        matches!(self.status, Status::Succeeded | Status::Failed)
    }
}

/// What happened, from outside the interpreter.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    Start,
    TaskSucceeded { output: Value },
    TaskFailed { error: String, cause: String },
    TaskTimedOut,
    TimerFired,
}

/// What the caller must do next.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// Run the action now and report `TaskSucceeded` or `TaskFailed`.
    RunAction {
        step: String,
        action: Action,
        function: Option<String>,
        input: Value,
    },
    /// Keep the task token and wait for its callback; report `TaskTimedOut` after
    /// `timeout_seconds`.
    AwaitCallback {
        step: String,
        action: Action,
        token: String,
        input: Value,
        timeout_seconds: u64,
    },
    /// Report `TimerFired` after `seconds`.
    StartTimer { step: String, seconds: u64 },
    /// The execution has ended.
    Finish(Outcome),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Succeeded,
    Failed { error: String, cause: String },
}

/// One entry for the execution's history.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryRecord {
    pub kind: HistoryKind,
    pub step: Option<String>,
    pub detail: Value,
}

#[derive(Debug, Default, Clone, PartialEq)]
pub struct Transition {
    pub commands: Vec<Command>,
    pub history: Vec<HistoryRecord>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FlowError {
    #[error("the execution is {status:?} and cannot take {event}")]
    UnexpectedEvent { status: Status, event: &'static str },
    #[error("the flow has no step named '{0}'")]
    UnknownStep(String),
}

/// What the interpreter asks of its caller.
pub trait Environment {
    /// A fresh, unguessable task token.
    fn new_token(&mut self) -> String;
    /// Evaluates the `index`-th condition of choice step `step` over the execution input.
    fn condition(
        &mut self,
        step: &str,
        index: usize,
        expression: &str,
        input: &Value,
    ) -> Result<bool, String>;
}

/// Applies one event. The state is updated in place; the transition lists what to do and
/// what to record.
pub fn advance(
    flow: &Flow,
    state: &mut ExecutionState,
    event: Event,
    env: &mut dyn Environment,
) -> Result<Transition, FlowError> {
    let mut run = Run {
        flow,
        state,
        env,
        out: Transition::default(),
        moves: 0,
    };
    run.apply(event)?;
    Ok(run.out)
}

/// Whether a script may run from step `from` (included, for a retry) through the steps
/// it leads to, up to the next waiting step.
fn scripts_reachable(steps: &[Step], index: &HashMap<String, usize>, from: usize) -> bool {
    let runs_script = |step: &Step| match step {
        Step::Choice(_) => true,
        Step::Task(task) => matches!(task.action, Action::ApplyDiscount | Action::RunFunction),
        _ => false,
    };
    let waits = |step: &Step| match step {
        Step::Task(task) => task.pattern == Some(Pattern::WaitForCallback),
        Step::Wait(_) => true,
        _ => false,
    };
    let mut seen = vec![false; steps.len()];
    let mut ahead = vec![from];
    while let Some(i) = ahead.pop() {
        let Some(step) = steps.get(i) else { continue };
        if std::mem::replace(&mut seen[i], true) {
            continue;
        }
        if runs_script(step) {
            return true;
        }
        if i != from && waits(step) {
            continue;
        }
        for (_, target) in step.transitions() {
            let next = match target {
                Some(name) => index.get(name).copied(),
                None => Some(i + 1),
            };
            ahead.extend(next);
        }
    }
    false
}

/// What the interpreter does after handling a step.
enum Next {
    Enter(String),
    Done,
}

struct Run<'a> {
    flow: &'a Flow,
    state: &'a mut ExecutionState,
    env: &'a mut dyn Environment,
    out: Transition,
    moves: usize,
}

fn event_name(event: &Event) -> &'static str {
    match event {
        Event::Start => "Start",
        Event::TaskSucceeded { .. } => "TaskSucceeded",
        Event::TaskFailed { .. } => "TaskFailed",
        Event::TaskTimedOut => "TaskTimedOut",
        Event::TimerFired => "TimerFired",
    }
}

fn matches_error(errors: &[String], error: &str) -> bool {
    errors.iter().any(|e| e == error || e == ALL_ERRORS)
}

impl Run<'_> {
    fn record(&mut self, kind: HistoryKind, step: Option<&str>, detail: Value) {
        self.out.history.push(HistoryRecord {
            kind,
            step: step.map(str::to_owned),
            detail,
        });
    }

    fn current(&self) -> Option<String> {
        self.state.step.clone()
    }

    fn apply(&mut self, event: Event) -> Result<(), FlowError> {
        let mut next = self.react(event)?;
        // Iterative, not recursive: a long chain of steps must not grow the stack.
        while let Next::Enter(step) = next {
            next = self.enter(&step)?;
        }
        Ok(())
    }

    fn react(&mut self, event: Event) -> Result<Next, FlowError> {
        let unexpected = |status, event: &Event| FlowError::UnexpectedEvent {
            status,
            event: event_name(event),
        };
        let pending = self.state.pending.clone();
        match (&event, pending) {
            (Event::Start, None) if self.state.step.is_none() && !self.state.is_final() => {
                let first = self
                    .flow
                    .steps()
                    .first()
                    .map(|s| s.name().to_owned())
                    .ok_or_else(|| FlowError::UnknownStep("(first)".into()))?;
                Ok(Next::Enter(first))
            }
            (Event::TaskSucceeded { output }, Some(Pending::Action | Pending::Callback { .. })) => {
                let step = self.current().unwrap_or_default();
                self.record(
                    HistoryKind::TaskSucceeded,
                    Some(&step),
                    json!({"output": output}),
                );
                self.task_succeeded(&step, output.clone())
            }
            (
                Event::TaskFailed { error, cause },
                Some(Pending::Action | Pending::Callback { .. }),
            ) => {
                let step = self.current().unwrap_or_default();
                self.record(
                    HistoryKind::TaskFailed,
                    Some(&step),
                    json!({"error": error, "cause": cause}),
                );
                self.failed(&step, error, cause)
            }
            (Event::TaskTimedOut, Some(Pending::Callback { .. })) => {
                let step = self.current().unwrap_or_default();
                self.record(
                    HistoryKind::TaskTimedOut,
                    Some(&step),
                    json!({"error": TASK_TIMEOUT}),
                );
                self.failed(
                    &step,
                    TASK_TIMEOUT,
                    "the step's timeout passed before its callback",
                )
            }
            (Event::TimerFired, Some(Pending::Wait)) => {
                let step = self.current().unwrap_or_default();
                self.state.pending = None;
                self.next(&step)
            }
            (Event::TimerFired, Some(Pending::Retry)) => {
                let step = self.current().unwrap_or_default();
                self.schedule_task(&step)
            }
            _ => Err(unexpected(self.state.status, &event)),
        }
    }

    fn task_succeeded(&mut self, step: &str, output: Value) -> Result<Next, FlowError> {
        let (_, definition) = self.flow.step(step)?;
        let Step::Task(task) = definition else {
            return Err(FlowError::UnknownStep(step.to_owned()));
        };
        if task.output_mappings.is_empty() {
            self.state.local.insert(step.to_owned(), output);
        } else {
            let mapped = {
                let context = self.context(step);
                let sources = Sources {
                    input: &self.state.input,
                    local: &self.state.local,
                    context: &context,
                    output: Some(&output),
                };
                mapping::build(&task.output_mappings, &sources)
            };
            if let Value::Object(fields) = mapped {
                self.state.local.extend(fields);
            }
        }
        self.state.pending = None;
        self.next(step)
    }

    fn context(&self, step: &str) -> Value {
        let token = match &self.state.pending {
            Some(Pending::Callback { token, .. }) => Value::String(token.clone()),
            _ => Value::Null,
        };
        json!({"step": {"name": step, "attempt": self.state.attempt}, "task": {"token": token}})
    }

    /// Moves on from a finished step: `end`, `goto`, or the next step in the list.
    fn next(&mut self, step: &str) -> Result<Next, FlowError> {
        let (index, definition) = self.flow.step(step)?;
        let (goto, end) = match definition {
            Step::Task(t) => (t.goto.as_deref(), t.end),
            Step::Pass(p) => (p.goto.as_deref(), p.end),
            Step::Wait(w) => (w.goto.as_deref(), w.end),
            Step::Choice(_) | Step::Succeed(_) | Step::Fail(_) => (None, true),
        };
        match (goto, end) {
            (_, true) => self.finish(Outcome::Succeeded),
            (Some(target), false) => Ok(Next::Enter(target.to_owned())),
            (None, false) => match self.flow.steps().get(index + 1) {
                Some(following) => Ok(Next::Enter(following.name().to_owned())),
                None => self.finish(Outcome::Succeeded),
            },
        }
    }

    fn enter(&mut self, name: &str) -> Result<Next, FlowError> {
        self.moves += 1;
        if self.moves > MAX_TRANSITIONS_PER_EVENT {
            let cause = format!(
                "more than {MAX_TRANSITIONS_PER_EVENT} steps without waiting; does a choice loop?"
            );
            return self.finish(Outcome::Failed {
                error: RUNTIME_ERROR.into(),
                cause,
            });
        }
        let (_, step) = self.flow.step(name)?;
        self.state.step = Some(name.to_owned());
        self.state.attempt = 0;
        self.state.pending = None;
        self.state.status = Status::Running;
        self.record(
            HistoryKind::StepEntered,
            Some(name),
            json!({"type": step.type_name()}),
        );
        match step {
            Step::Task(_) => self.schedule_task(name),
            Step::Choice(choice) => {
                let mut target = None;
                for (i, option) in choice.choices.iter().enumerate() {
                    match self
                        .env
                        .condition(name, i, &option.condition, &self.state.input)
                    {
                        Ok(true) => {
                            target = Some((Some(i), option.goto.clone()));
                            break;
                        }
                        Ok(false) => {}
                        Err(cause) => return self.failed(name, "Function.Error", &cause),
                    }
                }
                let (choice_index, goto) = target.unwrap_or((None, choice.default.clone()));
                self.record(
                    HistoryKind::ChoiceSelected,
                    Some(name),
                    json!({"choice": choice_index, "goto": goto}),
                );
                Ok(Next::Enter(goto))
            }
            Step::Pass(pass) => {
                if !pass.output_mappings.is_empty() {
                    let mapped = {
                        let context = self.context(name);
                        let sources = Sources {
                            input: &self.state.input,
                            local: &self.state.local,
                            context: &context,
                            output: None,
                        };
                        mapping::build(&pass.output_mappings, &sources)
                    };
                    if let Value::Object(fields) = mapped {
                        self.state.local.extend(fields);
                    }
                }
                self.next(name)
            }
            Step::Wait(wait) => {
                self.state.status = Status::Waiting;
                self.state.pending = Some(Pending::Wait);
                self.out.commands.push(Command::StartTimer {
                    step: name.to_owned(),
                    seconds: wait.seconds,
                });
                Ok(Next::Done)
            }
            Step::Succeed(_) => self.finish(Outcome::Succeeded),
            Step::Fail(fail) => self.finish(Outcome::Failed {
                error: fail.error.clone().unwrap_or_else(|| "States.Fail".into()),
                cause: fail.cause.clone().unwrap_or_default(),
            }),
        }
    }

    /// Runs (or re-runs, on retry) a task step.
    fn schedule_task(&mut self, name: &str) -> Result<Next, FlowError> {
        let (_, step) = self.flow.step(name)?;
        let Step::Task(task) = step else {
            return Err(FlowError::UnknownStep(name.to_owned()));
        };
        self.state.attempt += 1;
        let waits = task.pattern == Some(Pattern::WaitForCallback);
        let token = waits.then(|| self.env.new_token());
        if let Some(token) = &token {
            self.state.pending = Some(Pending::Callback {
                token: token.clone(),
                deadline_ms: None,
            });
        }
        let input = self.task_input(name, task);
        // Without mappings the input is the execution's, already in ExecutionStarted:
        // recording it again for every task would only grow the history.
        let detail = if task.input_mappings.is_empty() {
            json!({"action": task.action, "attempt": self.state.attempt})
        } else {
            json!({"action": task.action, "attempt": self.state.attempt, "input": input})
        };
        self.record(HistoryKind::TaskScheduled, Some(name), detail);
        match token {
            Some(token) => {
                self.state.status = Status::Waiting;
                let timeout_seconds = task
                    .timeout_seconds
                    .or(self.flow.timeout_seconds())
                    .unwrap_or(DEFAULT_CALLBACK_TIMEOUT_SECONDS);
                self.out.commands.push(Command::AwaitCallback {
                    step: name.to_owned(),
                    action: task.action,
                    token,
                    input,
                    timeout_seconds,
                });
            }
            None => {
                self.state.status = Status::Running;
                self.state.pending = Some(Pending::Action);
                self.out.commands.push(Command::RunAction {
                    step: name.to_owned(),
                    action: task.action,
                    function: task.function.clone(),
                    input,
                });
            }
        }
        Ok(Next::Done)
    }

    fn task_input(&self, name: &str, task: &TaskStep) -> Value {
        if task.input_mappings.is_empty() {
            return self.state.input.clone();
        }
        let context = self.context(name);
        let sources = Sources {
            input: &self.state.input,
            local: &self.state.local,
            context: &context,
            output: None,
        };
        mapping::build(&task.input_mappings, &sources)
    }

    /// A step failed: retry it, hand the error to a catch, or fail the execution.
    fn failed(&mut self, name: &str, error: &str, cause: &str) -> Result<Next, FlowError> {
        let (_, step) = self.flow.step(name)?;
        let (retry, catch): (&[Retry], &[_]) = match step {
            Step::Task(task) => (&task.retry, &task.catch),
            _ => (&[], &[]),
        };
        if let Some(policy) = retry.iter().find(|r| matches_error(&r.errors, error)) {
            let max_attempts = policy.max_attempts.unwrap_or(3);
            if self.state.attempt < max_attempts {
                let interval = policy.interval_seconds.unwrap_or(1) as f64;
                let multiplier = policy.multiplier.unwrap_or(2.0);
                let exponent =
                    i32::try_from(self.state.attempt.saturating_sub(1)).unwrap_or(i32::MAX);
                let seconds = (interval * multiplier.powi(exponent))
                    .round()
                    .clamp(0.0, 86_400.0) as u64;
                self.state.status = Status::Waiting;
                self.state.pending = Some(Pending::Retry);
                self.record(
                    HistoryKind::TaskRetryScheduled,
                    Some(name),
                    json!({"error": error, "attempt": self.state.attempt, "in_seconds": seconds}),
                );
                self.out.commands.push(Command::StartTimer {
                    step: name.to_owned(),
                    seconds,
                });
                return Ok(Next::Done);
            }
        }
        if let Some(handler) = catch.iter().find(|c| matches_error(&c.errors, error)) {
            self.state.error = Some(CaughtError {
                error: error.to_owned(),
                cause: cause.to_owned(),
                step: name.to_owned(),
            });
            self.record(
                HistoryKind::ErrorCaught,
                Some(name),
                json!({"error": error, "cause": cause, "goto": handler.goto}),
            );
            return Ok(Next::Enter(handler.goto.clone()));
        }
        self.finish(Outcome::Failed {
            error: error.to_owned(),
            cause: cause.to_owned(),
        })
    }

    fn finish(&mut self, outcome: Outcome) -> Result<Next, FlowError> {
        self.state.pending = None;
        match &outcome {
            Outcome::Succeeded => {
                self.state.status = Status::Succeeded;
                self.record(HistoryKind::ExecutionSucceeded, None, json!({}));
            }
            Outcome::Failed { error, cause } => {
                self.state.status = Status::Failed;
                self.record(
                    HistoryKind::ExecutionFailed,
                    None,
                    json!({"error": error, "cause": cause}),
                );
            }
        }
        self.out.commands.push(Command::Finish(outcome));
        Ok(Next::Done)
    }
}

/// A waiting step with no timeout of its own nor a flow timeout (which publishing forbids)
/// still ends: after a day.
const DEFAULT_CALLBACK_TIMEOUT_SECONDS: u64 = 86_400;

#[cfg(test)]
mod tests;
