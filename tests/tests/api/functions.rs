//! Discount-function dry-runs: the editor's "code on the left, result on the right". Inline
//! scripts and published functions, the output contract and guardrail, the sandbox's
//! limits (an endless loop ends quickly and never starves the server), compile errors with
//! their positions, and publishing a function (it compiles and its embedded tests pass).

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::Value;
use tests::{TestApp, TestResponse, execute, json, on_both_databases};

const DRY_RUN: &str = "/v1/merchants/haidilao/functions/dry-run";
const HAIDILAO: &str = "/v1/merchants/haidilao";

/// The order map a script sees.
fn order(amount: i64) -> Value {
    json!({"amount_minor": amount, "currency": "CNY", "method": "alipay",
           "merchant_id": "haidilao",
           "items": [{"sku": "beef", "name": "Beef slices", "quantity": 2, "unit_price_minor": 5000}],
           "fields": {}})
}

/// Dry-runs an inline script on an order of `amount`; asserts the request itself succeeded.
async fn run_script(app: &TestApp, script: &str, amount: i64) -> TestResponse {
    let response = app
        .post(DRY_RUN, &json!({"script": script, "input": order(amount)}))
        .await;
    response.assert_status(200);
    response
}

/// Asserts a successful run with this final amount; returns the body.
#[track_caller]
fn assert_ok(response: &TestResponse, amount: i64) -> &Value {
    let body = &response.body;
    assert_eq!(body["ok"], true, "{}", response.text);
    assert_eq!(body["output"]["amount_minor"], amount, "{}", response.text);
    assert!(
        body.get("error").is_none_or(Value::is_null),
        "{}",
        response.text
    );
    assert!(body["logs"].is_array(), "{}", response.text);
    body
}

/// Asserts a failed run of this kind (`Function.…`); returns the error object.
#[track_caller]
fn assert_failed<'a>(response: &'a TestResponse, kind: &str) -> &'a Value {
    let body = &response.body;
    assert_eq!(body["ok"], false, "{}", response.text);
    assert!(
        body.get("output").is_none_or(Value::is_null),
        "a failed run has no output: {}",
        response.text
    );
    assert_eq!(body["error"]["kind"], kind, "{}", response.text);
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "an error without a message: {}",
        response.text
    );
    assert!(body["logs"].is_array(), "{}", response.text);
    &body["error"]
}

fn message(error: &Value) -> &str {
    error["message"].as_str().unwrap_or_default()
}

/// A discount-function document paying `percent` % with one embedded test per
/// (amount, expected final amount).
fn percent_function(percent: i64, tests: &[(i64, i64)]) -> Value {
    json!({
        "description": format!("Pay {percent}%."),
        "script": format!("percent_of(order.amount_minor, {percent})"),
        "tests": tests.iter().map(|(amount, expect)| json!({"input": order(*amount), "expect": expect})).collect::<Vec<_>>(),
    })
}

on_both_databases! {
    async fn an_inline_script_runs_on_the_input(app: TestApp) {
        let response = run_script(&app, "percent_of(order.amount_minor, 75)", 10_000).await;
        let body = assert_ok(&response, 7500);
        assert!(body["output"]["label"].is_null(), "{}", response.text);
        assert!(body["operations"].as_u64().is_some_and(|n| n > 0), "{}", response.text);
        assert!(body["duration_us"].is_u64(), "{}", response.text);
        assert_eq!(body["logs"], json!([]));

        // Rounding is half up to the minor unit, and the script sees the whole order.
        assert_ok(&run_script(&app, "percent_of(order.amount_minor, 50)", 9999).await, 5000);
        assert_ok(
            &run_script(&app, "order.items[0].quantity * 1000 + order.currency.len()", 10_000).await,
            2003,
        );
        // The other helpers.
        assert_ok(&run_script(&app, "amount_off(order.amount_minor, 1500)", 10_000).await, 8500);
        assert_ok(&run_script(&app, "amount_off(order.amount_minor, 20000)", 10_000).await, 0);
        assert_ok(&run_script(&app, "clamp(order.amount_minor - 3000, 8000, 9000)", 10_000).await, 8000);
    }

    async fn a_map_result_carries_its_label(app: TestApp) {
        let script = r#"#{amount_minor: amount_off(order.amount_minor, 1500), label: "15.00 off"}"#;
        let response = run_script(&app, script, 10_000).await;
        let body = assert_ok(&response, 8500);
        assert_eq!(body["output"], json!({"amount_minor": 8500, "label": "15.00 off"}));

        // A map without amount_minor, or with a misspelt key, breaks the output contract.
        let response = run_script(&app, r#"#{label: "free"}"#, 10_000).await;
        assert_failed(&response, "Function.InvalidResult");
        let response = run_script(&app, "#{amount: 5}", 10_000).await;
        let error = assert_failed(&response, "Function.InvalidResult");
        assert!(message(error).contains("amount"), "{}", response.text);
    }

    async fn print_and_debug_output_is_captured_in_the_logs(app: TestApp) {
        let response = run_script(&app, "print(\"hi\");\norder.amount_minor", 10_000).await;
        assert_ok(&response, 10_000);
        assert_eq!(response.body["logs"], json!(["hi"]));

        let response = run_script(&app, "print(`total ${order.amount_minor}`);\ndebug(1);\n9000", 10_000).await;
        assert_ok(&response, 9000);
        let logs = response.body["logs"].as_array().unwrap();
        assert_eq!(logs.len(), 2, "{}", response.text);
        assert_eq!(logs[0], "total 10000");
        assert!(logs[1].as_str().unwrap().contains('1'), "{}", response.text);

        // A failing run keeps what it printed.
        let response = run_script(&app, "print(\"before\"); throw \"no discount today\"", 10_000).await;
        let error = assert_failed(&response, "Function.RuntimeError");
        assert!(message(error).contains("no discount today"), "{}", response.text);
        assert_eq!(response.body["logs"], json!(["before"]));
    }

    async fn a_published_function_runs_by_name_and_version(app: TestApp) {
        let response = app.post(DRY_RUN, &json!({"name": "alipay-discount", "input": order(10_000)})).await;
        response.assert_status(200);
        let body = assert_ok(&response, 8000);
        assert_eq!(body["output"]["label"], "Alipay: 20% off");
        assert!(body["operations"].as_u64().is_some_and(|n| n > 0), "{}", response.text);

        let response = app.post(DRY_RUN, &json!({"name": "alipay-discount", "version": 1, "input": order(10_000)})).await;
        response.assert_status(200);
        assert_ok(&response, 8000);

        // A second version: the name alone runs the newest, a version pins the old one.
        let v2 = percent_function(90, &[(10_000, 9000)]);
        assert_eq!(app.publish(HAIDILAO, "discount-function", "alipay-discount", &v2).await, 2);
        let response = app.post(DRY_RUN, &json!({"name": "alipay-discount", "input": order(10_000)})).await;
        response.assert_status(200);
        assert_ok(&response, 9000);
        let response = app.post(DRY_RUN, &json!({"name": "alipay-discount", "version": 1, "input": order(10_000)})).await;
        response.assert_status(200);
        assert_ok(&response, 8000);
        let response = app.post(DRY_RUN, &json!({"name": "alipay-discount", "version": 2, "input": order(9999)})).await;
        response.assert_status(200);
        assert_ok(&response, 8999);

        // The other seed functions.
        let response = app.post(DRY_RUN, &json!({"name": "wechat-pay-discount", "input": order(10_000)})).await;
        response.assert_status(200);
        assert_ok(&response, 5000);
        let response = app.post(DRY_RUN, &json!({"name": "unionpay-discount", "input": order(10_000)})).await;
        response.assert_status(200);
        assert_ok(&response, 7000);
    }

    async fn bad_requests_are_422_with_pointers(app: TestApp) {
        // An unknown function, and an unknown version of a known one.
        let response = app.post(DRY_RUN, &json!({"name": "ghost-discount", "input": order(10_000)})).await;
        response.assert_violations(&["/name"]);
        assert!(response.text.contains("ghost-discount"), "{}", response.text);
        let response = app.post(DRY_RUN, &json!({"name": "alipay-discount", "version": 99, "input": order(10_000)})).await;
        response.assert_problem(422, "validation-failed");
        assert_eq!(response.error_pointers().len(), 1, "{}", response.text);
        assert!(response.text.contains("99"), "{}", response.text);
        // A function that exists only as a draft is not published.
        app.put(&format!("{HAIDILAO}/metadata/discount-function/draft-only/draft"),
                &json!({"description": "d", "script": "order.amount_minor"}))
            .await
            .assert_status(200);
        app.post(DRY_RUN, &json!({"name": "draft-only", "input": order(10_000)}))
            .await
            .assert_violations(&["/name"]);

        // Both a script and a name, or neither.
        let response = app.post(DRY_RUN, &json!({"script": "1", "name": "alipay-discount", "input": order(10_000)})).await;
        response.assert_problem(422, "validation-failed");
        assert_eq!(response.error_pointers().len(), 1, "{}", response.text);
        let response = app.post(DRY_RUN, &json!({"input": order(10_000)})).await;
        response.assert_problem(422, "validation-failed");

        // The input must be the order map.
        for input in [json!([1, 2]), json!("order"), json!(10_000), Value::Null] {
            app.post(DRY_RUN, &json!({"script": "1", "input": input}))
                .await
                .assert_violations(&["/input"]);
        }
        app.post(DRY_RUN, &json!({"name": "alipay-discount", "input": [order(10_000)]}))
            .await
            .assert_violations(&["/input"]);

        // An order map without a usable amount is refused where it stands, as evaluate does.
        for input in [
            json!({"currency": "CNY"}),
            json!({"amount_minor": -5}),
            json!({"amount_minor": "100"}),
            json!({"amount_minor": 1.5}),
            json!({"amount_minor": 18_446_744_073_709_551_615u64}),
            // Beyond the largest amount (2^53 - 1), which ScriptOrder declares as its maximum.
            json!({"amount_minor": 9_007_199_254_740_992u64}),
            json!({"amount_minor": 9_223_372_036_854_775_807u64}),
        ] {
            let response = app.post(DRY_RUN, &json!({"script": "1", "input": input})).await;
            response.assert_violations(&["/input/amount_minor"]);
        }
        app.post(DRY_RUN, &json!({"script": "1", "input": {"amount_minor": 9_007_199_254_740_991u64}}))
            .await
            .assert_status(200);
        // The members ScriptOrder names have its types, or are null; others pass as given.
        for (member, value) in [
            ("fields", json!([null, null])),
            ("items", json!([1])),
            ("items", json!({})),
            ("currency", json!(156)),
            ("method", json!(["alipay"])),
            ("merchant_id", json!(true)),
        ] {
            let response = app.post(DRY_RUN, &json!({"script": "1", "input": {"amount_minor": 1, member: value}})).await;
            response.assert_violations(&[&format!("/input/{member}")]);
        }
        app.post(DRY_RUN, &json!({"script": "1", "input": {"amount_minor": 1, "fields": null, "items": [{}], "tier": [1]}}))
            .await
            .assert_status(200);
        // A version belongs with a name, not an inline script.
        app.post(DRY_RUN, &json!({"script": "1", "version": 1, "input": {"amount_minor": 1}}))
            .await
            .assert_violations(&["/version"]);
        // A version is a positive integer.
        app.post(DRY_RUN, &json!({"name": "alipay-discount", "version": "1", "input": order(10_000)}))
            .await
            .assert_violations(&["/version"]);
        app.post(DRY_RUN, &json!({"name": "alipay-discount", "version": 0, "input": order(10_000)}))
            .await
            .assert_problem(422, "validation-failed");
        // Unknown fields are refused rather than ignored.
        app.post(DRY_RUN, &json!({"script": "1", "input": order(10_000), "inputs": {}}))
            .await
            .assert_violations(&["/inputs"]);
    }

    async fn a_syntax_error_reports_its_line_and_column(app: TestApp) {
        let response = run_script(&app, "let x = ;", 10_000).await;
        let error = assert_failed(&response, "Function.CompileError");
        assert_eq!(error["line"], 1, "{}", response.text);
        assert_eq!(error["column"], 9, "{}", response.text);

        let response = run_script(&app, "let a = 1;\n  let b = a +;\nb", 10_000).await;
        let error = assert_failed(&response, "Function.CompileError");
        assert_eq!((error["line"].as_u64(), error["column"].as_u64()), (Some(2), Some(14)), "{}", response.text);

        // An unknown variable is caught at compile time too (strict variables).
        let response = run_script(&app, "let a = 1;\nb + a", 10_000).await;
        let error = assert_failed(&response, "Function.CompileError");
        assert_eq!((error["line"].as_u64(), error["column"].as_u64()), (Some(2), Some(1)), "{}", response.text);

        // A runtime error has a position as well.
        let response = run_script(&app, "let x = 0;\nlet y = order.amount_minor / x;\ny", 10_000).await;
        let error = assert_failed(&response, "Function.RuntimeError");
        assert_eq!(error["line"], 2, "{}", response.text);
    }

    async fn an_endless_loop_is_stopped_quickly(app: TestApp) {
        let started = Instant::now();
        let response = run_script(&app, "loop {}", 10_000).await;
        let elapsed = started.elapsed();
        // The operation limit ends it; on a machine so loaded that 50 ms of wall clock pass
        // first, the clock does (the domain's unit tests pin each limit on its own).
        let error = &response.body["error"];
        match error["kind"].as_str() {
            Some("Function.LimitExceeded") => {
                assert!(message(error).contains("operations"), "{}", response.text);
            }
            _ => assert_eq!(error["kind"], "Function.Timeout", "{}", response.text),
        }
        assert_eq!(response.body["ok"], false);
        assert!(elapsed < Duration::from_secs(5), "the endless loop took {elapsed:?}");

        let started = Instant::now();
        // A busier loop: each iteration costs more wall-clock time, so in an unoptimised
        // build the 50 ms clock may stop it before the operation count does; either way the
        // sandbox ends it.
        let response = run_script(&app, "let i = 0; while true { i += 1; }", 10_000).await;
        let kind = response.body["error"]["kind"].as_str().unwrap_or_default();
        assert!(
            kind == "Function.LimitExceeded" || kind == "Function.Timeout",
            "{}",
            response.text
        );
        assert_eq!(response.body["ok"], false);
        assert!(started.elapsed() < Duration::from_secs(5), "took {:?}", started.elapsed());
    }

    async fn growing_data_and_deep_recursion_hit_their_limits(app: TestApp) {
        let response = run_script(&app, r#"let s = "x"; loop { s += s; }"#, 10_000).await;
        let error = assert_failed(&response, "Function.LimitExceeded");
        assert!(message(error).contains("string"), "{}", response.text);

        let response = run_script(&app, "let a = [1]; loop { a += a; }", 10_000).await;
        let error = assert_failed(&response, "Function.LimitExceeded");
        assert!(message(error).contains("array"), "{}", response.text);

        let response = run_script(&app, "fn f(x) { f(x + 1) }\nf(1)", 10_000).await;
        let error = assert_failed(&response, "Function.LimitExceeded");
        assert!(message(error).contains("nested function calls"), "{}", response.text);

        let response = run_script(&app, "fn a(x) { b(x) } fn b(x) { a(x + 1) } a(1)", 10_000).await;
        assert_failed(&response, "Function.LimitExceeded");
    }

    async fn eval_and_imports_do_not_compile(app: TestApp) {
        for script in [r#"eval("1")"#, r#"eval("order.amount_minor")"#, r#""1".eval()"#] {
            let response = run_script(&app, script, 10_000).await;
            assert_failed(&response, "Function.CompileError");
        }
        for script in [r#"import "x" as y; 1"#, r#"import "/etc/passwd" as p; 1"#, "export const x = 1; 1"] {
            let response = run_script(&app, script, 10_000).await;
            assert_eq!(response.body["ok"], false, "{script}: {}", response.text);
            assert_eq!(response.body["error"]["kind"], "Function.CompileError", "{script}: {}", response.text);
        }
        // Nothing from the outside world is callable either.
        for script in [r#"read_file("/etc/passwd")"#, r#"system("ls")"#, "sleep(10)", "timestamp()"] {
            let response = run_script(&app, script, 10_000).await;
            assert_eq!(response.body["ok"], false, "{script}: {}", response.text);
            assert_ne!(response.body["error"]["kind"], "Function.Timeout", "{script}: {}", response.text);
        }
    }

    async fn results_outside_the_contract_are_invalid(app: TestApp) {
        for (script, hint) in [
            ("1.5", "float"),
            ("\"abc\"", "string"),
            ("-1", "negative"),
            ("order.amount_minor + 1", "10001"),
            ("#{amount_minor: order.amount_minor * 2}", "20000"),
            ("#{amount_minor: -3, label: \"x\"}", "negative"),
            ("true", "boolean"),
            ("let x = 1;", "nothing"),
        ] {
            let response = run_script(&app, script, 10_000).await;
            let error = assert_failed(&response, "Function.InvalidResult");
            assert!(message(error).contains(hint), "{script}: {}", response.text);
        }
        // The bounds themselves are fine.
        assert_ok(&run_script(&app, "order.amount_minor", 10_000).await, 10_000);
        assert_ok(&run_script(&app, "0", 10_000).await, 0);
    }

    async fn endless_loops_in_parallel_do_not_starve_the_server(app: TestApp) {
        let started = Instant::now();
        let loops: Vec<_> = (0..8)
            .map(|_| {
                let request = app
                    .admin_request(Method::POST, DRY_RUN)
                    .json(&json!({"script": "loop {}", "input": order(10_000)}));
                tokio::spawn(execute(request))
            })
            .collect();
        let health = app.client.get(app.url("/healthz")).send().await.expect("healthz");
        assert_eq!(health.status().as_u16(), 200);
        for handle in loops {
            let response = handle.await.expect("task");
            response.assert_status(200);
            // Operations usually run out first; with eight at once on a small machine the
            // wall clock may win instead. Either way the run was stopped.
            assert_eq!(response.body["ok"], false, "{}", response.text);
            let kind = response.body["error"]["kind"].as_str().unwrap_or_default();
            assert!(
                kind == "Function.LimitExceeded" || kind == "Function.Timeout",
                "{}",
                response.text
            );
        }
        assert!(started.elapsed() < Duration::from_secs(5), "8 loops took {:?}", started.elapsed());

        // Afterwards, everything still works.
        let health = app.client.get(app.url("/healthz")).send().await.expect("healthz");
        assert_eq!(health.status().as_u16(), 200);
        assert_ok(&run_script(&app, "percent_of(order.amount_minor, 80)", 10_000).await, 8000);
        let response = app.post(DRY_RUN, &json!({"name": "alipay-discount", "input": order(10_000)})).await;
        response.assert_status(200);
        assert_ok(&response, 8000);
    }

    async fn dry_runs_need_the_merchants_admin(app: TestApp) {
        let body = json!({"script": "order.amount_minor", "input": order(10_000)});
        let storefront = app.create_key("haidilao", "storefront").await;
        app.send(Method::POST, DRY_RUN, Some(&storefront), Some(&body))
            .await
            .assert_problem(403, "forbidden");
        let other_admin = app.create_key("xibei", "merchant_admin").await;
        app.send(Method::POST, DRY_RUN, Some(&other_admin), Some(&body))
            .await
            .assert_problem(404, "not-found");
        app.send(Method::POST, DRY_RUN, None, Some(&body))
            .await
            .assert_problem(401, "unauthorized");
        // The merchant's own admin key may.
        let own_admin = app.create_key("haidilao", "merchant_admin").await;
        let response = app.send(Method::POST, DRY_RUN, Some(&own_admin), Some(&body)).await;
        response.assert_status(200);
        assert_ok(&response, 10_000);
        // An unknown merchant is a 404.
        app.post("/v1/merchants/nobody/functions/dry-run", &body)
            .await
            .assert_problem(404, "not-found");
    }

    async fn publishing_a_function_runs_its_embedded_tests(app: TestApp) {
        let doc = format!("{HAIDILAO}/metadata/discount-function/seventy");
        let wrong = percent_function(70, &[(10_000, 7500)]);
        app.put(&format!("{doc}/draft"), &wrong).await.assert_status(200);
        let rejected = app.post(&format!("{doc}/publish"), &json!({})).await;
        rejected.assert_violations(&["/tests/0"]);
        let text = rejected.body["errors"][0]["message"].as_str().unwrap();
        assert!(text.contains("expected 7500"), "{text}");
        assert!(text.contains("7000"), "{text}");
        // The draft is kept; nothing is published.
        let kept = app.get(&doc).await;
        kept.assert_status(200);
        assert_eq!(kept.body["draft"], wrong);
        assert!(kept.body["published_version"].is_null(), "{}", kept.text);
        app.post(DRY_RUN, &json!({"name": "seventy", "input": order(10_000)}))
            .await
            .assert_violations(&["/name"]);

        // A script that does not compile.
        let broken = json!({"description": "Broken.", "script": "let x = ;\nx", "tests": []});
        app.put(&format!("{doc}/draft"), &broken).await.assert_status(200);
        let rejected = app.post(&format!("{doc}/publish"), &json!({})).await;
        rejected.assert_violations(&["/script"]);
        assert!(rejected.text.contains("line 1"), "{}", rejected.text);
        assert_eq!(app.get(&doc).await.body["draft"], broken);

        // A passing one publishes as version 1 and runs by name.
        let passing = percent_function(70, &[(10_000, 7000), (5, 4), (0, 0)]);
        app.put(&format!("{doc}/draft"), &passing).await.assert_status(200);
        let published = app.post(&format!("{doc}/publish"), &json!({})).await;
        published.assert_status(201);
        assert_eq!(published.body["version"], 1);
        let response = app.post(DRY_RUN, &json!({"name": "seventy", "input": order(10_000)})).await;
        response.assert_status(200);
        assert_ok(&response, 7000);
        let response = app.post(DRY_RUN, &json!({"name": "seventy", "version": 1, "input": order(9999)})).await;
        response.assert_status(200);
        assert_ok(&response, 6999);
    }
}
