//! Staged rollout: which of a document's two versions a new order gets while a publish is
//! rolled out to part of the orders, and whether the two versions' conversions differ by
//! more than chance.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Buckets an order can fall in; a percentage takes `percent * 100` of them.
const BUCKETS: u64 = 10_000;

/// The share of new orders a rolled-out version gets, in whole percent: 1 to 99 (0 is an
/// abort, 100 a promotion).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "u8", into = "u8")]
pub struct RolloutPercent(u8);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a rollout percentage is from 1 to 99 (0 is an abort, 100 a promotion), not {0}")]
pub struct PercentOutOfRange(pub i64);

impl RolloutPercent {
    pub fn new(percent: i64) -> Result<Self, PercentOutOfRange> {
        match u8::try_from(percent) {
            Ok(p @ 1..=99) => Ok(Self(p)),
            _ => Err(PercentOutOfRange(percent)),
        }
    }

    pub fn get(self) -> u8 {
        self.0
    }
}

impl TryFrom<u8> for RolloutPercent {
    type Error = PercentOutOfRange;

    fn try_from(percent: u8) -> Result<Self, Self::Error> {
        Self::new(i64::from(percent))
    }
}

impl From<RolloutPercent> for u8 {
    fn from(percent: RolloutPercent) -> u8 {
        percent.0
    }
}

/// A document whose newest version goes to `percent` of new orders, the rest keeping the
/// version published before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rollout {
    /// The version the other orders keep.
    pub stable: i32,
    /// The version being rolled out.
    pub candidate: i32,
    pub percent: RolloutPercent,
}

impl Rollout {
    /// The version an order gets. `document` names the document (so that two rollouts
    /// split the orders independently); `subject` is what must see one price: a customer
    /// reference when the order carries one, else the order id. The same inputs always get
    /// the same version, and raising the percentage only moves orders to the candidate.
    pub fn version_for(&self, document: &str, subject: &str) -> i32 {
        if bucket(document, subject) < u64::from(self.percent.get()) * (BUCKETS / 100) {
            self.candidate
        } else {
            self.stable
        }
    }
}

/// A stable bucket in `0..BUCKETS`: the first eight bytes of a SHA-256, which no build,
/// platform or process start changes (unlike the standard library's hasher).
fn bucket(document: &str, subject: &str) -> u64 {
    let digest = Sha256::new()
        .chain_update(document.as_bytes())
        .chain_update([0])
        .chain_update(subject.as_bytes())
        .finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    u64::from_be_bytes(first) % BUCKETS
}

/// How many of the orders a version got completed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Conversions {
    pub started: u64,
    pub completed: u64,
}

impl Conversions {
    /// Completed / started; `None` before any order started.
    pub fn rate(self) -> Option<f64> {
        (self.started > 0).then(|| self.completed as f64 / self.started as f64)
    }
}

/// A two-proportion z-test of two versions' conversions.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Comparison {
    /// The candidate's conversion minus the stable version's.
    pub difference: f64,
    pub z: f64,
    /// Two-sided: the chance of a difference at least this large if the versions converted
    /// alike.
    pub p_value: f64,
    /// `p_value` < 0.05, with samples large enough for the test to hold.
    pub significant: bool,
}

/// The significance level the comparison reports against.
pub const SIGNIFICANCE: f64 = 0.05;

/// Compares the candidate's conversions with the stable version's; `None` while either has
/// no orders, or while all or none of the orders converted (nothing to tell apart).
pub fn compare(stable: Conversions, candidate: Conversions) -> Option<Comparison> {
    let (p1, p2) = (stable.rate()?, candidate.rate()?);
    let (n1, n2) = (stable.started as f64, candidate.started as f64);
    let pooled = (stable.completed + candidate.completed) as f64 / (n1 + n2);
    let standard_error = (pooled * (1.0 - pooled) * (1.0 / n1 + 1.0 / n2)).sqrt();
    if standard_error == 0.0 {
        return None;
    }
    let z = (p2 - p1) / standard_error;
    let p_value = erfc(z.abs() / std::f64::consts::SQRT_2).clamp(0.0, 1.0);
    Some(Comparison {
        difference: p2 - p1,
        z,
        p_value,
        significant: p_value < SIGNIFICANCE
            && large_enough(stable, pooled)
            && large_enough(candidate, pooled),
    })
}

/// The normal approximation holds when a sample expects at least 5 completions and 5 that
/// did not complete.
fn large_enough(sample: Conversions, pooled: f64) -> bool {
    let n = sample.started as f64;
    n * pooled >= 5.0 && n * (1.0 - pooled) >= 5.0
}

/// The complementary error function, to about 1e-7 (Numerical Recipes' `erfcc`, a Chebyshev
/// fit): enough for a p-value.
fn erfc(x: f64) -> f64 {
    let t = 1.0 / (1.0 + 0.5 * x.abs());
    let poly = -x * x - 1.265_512_23
        + t * (1.000_023_68
            + t * (0.374_091_96
                + t * (0.096_784_18
                    + t * (-0.186_288_06
                        + t * (0.278_868_07
                            + t * (-1.135_203_98
                                + t * (1.488_515_87 + t * (-0.822_152_23 + t * 0.170_872_77))))))));
    let result = t * poly.exp();
    if x >= 0.0 { result } else { 2.0 - result }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rollout(percent: i64) -> Rollout {
        Rollout {
            stable: 1,
            candidate: 2,
            percent: RolloutPercent::new(percent).unwrap(),
        }
    }

    fn order_ids(n: usize) -> impl Iterator<Item = String> {
        (0..n).map(|i| format!("0193a4c2-7f00-7000-8000-{i:012x}"))
    }

    #[test]
    fn the_split_is_within_two_points_of_the_percentage_over_ten_thousand_orders() {
        for percent in [1, 10, 25, 50, 90, 99] {
            let candidates = order_ids(10_000)
                .filter(|id| {
                    rollout(percent).version_for("merchant:haidilao/routing-table/default", id) == 2
                })
                .count();
            let share = candidates as f64 / 100.0;
            assert!(
                (share - percent as f64).abs() <= 2.0,
                "{percent}%: {share}% got the candidate"
            );
        }
    }

    #[test]
    fn an_order_always_gets_the_same_version_and_a_ramp_only_moves_orders_to_the_candidate() {
        let document = "merchant:xibei/discount-function/alipay-discount";
        for id in order_ids(2_000) {
            let at_10 = rollout(10).version_for(document, &id);
            assert_eq!(at_10, rollout(10).version_for(document, &id));
            if at_10 == 2 {
                assert_eq!(rollout(50).version_for(document, &id), 2, "{id}");
            }
        }
    }

    #[test]
    fn two_documents_split_the_same_orders_independently() {
        let both = order_ids(10_000)
            .filter(|id| {
                rollout(50).version_for("a", id) == 2 && rollout(50).version_for("b", id) == 2
            })
            .count();
        // Independent halves overlap on about a quarter; one hash would overlap on a half.
        assert!((2_300..=2_700).contains(&both), "{both}");
    }

    #[test]
    fn percentages_outside_1_to_99_are_refused() {
        for bad in [-1, 0, 100, 256] {
            assert_eq!(RolloutPercent::new(bad), Err(PercentOutOfRange(bad)));
        }
        assert_eq!(RolloutPercent::new(10).unwrap().get(), 10);
        assert!(serde_json::from_str::<RolloutPercent>("100").is_err());
        assert_eq!(
            serde_json::from_str::<RolloutPercent>("5").unwrap().get(),
            5
        );
    }

    #[test]
    fn erfc_matches_known_values() {
        for (x, expected) in [
            (0.0, 1.0),
            (0.5, 0.479_500_122),
            (1.0, 0.157_299_207),
            (2.0, 0.004_677_735),
            (-1.0, 1.842_700_793),
        ] {
            assert!((erfc(x) - expected).abs() < 1e-6, "erfc({x}) = {}", erfc(x));
        }
    }

    #[test]
    fn a_clear_difference_is_significant_and_a_small_sample_is_not() {
        // 50% against 60% of 1,000 orders each: z ≈ 4.5.
        let stable = Conversions {
            started: 1_000,
            completed: 500,
        };
        let candidate = Conversions {
            started: 1_000,
            completed: 600,
        };
        let comparison = compare(stable, candidate).unwrap();
        assert!((comparison.difference - 0.1).abs() < 1e-9);
        assert!((comparison.z - 4.494).abs() < 0.01, "{comparison:?}");
        assert!(comparison.p_value < 1e-4);
        assert!(comparison.significant);

        // The same rates over 10 orders each: no evidence either way.
        let small = compare(
            Conversions {
                started: 10,
                completed: 5,
            },
            Conversions {
                started: 10,
                completed: 6,
            },
        )
        .unwrap();
        assert!(small.p_value > 0.5, "{small:?}");
        assert!(!small.significant);
    }

    #[test]
    fn the_p_value_at_z_1_96_is_five_percent() {
        // Chosen so that z is 1.96 exactly is hard; check the two-sided tail directly.
        let p = erfc(1.96 / std::f64::consts::SQRT_2);
        assert!((p - 0.05).abs() < 1e-3, "{p}");
    }

    #[test]
    fn nothing_to_compare_without_orders_or_variation() {
        let none = Conversions {
            started: 0,
            completed: 0,
        };
        let all = Conversions {
            started: 10,
            completed: 10,
        };
        assert_eq!(compare(none, all), None);
        assert_eq!(compare(all, all), None);
        assert_eq!(
            Conversions {
                started: 4,
                completed: 1
            }
            .rate(),
            Some(0.25)
        );
    }
}
