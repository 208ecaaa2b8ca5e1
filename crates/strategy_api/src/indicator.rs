//! The `Indicator` trait: what every built-in indicator implements, and what a strategy
//! author implements for a custom one (declared with [`CustomIndicator`](crate::CustomIndicator)).
//!
//! # Staying bit-identical with a Python twin
//! A Rust indicator and its Python twin give the same bits when both perform the same IEEE
//! operations in the same order: keep one accumulator per running sum and update it in the
//! same sequence (add the new value, then subtract the leaving one, or the reverse, as the
//! twin does); write `a * b + c` without fused multiply-add (`mul_add`); compute divisions
//! and square roots at the same point; take `min`/`max` with the same NaN rule; and never let
//! a compiler-level reassociation in (`f64` arithmetic in Rust is not reassociated).

/// One bar's high, low and close (the input of range-based indicators such as ATR).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Hlc {
    pub high: f64,
    pub low: f64,
    pub close: f64,
}

/// Zips high, low and close columns into [`Hlc`] inputs (stops at the shortest column).
pub fn hlc_iter<'a>(
    high: &'a [f64],
    low: &'a [f64],
    close: &'a [f64],
) -> impl Iterator<Item = Hlc> + 'a {
    high.iter()
        .zip(low)
        .zip(close)
        .map(|((&high, &low), &close)| Hlc { high, low, close })
}

/// An incremental indicator: one input per bar in, one `f64` out (NaN during warm-up).
///
/// A batch series is by definition the fold of [`update`](Indicator::update) from a fresh
/// state, so streaming (live) and batch evaluation agree exactly.
pub trait Indicator {
    /// `f64` for single-series indicators, [`Hlc`] for range ones (ATR), [`Bar`] for
    /// indicators of the whole two-sided bar.
    ///
    /// [`Bar`]: crate::Bar
    type Input: Copy;

    /// Short name used in messages (`"sma"`, `"ema"`, ...).
    fn name(&self) -> &str;

    /// Number of leading outputs that are NaN when fed from a fresh state.
    fn warmup_period(&self) -> usize;

    /// Feeds the next input; returns the indicator after it (NaN during warm-up).
    fn update(&mut self, input: Self::Input) -> f64;

    /// Forgets every input fed so far (parameters and buffers are kept).
    fn reset(&mut self);

    /// Resets, then folds `update` over `inputs`; the state is left after the last input.
    fn batch<I>(&mut self, inputs: I) -> Vec<f64>
    where
        Self: Sized,
        I: IntoIterator<Item = Self::Input>,
    {
        self.reset();
        inputs.into_iter().map(|input| self.update(input)).collect()
    }

    /// Like [`batch`](Indicator::batch) but writes into `out`, one output per input, and
    /// returns how many were written (stops when either side runs out; no allocation).
    fn batch_into<I>(&mut self, inputs: I, out: &mut [f64]) -> usize
    where
        Self: Sized,
        I: IntoIterator<Item = Self::Input>,
    {
        self.reset();
        let mut written = 0;
        for (slot, input) in out.iter_mut().zip(inputs) {
            *slot = self.update(input);
            written += 1;
        }
        written
    }
}
