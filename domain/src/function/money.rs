//! Integer money helpers, in Rust and registered into the script engine.
//!
//! All arithmetic is checked: an overflow or an invalid argument is an error, never a
//! panic and never a wrapped-around amount.

use rhai::{Engine, EvalAltResult, INT, Position};

/// The largest percentage the script helper accepts: 10 000 % (a hundredfold).
pub(crate) const MAX_PERCENT: i64 = 10_000;

/// `percent` % of `amount_minor`, rounded half up to the minor unit:
/// `(amount_minor * percent + 50) / 100`, computed exactly.
///
/// `None` when either input is negative or the result does not fit an `i64`.
///
/// ```
/// use domain::function::percent_of;
/// assert_eq!(percent_of(9999, 80), Some(7999)); // 7999.2
/// assert_eq!(percent_of(9999, 50), Some(5000)); // 4999.5 rounds up
/// assert_eq!(percent_of(5, 70), Some(4)); // 3.5 rounds up
/// assert_eq!(percent_of(1, 50), Some(1)); // 0.5 rounds up
/// assert_eq!(percent_of(-1, 50), None);
/// ```
pub fn percent_of(amount_minor: i64, percent: i64) -> Option<i64> {
    if amount_minor < 0 || percent < 0 {
        return None;
    }
    // i64::MAX² < i128::MAX, so the product cannot overflow.
    let exact = (i128::from(amount_minor) * i128::from(percent) + 50) / 100;
    i64::try_from(exact).ok()
}

/// `amount_minor - off`, never below zero. `None` when either input is negative.
pub(crate) fn amount_off(amount_minor: i64, off: i64) -> Option<i64> {
    if amount_minor < 0 || off < 0 {
        return None;
    }
    // Both are non-negative, so the difference cannot overflow.
    Some((amount_minor - off).max(0))
}

fn script_error(message: String) -> Box<EvalAltResult> {
    EvalAltResult::ErrorArithmetic(message, Position::NONE).into()
}

fn script_percent_of(amount: INT, percent: INT) -> Result<INT, Box<EvalAltResult>> {
    if amount < 0 {
        return Err(script_error(format!(
            "percent_of: the amount must not be negative (got {amount})"
        )));
    }
    if !(0..=MAX_PERCENT).contains(&percent) {
        return Err(script_error(format!(
            "percent_of: the percentage must be between 0 and {MAX_PERCENT} (got {percent})"
        )));
    }
    percent_of(amount, percent)
        .ok_or_else(|| script_error(format!("percent_of: {percent}% of {amount} is too large")))
}

fn script_amount_off(amount: INT, off: INT) -> Result<INT, Box<EvalAltResult>> {
    if amount < 0 {
        return Err(script_error(format!(
            "amount_off: the amount must not be negative (got {amount})"
        )));
    }
    amount_off(amount, off).ok_or_else(|| {
        script_error(format!(
            "amount_off: the amount off must not be negative (got {off})"
        ))
    })
}

fn script_clamp(value: INT, low: INT, high: INT) -> Result<INT, Box<EvalAltResult>> {
    if low > high {
        return Err(script_error(format!(
            "clamp: the lower bound {low} is above the upper bound {high}"
        )));
    }
    Ok(value.clamp(low, high))
}

/// Registers `percent_of`, `amount_off` and `clamp` (`min` and `max` come from rhai's logic
/// package).
pub(crate) fn register(engine: &mut Engine) {
    engine
        .register_fn("percent_of", script_percent_of)
        .register_fn("amount_off", script_amount_off)
        .register_fn("clamp", script_clamp);
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn percent_of_rounds_half_up() {
        assert_eq!(percent_of(9999, 80), Some(7999));
        assert_eq!(percent_of(9999, 50), Some(5000));
        assert_eq!(percent_of(9999, 70), Some(6999));
        assert_eq!(percent_of(5, 70), Some(4));
        assert_eq!(percent_of(1, 50), Some(1));
        assert_eq!(percent_of(1, 49), Some(0));
        assert_eq!(percent_of(1, 80), Some(1));
        assert_eq!(percent_of(0, 80), Some(0));
        assert_eq!(percent_of(10_000, 100), Some(10_000));
        assert_eq!(percent_of(10_000, 0), Some(0));
        assert_eq!(percent_of(3, 150), Some(5)); // 4.5
    }

    #[test]
    fn percent_of_is_checked() {
        assert_eq!(percent_of(-1, 50), None);
        assert_eq!(percent_of(1, -50), None);
        assert_eq!(percent_of(i64::MAX, 100), Some(i64::MAX));
        assert_eq!(percent_of(i64::MAX, 101), None);
        assert_eq!(percent_of(i64::MAX, i64::MAX), None);
    }

    #[test]
    fn amount_off_never_goes_below_zero() {
        assert_eq!(amount_off(1000, 300), Some(700));
        assert_eq!(amount_off(300, 1000), Some(0));
        assert_eq!(amount_off(i64::MAX, 0), Some(i64::MAX));
        assert_eq!(amount_off(-1, 0), None);
        assert_eq!(amount_off(1, -1), None);
    }

    #[test]
    fn script_helpers_reject_bad_arguments() {
        assert!(script_percent_of(100, MAX_PERCENT + 1).is_err());
        assert!(script_percent_of(100, -1).is_err());
        assert!(script_percent_of(-100, 1).is_err());
        assert!(script_percent_of(i64::MAX, MAX_PERCENT).is_err());
        assert_eq!(script_percent_of(100, MAX_PERCENT).ok(), Some(10_000));
        assert!(script_clamp(1, 5, 4).is_err());
        assert_eq!(script_clamp(9, 0, 4).ok(), Some(4));
        assert_eq!(script_clamp(-9, 0, 4).ok(), Some(0));
        assert!(script_amount_off(1, -1).is_err());
    }

    proptest! {
        #[test]
        fn percent_of_matches_exact_rational_rounding(amount in 0i64..=1_000_000_000_000, percent in 0i64..=100) {
            let product = i128::from(amount) * i128::from(percent);
            // floor(x + 1/2) for x = product / 100, from the quotient and remainder.
            let (quotient, remainder) = (product / 100, product % 100);
            let expected = if remainder * 2 >= 100 { quotient + 1 } else { quotient };
            let got = percent_of(amount, percent).map(i128::from);
            prop_assert_eq!(got, Some(expected));
            // Within half a minor unit of the exact value; an exact half goes up.
            let error = got.unwrap_or_default() * 100 - product;
            prop_assert!(error > -50 && error <= 50, "off by {}/100", error);
        }
    }
}
