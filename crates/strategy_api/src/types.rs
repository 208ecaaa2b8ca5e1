//! Market-data vocabulary shared by strategies, indicators and the engine.

/// Nanoseconds per second; timestamps are UTC int64 nanoseconds (bar open times).
pub const NS_PER_SECOND: i64 = 1_000_000_000;

/// Bar timeframes. A bar is labelled by its open time and closes at open + timeframe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
pub enum Timeframe {
    M1 = 0,
    M5 = 1,
    M15 = 2,
    M30 = 3,
    H1 = 4,
    H4 = 5,
    D1 = 6,
}

impl Timeframe {
    /// Every timeframe, finest first.
    pub const ALL: [Timeframe; 7] = [
        Timeframe::M1,
        Timeframe::M5,
        Timeframe::M15,
        Timeframe::M30,
        Timeframe::H1,
        Timeframe::H4,
        Timeframe::D1,
    ];

    /// Length in seconds.
    pub const fn seconds(self) -> i64 {
        match self {
            Timeframe::M1 => 60,
            Timeframe::M5 => 300,
            Timeframe::M15 => 900,
            Timeframe::M30 => 1800,
            Timeframe::H1 => 3600,
            Timeframe::H4 => 14400,
            Timeframe::D1 => 86400,
        }
    }

    /// Length in nanoseconds.
    pub const fn nanos(self) -> i64 {
        self.seconds() * NS_PER_SECOND
    }

    /// The name used in configs (`"M5"`, `"H1"`, ...).
    pub const fn name(self) -> &'static str {
        match self {
            Timeframe::M1 => "M1",
            Timeframe::M5 => "M5",
            Timeframe::M15 => "M15",
            Timeframe::M30 => "M30",
            Timeframe::H1 => "H1",
            Timeframe::H4 => "H4",
            Timeframe::D1 => "D1",
        }
    }

    /// Parses a config name, case-insensitively.
    pub fn parse(name: &str) -> Option<Timeframe> {
        Timeframe::ALL
            .into_iter()
            .find(|tf| tf.name().eq_ignore_ascii_case(name))
    }
}

/// Which side of the quote a series is taken from. `Mid` is `(bid + ask) * 0.5` per bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
pub enum PriceSide {
    Bid = 0,
    Ask = 1,
    Mid = 2,
}

/// Which field of a bar feeds a single-input indicator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
pub enum PriceField {
    Open = 0,
    High = 1,
    Low = 2,
    Close = 3,
}

/// One side of one bar.
#[derive(Debug, Clone, Copy, PartialEq)]
#[repr(C)]
pub struct Ohlc {
    pub open: f64,
    pub high: f64,
    pub low: f64,
    pub close: f64,
}

/// A two-sided bar: open time (UTC ns), bid and ask OHLC, volume.
#[derive(Debug, Clone, Copy, PartialEq)]
#[repr(C)]
pub struct Bar {
    pub time: i64,
    pub bid: Ohlc,
    pub ask: Ohlc,
    pub volume: f64,
}

impl Bar {
    /// The OHLC of one side (`Mid` averages bid and ask field by field).
    pub fn side(&self, side: PriceSide) -> Ohlc {
        match side {
            PriceSide::Bid => self.bid,
            PriceSide::Ask => self.ask,
            PriceSide::Mid => Ohlc {
                open: (self.bid.open + self.ask.open) * 0.5,
                high: (self.bid.high + self.ask.high) * 0.5,
                low: (self.bid.low + self.ask.low) * 0.5,
                close: (self.bid.close + self.ask.close) * 0.5,
            },
        }
    }
}

/// What an indicator computes, with its parameters. Together with a timeframe and a side it
/// keys the IndicatorCache, so equal specs share one computed series.
///
/// Floats are compared by bit pattern (`f64::to_bits`) in `Eq`/`Hash`, so a spec is a valid
/// map key and two specs are equal exactly when their parameters are bit-identical.
#[derive(Debug, Clone, Copy)]
pub enum IndicatorSpec {
    /// Simple moving average of `field` over `period` bars.
    Sma { period: usize, field: PriceField },
    /// Exponential moving average, k = 2 / (period + 1), seeded with the SMA of the first period.
    Ema { period: usize, field: PriceField },
    /// Wilder's RSI.
    Rsi { period: usize, field: PriceField },
    /// Wilder's average true range (uses high, low, close).
    Atr { period: usize },
    /// Rolling population standard deviation.
    RollingStd { period: usize, field: PriceField },
    /// Bollinger band: `band` selects upper (+1), middle (0) or lower (-1).
    Bollinger {
        period: usize,
        k_up: f64,
        k_down: f64,
        band: i8,
        field: PriceField,
    },
    /// (x - SMA) / rolling population std over `period`.
    ZScore { period: usize, field: PriceField },
    /// Kalman local-level filter: the filtered (posterior) level.
    Kalman {
        q: f64,
        r: f64,
        x0: Option<f64>,
        p0: f64,
        field: PriceField,
    },
    /// z-score over `lookback` of the residual `x - kalman level`.
    KalmanZScore {
        q: f64,
        r: f64,
        x0: Option<f64>,
        p0: f64,
        lookback: usize,
        field: PriceField,
    },
}

impl IndicatorSpec {
    fn key(&self) -> (u8, [u64; 6]) {
        use IndicatorSpec::*;
        let f = |x: f64| x.to_bits();
        let o = |x: Option<f64>| x.map_or(u64::MAX, |v| v.to_bits() ^ 1);
        match *self {
            Sma { period, field } => (0, [period as u64, field as u64, 0, 0, 0, 0]),
            Ema { period, field } => (1, [period as u64, field as u64, 0, 0, 0, 0]),
            Rsi { period, field } => (2, [period as u64, field as u64, 0, 0, 0, 0]),
            Atr { period } => (3, [period as u64, 0, 0, 0, 0, 0]),
            RollingStd { period, field } => (4, [period as u64, field as u64, 0, 0, 0, 0]),
            Bollinger {
                period,
                k_up,
                k_down,
                band,
                field,
            } => (
                5,
                [
                    period as u64,
                    f(k_up),
                    f(k_down),
                    band as u64,
                    field as u64,
                    0,
                ],
            ),
            ZScore { period, field } => (6, [period as u64, field as u64, 0, 0, 0, 0]),
            Kalman {
                q,
                r,
                x0,
                p0,
                field,
            } => (7, [f(q), f(r), o(x0), f(p0), field as u64, 0]),
            KalmanZScore {
                q,
                r,
                x0,
                p0,
                lookback,
                field,
            } => (8, [f(q), f(r), o(x0), f(p0), lookback as u64, field as u64]),
        }
    }
}

impl PartialEq for IndicatorSpec {
    /// The same relation as comparing `key()`s, field by field without building them: a
    /// strategy looks its indicators up by key several times per bar.
    #[inline]
    fn eq(&self, other: &Self) -> bool {
        use IndicatorSpec::*;
        let f = |a: f64, b: f64| a.to_bits() == b.to_bits();
        // Encoded as in `key()`, so `==` and `Ord` agree on every bit pattern.
        let enc = |x: Option<f64>| x.map_or(u64::MAX, |v| v.to_bits() ^ 1);
        let o = |a: Option<f64>, b: Option<f64>| enc(a) == enc(b);
        match (*self, *other) {
            (
                Sma {
                    period: p,
                    field: x,
                },
                Sma {
                    period: q,
                    field: y,
                },
            )
            | (
                Ema {
                    period: p,
                    field: x,
                },
                Ema {
                    period: q,
                    field: y,
                },
            )
            | (
                Rsi {
                    period: p,
                    field: x,
                },
                Rsi {
                    period: q,
                    field: y,
                },
            )
            | (
                RollingStd {
                    period: p,
                    field: x,
                },
                RollingStd {
                    period: q,
                    field: y,
                },
            )
            | (
                ZScore {
                    period: p,
                    field: x,
                },
                ZScore {
                    period: q,
                    field: y,
                },
            ) => p == q && x == y,
            (Atr { period: p }, Atr { period: q }) => p == q,
            (
                Bollinger {
                    period: p1,
                    k_up: u1,
                    k_down: d1,
                    band: b1,
                    field: x1,
                },
                Bollinger {
                    period: p2,
                    k_up: u2,
                    k_down: d2,
                    band: b2,
                    field: x2,
                },
            ) => p1 == p2 && f(u1, u2) && f(d1, d2) && b1 == b2 && x1 == x2,
            (
                Kalman {
                    q: q1,
                    r: r1,
                    x0: a1,
                    p0: p1,
                    field: x1,
                },
                Kalman {
                    q: q2,
                    r: r2,
                    x0: a2,
                    p0: p2,
                    field: x2,
                },
            ) => f(q1, q2) && f(r1, r2) && o(a1, a2) && f(p1, p2) && x1 == x2,
            (
                KalmanZScore {
                    q: q1,
                    r: r1,
                    x0: a1,
                    p0: p1,
                    lookback: l1,
                    field: x1,
                },
                KalmanZScore {
                    q: q2,
                    r: r2,
                    x0: a2,
                    p0: p2,
                    lookback: l2,
                    field: x2,
                },
            ) => f(q1, q2) && f(r1, r2) && o(a1, a2) && f(p1, p2) && l1 == l2 && x1 == x2,
            _ => false,
        }
    }
}
impl Eq for IndicatorSpec {}
impl std::hash::Hash for IndicatorSpec {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.key().hash(state);
    }
}
impl PartialOrd for IndicatorSpec {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for IndicatorSpec {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.key().cmp(&other.key())
    }
}

/// Cache key: which timeframe, which side, which indicator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct IndicatorKey {
    pub timeframe: Timeframe,
    pub side: PriceSide,
    pub spec: IndicatorSpec,
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cmp::Ordering;

    #[test]
    fn spec_equality_agrees_with_the_ordering_key() {
        let mut specs = Vec::new();
        for period in [1, 2] {
            for field in [PriceField::Open, PriceField::Close] {
                specs.push(IndicatorSpec::Sma { period, field });
                specs.push(IndicatorSpec::Ema { period, field });
                specs.push(IndicatorSpec::Rsi { period, field });
                specs.push(IndicatorSpec::RollingStd { period, field });
                specs.push(IndicatorSpec::ZScore { period, field });
                for (k_up, k_down, band) in [(2.0, 2.0, 1), (2.0, 1.5, 1), (2.0, 2.0, -1)] {
                    specs.push(IndicatorSpec::Bollinger {
                        period,
                        k_up,
                        k_down,
                        band,
                        field,
                    });
                }
            }
            specs.push(IndicatorSpec::Atr { period });
        }
        let nan_like_none = f64::from_bits(u64::MAX ^ 1);
        for x0 in [None, Some(1.0), Some(-0.0), Some(0.0), Some(nan_like_none)] {
            for (q, r) in [(0.01, 1.0), (0.02, 1.0), (0.01, 0.5)] {
                specs.push(IndicatorSpec::Kalman {
                    q,
                    r,
                    x0,
                    p0: 1.0,
                    field: PriceField::Close,
                });
                for lookback in [5, 6] {
                    specs.push(IndicatorSpec::KalmanZScore {
                        q,
                        r,
                        x0,
                        p0: 1.0,
                        lookback,
                        field: PriceField::Close,
                    });
                }
            }
        }
        let mut equal_pairs = 0;
        for a in &specs {
            for b in &specs {
                let same = a.cmp(b) == Ordering::Equal;
                assert_eq!(a == b, same, "{a:?} vs {b:?}");
                equal_pairs += usize::from(same);
            }
        }
        // Each spec equals itself, and None equals the one NaN pattern `key()` maps onto it.
        assert!(equal_pairs > specs.len(), "{equal_pairs}");
    }
}
