//! Properties every indicator must have: no look-ahead, and batch == fold of update.

use omega_indicators::{
    compute, hlc_iter, Atr, Bollinger, BollingerBand, Ema, Indicator, Kalman, KalmanZScore,
    RollingStd, Rsi, SideColumns, Sma, ZScore,
};
use omega_strategy_api::{IndicatorSpec, PriceField};
use proptest::prelude::*;

/// A price path around 1.1 with pip-sized steps, and high/low around it.
fn bars() -> impl Strategy<Value = (Vec<f64>, Vec<f64>, Vec<f64>, Vec<f64>)> {
    prop::collection::vec((-30i32..=30, 0u8..20, 0u8..20, any::<bool>()), 0..300).prop_map(
        |steps| {
            let mut price = 1.1;
            let (mut open, mut high, mut low, mut close) = (vec![], vec![], vec![], vec![]);
            for (step, up, down, flat) in steps {
                if !flat {
                    price += f64::from(step) * 1e-5;
                }
                open.push(price);
                high.push(price + f64::from(up) * 1e-5);
                low.push(price - f64::from(down) * 1e-5);
                close.push(price + f64::from(i32::from(up) - i32::from(down)) * 0.3e-5);
            }
            (open, high, low, close)
        },
    )
}

fn specs() -> impl Strategy<Value = IndicatorSpec> {
    let field = prop_oneof![
        Just(PriceField::Open),
        Just(PriceField::High),
        Just(PriceField::Low),
        Just(PriceField::Close)
    ];
    let ratio = 1e-4..10.0f64;
    (
        1usize..40,
        field,
        ratio.clone(),
        ratio,
        0usize..9,
        -1i8..=1,
        any::<bool>(),
    )
        .prop_map(|(period, field, q, r, kind, band, with_x0)| {
            let p2 = period.max(2);
            let x0 = with_x0.then_some(1.1);
            match kind {
                0 => IndicatorSpec::Sma { period, field },
                1 => IndicatorSpec::Ema { period, field },
                2 => IndicatorSpec::Rsi { period: p2, field },
                3 => IndicatorSpec::Atr { period },
                4 => IndicatorSpec::RollingStd { period: p2, field },
                5 => IndicatorSpec::Bollinger {
                    period: p2,
                    k_up: 2.0,
                    k_down: 1.5,
                    band,
                    field,
                },
                6 => IndicatorSpec::ZScore { period: p2, field },
                7 => IndicatorSpec::Kalman {
                    q,
                    r,
                    x0,
                    p0: 1.0,
                    field,
                },
                _ => IndicatorSpec::KalmanZScore {
                    q,
                    r,
                    x0,
                    p0: 1.0,
                    lookback: p2,
                    field,
                },
            }
        })
}

fn same_bits(a: &[f64], b: &[f64]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    /// Truncating the input leaves every earlier value unchanged (bit for bit).
    #[test]
    fn no_look_ahead(spec in specs(), (o, h, l, c) in bars(), cut in 0.0..1.0f64) {
        let full = compute(&spec, &SideColumns { open: &o, high: &h, low: &l, close: &c }).unwrap();
        let k = (cut * o.len() as f64) as usize;
        let cols = SideColumns { open: &o[..k], high: &h[..k], low: &l[..k], close: &c[..k] };
        let part = compute(&spec, &cols).unwrap();
        prop_assert!(same_bits(&part, &full[..k]), "{spec:?} cut at {k}");
    }

    /// The warm-up is exactly `warmup_period` NaNs for the running-sum indicators.
    #[test]
    fn warmup_is_the_declared_number_of_nans(period in 1usize..30, (_, h, l, c) in bars()) {
        let sma = Sma::new(period).unwrap().batch(c.iter().copied());
        let atr = Atr::new(period).unwrap().batch(hlc_iter(&h, &l, &c));
        for (out, warmup) in [(sma, period - 1), (atr, period)] {
            for (i, v) in out.iter().enumerate() {
                prop_assert_eq!(v.is_nan(), i < warmup, "index {}", i);
            }
        }
    }
}

/// Folds `update` of a freshly built indicator for `spec` (independent of `compute`'s dispatch).
fn fold(spec: &IndicatorSpec, o: &[f64], h: &[f64], l: &[f64], c: &[f64]) -> Vec<f64> {
    fn run<I: Indicator<Input = f64>>(mut ind: I, xs: &[f64]) -> Vec<f64> {
        xs.iter().map(|&x| ind.update(x)).collect()
    }
    let col = |f: PriceField| match f {
        PriceField::Open => o,
        PriceField::High => h,
        PriceField::Low => l,
        PriceField::Close => c,
    };
    match *spec {
        IndicatorSpec::Sma { period, field } => run(Sma::new(period).unwrap(), col(field)),
        IndicatorSpec::Ema { period, field } => run(Ema::new(period).unwrap(), col(field)),
        IndicatorSpec::Rsi { period, field } => run(Rsi::new(period).unwrap(), col(field)),
        IndicatorSpec::Atr { period } => {
            let mut atr = Atr::new(period).unwrap();
            hlc_iter(h, l, c).map(|b| atr.update(b)).collect()
        }
        IndicatorSpec::RollingStd { period, field } => {
            run(RollingStd::new(period).unwrap(), col(field))
        }
        IndicatorSpec::Bollinger {
            period,
            k_up,
            k_down,
            band,
            field,
        } => {
            let band = BollingerBand::from_i8(band).unwrap();
            run(
                Bollinger::new(period, k_up, k_down, band).unwrap(),
                col(field),
            )
        }
        IndicatorSpec::ZScore { period, field } => run(ZScore::new(period).unwrap(), col(field)),
        IndicatorSpec::Kalman {
            q,
            r,
            x0,
            p0,
            field,
        } => run(Kalman::new(q, r, x0, p0).unwrap(), col(field)),
        IndicatorSpec::KalmanZScore {
            q,
            r,
            x0,
            p0,
            lookback,
            field,
        } => run(
            KalmanZScore::new(q, r, x0, p0, lookback).unwrap(),
            col(field),
        ),
        other => panic!("no independent fold for {other:?}"),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    /// compute() (batch) == the fold of `update` for every kind.
    #[test]
    fn compute_equals_fold_of_update(spec in specs(), (o, h, l, c) in bars()) {
        let batch = compute(&spec, &SideColumns { open: &o, high: &h, low: &l, close: &c }).unwrap();
        prop_assert!(same_bits(&batch, &fold(&spec, &o, &h, &l, &c)), "{spec:?}");
    }
}

/// batch == fold of update, streamed across two halves with no reset in between.
#[test]
fn batch_equals_incremental_fold() {
    let mut runner = proptest::test_runner::TestRunner::default();
    runner
        .run(&(bars(), 1usize..30), |((_, h, l, c), period)| {
            let mut streamed = Atr::new(period).unwrap();
            let fold: Vec<f64> = hlc_iter(&h, &l, &c).map(|b| streamed.update(b)).collect();
            let batch = Atr::new(period).unwrap().batch(hlc_iter(&h, &l, &c));
            prop_assert!(same_bits(&fold, &batch));
            // batch() resets first, so a used indicator gives the same series again.
            prop_assert!(same_bits(&streamed.batch(hlc_iter(&h, &l, &c)), &batch));
            Ok(())
        })
        .unwrap();
}
