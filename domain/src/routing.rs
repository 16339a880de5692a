//! The routing table: which discount function a payment selects. Rules are tried in order;
//! the first whose method, amount bounds and condition all hold wins.

use serde_json::Value;

use crate::documents::routing_table::{DefaultRoute, RoutingTable, Rule};
use crate::function::{CompiledScript, Evaluation, FunctionError, FunctionRuntime};
use crate::violation::Violation;

/// A routing table with its conditions compiled once.
#[derive(Clone)]
pub struct CompiledRoutingTable {
    table: RoutingTable,
    conditions: Vec<Option<CompiledScript>>,
}

/// Where a payment is routed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// A rule matched (`rule` is its index) or the default names a function (`rule` is None).
    Function {
        rule: Option<usize>,
        function: String,
    },
    /// No rule matched and the default is to cancel the order.
    Cancel,
    /// No rule matched and there is no default.
    NotFound,
}

/// The route, with what evaluating the conditions logged and cost.
#[derive(Debug, Clone)]
pub struct Routing {
    pub outcome: Result<Route, FunctionError>,
    pub logs: Vec<String>,
    pub operations: u64,
}

impl CompiledRoutingTable {
    /// Compiles every condition; a condition that does not compile is reported at its pointer.
    pub fn compile(runtime: &FunctionRuntime, table: RoutingTable) -> Result<Self, Vec<Violation>> {
        let mut violations = Vec::new();
        let conditions = table
            .rules
            .iter()
            .enumerate()
            .map(|(i, rule)| {
                let source = rule.when.condition.as_deref()?;
                runtime
                    .compile_condition(source)
                    .map_err(|e| {
                        violations.push(Violation::new(
                            format!("/rules/{i}/when/condition"),
                            e.message.clone(),
                        ))
                    })
                    .ok()
            })
            .collect();
        if violations.is_empty() {
            Ok(Self { table, conditions })
        } else {
            Err(violations)
        }
    }

    pub fn table(&self) -> &RoutingTable {
        &self.table
    }

    /// Routes a payment. `order` is the order map the scripts see; its `method` and
    /// `amount_minor` decide the static part of each rule.
    pub fn route(&self, runtime: &FunctionRuntime, order: &Value) -> Routing {
        let method = order["method"].as_str().unwrap_or_default();
        let amount = order["amount_minor"].as_i64().unwrap_or(0);
        let mut logs = Vec::new();
        let mut operations = 0;
        for (index, (rule, condition)) in self.table.rules.iter().zip(&self.conditions).enumerate()
        {
            if !static_match(rule, method, amount) {
                continue;
            }
            let holds = match condition {
                None => true,
                Some(condition) => {
                    let Evaluation {
                        outcome,
                        logs: condition_logs,
                        operations: condition_operations,
                        ..
                    } = runtime.run_condition(condition, order);
                    logs.extend(condition_logs);
                    operations += condition_operations;
                    match outcome {
                        Ok(holds) => holds,
                        Err(error) => {
                            return Routing {
                                outcome: Err(error),
                                logs,
                                operations,
                            };
                        }
                    }
                }
            };
            if holds {
                return Routing {
                    outcome: Ok(Route::Function {
                        rule: Some(index),
                        function: rule.function.clone(),
                    }),
                    logs,
                    operations,
                };
            }
        }
        let route = match &self.table.default {
            Some(DefaultRoute::Function { function }) => Route::Function {
                rule: None,
                function: function.clone(),
            },
            Some(DefaultRoute::Cancel { .. }) => Route::Cancel,
            None => Route::NotFound,
        };
        Routing {
            outcome: Ok(route),
            logs,
            operations,
        }
    }
}

fn static_match(rule: &Rule, method: &str, amount: i64) -> bool {
    rule.when.method == method
        && rule.when.min_amount_minor.is_none_or(|min| amount >= min)
        && rule.when.max_amount_minor.is_none_or(|max| amount <= max)
}

/// Rules that can never match because an earlier rule, for the same method and with no
/// condition, accepts every amount they accept.
pub fn shadowed_rules(table: &RoutingTable) -> Vec<Violation> {
    let mut violations = Vec::new();
    for (j, later) in table.rules.iter().enumerate() {
        let shadow = table.rules[..j].iter().position(|earlier| {
            earlier.when.method == later.when.method
                && earlier.when.condition.is_none()
                && earlier.when.min_amount_minor.unwrap_or(0)
                    <= later.when.min_amount_minor.unwrap_or(0)
                && earlier.when.max_amount_minor.unwrap_or(i64::MAX)
                    >= later.when.max_amount_minor.unwrap_or(i64::MAX)
        });
        if let Some(i) = shadow {
            violations.push(Violation::new(
                format!("/rules/{j}"),
                format!(
                    "this rule can never match: rule {} (method '{}') comes first and matches every order it would",
                    i + 1,
                    later.when.method
                ),
            ));
        }
    }
    violations
}

/// Enabled payment methods that no rule names, when the table's default routes to no
/// function (it cancels, or there is none): a payment with one of them is not priced and
/// its order is canceled (`no_route`).
pub fn unrouted_methods<'a>(table: &RoutingTable, enabled: &'a [String]) -> Vec<&'a String> {
    if matches!(table.default, Some(DefaultRoute::Function { .. })) {
        return vec![];
    }
    enabled
        .iter()
        .filter(|method| !table.rules.iter().any(|rule| &rule.when.method == *method))
        .collect()
}

/// Enabled payment methods that no rule routes and no default covers.
pub fn uncovered_methods(table: &RoutingTable, enabled: &[String]) -> Vec<Violation> {
    if table.default.is_some() {
        return vec![];
    }
    unrouted_methods(table, enabled)
        .into_iter()
        .map(|method| {
            Violation::new(
                "/default",
                format!(
                    "the merchant's payment combination enables '{method}', which no rule routes; add a rule or a default"
                ),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::documents;
    use crate::function::Limits;

    fn table(value: Value) -> RoutingTable {
        documents::parse(&value).unwrap()
    }

    fn order(method: &str, amount: i64) -> Value {
        json!({"amount_minor": amount, "currency": "CNY", "method": method, "merchant_id": "m",
               "items": [], "fields": {"vip": amount > 50_000}})
    }

    fn routed(
        compiled: &CompiledRoutingTable,
        runtime: &FunctionRuntime,
        method: &str,
        amount: i64,
    ) -> Route {
        compiled
            .route(runtime, &order(method, amount))
            .outcome
            .unwrap()
    }

    #[test]
    fn first_matching_rule_wins_then_the_default() {
        let runtime = FunctionRuntime::new(Limits::default());
        let compiled = CompiledRoutingTable::compile(
            &runtime,
            table(json!({"rules": [
                {"when": {"method": "alipay", "min_amount_minor": 100_000}, "function": "big-alipay"},
                {"when": {"method": "alipay", "condition": "order.fields.vip"}, "function": "vip-alipay"},
                {"when": {"method": "alipay"}, "function": "alipay-discount"},
            ], "default": {"action": "cancel"}})),
        )
        .unwrap();
        let function = |rule, name: &str| Route::Function {
            rule: Some(rule),
            function: name.to_owned(),
        };
        assert_eq!(
            routed(&compiled, &runtime, "alipay", 200_000),
            function(0, "big-alipay")
        );
        assert_eq!(
            routed(&compiled, &runtime, "alipay", 60_000),
            function(1, "vip-alipay")
        );
        assert_eq!(
            routed(&compiled, &runtime, "alipay", 10_000),
            function(2, "alipay-discount")
        );
        assert_eq!(
            routed(&compiled, &runtime, "unionpay", 10_000),
            Route::Cancel
        );
    }

    #[test]
    fn without_a_default_an_unrouted_method_is_not_found() {
        let runtime = FunctionRuntime::new(Limits::default());
        let compiled = CompiledRoutingTable::compile(
            &runtime,
            table(json!({"rules": [{"when": {"method": "alipay"}, "function": "a"}]})),
        )
        .unwrap();
        assert_eq!(
            routed(&compiled, &runtime, "wechat_pay", 1),
            Route::NotFound
        );
    }

    #[test]
    fn a_default_function_catches_the_rest() {
        let runtime = FunctionRuntime::new(Limits::default());
        let compiled = CompiledRoutingTable::compile(
            &runtime,
            table(json!({"rules": [], "default": {"function": "flat"}})),
        )
        .unwrap();
        assert_eq!(
            routed(&compiled, &runtime, "points", 1),
            Route::Function {
                rule: None,
                function: "flat".into()
            }
        );
    }

    #[test]
    fn a_failing_condition_is_an_error_not_a_miss() {
        let runtime = FunctionRuntime::new(Limits::default());
        let compiled = CompiledRoutingTable::compile(
            &runtime,
            table(json!({"rules": [{"when": {"method": "alipay", "condition": "order.amount_minor / 0 > 1"}, "function": "a"}]})),
        )
        .unwrap();
        assert!(
            compiled
                .route(&runtime, &order("alipay", 10))
                .outcome
                .is_err()
        );
    }

    #[test]
    fn conditions_that_do_not_compile_are_reported_at_their_pointer() {
        let runtime = FunctionRuntime::new(Limits::default());
        let errors = CompiledRoutingTable::compile(
            &runtime,
            table(json!({"rules": [
                {"when": {"method": "alipay"}, "function": "a"},
                {"when": {"method": "alipay", "condition": "order.amount_minor >"}, "function": "b"}]})),
        )
        .err()
        .unwrap();
        assert_eq!(errors[0].pointer, "/rules/1/when/condition");
    }

    #[test]
    fn shadowed_rules_are_found() {
        let t = table(json!({"rules": [
            {"when": {"method": "alipay", "max_amount_minor": 1000}, "function": "a"},
            {"when": {"method": "alipay", "min_amount_minor": 10, "max_amount_minor": 500}, "function": "b"},
            {"when": {"method": "alipay", "min_amount_minor": 500}, "function": "c"},
            {"when": {"method": "alipay", "condition": "true"}, "function": "d"},
            {"when": {"method": "alipay"}, "function": "e"},
            {"when": {"method": "alipay", "min_amount_minor": 5}, "function": "f"},
            {"when": {"method": "wechat_pay"}, "function": "g"},
        ]}));
        let pointers: Vec<_> = shadowed_rules(&t).into_iter().map(|v| v.pointer).collect();
        assert_eq!(pointers, ["/rules/1", "/rules/5"]);
    }

    #[test]
    fn enabled_methods_need_a_rule_or_a_default() {
        let enabled = ["alipay".to_owned(), "unionpay".to_owned()];
        let without_default =
            table(json!({"rules": [{"when": {"method": "alipay"}, "function": "a"}]}));
        let found = uncovered_methods(&without_default, &enabled);
        assert_eq!(found.len(), 1);
        assert!(found[0].message.contains("unionpay"));
        let with_default = table(json!({"rules": [], "default": {"action": "cancel"}}));
        assert!(uncovered_methods(&with_default, &enabled).is_empty());
    }
}
