//! Batch computation of an `IndicatorSpec` over one side's bar columns.

use omega_strategy_api::{IndicatorSpec, PriceField};

use crate::error::IndicatorError;
use crate::indicator::{hlc_iter, Indicator};
use crate::registry::with_built;

/// One side's OHLC columns (bid, ask or mid), borrowed; all of the same length.
#[derive(Debug, Clone, Copy)]
pub struct SideColumns<'a> {
    pub open: &'a [f64],
    pub high: &'a [f64],
    pub low: &'a [f64],
    pub close: &'a [f64],
}

impl<'a> SideColumns<'a> {
    /// The column feeding a single-input indicator.
    pub fn field(&self, field: PriceField) -> &'a [f64] {
        match field {
            PriceField::Open => self.open,
            PriceField::High => self.high,
            PriceField::Low => self.low,
            PriceField::Close => self.close,
        }
    }

    /// The common length, or an error naming the lengths when they differ.
    pub fn len(&self) -> Result<usize, IndicatorError> {
        let n = self.close.len();
        if self.open.len() != n || self.high.len() != n || self.low.len() != n {
            return Err(IndicatorError::InputMismatch(format!(
                "side columns differ in length: open {}, high {}, low {}, close {}",
                self.open.len(),
                self.high.len(),
                self.low.len(),
                n
            )));
        }
        Ok(n)
    }

    pub fn is_empty(&self) -> bool {
        self.close.is_empty()
    }
}

/// The full series of `spec` over `columns` (NaN during warm-up), one value per bar.
pub fn compute(
    spec: &IndicatorSpec,
    columns: &SideColumns<'_>,
) -> Result<Vec<f64>, IndicatorError> {
    // `compute_into` writes every slot (one output per input, lengths checked equal).
    let mut out = crate::buffers::overwritable(columns.len()?, f64::NAN);
    if let Err(e) = compute_into(spec, columns, &mut out) {
        crate::buffers::give(out);
        return Err(e);
    }
    Ok(out)
}

/// Like [`compute`] but into a caller-provided buffer of the columns' length.
pub fn compute_into(
    spec: &IndicatorSpec,
    columns: &SideColumns<'_>,
    out: &mut [f64],
) -> Result<(), IndicatorError> {
    let n = columns.len()?;
    if out.len() != n {
        return Err(IndicatorError::InputMismatch(format!(
            "output buffer has {} slots for {n} bars",
            out.len()
        )));
    }
    let one = |field: PriceField| columns.field(field).iter().copied();
    with_built!(
        spec,
        single | ind,
        field | {
            let mut ind = ind;
            ind.batch_into(one(field), out)
        },
        range | ind | {
            let mut ind = ind;
            ind.batch_into(hlc_iter(columns.high, columns.low, columns.close), out)
        },
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn columns<'a>(o: &'a [f64], h: &'a [f64], l: &'a [f64], c: &'a [f64]) -> SideColumns<'a> {
        SideColumns {
            open: o,
            high: h,
            low: l,
            close: c,
        }
    }

    #[test]
    fn dispatches_on_the_field() {
        let o = [1.0, 2.0, 3.0];
        let c = [4.0, 6.0, 8.0];
        let cols = columns(&o, &c, &o, &c);
        let sma_open = compute(
            &IndicatorSpec::Sma {
                period: 2,
                field: PriceField::Open,
            },
            &cols,
        );
        assert_eq!(sma_open.unwrap()[1..], [1.5, 2.5]);
        let sma_close = compute(
            &IndicatorSpec::Sma {
                period: 2,
                field: PriceField::Close,
            },
            &cols,
        );
        assert_eq!(sma_close.unwrap()[1..], [5.0, 7.0]);
    }

    #[test]
    fn unequal_columns_are_an_error() {
        let a = [1.0, 2.0];
        let b = [1.0];
        let spec = IndicatorSpec::Atr { period: 1 };
        assert!(matches!(
            compute(&spec, &columns(&a, &a, &b, &a)),
            Err(IndicatorError::InputMismatch(_))
        ));
    }

    #[test]
    fn bad_parameters_are_errors_not_panics() {
        let a = [1.0, 2.0];
        let cols = columns(&a, &a, &a, &a);
        let specs = [
            IndicatorSpec::Sma {
                period: 0,
                field: PriceField::Close,
            },
            IndicatorSpec::Rsi {
                period: 1,
                field: PriceField::Close,
            },
            IndicatorSpec::Bollinger {
                period: 5,
                k_up: 2.0,
                k_down: 2.0,
                band: 3,
                field: PriceField::Close,
            },
            IndicatorSpec::KalmanZScore {
                q: 1.0,
                r: -1.0,
                x0: None,
                p0: 1.0,
                lookback: 5,
                field: PriceField::Close,
            },
        ];
        for spec in specs {
            assert!(matches!(
                compute(&spec, &cols),
                Err(IndicatorError::InvalidParameter { .. })
            ));
        }
    }

    #[test]
    fn empty_input_gives_empty_output() {
        let e: [f64; 0] = [];
        let cols = columns(&e, &e, &e, &e);
        let out = compute(
            &IndicatorSpec::Ema {
                period: 3,
                field: PriceField::Close,
            },
            &cols,
        );
        assert!(out.unwrap().is_empty());
    }
}
