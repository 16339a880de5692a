//! The checks a document must pass to be published, beyond its JSON Schema: consistency
//! within the document and with the other published documents it names.

use std::collections::{BTreeSet, HashMap, HashSet};

use serde_json::Value;

use crate::documents::checkout_page::{CheckoutPage, CompiledCheckoutPage, SectionKind};
use crate::documents::flow::{FlowDefinition, Pattern, Step};
use crate::documents::payment_combination::PaymentCombination;
use crate::documents::payment_method::PaymentMethod;
use crate::documents::routing_table::{DefaultRoute, RoutingTable};
use crate::documents::{self};
use crate::function::FunctionRuntime;
use crate::kind::Kind;
use crate::routing::{self, CompiledRoutingTable};
use crate::schema;
use crate::violation::{Violation, escape_token};

/// What is already published that a document may refer to.
#[derive(Debug, Clone, Default)]
pub struct PublishedContext {
    /// Codes of the published platform payment methods.
    pub catalog: BTreeSet<String>,
    /// Names of the discount functions published in the document's scope.
    pub functions: BTreeSet<String>,
    /// The methods the scope's published payment combination enables.
    pub enabled_methods: Vec<String>,
    /// The scope's published routing table, if any.
    pub routing_table: Option<RoutingTable>,
}

/// What publishing a document may set off without being wrong, each at a JSON pointer: an
/// enabled payment method that the routing table does not route while its default cancels
/// (customers can choose it and pay, then see the order canceled with `no_route`). Both
/// sides of the pair can introduce it, so both are warned. A document that fails its
/// schema has no warnings: its problems come first.
pub fn publish_warnings(
    kind: Kind,
    document: &Value,
    context: &PublishedContext,
) -> Vec<Violation> {
    if schema::validate(kind, document).is_err() {
        return vec![];
    }
    match kind {
        Kind::RoutingTable => match documents::parse::<RoutingTable>(document) {
            // Without a default, an unrouted method is a problem, not a warning.
            Ok(table) if table.default.is_some() => {
                routing::unrouted_methods(&table, &context.enabled_methods)
                    .into_iter()
                    .map(|method| {
                        Violation::new(
                            "/default",
                            format!(
                                "the merchant's payment combination enables '{method}', which no rule routes: customers can choose it and pay, and the default cancels the order (no_route)"
                            ),
                        )
                    })
                    .collect()
            }
            _ => vec![],
        },
        Kind::PaymentCombination => {
            let (Ok(combination), Some(table)) = (
                documents::parse::<PaymentCombination>(document),
                &context.routing_table,
            ) else {
                return vec![];
            };
            let enabled: Vec<String> = combination.methods.into_iter().map(|m| m.method).collect();
            let unrouted = routing::unrouted_methods(table, &enabled);
            enabled
                .iter()
                .enumerate()
                .filter(|(_, method)| unrouted.contains(method))
                .map(|(i, method)| {
                    Violation::new(
                        format!("/methods/{i}/method"),
                        format!(
                            "no rule of the published routing table routes '{method}' and its default routes to no function: customers can choose it and pay, and the order is canceled (no_route)"
                        ),
                    )
                })
                .collect()
        }
        _ => vec![],
    }
}

/// Everything publishing demands of a document: its schema, then the kind's own checks.
/// Every problem found is reported, not just the first.
pub fn check_publishable(
    kind: Kind,
    name: &str,
    document: &Value,
    context: &PublishedContext,
    runtime: &FunctionRuntime,
) -> Result<(), Vec<Violation>> {
    schema::validate(kind, document)?;
    let violations = match kind {
        Kind::PaymentMethod => check_payment_method(name, &documents::parse(document)?),
        Kind::PaymentCombination => {
            check_payment_combination(&documents::parse(document)?, context)
        }
        Kind::CheckoutPage => check_checkout_page(&documents::parse(document)?),
        Kind::RoutingTable => check_routing_table(&documents::parse(document)?, context, runtime),
        Kind::OrderFlow => check_flow(&documents::parse(document)?),
        Kind::DiscountFunction => runtime.check_document(document),
    };
    if violations.is_empty() {
        Ok(())
    } else {
        Err(violations)
    }
}

fn check_payment_method(name: &str, method: &PaymentMethod) -> Vec<Violation> {
    if method.code == name {
        vec![]
    } else {
        vec![Violation::new(
            "/code",
            format!(
                "code '{}' must equal the document name '{name}'",
                method.code
            ),
        )]
    }
}

fn amount_bounds(
    pointer: &str,
    min: Option<i64>,
    max: Option<i64>,
    violations: &mut Vec<Violation>,
) {
    if let (Some(min), Some(max)) = (min, max)
        && min > max
    {
        violations.push(Violation::new(
            format!("{pointer}/max_amount_minor"),
            format!("max_amount_minor ({max}) is below min_amount_minor ({min})"),
        ));
    }
}

fn check_payment_combination(
    combination: &PaymentCombination,
    context: &PublishedContext,
) -> Vec<Violation> {
    let mut violations = Vec::new();
    let mut seen = HashSet::new();
    for (i, enabled) in combination.methods.iter().enumerate() {
        let pointer = format!("/methods/{i}");
        if !context.catalog.contains(&enabled.method) {
            violations.push(Violation::new(
                format!("{pointer}/method"),
                format!(
                    "payment method '{}' is not in the platform catalog (published payment-method documents)",
                    enabled.method
                ),
            ));
        }
        if !seen.insert(enabled.method.as_str()) {
            violations.push(Violation::new(
                format!("{pointer}/method"),
                format!(
                    "payment method '{}' is listed more than once",
                    enabled.method
                ),
            ));
        }
        amount_bounds(
            &pointer,
            enabled.min_amount_minor,
            enabled.max_amount_minor,
            &mut violations,
        );
    }
    violations
}

fn check_checkout_page(page: &CheckoutPage) -> Vec<Violation> {
    let mut violations = Vec::new();
    let mut section_ids = HashSet::new();
    // Address fields fill the order's `address`; all others its `fields`: names must be
    // unique within each of the two.
    let mut field_names: HashMap<bool, HashSet<&str>> = HashMap::new();
    for (s, section) in page.sections.iter().enumerate() {
        if !section_ids.insert(section.id.as_str()) {
            violations.push(Violation::new(
                format!("/sections/{s}/id"),
                format!("section id '{}' is used more than once", section.id),
            ));
        }
        let is_address = section.kind == SectionKind::Address;
        for (f, field) in section.fields.iter().enumerate() {
            let pointer = format!("/sections/{s}/fields/{f}");
            if !field_names
                .entry(is_address)
                .or_default()
                .insert(field.name.as_str())
            {
                violations.push(Violation::new(
                    format!("{pointer}/name"),
                    format!("field name '{}' is used more than once", field.name),
                ));
            }
            let c = &field.constraints;
            if let (Some(min), Some(max)) = (c.min_length, c.max_length)
                && min > max
            {
                violations.push(Violation::new(
                    format!("{pointer}/constraints/max_length"),
                    "max_length is below min_length",
                ));
            }
            if let (Some(min), Some(max)) = (c.minimum, c.maximum)
                && min > max
            {
                violations.push(Violation::new(
                    format!("{pointer}/constraints/maximum"),
                    "maximum is below minimum",
                ));
            }
            let is_select = field.field_type == crate::documents::checkout_page::FieldType::Select;
            if is_select && c.options.as_ref().is_none_or(Vec::is_empty) {
                violations.push(Violation::new(
                    format!("{pointer}/constraints"),
                    "a select field needs constraints.options",
                ));
            }
        }
    }
    // Every pattern must compile: orders are validated against the compiled page.
    if let Err(errors) = CompiledCheckoutPage::compile(page.clone()) {
        violations.extend(errors);
    }
    violations
}

fn check_routing_table(
    table: &RoutingTable,
    context: &PublishedContext,
    runtime: &FunctionRuntime,
) -> Vec<Violation> {
    let mut violations = Vec::new();
    if let Err(errors) = CompiledRoutingTable::compile(runtime, table.clone()) {
        violations.extend(errors);
    }
    violations.extend(routing::shadowed_rules(table));
    violations.extend(routing::uncovered_methods(table, &context.enabled_methods));
    let mut function_published = |pointer: String, function: &str| {
        if !context.functions.contains(function) {
            violations.push(Violation::new(
                pointer,
                format!("discount function '{function}' is not published for this merchant"),
            ));
        }
    };
    for (i, rule) in table.rules.iter().enumerate() {
        function_published(format!("/rules/{i}/function"), &rule.function);
    }
    if let Some(DefaultRoute::Function { function }) = &table.default {
        function_published("/default/function".to_owned(), function);
    }
    for (i, rule) in table.rules.iter().enumerate() {
        let pointer = format!("/rules/{i}/when");
        if !context.catalog.contains(&rule.when.method) {
            violations.push(Violation::new(
                format!("{pointer}/method"),
                format!(
                    "payment method '{}' is not in the platform catalog",
                    rule.when.method
                ),
            ));
        }
        amount_bounds(
            &pointer,
            rule.when.min_amount_minor,
            rule.when.max_amount_minor,
            &mut violations,
        );
    }
    violations
}

/// A flow is well-formed when its step names are unique, every `goto` names a step, waiting
/// is only done by the waiting actions and always bounded by a timeout, and every step can be
/// reached from the first.
pub fn check_flow(flow: &FlowDefinition) -> Vec<Violation> {
    let mut violations = Vec::new();
    let mut index_of: HashMap<&str, usize> = HashMap::new();
    for (i, step) in flow.steps.iter().enumerate() {
        if index_of.insert(step.name(), i).is_some() {
            violations.push(Violation::new(
                format!("/steps/{i}/name"),
                format!("step name '{}' is used more than once", step.name()),
            ));
        }
    }

    for (i, step) in flow.steps.iter().enumerate() {
        let Step::Task(task) = step else { continue };
        let pointer = format!("/steps/{i}");
        let waits = task.pattern == Some(Pattern::WaitForCallback);
        if task.action.waits_for_callback() && !waits {
            violations.push(Violation::new(
                format!("{pointer}/pattern"),
                "this action waits for a callback: set \"pattern\": \"waitForCallback\"",
            ));
        }
        if waits && !task.action.waits_for_callback() {
            violations.push(Violation::new(
                format!("{pointer}/pattern"),
                "only await_payment and await_callback wait for a callback",
            ));
        }
        if waits && task.timeout_seconds.is_none() && flow.timeout_seconds.is_none() {
            violations.push(Violation::new(
                format!("{pointer}/timeoutSeconds"),
                "a waiting step needs a timeout: set timeoutSeconds on the step or on the flow",
            ));
        }
        let needs_function = task.action == crate::documents::flow::Action::RunFunction;
        if needs_function && task.function.is_none() {
            violations.push(Violation::new(
                format!("{pointer}/function"),
                "run_function needs the name of the function to run",
            ));
        }
    }

    let mut reachable = vec![false; flow.steps.len()];
    let mut pending = vec![0usize];
    while let Some(i) = pending.pop() {
        if std::mem::replace(&mut reachable[i], true) {
            continue;
        }
        for (field, target) in flow.steps[i].transitions() {
            match target {
                None if i + 1 < flow.steps.len() => pending.push(i + 1),
                None => {}
                Some(name) => match index_of.get(name) {
                    Some(&j) => pending.push(j),
                    None => violations.push(Violation::new(
                        format!("/steps/{i}{field}"),
                        format!("no step is named '{}'", escape_token(name)),
                    )),
                },
            }
        }
    }
    for (i, step) in flow.steps.iter().enumerate() {
        if !reachable[i] {
            violations.push(Violation::new(
                format!("/steps/{i}"),
                format!("step '{}' can never be reached", step.name()),
            ));
        }
    }
    violations
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn context() -> PublishedContext {
        PublishedContext {
            catalog: ["alipay", "wechat_pay", "unionpay"]
                .map(String::from)
                .into(),
            functions: ["alipay-discount"].map(String::from).into(),
            enabled_methods: vec!["alipay".into()],
            routing_table: None,
        }
    }

    #[test]
    fn an_unrouted_method_behind_a_cancelling_default_is_warned_from_both_sides() {
        let mut context = context();
        context.enabled_methods = vec!["alipay".into(), "wechat_pay".into()];
        let table = json!({"rules": [{"when": {"method": "alipay"}, "function": "alipay-discount"}],
                           "default": {"action": "cancel"}});
        let warnings = publish_warnings(Kind::RoutingTable, &table, &context);
        let pointers: Vec<&str> = warnings.iter().map(|w| w.pointer.as_str()).collect();
        assert_eq!(pointers, ["/default"]);
        assert!(
            warnings[0].message.contains("'wechat_pay'"),
            "{}",
            warnings[0].message
        );

        context.routing_table = Some(documents::parse(&table).unwrap());
        let combination = json!({"methods": [{"method": "wechat_pay"}, {"method": "alipay"}, {"method": "unionpay"}]});
        let warnings = publish_warnings(Kind::PaymentCombination, &combination, &context);
        let pointers: Vec<&str> = warnings.iter().map(|w| w.pointer.as_str()).collect();
        assert_eq!(pointers, ["/methods/0/method", "/methods/2/method"]);

        // A default function routes everything: nothing to warn of.
        let routed_by_default = json!({"rules": [], "default": {"function": "alipay-discount"}});
        assert_eq!(
            publish_warnings(Kind::RoutingTable, &routed_by_default, &context),
            vec![]
        );
        context.routing_table = Some(documents::parse(&routed_by_default).unwrap());
        assert_eq!(
            publish_warnings(Kind::PaymentCombination, &combination, &context),
            vec![]
        );
    }

    fn check_publishable(
        kind: Kind,
        name: &str,
        document: &Value,
        context: &PublishedContext,
    ) -> Result<(), Vec<Violation>> {
        let runtime = FunctionRuntime::new(crate::function::Limits::default());
        super::check_publishable(kind, name, document, context, &runtime)
    }

    /// The pointers of the violations, sorted: the order problems are found in is not part
    /// of the contract.
    fn pointers(result: Result<(), Vec<Violation>>) -> Vec<String> {
        let mut pointers: Vec<String> =
            result.unwrap_err().into_iter().map(|v| v.pointer).collect();
        pointers.sort();
        pointers
    }

    fn default_flow() -> Value {
        json!({
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
        })
    }

    #[test]
    fn the_default_flow_is_well_formed() {
        let ok = check_publishable(Kind::OrderFlow, "default", &default_flow(), &context());
        assert_eq!(ok, Ok(()));
    }

    #[test]
    fn a_flow_with_a_dangling_goto_and_an_orphan_step_is_rejected() {
        let mut flow = default_flow();
        flow["steps"][1]["catch"][0]["goto"] = json!("nowhere");
        flow["steps"][2]["catch"][0]["goto"] = json!("orderCompleted");
        let found = pointers(check_publishable(
            Kind::OrderFlow,
            "default",
            &flow,
            &context(),
        ));
        assert_eq!(found, ["/steps/1/catch/0/goto", "/steps/4"]);
    }

    #[test]
    fn duplicate_step_names_are_rejected() {
        let mut flow = default_flow();
        flow["steps"][3]["name"] = json!("payment");
        let found = pointers(check_publishable(
            Kind::OrderFlow,
            "default",
            &flow,
            &context(),
        ));
        assert!(found.contains(&"/steps/3/name".to_owned()), "{found:?}");
    }

    #[test]
    fn a_wait_without_any_timeout_is_rejected() {
        let mut flow = default_flow();
        flow.as_object_mut().unwrap().remove("timeoutSeconds");
        flow["steps"][1]
            .as_object_mut()
            .unwrap()
            .remove("timeoutSeconds");
        let found = pointers(check_publishable(
            Kind::OrderFlow,
            "default",
            &flow,
            &context(),
        ));
        assert_eq!(found, ["/steps/1/timeoutSeconds"]);
    }

    #[test]
    fn waiting_actions_need_the_callback_pattern() {
        let mut flow = default_flow();
        flow["steps"][1].as_object_mut().unwrap().remove("pattern");
        flow["steps"][0]["pattern"] = json!("waitForCallback");
        let found = pointers(check_publishable(
            Kind::OrderFlow,
            "default",
            &flow,
            &context(),
        ));
        assert_eq!(found, ["/steps/0/pattern", "/steps/1/pattern"]);
    }

    #[test]
    fn choice_targets_make_steps_reachable() {
        let flow = json!({"version": "v1", "type": "flow", "steps": [
            {"type": "choice", "name": "big", "choices": [{"condition": "order.amount_minor > 100", "goto": "review"}], "default": "done"},
            {"type": "succeed", "name": "review"},
            {"type": "succeed", "name": "done"}
        ]});
        assert_eq!(
            check_publishable(Kind::OrderFlow, "default", &flow, &context()),
            Ok(())
        );
    }

    #[test]
    fn combination_methods_must_be_in_the_catalog_once() {
        let doc = json!({"methods": [
            {"method": "alipay"}, {"method": "bitcoin"}, {"method": "alipay"},
            {"method": "unionpay", "min_amount_minor": 500, "max_amount_minor": 100}
        ]});
        let found = pointers(check_publishable(
            Kind::PaymentCombination,
            "default",
            &doc,
            &context(),
        ));
        assert_eq!(
            found,
            [
                "/methods/1/method",
                "/methods/2/method",
                "/methods/3/max_amount_minor"
            ]
        );
    }

    #[test]
    fn routes_must_name_published_functions_and_catalog_methods() {
        let doc = json!({"rules": [
            {"when": {"method": "alipay"}, "function": "alipay-discount"},
            {"when": {"method": "wechat_pay"}, "function": "wechat-pay-discount"},
            {"when": {"method": "paypal"}, "function": "alipay-discount"}
        ], "default": {"function": "missing"}});
        let found = pointers(check_publishable(
            Kind::RoutingTable,
            "default",
            &doc,
            &context(),
        ));
        assert_eq!(
            found,
            [
                "/default/function",
                "/rules/1/function",
                "/rules/2/when/method"
            ]
        );
    }

    #[test]
    fn a_catalog_entry_is_named_by_its_code() {
        let doc = json!({"code": "alipay", "names": {"en": "Alipay"}, "online": true});
        assert_eq!(
            check_publishable(Kind::PaymentMethod, "alipay", &doc, &context()),
            Ok(())
        );
        let found = pointers(check_publishable(
            Kind::PaymentMethod,
            "wechat_pay",
            &doc,
            &context(),
        ));
        assert_eq!(found, ["/code"]);
    }

    #[test]
    fn checkout_page_names_are_unique_per_target() {
        let doc = json!({"sections": [
            {"id": "address", "kind": "address", "fields": [
                {"name": "phone", "type": "phone", "label": "Phone"}]},
            {"id": "extra", "kind": "custom", "fields": [
                {"name": "phone", "type": "phone", "label": "Other phone"},
                {"name": "phone", "type": "text", "label": "Again"},
                {"name": "when", "type": "select", "label": "When"}]}
        ]});
        let found = pointers(check_publishable(
            Kind::CheckoutPage,
            "default",
            &doc,
            &context(),
        ));
        assert_eq!(
            found,
            [
                "/sections/1/fields/1/name",
                "/sections/1/fields/2/constraints"
            ]
        );
    }
}
