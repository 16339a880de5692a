//! The sandbox, the contracts and the error mapping, end to end through `FunctionRuntime`.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use proptest::prelude::*;
use serde_json::{Value, json};

use super::*;

fn runtime() -> FunctionRuntime {
    FunctionRuntime::new(Limits::default())
}

fn order(amount: i64) -> Value {
    json!({
        "amount_minor": amount, "currency": "CNY", "method": "alipay", "merchant_id": "haidilao",
        "items": [{"sku": "beef", "name": "Beef slices", "quantity": 2, "unit_price_minor": 5000}],
        "fields": {"vip": true}
    })
}

/// Compiles and runs `script` on an order of 100.00.
fn run_with(runtime: &FunctionRuntime, script: &str) -> Evaluation<DiscountOutput> {
    let compiled = runtime
        .compile(script)
        .unwrap_or_else(|e| panic!("{script:?} does not compile: {e}"));
    runtime.run_discount(&compiled, &order(10_000))
}

/// Runs `script` under the default limits but a generous wall clock, so that the limit a
/// test expects is not beaten by a slow (debug, loaded) machine.
fn run(script: &str) -> Evaluation<DiscountOutput> {
    let patient = FunctionRuntime::new(Limits {
        wall_clock: Duration::from_secs(30),
        ..Limits::default()
    });
    run_with(&patient, script)
}

fn error_of(evaluation: &Evaluation<DiscountOutput>) -> &FunctionError {
    match &evaluation.outcome {
        Ok(output) => panic!("expected an error, got {output:?}"),
        Err(error) => error,
    }
}

fn compile_error(script: &str) -> FunctionError {
    match runtime().compile(script) {
        Ok(_) => panic!("{script:?} compiled"),
        Err(error) => error,
    }
}

fn assert_kind(script: &str, kind: FunctionErrorKind) -> FunctionError {
    let evaluation = run(script);
    let error = error_of(&evaluation).clone();
    assert_eq!(error.kind, kind, "{script:?}: {error:?}");
    error
}

// ---- the API's basics ----

#[test]
fn the_runtime_and_scripts_are_shareable() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<FunctionRuntime>();
    send_sync::<CompiledScript>();
    send_sync::<Evaluation<DiscountOutput>>();
}

#[test]
fn default_limits() {
    let limits = Limits::default();
    assert_eq!(limits.max_operations, 200_000);
    assert_eq!(limits.max_call_levels, 32);
    assert_eq!(limits.max_expr_depth, 64);
    assert_eq!(limits.max_function_expr_depth(), 32);
    assert_eq!(limits.max_string_size, 65_536);
    assert_eq!(limits.max_array_size, 10_000);
    assert_eq!(limits.max_map_size, 10_000);
    assert_eq!(limits.max_variables, 256);
    assert_eq!(limits.max_functions, 64);
    assert_eq!(limits.wall_clock, Duration::from_millis(50));
    assert_eq!(limits.max_log_lines, 100);
    assert_eq!(limits.max_log_line_chars, 1_000);
    assert_eq!(runtime().limits().max_operations, 200_000);
}

#[test]
fn error_kinds_have_flow_names() {
    use FunctionErrorKind as K;
    let names = [
        (K::CompileError, "Function.CompileError"),
        (K::RuntimeError, "Function.RuntimeError"),
        (K::LimitExceeded, "Function.LimitExceeded"),
        (K::Timeout, "Function.Timeout"),
        (K::InvalidResult, "Function.InvalidResult"),
    ];
    for (kind, name) in names {
        assert_eq!(kind.as_str(), name);
    }
    let error = FunctionError::new(K::Timeout, "slow");
    assert_eq!(error.to_string(), "Timeout: slow");
    assert_eq!(
        serde_json::to_value(&error).unwrap(),
        json!({"kind": "Timeout", "message": "slow", "line": null, "column": null})
    );
}

// ---- results ----

#[test]
fn an_integer_is_the_final_amount() {
    let evaluation = run("percent_of(order.amount_minor, 80)");
    assert_eq!(
        evaluation.outcome,
        Ok(DiscountOutput {
            amount_minor: 8000,
            label: None
        })
    );
    assert!(evaluation.operations > 0);
    assert!(evaluation.logs.is_empty());
}

#[test]
fn a_map_carries_amount_and_label() {
    let evaluation =
        run(r#"#{ amount_minor: percent_of(order.amount_minor, 80), label: "Alipay: 20% off" }"#);
    assert_eq!(
        evaluation.outcome,
        Ok(DiscountOutput {
            amount_minor: 8000,
            label: Some("Alipay: 20% off".into())
        })
    );
    assert_eq!(
        run("#{ amount_minor: 1 }").outcome,
        Ok(DiscountOutput {
            amount_minor: 1,
            label: None
        })
    );
}

#[test]
fn scripts_can_use_the_order_helpers_functions_and_closures() {
    let script = r#"
        // 10.00 off orders of 100.00 or more, then at most 50% off, never below 1.00
        fn discount(amount) { if amount >= 10000 { amount_off(amount, 1000) } else { amount } }
        let quantity = 0;
        for item in order.items { quantity += item.quantity; }
        let floor = max(percent_of(order.amount_minor, 50), min(100, order.amount_minor));
        let double = |x| x * 2;
        let result = clamp(discount(order.amount_minor), floor, order.amount_minor);
        if order.fields.vip && order.method == "alipay" && quantity == double.call(1) {
            #{ amount_minor: result, label: `VIP ${order.currency}` }
        } else {
            order.amount_minor
        }
    "#;
    assert_eq!(
        run(script).outcome,
        Ok(DiscountOutput {
            amount_minor: 9000,
            label: Some("VIP CNY".into())
        })
    );
    assert_eq!(run("return 42;").outcome.map(|o| o.amount_minor), Ok(42));
}

#[test]
fn the_guardrail_keeps_the_final_amount_between_zero_and_the_original() {
    let error = assert_kind("-1", FunctionErrorKind::InvalidResult);
    assert!(error.message.contains("negative"), "{}", error.message);
    let error = assert_kind("10001", FunctionErrorKind::InvalidResult);
    assert!(
        error.message.contains("would raise the price"),
        "{}",
        error.message
    );
    assert_kind("#{amount_minor: 10001}", FunctionErrorKind::InvalidResult);
    assert_eq!(run("10000").outcome.map(|o| o.amount_minor), Ok(10_000));
    assert_eq!(run("0").outcome.map(|o| o.amount_minor), Ok(0));
    // The script's copy of the order is its own: raising it raises nothing.
    let error = assert_kind(
        "order.amount_minor = 1000000; 500000",
        FunctionErrorKind::InvalidResult,
    );
    assert!(
        error.message.contains("order amount 10000"),
        "{}",
        error.message
    );
}

#[test]
fn other_results_are_invalid_and_say_what_was_returned() {
    for (script, shown) in [
        ("1.5", "a float (1.5)"),
        (r#""abc""#, r#"a string ("abc")"#),
        ("()", "nothing"),
        ("let x = 1;", "nothing"),
        ("true", "a boolean (true)"),
        ("[1, 2]", "an array"),
        ("'x'", "a character"),
    ] {
        let error = assert_kind(script, FunctionErrorKind::InvalidResult);
        assert!(
            error.message.contains(shown),
            "{script:?}: {}",
            error.message
        );
    }
    for (script, shown) in [
        (r#"#{label: "x"}"#, "without amount_minor"),
        (r#"#{amount_minor: 1, lable: "x"}"#, "unknown key 'lable'"),
        ("#{amount_minor: 1.5}", "amount_minor must be an integer"),
        (r#"#{amount_minor: "1"}"#, "amount_minor must be an integer"),
        ("#{amount_minor: 1, label: 5}", "label must be a string"),
        (
            r#"let l = ""; l.pad(201, 'x'); #{amount_minor: 1, label: l}"#,
            "longer than 200",
        ),
    ] {
        let error = assert_kind(script, FunctionErrorKind::InvalidResult);
        assert!(
            error.message.contains(shown),
            "{script:?}: {}",
            error.message
        );
    }
}

// ---- input ----

#[test]
fn the_order_amount_must_be_a_non_negative_integer() {
    let runtime = runtime();
    let script = runtime.compile("order.amount_minor").unwrap();
    for order in [
        json!({"currency": "CNY"}),
        json!({"amount_minor": -1}),
        json!({"amount_minor": 1.5}),
        json!({"amount_minor": "100"}),
        json!({"amount_minor": 18446744073709551615u64}),
    ] {
        let evaluation = runtime.run_discount(&script, &order);
        let error = evaluation.outcome.unwrap_err();
        assert_eq!(error.kind, FunctionErrorKind::RuntimeError, "{order}");
        assert_eq!(
            error.message,
            "order.amount_minor must be a non-negative integer"
        );
        assert_eq!(evaluation.operations, 0);
    }
    let error = runtime
        .run_discount(&script, &json!([1]))
        .outcome
        .unwrap_err();
    assert_eq!(error.kind, FunctionErrorKind::RuntimeError);
    assert!(
        error.message.contains("must be a JSON object"),
        "{}",
        error.message
    );
}

#[test]
fn json_values_arrive_as_rhai_values() {
    let runtime = runtime();
    let script = runtime
        .compile(
            r#"
            let f = order.fields;
            if type_of(f.none) == "()" && type_of(f.ratio) == "f64" && type_of(f.big) == "f64"
                && f.flag == true && f.name == "x" && f.list[1] == 2 && f.nested.deep == -3
                && type_of(order.amount_minor) == "i64" { 7 } else { 8 }
            "#,
        )
        .unwrap();
    let order = json!({"amount_minor": 10, "fields": {
        "none": null, "ratio": 0.5, "big": 18446744073709551615u64, "flag": true, "name": "x",
        "list": [1, 2], "nested": {"deep": -3}
    }});
    assert_eq!(
        runtime
            .run_discount(&script, &order)
            .outcome
            .map(|o| o.amount_minor),
        Ok(7)
    );
}

// ---- compile errors ----

#[test]
fn a_syntax_error_reports_its_line_and_column() {
    let error = compile_error("let x = ;");
    assert_eq!(error.kind, FunctionErrorKind::CompileError);
    assert_eq!((error.line, error.column), (Some(1), Some(9)));
    assert!(
        error.message.contains("line 1, column 9"),
        "{}",
        error.message
    );

    let error = compile_error("let a = 1;\n  let b = a +;\n");
    assert_eq!(error.kind, FunctionErrorKind::CompileError);
    assert_eq!((error.line, error.column), (Some(2), Some(14)));
}

#[test]
fn variables_are_strict() {
    let error = compile_error("let a = 1;\nb + a");
    assert_eq!(error.kind, FunctionErrorKind::CompileError);
    assert_eq!((error.line, error.column), (Some(2), Some(1)));
    assert!(
        error.message.contains("Undefined variable: b"),
        "{}",
        error.message
    );
}

#[test]
fn eval_does_not_compile_and_is_never_reached() {
    let error = compile_error(r#"eval("1")"#);
    assert_eq!(error.kind, FunctionErrorKind::CompileError);
    assert_eq!((error.line, error.column), (Some(1), Some(1)));
    assert_eq!(
        compile_error(r#""1".eval()"#).kind,
        FunctionErrorKind::CompileError
    );
    // Nor through a function pointer.
    let error = assert_kind(r#"Fn("eval").call("1")"#, FunctionErrorKind::RuntimeError);
    assert!(error.message.contains("eval"), "{}", error.message);
}

#[test]
fn modules_cannot_be_imported() {
    for script in [
        r#"import "x" as y; 1"#,
        r#"import "/etc/passwd" as p; 1"#,
        "export const x = 1; 1",
    ] {
        assert_eq!(
            compile_error(script).kind,
            FunctionErrorKind::CompileError,
            "{script}"
        );
    }
}

#[test]
fn there_is_no_file_env_process_time_or_sleep_function() {
    for script in [
        r#"open_file("x")"#,
        r#"read_file("/etc/passwd")"#,
        r#"env("HOME")"#,
        r#"system("ls")"#,
        "sleep(10)",
        "timestamp()",
        "exit(5)",
        r#"parse_json("{}")"#,
        r#"Fn("sleep").call(10)"#,
    ] {
        let error = assert_kind(script, FunctionErrorKind::RuntimeError);
        assert!(
            error.message.contains("function not found"),
            "{script}: {}",
            error.message
        );
    }
}

#[test]
fn too_many_functions_or_too_deep_expressions_do_not_compile() {
    let functions: String = (0..65).map(|i| format!("fn f{i}() {{ {i} }}\n")).collect();
    assert_eq!(
        compile_error(&format!("{functions} 1")).kind,
        FunctionErrorKind::CompileError
    );
    let functions: String = (0..64).map(|i| format!("fn f{i}() {{ {i} }}\n")).collect();
    assert!(runtime().compile(&format!("{functions} 1")).is_ok());

    let deep = format!("{}1{}", "(".repeat(100), ")".repeat(100));
    assert_eq!(compile_error(&deep).kind, FunctionErrorKind::CompileError);
    let deep_in_function = format!("fn f() {{ {}1{} }} f()", "(".repeat(40), ")".repeat(40));
    assert_eq!(
        compile_error(&deep_in_function).kind,
        FunctionErrorKind::CompileError
    );
    let shallow = format!("{}1{}", "(".repeat(20), ")".repeat(20));
    assert!(runtime().compile(&shallow).is_ok());
}

// ---- runtime errors ----

#[test]
fn runtime_errors_carry_their_location() {
    let error = assert_kind(
        "let x = 0;\nlet y = order.amount_minor / x;\ny",
        FunctionErrorKind::RuntimeError,
    );
    assert_eq!((error.line, error.column), (Some(2), Some(28)));
    assert!(
        error.message.contains("Division by zero"),
        "{}",
        error.message
    );

    let error = assert_kind(
        "fn g(a) {\n    a / 0\n}\ng(1)",
        FunctionErrorKind::RuntimeError,
    );
    assert_eq!(error.line, Some(2));
    assert!(error.message.contains("in function g"), "{}", error.message);

    let error = assert_kind(
        r#"throw "no discount today""#,
        FunctionErrorKind::RuntimeError,
    );
    assert!(
        error.message.contains("no discount today"),
        "{}",
        error.message
    );
    assert_eq!((error.line, error.column), (Some(1), Some(1)));

    let error = assert_kind("order.items[5].quantity", FunctionErrorKind::RuntimeError);
    assert!(error.message.contains("out of bounds"), "{}", error.message);
}

#[test]
fn arithmetic_overflow_is_an_error_not_a_panic() {
    for script in [
        "order.amount_minor * 9223372036854775807",
        "9223372036854775807 + order.amount_minor",
        "let x = -9223372036854775807 - 1; -x",
        "percent_of(9223372036854775807, 200)",
        // Constants too: the optimizer leaves what it cannot fold to the run.
        "9223372036854775807 + 1",
        "1 / 0",
        "let x = 2; x ** 70",
    ] {
        assert_kind(script, FunctionErrorKind::RuntimeError);
    }
}

#[test]
fn money_helpers_reject_bad_arguments() {
    for (script, shown) in [
        (
            "percent_of(order.amount_minor, 20000)",
            "between 0 and 10000",
        ),
        ("percent_of(order.amount_minor, -1)", "between 0 and 10000"),
        ("percent_of(-5, 10)", "must not be negative"),
        ("amount_off(order.amount_minor, -1)", "must not be negative"),
        ("clamp(5, 10, 1)", "above the upper bound"),
        ("percent_of(order.amount_minor, 1.5)", "function not found"),
        ("percent_of(order.amount_mnor, 80)", "function not found"),
    ] {
        let error = assert_kind(script, FunctionErrorKind::RuntimeError);
        assert!(error.message.contains(shown), "{script}: {}", error.message);
        assert_eq!(error.line, Some(1), "{script}");
    }
    assert_eq!(
        run("percent_of(order.amount_minor, 150) - 6000")
            .outcome
            .map(|o| o.amount_minor),
        Ok(9000)
    );
}

// ---- limits ----

#[test]
fn an_endless_loop_hits_the_operation_limit() {
    // Under a generous wall clock, so that a slow machine cannot make the clock win: which
    // limit stops a loop must not depend on how busy the machine is.
    let evaluation = run("loop {}");
    let error = error_of(&evaluation);
    assert_eq!(error.kind, FunctionErrorKind::LimitExceeded, "{error:?}");
    assert!(
        error.message.contains("200000 operations"),
        "{}",
        error.message
    );
    assert_eq!(evaluation.operations, 200_000);

    let error = assert_kind(
        "let i = 0; while true { i += 1; }",
        FunctionErrorKind::LimitExceeded,
    );
    assert_eq!(error.line, Some(1));
}

#[test]
fn a_growing_string_hits_the_string_limit() {
    let error = assert_kind(
        r#"let s = "x"; loop { s += s; }"#,
        FunctionErrorKind::LimitExceeded,
    );
    assert!(error.message.contains("string"), "{}", error.message);
    assert_kind(
        r#"let s = ""; s.pad(100000, 'y'); 1"#,
        FunctionErrorKind::LimitExceeded,
    );
}

#[test]
fn deep_recursion_hits_the_call_limit() {
    let error = assert_kind("fn f(x) { f(x) } f(1)", FunctionErrorKind::LimitExceeded);
    assert!(
        error.message.contains("32 nested function calls"),
        "{}",
        error.message
    );
    assert_kind(
        "fn a(x) { b(x) } fn b(x) { a(x + 1) } a(1)",
        FunctionErrorKind::LimitExceeded,
    );
}

#[test]
fn growing_arrays_and_maps_hit_their_limits() {
    let error = assert_kind(
        "let a = [1]; loop { a += a; }",
        FunctionErrorKind::LimitExceeded,
    );
    assert!(error.message.contains("array"), "{}", error.message);
    assert_kind(
        "let a = []; a.pad(100000, 0); 1",
        FunctionErrorKind::LimitExceeded,
    );

    // Pushing one at a time re-measures the array each time (rhai's size check), so keep
    // the limit small for a quick test.
    let small = FunctionRuntime::new(Limits {
        max_array_size: 500,
        max_map_size: 500,
        wall_clock: Duration::from_secs(30),
        ..Limits::default()
    });
    let error = error_of(&run_with(&small, "let a = []; loop { a.push(1); }")).clone();
    assert_eq!(error.kind, FunctionErrorKind::LimitExceeded, "{error:?}");
    assert!(error.message.contains("500 items"), "{}", error.message);
    // rhai checks a map grown by index assignment when it is next used, not at each
    // assignment; the operation limit bounds the growth in between.
    let evaluation = run_with(
        &small,
        "let m = #{}; for i in 0..1000 { m[`k${i}`] = i; } m.len()",
    );
    let error = error_of(&evaluation);
    assert_eq!(error.kind, FunctionErrorKind::LimitExceeded, "{error:?}");
    assert!(error.message.contains("map"), "{}", error.message);
}

#[test]
fn too_many_variables_hit_the_variable_limit() {
    let script: String = (0..300).map(|i| format!("let v{i} = {i};\n")).collect();
    let error = assert_kind(&format!("{script} 1"), FunctionErrorKind::LimitExceeded);
    assert!(error.message.contains("256 variables"), "{}", error.message);
}

#[test]
fn busy_work_past_the_wall_clock_is_a_timeout() {
    for max_operations in [u64::MAX, 0] {
        let runtime = FunctionRuntime::new(Limits {
            max_operations,
            wall_clock: Duration::from_millis(20),
            ..Limits::default()
        });
        let started = Instant::now();
        let evaluation = run_with(&runtime, "let i = 0; loop { i += 1; }");
        let elapsed = started.elapsed();
        let error = error_of(&evaluation);
        assert_eq!(error.kind, FunctionErrorKind::Timeout, "{error:?}");
        assert!(error.message.contains("20 ms"), "{}", error.message);
        assert!(elapsed >= Duration::from_millis(20), "{elapsed:?}");
        assert!(elapsed < Duration::from_secs(1), "{elapsed:?}");
        assert!(evaluation.operations > 0);
        assert!(evaluation.duration >= Duration::from_millis(20));
    }
}

// ---- logs ----

#[test]
fn print_and_debug_are_captured_into_the_logs() {
    let evaluation = run(
        "print(\"hello\");\ndebug(order.amount_minor);\nprint(`total ${order.amount_minor}`);\n5",
    );
    assert_eq!(evaluation.outcome.map(|o| o.amount_minor), Ok(5));
    assert_eq!(
        evaluation.logs,
        ["hello", "[debug line 2, column 1] 10000", "total 10000"]
    );
}

#[test]
fn logs_are_bounded() {
    let runtime = FunctionRuntime::new(Limits {
        max_log_lines: 3,
        max_log_line_chars: 5,
        ..Limits::default()
    });
    let evaluation = run_with(
        &runtime,
        r#"print("abcdefgh"); for i in 0..10 { print(i) } 1"#,
    );
    assert_eq!(evaluation.logs, ["abcde…", "0", "1", "… 8 more lines"]);
    let evaluation = run_with(&runtime, "for i in 0..4 { print(i) } 1");
    assert_eq!(evaluation.logs, ["0", "1", "2", "… 1 more line"]);
    // A failing run keeps what it printed; the next run starts empty.
    let evaluation = run_with(&runtime, r#"print("bye"); throw "x""#);
    assert_eq!(evaluation.logs, ["bye"]);
    assert!(run_with(&runtime, "1").logs.is_empty());
}

#[test]
fn concurrent_runs_keep_their_own_state() {
    let runtime = Arc::new(FunctionRuntime::new(Limits {
        wall_clock: Duration::from_millis(30),
        max_operations: 0,
        ..Limits::default()
    }));
    let script = runtime
        .compile("print(order.currency); percent_of(order.amount_minor, 50)")
        .unwrap();
    let endless = runtime.compile("loop {}").unwrap();
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let (runtime, script, endless) = (runtime.clone(), script.clone(), endless.clone());
            std::thread::spawn(move || {
                for i in 0..50 {
                    if t == 0 && i % 10 == 0 {
                        let evaluation = runtime.run_discount(&endless, &order(1));
                        assert_eq!(
                            evaluation.outcome.unwrap_err().kind,
                            FunctionErrorKind::Timeout
                        );
                        continue;
                    }
                    let amount = (t * 1000 + i) as i64;
                    let mut order = order(amount);
                    order["currency"] = json!(format!("T{t}"));
                    let evaluation = runtime.run_discount(&script, &order);
                    assert_eq!(
                        evaluation.outcome.unwrap().amount_minor,
                        percent_of(amount, 50).unwrap()
                    );
                    assert_eq!(evaluation.logs, [format!("T{t}")]);
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
}

// ---- conditions ----

#[test]
fn conditions_are_boolean_expressions_over_the_order() {
    let runtime = runtime();
    let condition = runtime
        .compile_condition(r#"order.amount_minor >= 5000 && order.fields.vip && order.method in ["alipay", "wechat_pay"]"#)
        .unwrap();
    assert_eq!(
        runtime.run_condition(&condition, &order(10_000)).outcome,
        Ok(true)
    );
    assert_eq!(
        runtime.run_condition(&condition, &order(100)).outcome,
        Ok(false)
    );

    // Flow choices evaluate over any input.
    let choice = runtime.compile_condition("order.approved == true").unwrap();
    assert_eq!(
        runtime
            .run_condition(&choice, &json!({"approved": true}))
            .outcome,
        Ok(true)
    );

    let error = runtime
        .run_condition(
            &runtime.compile_condition("order.amount_minor").unwrap(),
            &order(1),
        )
        .outcome
        .unwrap_err();
    assert_eq!(error.kind, FunctionErrorKind::InvalidResult);
    assert!(
        error.message.contains("an integer (1)"),
        "{}",
        error.message
    );

    let error = runtime
        .run_condition(
            &runtime
                .compile_condition("order.amount_minor / 0 > 1")
                .unwrap(),
            &order(1),
        )
        .outcome
        .unwrap_err();
    assert_eq!(error.kind, FunctionErrorKind::RuntimeError);
}

#[test]
fn conditions_are_expressions_only() {
    let runtime = runtime();
    for expression in [
        "let x = 1; x > 0",
        "order.amount_minor >",
        "x > 1",
        r#"eval("true")"#,
    ] {
        let error = runtime.compile_condition(expression).unwrap_err();
        assert_eq!(error.kind, FunctionErrorKind::CompileError, "{expression}");
        assert!(error.line.is_some(), "{expression}");
    }
}

// ---- documents ----

fn seed_documents() -> Vec<(String, Value)> {
    let merchants = Path::new(env!("CARGO_MANIFEST_DIR")).join("../seeds/merchants");
    let mut documents = Vec::new();
    for merchant in std::fs::read_dir(&merchants).unwrap() {
        let folder = merchant.unwrap().path().join("discount-function");
        let Ok(entries) = std::fs::read_dir(&folder) else {
            continue;
        };
        for entry in entries {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "json") {
                let text = std::fs::read_to_string(&path).unwrap();
                documents.push((
                    path.display().to_string(),
                    serde_json::from_str(&text).unwrap(),
                ));
            }
        }
    }
    documents
}

#[test]
fn every_seed_function_passes_its_own_tests() {
    let runtime = runtime();
    let documents = seed_documents();
    assert!(
        documents.len() >= 6,
        "found {} seed functions",
        documents.len()
    );
    for (path, document) in documents {
        assert!(
            !document["tests"].as_array().unwrap().is_empty(),
            "{path} has no tests"
        );
        assert_eq!(runtime.check_document(&document), [], "{path}");
    }
}

#[test]
fn check_document_reports_each_failing_test_at_its_index() {
    let document = json!({
        "description": "80%",
        "script": "#{ amount_minor: percent_of(order.amount_minor, 80), label: \"20% off\" }",
        "tests": [
            {"name": "passes", "input": {"amount_minor": 10000}, "expect": 8000},
            {"name": "wrong amount", "input": {"amount_minor": 10000}, "expect": 8001},
            {"input": {"amount_minor": 100}, "expect": {"amount_minor": 80, "label": "30% off"}},
            {"name": "bad input", "input": {"amount_minor": -1}, "expect": 0},
            {"name": "label not compared", "input": {"amount_minor": 100}, "expect": {"amount_minor": 80}},
            {"name": "bad expectation", "input": {"amount_minor": 100}, "expect": "80"}
        ]
    });
    let violations = runtime().check_document(&document);
    let pointers: Vec<_> = violations.iter().map(|v| v.pointer.as_str()).collect();
    assert_eq!(
        pointers,
        ["/tests/1", "/tests/2", "/tests/3", "/tests/5/expect"]
    );
    let messages: Vec<_> = violations.iter().map(|v| v.message.as_str()).collect();
    assert_eq!(
        messages[0],
        r#"test 2 "wrong amount" failed: expected 8001, got {"amount_minor":8000,"label":"20% off"}"#
    );
    assert_eq!(
        messages[1],
        r#"test 3 failed: expected {"amount_minor":80,"label":"30% off"}, got {"amount_minor":80,"label":"20% off"}"#
    );
    assert!(messages[2].starts_with(r#"test 4 "bad input" failed: expected 0, got Function.RuntimeError: order.amount_minor must be a non-negative integer"#), "{}", messages[2]);
    assert!(messages[3].contains("bad expectation"), "{}", messages[3]);
}

#[test]
fn check_document_reports_runtime_errors_with_their_location() {
    let document = json!({
        "description": "boom",
        "script": "let x = 0;\norder.amount_minor / x",
        "tests": [{"name": "divides", "input": {"amount_minor": 1}, "expect": 1}]
    });
    let violations = runtime().check_document(&document);
    assert_eq!(violations.len(), 1);
    assert_eq!(violations[0].pointer, "/tests/0");
    assert!(
        violations[0]
            .message
            .contains("Function.RuntimeError: Division by zero"),
        "{}",
        violations[0].message
    );
    assert!(
        violations[0].message.contains("(line 2, column 20)"),
        "{}",
        violations[0].message
    );
    assert_eq!(
        (violations[0].line, violations[0].column),
        (Some(2), Some(20))
    );
}

#[test]
fn check_document_reports_a_compile_error_at_the_script() {
    let document = json!({
        "description": "broken",
        "script": "let a = 1;\nlet x = ;\nx",
        "tests": [{"input": {"amount_minor": 1}, "expect": 1}]
    });
    let violations = runtime().check_document(&document);
    assert_eq!(violations.len(), 1, "{violations:?}");
    assert_eq!(violations[0].pointer, "/script");
    assert!(
        violations[0].message.contains("line 2, column 9"),
        "{}",
        violations[0].message
    );
    assert_eq!(
        (violations[0].line, violations[0].column),
        (Some(2), Some(9))
    );

    assert_eq!(
        runtime().check_document(&json!({"description": "x"}))[0].pointer,
        "/script"
    );
    assert_eq!(
        runtime().check_document(&json!({"script": "1", "tests": {}}))[0].pointer,
        "/tests"
    );
    assert_eq!(runtime().check_document(&json!({"script": "1"})), []);
}

// ---- properties ----

proptest! {
    #[test]
    fn the_guardrail_never_passes_an_amount_outside_zero_to_the_original(
        result in any::<i64>(),
        original in 0i64..=1_000_000_000_000,
        as_map in any::<bool>(),
    ) {
        let runtime = runtime();
        let script = if as_map {
            format!("#{{ amount_minor: {result}, label: \"x\" }}")
        } else {
            format!("{result}")
        };
        // i64::MIN has no literal form; the script computes it.
        let script = if result == i64::MIN { script.replace(&result.to_string(), "(-9223372036854775807 - 1)") } else { script };
        let compiled = runtime.compile(&script).unwrap();
        let evaluation = runtime.run_discount(&compiled, &json!({"amount_minor": original}));
        match evaluation.outcome {
            Ok(output) => {
                prop_assert!((0..=original).contains(&output.amount_minor));
                prop_assert_eq!(output.amount_minor, result);
            }
            Err(error) => {
                prop_assert_eq!(error.kind, FunctionErrorKind::InvalidResult);
                prop_assert!(!(0..=original).contains(&result));
            }
        }
    }

    #[test]
    fn the_guardrail_holds_for_computed_results(result in any::<i64>(), original in any::<i64>()) {
        let runtime = runtime();
        let compiled = runtime.compile("order.fields.result").unwrap();
        let evaluation = runtime.run_discount(&compiled, &json!({"amount_minor": original, "fields": {"result": result}}));
        match evaluation.outcome {
            Ok(output) => prop_assert!(original >= 0 && (0..=original).contains(&output.amount_minor)),
            Err(_) => prop_assert!(original < 0 || !(0..=original).contains(&result)),
        }
    }
}
