//! Discount functions: the seed scripts run from a cached compile, a cold compile, the same
//! computation as native Rust (for the ratio), and a 20-rule routing table plus function.
//!
//! `cargo bench -p domain --bench functions -- --warm-up-time 1 --measurement-time 3`

use std::hint::black_box;
use std::path::Path;

use criterion::{Criterion, criterion_group, criterion_main};
use domain::documents;
use domain::function::{FunctionRuntime, Limits, percent_of};
use domain::routing::{CompiledRoutingTable, Route};
use serde_json::{Value, json};

const SEEDS: [&str; 3] = [
    "alipay-discount",
    "wechat-pay-discount",
    "unionpay-discount",
];

fn seed_script(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../seeds/merchants/haidilao/discount-function")
        .join(format!("{name}.json"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let document: Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    document["script"].as_str().expect("a script").to_owned()
}

fn order() -> Value {
    json!({
        "amount_minor": 9999, "currency": "CNY", "method": "alipay", "merchant_id": "haidilao",
        "items": [{"sku": "tofu", "name": "Frozen tofu", "quantity": 1, "unit_price_minor": 9999}],
        "fields": {}
    })
}

fn bench(c: &mut Criterion) {
    let runtime = FunctionRuntime::new(Limits::default());
    let order = order();

    let mut cached = c.benchmark_group("run_discount_cached");
    for name in SEEDS {
        let script = runtime
            .compile(&seed_script(name))
            .expect("the seed compiles");
        cached.bench_function(name, |b| {
            b.iter(|| {
                let evaluation = runtime.run_discount(black_box(&script), black_box(&order));
                assert!(evaluation.outcome.is_ok());
                evaluation
            })
        });
    }
    cached.finish();

    let source = seed_script("alipay-discount");
    c.bench_function("compile_cold/alipay-discount", |b| {
        b.iter(|| {
            runtime
                .compile(black_box(&source))
                .expect("the seed compiles")
        })
    });

    // The same work in Rust: read the amount from the order JSON, take 80 %, build the output.
    let native = |order: &Value| -> Option<(i64, String)> {
        let amount = order.get("amount_minor")?.as_i64().filter(|a| *a >= 0)?;
        let final_amount = percent_of(amount, 80)?;
        (0..=amount)
            .contains(&final_amount)
            .then(|| (final_amount, "Alipay: 20% off".to_owned()))
    };
    c.bench_function("native/alipay-discount", |b| {
        b.iter(|| native(black_box(&order)).expect("a discount"))
    });
}

/// 19 rules that do not match the order (other methods, amount bands, conditions), then
/// the one that does: the worst case for first-match routing short of the default.
fn twenty_rule_table() -> Value {
    let mut rules: Vec<Value> = (0..14)
        .map(|i| json!({"when": {"method": format!("method_{i}")}, "function": "other"}))
        .collect();
    rules.push(
        json!({"when": {"method": "alipay", "min_amount_minor": 1_000_000}, "function": "big"}),
    );
    rules.push(json!({"when": {"method": "alipay", "max_amount_minor": 100}, "function": "small"}));
    rules.push(json!({"when": {"method": "alipay", "condition": "order.fields.vip == true"}, "function": "vip"}));
    rules.push(json!({"when": {"method": "alipay", "condition": "order.currency == \"USD\""}, "function": "usd"}));
    rules.push(json!({"when": {"method": "wechat_pay"}, "function": "wechat"}));
    rules.push(json!({"when": {"method": "alipay"}, "function": "alipay-discount"}));
    json!({"rules": rules, "default": {"action": "cancel"}})
}

fn bench_routing(c: &mut Criterion) {
    let runtime = FunctionRuntime::new(Limits::default());
    let table = CompiledRoutingTable::compile(
        &runtime,
        documents::parse(&twenty_rule_table()).expect("a table"),
    )
    .expect("the table compiles");
    let script = runtime
        .compile(&seed_script("alipay-discount"))
        .expect("the seed compiles");
    let order = order();
    c.bench_function("route_and_price/20_rules", |b| {
        b.iter(|| {
            let routing = table.route(&runtime, black_box(&order));
            assert_eq!(
                routing.outcome,
                Ok(Route::Function {
                    rule: Some(19),
                    function: "alipay-discount".into()
                })
            );
            let evaluation = runtime.run_discount(&script, black_box(&order));
            assert_eq!(evaluation.outcome.map(|o| o.amount_minor), Ok(7999));
        })
    });
}

criterion_group!(benches, bench, bench_routing);
criterion_main!(benches);
