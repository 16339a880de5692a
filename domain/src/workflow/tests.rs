use serde_json::{Value, json};

use super::*;
use crate::documents;

/// Hands out tokens t1, t2, … and answers conditions from a fixed table.
struct TestEnv {
    tokens: u32,
    answers: Vec<Result<bool, String>>,
}

impl TestEnv {
    fn new() -> Self {
        Self {
            tokens: 0,
            answers: vec![],
        }
    }
}

impl Environment for TestEnv {
    fn new_token(&mut self) -> String {
        self.tokens += 1;
        format!("t{}", self.tokens)
    }

    fn condition(
        &mut self,
        _step: &str,
        _index: usize,
        _expression: &str,
        _input: &Value,
    ) -> Result<bool, String> {
        if self.answers.is_empty() {
            Ok(false)
        } else {
            self.answers.remove(0)
        }
    }
}

fn flow(value: Value) -> Flow {
    Flow::new(documents::parse(&value).unwrap())
}

fn default_flow() -> Flow {
    flow(json!({
      "version": "v1", "type": "flow", "timeoutSeconds": 3600,
      "steps": [
        {"type": "task", "name": "generateInfo", "action": "resolve_payment_combination"},
        {"type": "task", "name": "payment", "action": "await_payment",
         "pattern": "waitForCallback", "timeoutSeconds": 300,
         "catch": [{"errors": ["Task.Timeout"], "goto": "orderCanceled"}]},
        {"type": "task", "name": "paymentCombination", "action": "apply_discount",
         "catch": [{"errors": ["Route.NotFound", "Function.Error"], "goto": "orderCanceled"}]},
        {"type": "task", "name": "orderCompleted", "action": "complete_order", "end": true},
        {"type": "task", "name": "orderCanceled", "action": "cancel_order"}
      ]
    }))
}

/// Drives an execution, answering every RunAction with the given outcome per step.
struct Driver {
    flow: Flow,
    state: ExecutionState,
    env: TestEnv,
    history: Vec<&'static str>,
}

impl Driver {
    fn new(flow: Flow) -> Self {
        Self {
            flow,
            state: ExecutionState::new(json!({"amount_minor": 10000})),
            env: TestEnv::new(),
            history: vec![],
        }
    }

    fn send(&mut self, event: Event) -> Vec<Command> {
        let transition = advance(&self.flow, &mut self.state, event, &mut self.env).unwrap();
        self.history
            .extend(transition.history.iter().map(|h| h.kind.as_str()));
        transition.commands
    }

    fn succeed_action(&mut self, output: Value) -> Vec<Command> {
        self.send(Event::TaskSucceeded { output })
    }
}

fn action_of(commands: &[Command]) -> Option<(String, Action)> {
    commands.iter().find_map(|c| match c {
        Command::RunAction { step, action, .. } | Command::AwaitCallback { step, action, .. } => {
            Some((step.clone(), *action))
        }
        _ => None,
    })
}

#[test]
fn a_flow_says_which_actions_its_steps_run() {
    let flow = default_flow();
    assert!(flow.runs(Action::ApplyDiscount));
    assert!(flow.runs(Action::AwaitPayment));
    assert!(!flow.runs(Action::AwaitCallback));
}

#[test]
fn the_default_flow_completes_a_paid_order() {
    let mut d = Driver::new(default_flow());
    let c = d.send(Event::Start);
    assert_eq!(
        action_of(&c),
        Some(("generateInfo".into(), Action::ResolvePaymentCombination))
    );
    let c = d.succeed_action(json!({"methods": ["alipay"]}));
    match &c[..] {
        [
            Command::AwaitCallback {
                step,
                token,
                timeout_seconds,
                ..
            },
        ] => {
            assert_eq!(
                (step.as_str(), token.as_str(), *timeout_seconds),
                ("payment", "t1", 300)
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(d.state.status, Status::Waiting);
    let c = d.succeed_action(json!({"payment_method": "alipay"}));
    assert_eq!(
        action_of(&c),
        Some(("paymentCombination".into(), Action::ApplyDiscount))
    );
    let c = d.succeed_action(json!({"final_amount_minor": 8000}));
    assert_eq!(
        action_of(&c),
        Some(("orderCompleted".into(), Action::CompleteOrder))
    );
    let c = d.succeed_action(json!({}));
    assert_eq!(c, vec![Command::Finish(Outcome::Succeeded)]);
    assert_eq!(d.state.status, Status::Succeeded);
    assert_eq!(
        d.state.local["payment"],
        json!({"payment_method": "alipay"})
    );
    assert_eq!(d.history.first(), Some(&"StepEntered"));
    assert_eq!(d.history.last(), Some(&"ExecutionSucceeded"));
    assert_eq!(d.history.iter().filter(|k| **k == "StepEntered").count(), 4);
}

#[test]
fn a_payment_timeout_is_caught_and_cancels() {
    let mut d = Driver::new(default_flow());
    d.send(Event::Start);
    d.succeed_action(json!({}));
    let c = d.send(Event::TaskTimedOut);
    assert_eq!(
        action_of(&c),
        Some(("orderCanceled".into(), Action::CancelOrder))
    );
    assert_eq!(
        d.state.error,
        Some(CaughtError {
            error: TASK_TIMEOUT.into(),
            cause: "the step's timeout passed before its callback".into(),
            step: "payment".into()
        })
    );
    let c = d.succeed_action(json!({}));
    assert_eq!(c, vec![Command::Finish(Outcome::Succeeded)]);
    assert!(d.history.contains(&"TaskTimedOut") && d.history.contains(&"ErrorCaught"));
}

#[test]
fn a_route_not_found_is_caught_and_cancels() {
    let mut d = Driver::new(default_flow());
    d.send(Event::Start);
    d.succeed_action(json!({}));
    d.succeed_action(json!({"payment_method": "unionpay"}));
    let c = d.send(Event::TaskFailed {
        error: "Route.NotFound".into(),
        cause: "no rule".into(),
    });
    assert_eq!(
        action_of(&c),
        Some(("orderCanceled".into(), Action::CancelOrder))
    );
    assert_eq!(d.state.error.as_ref().unwrap().error, "Route.NotFound");
}

#[test]
fn an_uncaught_error_fails_the_execution() {
    let mut d = Driver::new(default_flow());
    d.send(Event::Start);
    let c = d.send(Event::TaskFailed {
        error: "Payment.Declined".into(),
        cause: "card".into(),
    });
    assert_eq!(
        c,
        vec![Command::Finish(Outcome::Failed {
            error: "Payment.Declined".into(),
            cause: "card".into()
        })]
    );
    assert_eq!(d.state.status, Status::Failed);
    assert_eq!(d.history.last(), Some(&"ExecutionFailed"));
}

#[test]
fn retries_back_off_then_give_up_to_the_catch() {
    let mut d = Driver::new(flow(json!({"version": "v1", "type": "flow", "steps": [
        {"type": "task", "name": "price", "action": "run_function", "function": "f",
         "retry": [{"errors": ["Function.Error"], "maxAttempts": 3, "intervalSeconds": 2, "multiplier": 3}],
         "catch": [{"errors": ["States.ALL"], "goto": "cancel"}]},
        {"type": "succeed", "name": "done"},
        {"type": "task", "name": "cancel", "action": "cancel_order"}
    ]})));
    d.send(Event::Start);
    let fail = || Event::TaskFailed {
        error: "Function.Error".into(),
        cause: "boom".into(),
    };
    let timer = |seconds| {
        vec![Command::StartTimer {
            step: "price".into(),
            seconds,
        }]
    };
    assert_eq!(d.send(fail()), timer(2));
    assert_eq!(
        action_of(&d.send(Event::TimerFired)),
        Some(("price".into(), Action::RunFunction))
    );
    assert_eq!(d.state.attempt, 2);
    assert_eq!(d.send(fail()), timer(6));
    d.send(Event::TimerFired);
    assert_eq!(d.state.attempt, 3);
    let c = d.send(fail());
    assert_eq!(action_of(&c), Some(("cancel".into(), Action::CancelOrder)));
}

#[test]
fn a_retry_that_succeeds_moves_on() {
    let mut d = Driver::new(flow(json!({"version": "v1", "type": "flow", "steps": [
        {"type": "task", "name": "price", "action": "run_function", "function": "f",
         "retry": [{"errors": ["States.ALL"]}]},
        {"type": "succeed", "name": "done"}
    ]})));
    d.send(Event::Start);
    d.send(Event::TaskFailed {
        error: "Function.Timeout".into(),
        cause: "slow".into(),
    });
    d.send(Event::TimerFired);
    let c = d.succeed_action(json!(1));
    assert_eq!(c, vec![Command::Finish(Outcome::Succeeded)]);
}

#[test]
fn choices_pick_the_first_true_condition_or_the_default() {
    let definition = json!({"version": "v1", "type": "flow", "timeoutSeconds": 60, "steps": [
        {"type": "choice", "name": "big", "choices": [
            {"condition": "order.amount_minor > 100000", "goto": "review"},
            {"condition": "order.amount_minor > 5000", "goto": "medium"}],
         "default": "small"},
        {"type": "fail", "name": "review", "error": "Review.Needed"},
        {"type": "succeed", "name": "medium"},
        {"type": "succeed", "name": "small"}
    ]});
    let mut d = Driver::new(flow(definition.clone()));
    d.env.answers = vec![Ok(false), Ok(true)];
    assert_eq!(
        d.send(Event::Start),
        vec![Command::Finish(Outcome::Succeeded)]
    );
    assert_eq!(d.state.step.as_deref(), Some("medium"));
    assert!(d.history.contains(&"ChoiceSelected"));

    let mut d = Driver::new(flow(definition.clone()));
    d.env.answers = vec![Ok(true)];
    assert_eq!(
        d.send(Event::Start),
        vec![Command::Finish(Outcome::Failed {
            error: "Review.Needed".into(),
            cause: String::new()
        })]
    );

    let mut d = Driver::new(flow(definition.clone()));
    d.send(Event::Start);
    assert_eq!(d.state.step.as_deref(), Some("small"));

    let mut d = Driver::new(flow(definition));
    d.env.answers = vec![Err("division by zero".into())];
    match &d.send(Event::Start)[..] {
        [Command::Finish(Outcome::Failed { error, .. })] => assert_eq!(error, "Function.Error"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_choice_loop_fails_instead_of_spinning() {
    let mut d = Driver::new(flow(json!({"version": "v1", "type": "flow", "steps": [
        {"type": "choice", "name": "again", "choices": [{"condition": "true", "goto": "again"}], "default": "again"}
    ]})));
    match &d.send(Event::Start)[..] {
        [Command::Finish(Outcome::Failed { error, .. })] => assert_eq!(error, RUNTIME_ERROR),
        other => panic!("{other:?}"),
    }
}

#[test]
fn wait_and_pass_steps() {
    let mut d = Driver::new(flow(json!({"version": "v1", "type": "flow", "steps": [
        {"type": "pass", "name": "note", "outputMappings": [
            {"target": "total", "source": "$input.amount_minor"}, {"target": "tag", "source": "vip"}]},
        {"type": "wait", "name": "cool", "seconds": 30},
        {"type": "succeed", "name": "done"}
    ]})));
    assert_eq!(
        d.send(Event::Start),
        vec![Command::StartTimer {
            step: "cool".into(),
            seconds: 30
        }]
    );
    assert_eq!(d.state.local["total"], json!(10000));
    assert_eq!(d.state.local["tag"], json!("vip"));
    assert_eq!(
        d.send(Event::TimerFired),
        vec![Command::Finish(Outcome::Succeeded)]
    );
}

#[test]
fn mappings_see_the_task_token_and_write_outputs() {
    let mut d = Driver::new(flow(
        json!({"version": "v1", "type": "flow", "timeoutSeconds": 60, "steps": [
            {"type": "task", "name": "review", "action": "await_callback", "pattern": "waitForCallback",
             "inputMappings": [{"target": "token", "source": "$context.task.token"},
                               {"target": "amount", "source": "$input.amount_minor"}],
             "outputMappings": [{"target": "approved", "source": "$output.ok"}]},
            {"type": "succeed", "name": "done"}
        ]}),
    ));
    match &d.send(Event::Start)[..] {
        [
            Command::AwaitCallback {
                input,
                timeout_seconds,
                ..
            },
        ] => {
            assert_eq!(input, &json!({"token": "t1", "amount": 10000}));
            assert_eq!(*timeout_seconds, 60, "the flow's timeout bounds the step");
        }
        other => panic!("{other:?}"),
    }
    d.succeed_action(json!({"ok": true}));
    assert_eq!(d.state.local["approved"], json!(true));
}

#[test]
fn events_that_do_not_fit_the_state_are_refused() {
    let flow = default_flow();
    let mut state = ExecutionState::new(json!({}));
    let mut env = TestEnv::new();
    let refused = advance(&flow, &mut state, Event::TimerFired, &mut env);
    assert!(matches!(refused, Err(FlowError::UnexpectedEvent { .. })));
    advance(&flow, &mut state, Event::Start, &mut env).unwrap();
    assert!(advance(&flow, &mut state, Event::Start, &mut env).is_err());
    assert!(
        advance(&flow, &mut state, Event::TaskTimedOut, &mut env).is_err(),
        "not waiting for a callback"
    );
}

#[test]
fn scripts_ahead_stop_at_the_next_wait() {
    let flow = default_flow();
    // Starting reaches the payment wait without pricing anything.
    assert!(!flow.may_run_scripts(None));
    // The payment's callback leads to the discount.
    assert!(flow.may_run_scripts(Some("payment")));
    assert!(flow.may_run_scripts(Some("paymentCombination")));
    assert!(!flow.may_run_scripts(Some("orderCompleted")));
    assert!(!flow.may_run_scripts(Some("orderCanceled")));
    // An unknown step is treated as the worst case.
    assert!(flow.may_run_scripts(Some("nowhere")));
}

#[test]
fn scripts_ahead_see_choices_and_catch_targets() {
    let flow = flow(json!({
      "version": "v1", "type": "flow", "timeoutSeconds": 60,
      "steps": [
        {"type": "choice", "name": "big", "choices": [{"condition": "order.amount_minor > 100", "goto": "review"}], "default": "done"},
        {"type": "task", "name": "review", "action": "await_callback", "pattern": "waitForCallback",
         "catch": [{"errors": ["States.ALL"], "goto": "price"}]},
        {"type": "wait", "name": "pause", "seconds": 5, "goto": "done"},
        {"type": "task", "name": "price", "action": "run_function", "function": "f", "end": true},
        {"type": "succeed", "name": "done"}
      ]
    }));
    assert!(flow.may_run_scripts(None), "the first step is a choice");
    assert!(flow.may_run_scripts(Some("review")), "its catch prices");
    assert!(!flow.may_run_scripts(Some("pause")));
}
