//! The indicator of an [`IndicatorSpec`] fed one bar at a time. [`compute`](crate::compute)
//! folds the same `update`s over whole columns, so a stream and a batch agree bit for bit.

use omega_strategy_api::{IndicatorSpec, PriceField};

use crate::atr::Atr;
use crate::bollinger::{Bollinger, BollingerBand};
use crate::ema::Ema;
use crate::error::IndicatorError;
use crate::indicator::{Hlc, Indicator};
use crate::kalman::Kalman;
use crate::kalman_zscore::KalmanZScore;
use crate::rolling_std::RollingStd;
use crate::rsi::Rsi;
use crate::sma::Sma;
use crate::zscore::ZScore;

/// One bar of one side (bid, ask or mid).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SideBar {
    pub open: f64,
    pub high: f64,
    pub low: f64,
    pub close: f64,
}

impl SideBar {
    fn field(&self, field: PriceField) -> f64 {
        match field {
            PriceField::Open => self.open,
            PriceField::High => self.high,
            PriceField::Low => self.low,
            PriceField::Close => self.close,
        }
    }
}

type Single = Box<dyn Indicator<Input = f64> + Send>;

/// An indicator state for one spec: `update` with each bar, in order, from the first.
pub struct SpecStream {
    kind: Kind,
}

enum Kind {
    Single(Single, PriceField),
    Range(Atr),
}

impl std::fmt::Debug for SpecStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let name = match &self.kind {
            Kind::Single(indicator, _) => indicator.name().to_string(),
            Kind::Range(atr) => atr.name().to_string(),
        };
        f.debug_struct("SpecStream")
            .field("indicator", &name)
            .finish()
    }
}

impl SpecStream {
    /// A fresh state; the same parameter errors as [`compute`](crate::compute).
    pub fn new(spec: &IndicatorSpec) -> Result<Self, IndicatorError> {
        let single = |indicator: Single, field| Kind::Single(indicator, field);
        let kind = match *spec {
            IndicatorSpec::Sma { period, field } => single(Box::new(Sma::new(period)?), field),
            IndicatorSpec::Ema { period, field } => single(Box::new(Ema::new(period)?), field),
            IndicatorSpec::Rsi { period, field } => single(Box::new(Rsi::new(period)?), field),
            IndicatorSpec::Atr { period } => Kind::Range(Atr::new(period)?),
            IndicatorSpec::RollingStd { period, field } => {
                single(Box::new(RollingStd::new(period)?), field)
            }
            IndicatorSpec::Bollinger {
                period,
                k_up,
                k_down,
                band,
                field,
            } => single(
                Box::new(Bollinger::new(
                    period,
                    k_up,
                    k_down,
                    BollingerBand::from_i8(band)?,
                )?),
                field,
            ),
            IndicatorSpec::ZScore { period, field } => {
                single(Box::new(ZScore::new(period)?), field)
            }
            IndicatorSpec::Kalman {
                q,
                r,
                x0,
                p0,
                field,
            } => single(Box::new(Kalman::new(q, r, x0, p0)?), field),
            IndicatorSpec::KalmanZScore {
                q,
                r,
                x0,
                p0,
                lookback,
                field,
            } => single(Box::new(KalmanZScore::new(q, r, x0, p0, lookback)?), field),
        };
        Ok(SpecStream { kind })
    }

    /// The indicator after `bar`.
    pub fn update(&mut self, bar: SideBar) -> f64 {
        match &mut self.kind {
            Kind::Single(indicator, field) => indicator.update(bar.field(*field)),
            Kind::Range(atr) => atr.update(Hlc {
                high: bar.high,
                low: bar.low,
                close: bar.close,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compute::{compute, SideColumns};
    use omega_strategy_api::IndicatorSpec as S;

    #[test]
    fn a_stream_gives_the_batch_series_bit_for_bit() {
        let n = 600;
        let close: Vec<f64> = (0..n)
            .map(|k| 1.1 + ((k * 7919) % 211) as f64 * 1e-4 - (k % 13) as f64 * 3e-5)
            .collect();
        let open: Vec<f64> = close.iter().map(|c| c - 2e-5).collect();
        let high: Vec<f64> = close.iter().map(|c| c + 3e-4).collect();
        let low: Vec<f64> = close.iter().map(|c| c - 4e-4).collect();
        let columns = SideColumns {
            open: &open,
            high: &high,
            low: &low,
            close: &close,
        };
        let f = PriceField::Close;
        let specs = [
            S::Sma {
                period: 20,
                field: f,
            },
            S::Ema {
                period: 12,
                field: PriceField::High,
            },
            S::Rsi {
                period: 14,
                field: f,
            },
            S::Atr { period: 14 },
            S::RollingStd {
                period: 30,
                field: f,
            },
            S::Bollinger {
                period: 20,
                k_up: 2.0,
                k_down: 2.0,
                band: 1,
                field: f,
            },
            S::ZScore {
                period: 50,
                field: PriceField::Low,
            },
            S::Kalman {
                q: 0.01,
                r: 1.0,
                x0: None,
                p0: 1.0,
                field: f,
            },
            S::KalmanZScore {
                q: 0.01,
                r: 1.0,
                x0: None,
                p0: 1.0,
                lookback: 40,
                field: f,
            },
        ];
        for spec in specs {
            let batch = compute(&spec, &columns).unwrap();
            let mut stream = SpecStream::new(&spec).unwrap();
            let streamed: Vec<f64> = (0..n)
                .map(|k| {
                    stream.update(SideBar {
                        open: open[k],
                        high: high[k],
                        low: low[k],
                        close: close[k],
                    })
                })
                .collect();
            let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&streamed), bits(&batch), "{spec:?}");
        }
        assert!(SpecStream::new(&S::Sma {
            period: 0,
            field: f
        })
        .is_err());
    }
}
