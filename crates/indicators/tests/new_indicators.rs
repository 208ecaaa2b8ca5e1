//! The indicators added for Strategy API 0.2 (WMA, Hull, MACD, stochastic, ADX, CCI, Donchian,
//! Keltner): hand-computed cases, parameter errors, and the batch == fold-of-update and reset
//! properties. TA-Lib agreement and Python parity are tested from pytest.

use omega_indicators::{
    hlc_iter, Adx, Cci, Donchian, Hlc, Hull, Indicator, IndicatorError, Keltner, Macd, Stochastic,
    Wma,
};
use proptest::prelude::*;

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-12 * b.abs().max(1.0)
}

fn nan_prefix(out: &[f64], n: usize) {
    assert!(out[..n].iter().all(|v| v.is_nan()), "{out:?}");
    assert!(!out[n].is_nan(), "{out:?}");
}

fn invalid<T: std::fmt::Debug>(r: Result<T, IndicatorError>, parameter: &str) {
    match r {
        Err(IndicatorError::InvalidParameter { parameter: p, .. }) => assert_eq!(p, parameter),
        other => panic!("expected InvalidParameter({parameter}), got {other:?}"),
    }
}

#[test]
fn wma_weights_the_newest_most() {
    let mut wma = Wma::new(3).unwrap();
    let out = wma.batch([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0]);
    nan_prefix(&out, 2);
    // (1*1 + 2*2 + 3*3) / 6 = 14/6, (2 + 6 + 12) / 6 = 20/6, (3 + 8 + 15) / 6 = 26/6, ...
    assert_eq!(out[2], 14.0 / 6.0);
    assert_eq!(out[3], 20.0 / 6.0);
    assert_eq!(out[4], 26.0 / 6.0);
    // index 5 is a resync (every 3rd output): (4 + 10 + 18) / 6 = 32/6; then 38/6
    assert_eq!(out[5], 32.0 / 6.0);
    assert_eq!(out[6], 38.0 / 6.0);
    assert_eq!(
        Wma::new(1).unwrap().batch([1.5, -2.0, 7.25]),
        [1.5, -2.0, 7.25]
    );
}

#[test]
fn hull_of_a_line_has_no_lag() {
    // n = 4: WMA(2) and WMA(4), smoothed by WMA(2). On x = 1, 2, 3, 4, 5:
    // WMA4(3) = 30/10 = 3, WMA2(3) = (3 + 8)/3 = 11/3, raw = 22/3 - 3 = 13/3;
    // WMA4(4) = 40/10 = 4, WMA2(4) = 14/3, raw = 16/3; Hull(4) = (13/3 + 32/3)/3 = 5.
    let mut hull = Hull::new(4).unwrap();
    let out = hull.batch([1.0, 2.0, 3.0, 4.0, 5.0]);
    nan_prefix(&out, 4);
    assert!(close(out[4], 5.0), "{}", out[4]);
    assert_eq!(hull.warmup_period(), 4);
    // n = 9: WMA(4), WMA(9), WMA(3): first output at 9 + 3 - 2 = 10.
    assert_eq!(Hull::new(9).unwrap().warmup_period(), 10);
}

#[test]
fn macd_aligns_the_fast_seed_with_the_slow_one() {
    // fast 2, slow 3, signal 1. Slow EMA3 seed at bar 2: (1 + 2 + 4)/3 = 7/3. The fast EMA2 is
    // seeded at bar 2 too, with the mean of bars 1..=2 only: 3 (TA-Lib; not 1.5 smoothed).
    // macd(2) = 3 - 7/3 = 2/3. Bar 3 (x = 8): slow = (8 - 7/3)/2 + 7/3 = 31/6,
    // fast = (8 - 3) * 2/3 + 3 = 19/3, macd = 7/6.
    let x = [1.0, 2.0, 4.0, 8.0];
    let mut macd = Macd::new(2, 3, 1, 0).unwrap();
    let out = macd.batch(x);
    nan_prefix(&out, 2);
    assert!(
        close(out[2], 2.0 / 3.0) && close(out[3], 7.0 / 6.0),
        "{out:?}"
    );
    let (m, s, h) = macd.lines();
    assert!(close(s, m) && close(h, 0.0), "signal(1) follows the line");
    // signal 2: the signal's seed is the mean of macd(2), macd(3): first output at bar 3.
    let out = Macd::new(2, 3, 2, 1).unwrap().batch(x);
    nan_prefix(&out, 3);
    assert!(close(out[3], (2.0 / 3.0 + 7.0 / 6.0) / 2.0));
    let out = Macd::new(2, 3, 2, 0).unwrap().batch(x);
    nan_prefix(&out, 3); // the MACD line is NaN until the signal exists, as in TA-Lib
    assert_eq!(Macd::new(12, 26, 9, 2).unwrap().warmup_period(), 33);
}

#[test]
fn stochastic_of_a_small_range() {
    let (high, low, close_) = (
        [2.0, 3.0, 4.0, 4.0],
        [1.0, 1.0, 2.0, 4.0],
        [1.5, 2.0, 4.0, 4.0],
    );
    // k_period 2: bar 1: range 1..3, (2 - 1)/(2/100) = 50; bar 2: 1..4, (4 - 1)/(3/100) = 100;
    // bar 3: 2..4, (4 - 2)/(2/100) = 100.
    let out = Stochastic::new(2, 1, 1, 0)
        .unwrap()
        .batch(hlc_iter(&high, &low, &close_));
    nan_prefix(&out, 1);
    assert!(close(out[1], 50.0) && close(out[2], 100.0) && close(out[3], 100.0));
    // k_smooth 2: slow %K(2) = 75; %D(2) over slow %K 75, 100 = 87.5 at bar 3.
    let mut st = Stochastic::new(2, 2, 2, 1).unwrap();
    let out = st.batch(hlc_iter(&high, &low, &close_));
    nan_prefix(&out, 3);
    assert!(close(out[3], 87.5), "{out:?}");
    assert!(close(st.lines().0, 100.0));
    // A flat window has no range: 0, like TA-Lib.
    let flat = [1.0; 3];
    let out = Stochastic::new(2, 1, 1, 0)
        .unwrap()
        .batch(hlc_iter(&flat, &flat, &flat));
    assert_eq!(&out[1..], &[0.0, 0.0]);
}

#[test]
fn adx_by_hand() {
    let high = [10.0, 11.0, 12.0, 11.5];
    let low = [9.0, 9.5, 10.0, 9.0];
    let close_ = [9.5, 10.5, 11.0, 9.5];
    // Bar 1: +DM 1, TR 1.5 (sums). Bar 2: +DM = 1 - 1/2 + 1 = 1.5, TR = 1.5 - 0.75 + 2 = 2.75,
    // +DI = 100 * 1.5/2.75, -DI = 0, DX = 100. Bar 3: +DM = 0.75, -DM = 1,
    // TR = 2.75 - 1.375 + 2.5 = 3.875, DX = 100 * 0.25/1.75; ADX = (100 + 100/7)/2 = 400/7.
    let bars: Vec<Hlc> = hlc_iter(&high, &low, &close_).collect();
    let mut adx = Adx::new(2, 0).unwrap();
    let out = adx.batch(bars.iter().copied());
    nan_prefix(&out, 3);
    assert!(close(out[3], 400.0 / 7.0), "{out:?}");
    let (_, plus, minus) = adx.lines();
    assert!(close(plus, 75.0 / 3.875) && close(minus, 100.0 / 3.875));
    let plus_di = Adx::new(2, 1).unwrap().batch(bars.iter().copied());
    nan_prefix(&plus_di, 2);
    assert!(close(plus_di[2], 150.0 / 2.75));
    let minus_di = Adx::new(2, 2).unwrap().batch(bars.iter().copied());
    assert_eq!(minus_di[2], 0.0);
}

#[test]
fn cci_by_hand() {
    // tp = 2, 4: mean 3, mean deviation 1, (4 - 3)/(0.015 * 1) = 200/3; then tp 4, 4: 0.
    let (high, low, close_) = ([3.0, 6.0, 4.0], [1.0, 3.0, 4.0], [2.0, 3.0, 4.0]);
    let out = Cci::new(2).unwrap().batch(hlc_iter(&high, &low, &close_));
    nan_prefix(&out, 1);
    assert!(close(out[1], 200.0 / 3.0), "{out:?}");
    assert_eq!(out[2], 0.0);
}

#[test]
fn donchian_bands() {
    let (high, low) = ([2.0, 5.0, 3.0, 1.0], [1.0, 2.0, 0.0, 0.5]);
    let run = |band| {
        Donchian::new(2, band)
            .unwrap()
            .batch(hlc_iter(&high, &low, &low))
    };
    let (upper, middle, lower) = (run(1), run(0), run(-1));
    nan_prefix(&upper, 1);
    assert_eq!(&upper[1..], &[5.0, 5.0, 3.0]);
    assert_eq!(&lower[1..], &[1.0, 0.0, 0.0]);
    assert_eq!(&middle[1..], &[3.0, 2.5, 1.5]);
}

#[test]
fn keltner_by_hand() {
    let (high, low, close_) = ([2.0, 3.0, 4.0], [1.0, 2.0, 2.0], [1.5, 2.5, 3.0]);
    // EMA(2) seed at bar 1: 2; ATR(1) at bar 1: TR = max(1, 1.5, 0.5) = 1.5. Bar 2:
    // EMA = (3 - 2) * 2/3 + 2, ATR = TR = max(2, 1.5, 0.5) = 2.
    let mut k = Keltner::new(2, 1, 2.0, 1).unwrap();
    let out = k.batch(hlc_iter(&high, &low, &close_));
    nan_prefix(&out, 1);
    assert_eq!(out[1], 5.0);
    let middle = (3.0 - 2.0) * (2.0 / 3.0) + 2.0;
    assert_eq!(k.bands(), (middle + 4.0, middle, middle - 4.0));
    // ATR(3) needs 3 bars, longer than the EMA: all bands NaN until then.
    assert_eq!(Keltner::new(2, 3, 2.0, 0).unwrap().warmup_period(), 3);
}

#[test]
fn bad_parameters_are_named() {
    invalid(Wma::new(0), "period");
    invalid(Hull::new(1), "period");
    invalid(Macd::new(26, 12, 9, 0), "fast");
    invalid(Macd::new(12, 12, 9, 0), "fast");
    invalid(Macd::new(12, 26, 0, 0), "signal");
    invalid(Macd::new(12, 26, 9, 3), "line");
    invalid(Stochastic::new(0, 3, 3, 0), "k_period");
    invalid(Stochastic::new(14, 0, 3, 0), "k_smooth");
    invalid(Stochastic::new(14, 3, 0, 0), "d_period");
    invalid(Stochastic::new(14, 3, 3, 2), "line");
    invalid(Adx::new(1, 0), "period");
    invalid(Adx::new(14, 3), "line");
    invalid(Cci::new(1), "period");
    invalid(Donchian::new(0, 0), "period");
    invalid(Donchian::new(20, 2), "band");
    invalid(Keltner::new(20, 0, 2.0, 0), "atr_period");
    invalid(Keltner::new(20, 10, 0.0, 0), "k");
    invalid(Keltner::new(20, 10, f64::NAN, 0), "k");
    invalid(Keltner::new(20, 10, 2.0, -2), "band");
    let message = Donchian::new(20, 2).unwrap_err().to_string();
    assert!(message.starts_with("donchian: band"), "{message}");
    let message = Macd::new(26, 12, 9, 0).unwrap_err().to_string();
    assert_eq!(message, "macd: fast must be < slow, got fast 26, slow 12");
}

/// A price path around 1.1 with pip-sized steps, flat stretches, and high/low around it.
fn bars() -> impl Strategy<Value = Vec<Hlc>> {
    prop::collection::vec((-30i32..=30, 0u8..20, 0u8..20, any::<bool>()), 0..200).prop_map(
        |steps| {
            let mut price = 1.1;
            steps
                .into_iter()
                .map(|(step, up, down, flat)| {
                    if !flat {
                        price += f64::from(step) * 1e-5;
                    }
                    Hlc {
                        high: price + f64::from(up) * 1e-5,
                        low: price - f64::from(down) * 1e-5,
                        close: price + f64::from(i32::from(up) - i32::from(down)) * 0.3e-5,
                    }
                })
                .collect()
        },
    )
}

fn same(a: &[f64], b: &[f64]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits())
}

/// Batch equals the fold of `update`; a reset indicator repeats itself; the warm-up length is
/// the NaN prefix (NaN-free input).
fn check<I: Indicator + Clone>(mut ind: I, inputs: &[I::Input]) -> Result<(), TestCaseError> {
    let batch = ind.batch(inputs.iter().copied());
    let mut fresh = ind.clone();
    fresh.reset();
    let folded: Vec<f64> = inputs.iter().map(|&x| fresh.update(x)).collect();
    prop_assert!(same(&batch, &folded));
    ind.reset();
    let again: Vec<f64> = inputs.iter().map(|&x| ind.update(x)).collect();
    prop_assert!(same(&batch, &again));
    let warmup = ind.warmup_period();
    for (i, v) in batch.iter().enumerate() {
        prop_assert_eq!(v.is_nan(), i < warmup, "{} at {}", ind.name(), i);
    }
    Ok(())
}

proptest! {
    #[test]
    fn batch_is_the_fold_of_update(
        bars in bars(),
        p in 2usize..30,
        q in 1usize..8,
        r in 1usize..8,
        line in 0u8..3,
        band in -1i8..=1,
        k in 0.1f64..4.0,
    ) {
        let closes: Vec<f64> = bars.iter().map(|b| b.close).collect();
        check(Wma::new(p).unwrap(), &closes)?;
        check(Hull::new(p).unwrap(), &closes)?;
        check(Macd::new(q, q + p, r, line).unwrap(), &closes)?;
        check(Stochastic::new(p, q, r, line.min(1)).unwrap(), &bars)?;
        check(Adx::new(p, line).unwrap(), &bars)?;
        check(Cci::new(p).unwrap(), &bars)?;
        check(Donchian::new(p, band).unwrap(), &bars)?;
        check(Keltner::new(p, q, k, band).unwrap(), &bars)?;
    }
}
