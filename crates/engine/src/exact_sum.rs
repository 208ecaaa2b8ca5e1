//! An exact accumulator of doubles: the sum held as a fixed-point integer wide enough for
//! every finite double, rounded once (to nearest, ties to even) when read.
//!
//! The correctly rounded sum is unique, so this gives the same double as CPython's `math.fsum`
//! (Shewchuk's partials, also correctly rounded) at a fraction of the cost: one shift and three
//! integer additions per value instead of a pass over the partials. It declines what `fsum`
//! treats specially (non-finite values, magnitudes near overflow), so the caller can fall back
//! to the partials there and keep CPython's errors.

/// Bit 0 of the integer is 2^-1074 (the smallest subnormal).
const MIN_EXPONENT: i32 = -1074;
/// 32-bit digits held in i64 words (room for carries): 2^-1074 .. beyond 2^1024.
const WORDS: usize = 68;
/// Values with a biased exponent from here on are declined: with fewer than 2^40 of them,
/// no partial sum can come near overflow, so no `OverflowError` case is missed.
const DECLINE_BIASED_EXPONENT: u64 = 2000;
/// Additions between carry propagations (each changes a word by less than 2^32).
const ADDS_PER_NORMALISE: u32 = 1 << 30;

#[derive(Debug, Clone)]
pub struct ExactSum {
    words: [i64; WORDS],
    /// Additions left before the next carry propagation (counting down keeps the per-value
    /// bookkeeping to one decrement and one test).
    budget: u32,
    /// The current budget when it started, and the values added before it.
    granted: u32,
    count: u64,
    /// Values with a biased exponent from here on are declined: `DECLINE_BIASED_EXPONENT`,
    /// 0 (everything) once 2^40 values were added.
    decline_from: u64,
}

impl Default for ExactSum {
    fn default() -> Self {
        Self::new()
    }
}

impl ExactSum {
    pub const fn new() -> Self {
        ExactSum {
            words: [0; WORDS],
            budget: ADDS_PER_NORMALISE,
            granted: ADDS_PER_NORMALISE,
            count: 0,
            decline_from: DECLINE_BIASED_EXPONENT,
        }
    }

    /// Adds `value` exactly; `false` (nothing added) for NaN, infinities and magnitudes of
    /// 2^977 and more, and once 2^40 values have been added.
    #[inline]
    pub fn add(&mut self, value: f64) -> bool {
        let bits = value.to_bits();
        let biased = (bits >> 52) & 0x7ff;
        if biased >= self.decline_from {
            return false;
        }
        // Integer mantissa and the position of its bit 0 above 2^-1074 (subnormals, biased
        // exponent 0, have no implicit bit and the position of exponent 1), branch-free.
        let normal = u64::from(biased != 0);
        let mantissa = (bits & ((1 << 52) - 1)) | (normal << 52);
        let position = (biased - normal) as u32;
        let word = (position / 32) as usize;
        let shifted = u128::from(mantissa) << (position % 32);
        // Branch-free negation (x ^ m) - m, m all ones for a negative value: the sign of
        // returns is a coin flip, which a branch would mispredict half the time.
        let sign = (bits as i64) >> 63;
        let pieces = [
            (shifted & 0xffff_ffff) as i64,
            ((shifted >> 32) & 0xffff_ffff) as i64,
            (shifted >> 64) as i64,
        ];
        let words = &mut self.words[word..word + 3];
        for (slot, piece) in words.iter_mut().zip(pieces) {
            *slot += (piece ^ sign) - sign;
        }
        self.budget -= 1;
        if self.budget == 0 {
            self.renew_budget();
        }
        true
    }

    /// Values added so far.
    fn added(&self) -> u64 {
        self.count + u64::from(self.granted - self.budget)
    }

    /// Carries, and a new budget of additions.
    #[cold]
    fn renew_budget(&mut self) {
        self.normalise();
        self.grant(ADDS_PER_NORMALISE);
    }

    /// A budget of at most `most` additions, ending at 2^40 values (then all are declined).
    fn grant(&mut self, most: u32) {
        self.count = self.added();
        let left = (1_u64 << 40).saturating_sub(self.count);
        if left == 0 {
            self.decline_from = 0;
        }
        self.granted = most.min(u32::try_from(left).unwrap_or(u32::MAX)).max(1);
        self.budget = self.granted;
    }

    /// Adds another accumulator's sum (exactly).
    pub fn merge(&mut self, other: &ExactSum) {
        let mut other = other.clone();
        other.normalise();
        self.normalise();
        for (word, digit) in self.words.iter_mut().zip(other.words) {
            *word += digit;
        }
        self.count = self.added() + other.added();
        self.granted = 0;
        self.budget = 0;
        // Every word changed by less than 2^33: one addition's worth of room is taken.
        self.grant(ADDS_PER_NORMALISE - 1);
    }

    /// Carries so every word but the top one is a digit in [0, 2^32); the top one holds the sign.
    fn normalise(&mut self) {
        for k in 0..WORDS - 1 {
            let carry = self.words[k] >> 32;
            self.words[k] -= carry << 32;
            self.words[k + 1] += carry;
        }
    }

    /// The sum, correctly rounded (ties to even); `+0.0` when it is zero.
    pub fn value(&self) -> f64 {
        let mut digits = self.clone();
        digits.normalise();
        let negative = digits.words[WORDS - 1] < 0;
        if negative {
            for word in &mut digits.words {
                *word = -*word;
            }
            digits.normalise();
        }
        let magnitude = round_digits(&digits.words);
        if negative {
            -magnitude
        } else {
            magnitude
        }
    }
}

/// The non-negative integer of base-2^32 `digits` (least significant first) times 2^-1074,
/// rounded to the nearest double, ties to even.
fn round_digits(digits: &[i64; WORDS]) -> f64 {
    let Some(top) = digits.iter().rposition(|&d| d != 0) else {
        return 0.0;
    };
    // The top three digits as one integer, the rest only as "anything below?".
    let low = top.saturating_sub(2);
    let mut head: u128 = 0;
    for k in (low..=top).rev() {
        head = (head << 32) | digits[k] as u128;
    }
    let below = digits[..low].iter().any(|&d| d != 0);
    let exponent = MIN_EXPONENT + 32 * low as i32; // of head's bit 0
    let length = 128 - head.leading_zeros() as i32;
    if length <= 53 {
        // Exact: below is empty here (low == 0), and head * 2^exponent is representable.
        return head as f64 * pow2(exponent);
    }
    let drop = length - 53;
    let mut mantissa = (head >> drop) as u64;
    let rest = head & ((1u128 << drop) - 1);
    let half = 1u128 << (drop - 1);
    if rest > half || (rest == half && (below || mantissa & 1 == 1)) {
        mantissa += 1;
    }
    let mut scale = exponent + drop;
    if mantissa == 1 << 53 {
        mantissa >>= 1;
        scale += 1;
    }
    // mantissa has 53 bits, so the result is normal: build it from its fields.
    let biased = scale + 52 + 1023;
    if biased >= 0x7ff {
        return f64::INFINITY;
    }
    f64::from_bits(((biased as u64) << 52) | (mantissa & ((1 << 52) - 1)))
}

/// 2^e for -1074 <= e <= 1023, exactly.
fn pow2(e: i32) -> f64 {
    if e >= -1022 {
        f64::from_bits(((e + 1023) as u64) << 52)
    } else {
        f64::from_bits(1u64 << (e + 1074))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sum(values: &[f64]) -> f64 {
        let mut acc = ExactSum::new();
        for &v in values {
            assert!(acc.add(v));
        }
        acc.value()
    }

    #[test]
    fn sums_exactly_and_rounds_once() {
        assert_eq!(sum(&[1e16, 1.0, -1e16]), 1.0);
        // 2^53 + 1 + 1 = 2^53 + 2 exactly.
        let two_53 = 9_007_199_254_740_992.0;
        assert_eq!(sum(&[two_53, 1.0, 1.0]), two_53 + 2.0);
        assert_eq!(sum(&[0.1; 10]), 1.0);
        // CPython: math.fsum([1e-16, 1, 1e16]) == 1.0000000000000002e16 (a tie rounded up
        // because of the 1e-16 below it).
        assert_eq!(sum(&[1e-16, 1.0, 1e16]), 1.0000000000000002e16);
        // A true tie rounds to even: 2^53 + 1 -> 2^53.
        assert_eq!(sum(&[two_53, 1.0]), two_53);
    }

    #[test]
    fn zero_and_subnormals() {
        assert_eq!(sum(&[]).to_bits(), 0.0_f64.to_bits());
        assert_eq!(sum(&[-0.0]).to_bits(), 0.0_f64.to_bits());
        assert_eq!(sum(&[5e-324, 5e-324]), 1e-323);
        assert_eq!(sum(&[-5e-324]), -5e-324);
        assert_eq!(
            sum(&[f64::MIN_POSITIVE, -5e-324]),
            f64::MIN_POSITIVE - 5e-324
        );
    }

    #[test]
    fn merged_halves_give_the_whole_sum() {
        let values = [1e16, 0.1, -3.5, 1e-300, 2.0f64.powi(60), -1e16, 7.25];
        let (mut left, mut right) = (ExactSum::new(), ExactSum::new());
        values[..3].iter().for_each(|&v| assert!(left.add(v)));
        values[3..].iter().for_each(|&v| assert!(right.add(v)));
        left.merge(&right);
        assert_eq!(left.value(), sum(&values));
    }

    #[test]
    fn declines_what_fsum_treats_specially() {
        let mut acc = ExactSum::new();
        assert!(!acc.add(f64::NAN));
        assert!(!acc.add(f64::INFINITY));
        assert!(!acc.add(1e300));
        assert!(acc.add(1e200));
    }

    #[test]
    fn many_carries_stay_exact() {
        let mut acc = ExactSum::new();
        let value = f64::from_bits(0x3fef_ffff_ffff_ffff); // just below 1.0
        for _ in 0..100_000 {
            acc.add(value);
        }
        // The exact sum is the exact product, and IEEE multiplication rounds it correctly too.
        assert_eq!(acc.value(), value * 100_000.0);
    }

    use crate::metrics::fsum_partials;
    use proptest::prelude::*;

    /// Any finite double the accumulator takes: random bits, exponent below the decline limit.
    fn taken() -> impl Strategy<Value = f64> {
        any::<u64>().prop_map(|bits| {
            let biased = ((bits >> 52) & 0x7ff) % DECLINE_BIASED_EXPONENT;
            f64::from_bits((bits & !(0x7ff << 52)) | (biased << 52))
        })
    }

    /// Values of one scale with their negations mixed in: sums with heavy cancellation.
    fn cancelling() -> impl Strategy<Value = Vec<f64>> {
        prop::collection::vec((-1e6..1e6_f64, any::<bool>(), -40..40_i32), 0..300).prop_map(
            |items| {
                let mut out = Vec::new();
                for (x, negate_too, e) in items {
                    let v = x * 2f64.powi(e);
                    out.push(v);
                    if negate_too {
                        out.push(-v);
                    }
                }
                out
            },
        )
    }

    proptest! {
        #[test]
        fn agrees_with_cpythons_partials_on_any_doubles(
            values in prop::collection::vec(taken(), 0..120)
        ) {
            let expected = fsum_partials(values.iter().copied()).unwrap();
            prop_assert_eq!(sum(&values).to_bits(), expected.to_bits());
        }

        #[test]
        fn agrees_with_cpythons_partials_under_cancellation(values in cancelling()) {
            let expected = fsum_partials(values.iter().copied()).unwrap();
            prop_assert_eq!(sum(&values).to_bits(), expected.to_bits());
        }
    }
}
