//! The indicator of an [`IndicatorSpec`] fed one bar at a time. [`compute`](crate::compute)
//! folds the same `update`s over whole columns, so a stream and a batch agree bit for bit.

use omega_strategy_api::{IndicatorSpec, PriceField};

use crate::error::IndicatorError;
use crate::indicator::{Hlc, Indicator};
use crate::registry::with_built;

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
type Range = Box<dyn Indicator<Input = Hlc> + Send>;

/// An indicator state for one spec: `update` with each bar, in order, from the first.
pub struct SpecStream {
    kind: Kind,
}

enum Kind {
    Single(Single, PriceField),
    Range(Range),
}

impl std::fmt::Debug for SpecStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let name = match &self.kind {
            Kind::Single(indicator, _) => indicator.name().to_string(),
            Kind::Range(indicator) => indicator.name().to_string(),
        };
        f.debug_struct("SpecStream")
            .field("indicator", &name)
            .finish()
    }
}

impl SpecStream {
    /// A fresh state; the same parameter errors as [`compute`](crate::compute).
    pub fn new(spec: &IndicatorSpec) -> Result<Self, IndicatorError> {
        let kind = with_built!(
            spec,
            single | ind,
            field | Kind::Single(Box::new(ind), field),
            range | ind | Kind::Range(Box::new(ind)),
        );
        Ok(SpecStream { kind })
    }

    /// The indicator after `bar`.
    pub fn update(&mut self, bar: SideBar) -> f64 {
        match &mut self.kind {
            Kind::Single(indicator, field) => indicator.update(bar.field(*field)),
            Kind::Range(indicator) => indicator.update(Hlc {
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
