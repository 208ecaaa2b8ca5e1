//! `pairs_zscore`, a portfolio strategy, operation for operation as its Python twin
//! (`omega.strategies.pairs_zscore`): the spread `ln(close A) - ln(close B)` over both legs'
//! last closed bars, its z-score over `lookback` closes (population std, sums in order)
//! opens the spread beyond `entry` (short A, long B when high; the reverse when low) and
//! closes both legs back inside `exit`. Each leg carries a stop `stop_pips` away.

use omega_strategy_api::{
    validate, BasketContext, BasketSlice, Limit, ParamError, ParamSpec, ParamValue, Params,
    PortfolioStrategy, Position, PositionAction, Side, StrategyError, TradeSignal,
};

pub const PARAMS: &[ParamSpec] = &[
    ParamSpec::int("lookback", 120)
        .min(Limit::incl(10.0))
        .max(Limit::incl(100_000.0)),
    ParamSpec::float("entry", 2.0)
        .min(Limit::excl(0.0))
        .max(Limit::incl(10.0)),
    ParamSpec::float("exit", 0.5)
        .min(Limit::incl(0.0))
        .max(Limit::incl(10.0)),
    ParamSpec::float("stop_pips", 40.0).min(Limit::excl(0.0)),
    ParamSpec::float("size", 1.0).min(Limit::excl(0.0)),
];

/// Mean reversion of the log spread of two instruments of the basket.
#[derive(Debug, Clone)]
pub struct PairsZScore {
    /// The two symbols (default: the basket's first two).
    legs: Option<(String, String)>,
    lookback: usize,
    entry: f64,
    exit: f64,
    stop_pips: f64,
    size: f64,
    params: Params,
    /// Set by `init`: the legs' members and pip sizes.
    a: usize,
    b: usize,
    pips: (f64, f64),
}

impl PairsZScore {
    pub const NAME: &'static str = "pairs_zscore";

    /// `given` as for any built-in strategy, plus `legs`: text `"A,B"` (or none).
    pub fn new(given: &[(String, ParamValue)]) -> Result<Self, ParamError> {
        let mut legs = None;
        let mut rest = Vec::with_capacity(given.len());
        for (name, value) in given {
            match (name.as_str(), value) {
                ("legs", ParamValue::Text(text)) => {
                    let parts: Vec<&str> = text.split(',').map(str::trim).collect();
                    let [a, b] = parts[..] else {
                        return Err(ParamError::Invalid {
                            message: format!("legs must be two symbols \"A,B\", got {text:?}"),
                        });
                    };
                    legs = Some((a.to_string(), b.to_string()));
                }
                _ => rest.push((name.clone(), value.clone())),
            }
        }
        let p = validate(PARAMS, &rest)?;
        let (entry, exit) = (p.float("entry"), p.float("exit"));
        if exit >= entry {
            // (both validated finite)
            return Err(ParamError::Invalid {
                message: format!("exit ({exit}) must be < entry ({entry})"),
            });
        }
        Ok(PairsZScore {
            legs,
            lookback: p.int("lookback") as usize,
            entry,
            exit,
            stop_pips: p.float("stop_pips"),
            size: p.float("size"),
            params: p,
            a: 0,
            b: 1,
            pips: (0.0001, 0.0001),
        })
    }

    /// The z-score of the last spread among the last `lookback` (NaN while either leg has
    /// fewer closes, or the spread does not vary).
    fn zscore(&self, basket: &BasketSlice<'_>) -> f64 {
        let n = self.lookback;
        let (a, b) = (basket.closes(self.a), basket.closes(self.b));
        if a.len() < n || b.len() < n {
            return f64::NAN;
        }
        let (a, b) = (&a[a.len() - n..], &b[b.len() - n..]);
        let spread: Vec<f64> = a.iter().zip(b).map(|(x, y)| x.ln() - y.ln()).collect();
        let mut total = 0.0;
        for s in &spread {
            total += s;
        }
        let mean = total / n as f64;
        let mut squares = 0.0;
        for s in &spread {
            let d = s - mean;
            squares += d * d;
        }
        let std = (squares / n as f64).sqrt();
        if std.is_nan() || std <= 0.0 {
            return f64::NAN;
        }
        (spread[n - 1] - mean) / std
    }

    fn leg(&self, side: Side, pip: f64, tag: &str) -> TradeSignal {
        TradeSignal::new(side)
            .with_stop_loss_distance(self.stop_pips * pip)
            .with_size(self.size)
            .with_tag(tag)
    }
}

impl PortfolioStrategy for PairsZScore {
    fn name(&self) -> &str {
        Self::NAME
    }

    fn params(&self) -> Option<&Params> {
        Some(&self.params)
    }

    fn init(&mut self, ctx: &mut BasketContext<'_>) -> Result<(), StrategyError> {
        let (a, b) = match &self.legs {
            Some((a, b)) => (a.clone(), b.clone()),
            None if ctx.symbols.len() >= 2 => (ctx.symbols[0].clone(), ctx.symbols[1].clone()),
            None => {
                return Err(StrategyError(format!(
                    "strategy {}: legs {:?} must be two symbols of the basket {:?}",
                    Self::NAME,
                    ctx.symbols,
                    ctx.symbols
                )))
            }
        };
        let (Some(ka), Some(kb)) = (ctx.member(&a), ctx.member(&b)) else {
            return Err(StrategyError(format!(
                "strategy {}: legs [{a:?}, {b:?}] must be two symbols of the basket {:?}",
                Self::NAME,
                ctx.symbols
            )));
        };
        (self.a, self.b) = (ka, kb);
        self.pips = (ctx.pip_sizes[ka], ctx.pip_sizes[kb]);
        Ok(())
    }

    fn manage_position(
        &mut self,
        _member: usize,
        _position: &Position,
        basket: &BasketSlice<'_>,
    ) -> Result<Vec<PositionAction>, StrategyError> {
        let z = self.zscore(basket);
        if !z.is_nan() && z.abs() < self.exit {
            return Ok(vec![PositionAction::Close]);
        }
        Ok(Vec::new())
    }

    fn evaluate(
        &mut self,
        basket: &BasketSlice<'_>,
    ) -> Result<Vec<(usize, TradeSignal)>, StrategyError> {
        let (a, b) = (self.a, self.b);
        if basket.position(a).is_some() || basket.position(b).is_some() {
            return Ok(Vec::new());
        }
        if !(basket.has_bar(a) && basket.has_bar(b)) {
            return Ok(Vec::new()); // open both legs together or not at all
        }
        let z = self.zscore(basket);
        if z.is_nan() || z.abs() <= self.entry {
            return Ok(Vec::new());
        }
        let tag = format!("z={z:+.2}");
        let (pa, pb) = self.pips;
        Ok(if z > 0.0 {
            // A rich against B
            vec![
                (a, self.leg(Side::Short, pa, &tag)),
                (b, self.leg(Side::Long, pb, &tag)),
            ]
        } else {
            vec![
                (a, self.leg(Side::Long, pa, &tag)),
                (b, self.leg(Side::Short, pb, &tag)),
            ]
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn given(items: &[(&str, ParamValue)]) -> Vec<(String, ParamValue)> {
        items
            .iter()
            .map(|(n, v)| (n.to_string(), v.clone()))
            .collect()
    }

    #[test]
    fn legs_are_two_symbols_and_exit_stays_below_entry() {
        let s = PairsZScore::new(&given(&[(
            "legs",
            ParamValue::Text("EURUSD, GBPUSD".into()),
        )]))
        .unwrap();
        assert_eq!(s.legs, Some(("EURUSD".into(), "GBPUSD".into())));
        assert_eq!((s.lookback, s.entry, s.exit), (120, 2.0, 0.5));
        let e = PairsZScore::new(&given(&[("legs", ParamValue::Text("EURUSD".into()))]));
        assert!(e.unwrap_err().to_string().contains("two symbols"));
        let e = PairsZScore::new(&given(&[
            ("entry", ParamValue::Float(1.0)),
            ("exit", ParamValue::Float(1.0)),
        ]));
        assert!(e.unwrap_err().to_string().contains("must be < entry"));
        let e = PairsZScore::new(&given(&[("lookback", ParamValue::Int(5))]));
        assert!(e.unwrap_err().to_string().contains("lookback"));
    }
}
