//! Impact preview: what a candidate configuration would have done to orders that already
//! reached pricing. The caller replays each order twice-over (what it ran with is recorded;
//! what the candidate makes of it is computed) and feeds the pairs to an [`Impact`], which
//! folds them into a bounded summary: counts, discount totals per currency and per payment
//! method, a histogram of the price change, the largest changes, and the orders that would
//! now fail. Nothing here holds more than a bounded number of orders, however many are fed.

use std::collections::BTreeMap;
use std::fmt;

/// Why an order would not be priced under a configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FailureReason {
    /// The discount function (or a routing condition) failed: an error, a limit, a timeout
    /// or a result outside 0 ≤ final ≤ original. The order is canceled `function_error`.
    ScriptError,
    /// No route prices the payment method (no rule matched and the default cancels or is
    /// missing, or the route names an unpublished function). Canceled `no_route`.
    NoRoute,
    /// The payment combination no longer offers the order's method at its amount: the
    /// payment would be refused.
    MethodNotOffered,
    /// The checkout page refuses the order's address or fields: the order could not be
    /// created.
    CheckoutRejected,
}

impl FailureReason {
    pub const ALL: &'static [FailureReason] = &[
        FailureReason::ScriptError,
        FailureReason::NoRoute,
        FailureReason::MethodNotOffered,
        FailureReason::CheckoutRejected,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            FailureReason::ScriptError => "script_error",
            FailureReason::NoRoute => "no_route",
            FailureReason::MethodNotOffered => "method_not_offered",
            FailureReason::CheckoutRejected => "checkout_rejected",
        }
    }
}

impl fmt::Display for FailureReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What pricing an order came to under one configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PriceOutcome {
    /// Priced: the final amount, and the discount function that set it (none when the flow
    /// prices nothing). `version` is `None` for a candidate function (not yet published).
    Priced {
        final_amount_minor: i64,
        function: Option<String>,
        version: Option<i32>,
    },
    /// Not priced, and why.
    Failed {
        reason: FailureReason,
        message: String,
    },
}

impl PriceOutcome {
    /// The final amount, when priced.
    pub fn final_amount(&self) -> Option<i64> {
        match self {
            PriceOutcome::Priced {
                final_amount_minor, ..
            } => Some(*final_amount_minor),
            PriceOutcome::Failed { .. } => None,
        }
    }

    /// The discount the customer got: amount − final when priced, nothing when not (an
    /// order that is not priced is not sold).
    pub fn discount(&self, amount_minor: i64) -> i64 {
        self.final_amount()
            .map_or(0, |final_amount| amount_minor.saturating_sub(final_amount))
    }

    fn failure(&self) -> Option<FailureReason> {
        match self {
            PriceOutcome::Failed { reason, .. } => Some(*reason),
            PriceOutcome::Priced { .. } => None,
        }
    }
}

/// One order: what it ran with (`before`) and what the candidate makes of it (`after`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplayedOrder {
    pub order_id: String,
    pub payment_method: String,
    pub currency: String,
    pub amount_minor: i64,
    pub before: PriceOutcome,
    pub after: PriceOutcome,
}

/// How the candidate changes one order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// The same final amount, or the same failure.
    Unchanged,
    /// Priced both times at different amounts, or priced now where it failed before.
    Changed,
    /// Fails under the candidate, where it was priced before or failed for another reason.
    NowFails,
}

impl ReplayedOrder {
    pub fn change(&self) -> Change {
        match (&self.before, &self.after) {
            (_, PriceOutcome::Failed { reason, .. }) => {
                if self.before.failure() == Some(*reason) {
                    Change::Unchanged
                } else {
                    Change::NowFails
                }
            }
            (PriceOutcome::Failed { .. }, PriceOutcome::Priced { .. }) => Change::Changed,
            (before, after) if before.final_amount() == after.final_amount() => Change::Unchanged,
            _ => Change::Changed,
        }
    }

    /// after − before, in minor units, when the order is priced both times (negative: the
    /// customer pays less).
    pub fn price_change(&self) -> Option<i64> {
        Some(
            self.after
                .final_amount()?
                .saturating_sub(self.before.final_amount()?),
        )
    }
}

/// Counts and discount sums of a set of orders.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tally {
    pub evaluated: u64,
    pub unchanged: u64,
    pub changed: u64,
    pub now_failing: u64,
    /// Σ discount the orders got as they ran.
    pub discount_before_minor: i64,
    /// Σ discount under the candidate.
    pub discount_after_minor: i64,
}

impl Tally {
    fn add(&mut self, order: &ReplayedOrder, change: Change) {
        self.evaluated += 1;
        match change {
            Change::Unchanged => self.unchanged += 1,
            Change::Changed => self.changed += 1,
            Change::NowFails => self.now_failing += 1,
        }
        self.discount_before_minor = self
            .discount_before_minor
            .saturating_add(order.before.discount(order.amount_minor));
        self.discount_after_minor = self
            .discount_after_minor
            .saturating_add(order.after.discount(order.amount_minor));
    }

    /// after − before.
    pub fn discount_difference_minor(&self) -> i64 {
        self.discount_after_minor
            .saturating_sub(self.discount_before_minor)
    }
}

/// A bucket of the price-change histogram, bounds inclusive, in minor units: `0` alone, then
/// decades on each side (1–9, 10–99, 100–999, … and −9…−1, −99…−10, …).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Bucket {
    pub from_minor: i64,
    pub to_minor: i64,
}

impl Bucket {
    /// The bucket holding `change`.
    pub fn of(change: i64) -> Bucket {
        if change == 0 {
            return Bucket {
                from_minor: 0,
                to_minor: 0,
            };
        }
        let magnitude = change.unsigned_abs();
        let digits = magnitude.ilog10(); // 0 for 1–9
        let low = 10u64.pow(digits);
        let high = 10u64
            .checked_pow(digits + 1)
            .map_or(u64::MAX, |next| next - 1);
        let clamp = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
        if change > 0 {
            Bucket {
                from_minor: clamp(low),
                to_minor: clamp(high),
            }
        } else {
            // −i64::MIN does not exist: the lowest bucket ends at i64::MIN.
            let to = -clamp(low);
            let from = if high >= i64::MAX as u64 {
                i64::MIN
            } else {
                -clamp(high)
            };
            Bucket {
                from_minor: from,
                to_minor: to,
            }
        }
    }
}

/// An order that would now fail, with why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failing {
    pub order_id: String,
    pub payment_method: String,
    pub reason: FailureReason,
    pub message: String,
}

/// The summary of a preview.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImpactReport {
    /// Over every order.
    pub overall: Tally,
    /// By currency (discounts in different currencies do not add up).
    pub by_currency: BTreeMap<String, Tally>,
    /// By payment method and currency.
    pub by_method: BTreeMap<(String, String), Tally>,
    /// Orders that would now fail, by reason.
    pub failing_by_reason: BTreeMap<FailureReason, u64>,
    /// The first orders (in the order fed) that would now fail, at most [`Impact::failing_listed`].
    pub failing: Vec<Failing>,
    /// Orders priced both times, by currency and by bucket of their price change; only
    /// non-empty buckets, ascending.
    pub histogram: BTreeMap<String, BTreeMap<Bucket, u64>>,
    /// The orders priced both times whose price changed most (by absolute change; ties: the
    /// later order id first), largest first, at most [`Impact::largest_kept`].
    pub largest: Vec<ReplayedOrder>,
}

/// Folds replayed orders into an [`ImpactReport`], holding a bounded amount of them.
#[derive(Debug, Clone)]
pub struct Impact {
    report: ImpactReport,
    largest_kept: usize,
    failing_listed: usize,
}

impl Impact {
    /// Keeps the `largest_kept` largest changes and lists the first `failing_listed`
    /// failures.
    pub fn new(largest_kept: usize, failing_listed: usize) -> Self {
        Self {
            report: ImpactReport {
                overall: Tally::default(),
                by_currency: BTreeMap::new(),
                by_method: BTreeMap::new(),
                failing_by_reason: BTreeMap::new(),
                failing: Vec::new(),
                histogram: BTreeMap::new(),
                largest: Vec::new(),
            },
            largest_kept,
            failing_listed,
        }
    }

    pub fn largest_kept(&self) -> usize {
        self.largest_kept
    }

    pub fn failing_listed(&self) -> usize {
        self.failing_listed
    }

    pub fn evaluated(&self) -> u64 {
        self.report.overall.evaluated
    }

    pub fn add(&mut self, order: ReplayedOrder) {
        let change = order.change();
        let report = &mut self.report;
        report.overall.add(&order, change);
        report
            .by_currency
            .entry(order.currency.clone())
            .or_default()
            .add(&order, change);
        report
            .by_method
            .entry((order.payment_method.clone(), order.currency.clone()))
            .or_default()
            .add(&order, change);
        if change == Change::NowFails
            && let PriceOutcome::Failed { reason, message } = &order.after
        {
            *report.failing_by_reason.entry(*reason).or_default() += 1;
            if report.failing.len() < self.failing_listed {
                report.failing.push(Failing {
                    order_id: order.order_id.clone(),
                    payment_method: order.payment_method.clone(),
                    reason: *reason,
                    message: message.clone(),
                });
            }
        }
        let Some(price_change) = order.price_change() else {
            return;
        };
        *report
            .histogram
            .entry(order.currency.clone())
            .or_default()
            .entry(Bucket::of(price_change))
            .or_default() += 1;
        if price_change != 0 {
            self.keep_if_large(order, price_change);
        }
    }

    /// Keeps `order` among the largest changes, which stay sorted largest first.
    fn keep_if_large(&mut self, order: ReplayedOrder, price_change: i64) {
        let rank = |o: &ReplayedOrder, change: i64| (change.unsigned_abs(), o.order_id.clone());
        let key = rank(&order, price_change);
        let largest = &mut self.report.largest;
        let position = largest
            .partition_point(|kept| rank(kept, kept.price_change().unwrap_or_default()) > key);
        if position >= self.largest_kept {
            return;
        }
        largest.insert(position, order);
        largest.truncate(self.largest_kept);
    }

    pub fn finish(self) -> ImpactReport {
        self.report
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn priced(amount: i64) -> PriceOutcome {
        PriceOutcome::Priced {
            final_amount_minor: amount,
            function: Some("alipay-discount".into()),
            version: Some(1),
        }
    }

    fn failed(reason: FailureReason) -> PriceOutcome {
        PriceOutcome::Failed {
            reason,
            message: format!("{reason}"),
        }
    }

    fn order(id: &str, method: &str, before: PriceOutcome, after: PriceOutcome) -> ReplayedOrder {
        ReplayedOrder {
            order_id: id.into(),
            payment_method: method.into(),
            currency: "CNY".into(),
            amount_minor: 10_000,
            before,
            after,
        }
    }

    #[test]
    fn changes_are_classified() {
        use FailureReason::*;
        let cases = [
            (priced(8000), priced(8000), Change::Unchanged),
            (priced(8000), priced(7000), Change::Changed),
            (priced(8000), failed(ScriptError), Change::NowFails),
            (failed(NoRoute), failed(NoRoute), Change::Unchanged),
            (failed(NoRoute), failed(ScriptError), Change::NowFails),
            (failed(NoRoute), priced(9000), Change::Changed),
        ];
        for (before, after, expected) in cases {
            let replayed = order("o", "alipay", before.clone(), after.clone());
            assert_eq!(replayed.change(), expected, "{before:?} → {after:?}");
        }
    }

    #[test]
    fn price_change_needs_both_prices() {
        assert_eq!(
            order("o", "alipay", priced(8000), priced(7000)).price_change(),
            Some(-1000)
        );
        assert_eq!(
            order("o", "alipay", failed(FailureReason::NoRoute), priced(7000)).price_change(),
            None
        );
    }

    #[test]
    fn buckets_are_decades_around_zero() {
        let b = |from, to| Bucket {
            from_minor: from,
            to_minor: to,
        };
        assert_eq!(Bucket::of(0), b(0, 0));
        assert_eq!(Bucket::of(1), b(1, 9));
        assert_eq!(Bucket::of(9), b(1, 9));
        assert_eq!(Bucket::of(10), b(10, 99));
        assert_eq!(Bucket::of(1000), b(1000, 9999));
        assert_eq!(Bucket::of(-1), b(-9, -1));
        assert_eq!(Bucket::of(-2000), b(-9999, -1000));
        assert_eq!(Bucket::of(i64::MAX), b(1_000_000_000_000_000_000, i64::MAX));
        assert_eq!(
            Bucket::of(i64::MIN),
            b(i64::MIN, -1_000_000_000_000_000_000)
        );
        // Every value lies in its bucket.
        for v in [-123_456, -10, -9, 5, 99, 100, 7_777_777] {
            let bucket = Bucket::of(v);
            assert!(bucket.from_minor <= v && v <= bucket.to_minor, "{v}");
        }
    }

    #[test]
    fn the_report_adds_up() {
        use FailureReason::*;
        let mut impact = Impact::new(20, 10);
        impact.add(order("o1", "alipay", priced(8000), priced(7000)));
        impact.add(order("o2", "alipay", priced(8000), priced(8000)));
        impact.add(order("o3", "wechat_pay", priced(5000), failed(ScriptError)));
        impact.add(order("o4", "wechat_pay", failed(NoRoute), priced(6000)));
        let report = impact.finish();

        let overall = &report.overall;
        assert_eq!(
            (
                overall.evaluated,
                overall.unchanged,
                overall.changed,
                overall.now_failing
            ),
            (4, 1, 2, 1)
        );
        // Before: 2000 + 2000 + 5000 + 0; after: 3000 + 2000 + 0 + 4000.
        assert_eq!(overall.discount_before_minor, 9000);
        assert_eq!(overall.discount_after_minor, 9000);
        assert_eq!(overall.discount_difference_minor(), 0);
        assert_eq!(report.by_currency["CNY"], *overall);

        let alipay = &report.by_method[&("alipay".to_owned(), "CNY".to_owned())];
        assert_eq!((alipay.evaluated, alipay.changed), (2, 1));
        assert_eq!(alipay.discount_difference_minor(), 1000);
        let wechat = &report.by_method[&("wechat_pay".to_owned(), "CNY".to_owned())];
        assert_eq!((wechat.now_failing, wechat.changed), (1, 1));
        assert_eq!(wechat.discount_difference_minor(), -1000);

        assert_eq!(report.failing_by_reason[&ScriptError], 1);
        assert_eq!(report.failing.len(), 1);
        assert_eq!(report.failing[0].order_id, "o3");

        // Only o1 and o2 are priced both times.
        let histogram = &report.histogram["CNY"];
        assert_eq!(histogram.values().sum::<u64>(), 2);
        assert_eq!(histogram[&Bucket::of(-1000)], 1);
        assert_eq!(histogram[&Bucket::of(0)], 1);
        assert_eq!(report.largest.len(), 1);
        assert_eq!(report.largest[0].order_id, "o1");
    }

    #[test]
    fn only_the_largest_changes_are_kept_in_order() {
        let mut impact = Impact::new(3, 0);
        for (i, change) in [5i64, -50, 20, 0, 300, -7, 50].into_iter().enumerate() {
            impact.add(order(
                &format!("o{i}"),
                "alipay",
                priced(8000),
                priced(8000 + change),
            ));
        }
        let report = impact.finish();
        let kept: Vec<(String, i64)> = report
            .largest
            .iter()
            .map(|o| (o.order_id.clone(), o.price_change().unwrap_or_default()))
            .collect();
        // |−50| ties with |50|: the later id (o6) first.
        assert_eq!(
            kept,
            vec![("o4".into(), 300), ("o6".into(), 50), ("o1".into(), -50)]
        );
    }

    #[test]
    fn the_failure_list_is_bounded_but_counts_are_not() {
        let mut impact = Impact::new(20, 2);
        for i in 0..5 {
            impact.add(order(
                &format!("o{i}"),
                "alipay",
                priced(8000),
                failed(FailureReason::MethodNotOffered),
            ));
        }
        let report = impact.finish();
        assert_eq!(report.failing.len(), 2);
        assert_eq!(
            report.failing_by_reason[&FailureReason::MethodNotOffered],
            5
        );
        assert_eq!(report.overall.now_failing, 5);
        assert_eq!(report.overall.discount_after_minor, 0);
        assert_eq!(report.overall.discount_before_minor, 10_000);
    }
}
