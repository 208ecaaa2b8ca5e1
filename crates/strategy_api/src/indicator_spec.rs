//! [`IndicatorSpec`]: the built-in indicator kinds, declared once in one table.
//!
//! The table at the bottom of this file is the Rust indicator registry: each row gives a
//! kind's variant, its stable code (the plugin ABI sends it), its config name (as in Python's
//! `IndicatorSpec.of`) and its parameters in order. Equality, hashing, ordering, the plugin
//! codec ([`IndicatorSpec::encode`] / [`IndicatorSpec::decode`]) and the binding's
//! name-based constructor ([`IndicatorSpec::from_named`]) are all generated from it;
//! `omega-indicators` has the one `match` that builds a kind's computation. A new built-in
//! is a row here and an arm there.

use crate::types::{PriceField, PriceSide, Timeframe};

/// Most parameter words a kind has (the plugin ABI reserves this many).
pub const SPEC_WORDS: usize = 8;

/// A parameter type of a built-in kind: how it is packed into one `u64` word (floats by bit
/// pattern, so equal specs are exactly the bit-identical ones) and read from a number.
pub trait SpecParam: Copy {
    fn encode(self) -> u64;
    fn decode(word: u64) -> Option<Self>;
    /// From a number given by name (Python passes ints, floats and `None`).
    fn from_number(value: Option<f64>) -> Option<Self>;
    /// `Some` for the input field parameter.
    fn as_field(self) -> Option<PriceField> {
        None
    }
}

fn integral(value: Option<f64>) -> Option<f64> {
    value.filter(|v| v.fract() == 0.0 && v.is_finite())
}

impl SpecParam for usize {
    fn encode(self) -> u64 {
        self as u64
    }
    fn decode(word: u64) -> Option<Self> {
        usize::try_from(word).ok()
    }
    fn from_number(value: Option<f64>) -> Option<Self> {
        // Negative or too large numbers are refused, not wrapped.
        integral(value)
            .filter(|v| *v >= 0.0 && *v < 2f64.powi(53))
            .map(|v| v as usize)
    }
}

impl SpecParam for i8 {
    fn encode(self) -> u64 {
        self as i64 as u64
    }
    fn decode(word: u64) -> Option<Self> {
        i8::try_from(word as i64).ok()
    }
    fn from_number(value: Option<f64>) -> Option<Self> {
        integral(value)
            .filter(|v| (-128.0..=127.0).contains(v))
            .map(|v| v as i8)
    }
}

impl SpecParam for f64 {
    fn encode(self) -> u64 {
        self.to_bits()
    }
    fn decode(word: u64) -> Option<Self> {
        Some(f64::from_bits(word))
    }
    fn from_number(value: Option<f64>) -> Option<Self> {
        value
    }
}

/// `None` is `u64::MAX`; a value is its bits with the lowest one flipped, so no float maps
/// onto `None`'s word except the one NaN pattern `u64::MAX ^ 1` (which then equals `None`).
impl SpecParam for Option<f64> {
    fn encode(self) -> u64 {
        self.map_or(u64::MAX, |v| v.to_bits() ^ 1)
    }
    fn decode(word: u64) -> Option<Self> {
        Some((word != u64::MAX).then(|| f64::from_bits(word ^ 1)))
    }
    fn from_number(value: Option<f64>) -> Option<Self> {
        Some(value)
    }
}

impl SpecParam for PriceField {
    fn encode(self) -> u64 {
        self as u64
    }
    fn decode(word: u64) -> Option<Self> {
        [
            PriceField::Open,
            PriceField::High,
            PriceField::Low,
            PriceField::Close,
        ]
        .get(usize::try_from(word).ok()?)
        .copied()
    }
    fn from_number(value: Option<f64>) -> Option<Self> {
        Self::decode(usize::from_number(value)? as u64)
    }
    fn as_field(self) -> Option<PriceField> {
        Some(self)
    }
}

/// Why a kind code or name and parameter words name no spec.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecError(pub String);

impl std::fmt::Display for SpecError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for SpecError {}

macro_rules! indicator_registry {
    ($(
        $(#[$doc:meta])*
        $variant:ident = $code:literal, $name:literal { $($param:ident : $ty:ty),* $(,)? }
    )*) => {
        /// What an indicator computes, with its parameters. Together with a timeframe and a
        /// side it keys the indicator cache, so equal specs share one computed series.
        ///
        /// Floats are compared by bit pattern in `Eq`/`Hash`/`Ord`, so a spec is a valid map
        /// key and two specs are equal exactly when their parameters are bit-identical.
        /// Kinds without a `field` read a bar's high, low and close.
        #[derive(Debug, Clone, Copy)]
        #[non_exhaustive]
        pub enum IndicatorSpec {
            $( $(#[$doc])* $variant { $($param: $ty),* }, )*
        }

        impl IndicatorSpec {
            /// Config names of every kind, in code order.
            pub const KINDS: &'static [&'static str] = &[$($name),*];

            /// The config name (`"sma"`).
            pub fn kind(&self) -> &'static str {
                match self { $(Self::$variant { .. } => $name,)* }
            }

            /// The stable code of the kind (the plugin ABI's).
            pub fn code(&self) -> u32 {
                match self { $(Self::$variant { .. } => $code,)* }
            }

            /// Parameter names of a kind in order (`field` included where it has one).
            pub fn param_names(kind: &str) -> Option<&'static [&'static str]> {
                match kind {
                    $($name => Some(&[$(stringify!($param)),*]),)*
                    _ => None,
                }
            }

            /// The kind's code and its parameters packed in order (unused words are 0).
            pub fn encode(&self) -> (u32, [u64; SPEC_WORDS]) {
                #[allow(unused_mut, unused_variables, unused_assignments)]
                match *self {
                    $(Self::$variant { $($param),* } => {
                        let mut words = [0u64; SPEC_WORDS];
                        let mut k = 0;
                        $( words[k] = SpecParam::encode($param); k += 1; )*
                        ($code, words)
                    })*
                }
            }

            /// The spec of [`IndicatorSpec::encode`]'s output.
            pub fn decode(code: u32, words: &[u64; SPEC_WORDS]) -> Result<Self, SpecError> {
                #[allow(unused_mut, unused_variables, unused_assignments)]
                match code {
                    $($code => {
                        let mut k = 0;
                        $(
                            let $param = <$ty as SpecParam>::decode(words[k]).ok_or_else(|| {
                                SpecError(format!(
                                    "{}: parameter {} has no value for word {}",
                                    $name, stringify!($param), words[k]
                                ))
                            })?;
                            k += 1;
                        )*
                        Ok(Self::$variant { $($param),* })
                    })*
                    other => Err(SpecError(format!("unknown indicator kind code {other}"))),
                }
            }

            /// The spec of kind `kind` with each parameter read by name through `get`
            /// (`None` for an absent value); the `field` parameter is `field`.
            pub fn from_named(
                kind: &str,
                field: PriceField,
                get: &mut dyn FnMut(&str) -> Option<f64>,
            ) -> Result<Self, SpecError> {
                match kind {
                    $($name => {
                        $(
                            let $param: $ty = if stringify!($param) == "field" {
                                <$ty as SpecParam>::decode(field as u64)
                            } else {
                                <$ty as SpecParam>::from_number(get(stringify!($param)))
                            }
                            .ok_or_else(|| SpecError(format!(
                                "{}: parameter {} is missing or not a valid {}",
                                $name, stringify!($param), stringify!($ty)
                            )))?;
                        )*
                        Ok(Self::$variant { $($param),* })
                    })*
                    other => Err(SpecError(format!(
                        "unknown indicator kind {other:?}; expected one of {}",
                        Self::KINDS.join(", ")
                    ))),
                }
            }

            /// The input field of a single-input kind; `None` for kinds that read a bar's
            /// high, low and close.
            pub fn field(&self) -> Option<PriceField> {
                #[allow(unused_variables)]
                match *self {
                    $(Self::$variant { $($param),* } => {
                        None$(.or(SpecParam::as_field($param)))*
                    })*
                }
            }
        }
    };
}

indicator_registry! {
    /// Simple moving average of `field` over `period` bars.
    Sma = 0, "sma" { period: usize, field: PriceField }
    /// Exponential moving average, k = 2 / (period + 1), seeded with the SMA of the first period.
    Ema = 1, "ema" { period: usize, field: PriceField }
    /// Wilder's RSI.
    Rsi = 2, "rsi" { period: usize, field: PriceField }
    /// Wilder's average true range.
    Atr = 3, "atr" { period: usize }
    /// Rolling population standard deviation.
    RollingStd = 4, "rolling_std" { period: usize, field: PriceField }
    /// Bollinger band: `band` selects upper (+1), middle (0) or lower (-1).
    Bollinger = 5, "bollinger" { period: usize, k_up: f64, k_down: f64, band: i8, field: PriceField }
    /// (x - SMA) / rolling population std over `period`.
    ZScore = 6, "zscore" { period: usize, field: PriceField }
    /// Kalman local-level filter: the filtered (posterior) level.
    Kalman = 7, "kalman" { q: f64, r: f64, x0: Option<f64>, p0: f64, field: PriceField }
    /// z-score over `lookback` of the residual `x - kalman level`.
    KalmanZScore = 8, "kalman_zscore" {
        q: f64, r: f64, x0: Option<f64>, p0: f64, lookback: usize, field: PriceField
    }
    /// Linearly weighted moving average (TA-Lib WMA).
    Wma = 9, "wma" { period: usize, field: PriceField }
    /// Hull moving average: WMA(2 WMA(x, n/2) - WMA(x, n), floor(sqrt(n))).
    Hull = 10, "hull" { period: usize, field: PriceField }
    /// MACD (TA-Lib MACD): `line` 0 the MACD line, 1 the signal line, 2 the histogram.
    Macd = 11, "macd" { fast: usize, slow: usize, signal: usize, line: i8, field: PriceField }
    /// Slow stochastic (TA-Lib STOCH, SMA smoothing): `line` 0 %K, 1 %D.
    Stochastic = 12, "stochastic" { k_period: usize, k_smooth: usize, d_period: usize, line: i8 }
    /// Wilder's ADX (TA-Lib ADX, PLUS_DI, MINUS_DI): `line` 0 ADX, 1 +DI, 2 -DI.
    Adx = 13, "adx" { period: usize, line: i8 }
    /// Commodity channel index (TA-Lib CCI).
    Cci = 14, "cci" { period: usize }
    /// Donchian channel: `band` +1 highest high, -1 lowest low, 0 their midpoint.
    Donchian = 15, "donchian" { period: usize, band: i8 }
    /// Keltner channel: EMA(close, period) +/- k ATR(atr_period); `band` +1, 0 or -1.
    Keltner = 16, "keltner" { period: usize, atr_period: usize, k: f64, band: i8 }
}

impl IndicatorSpec {
    /// The ordering key: equal exactly when the kind and every parameter's bits are.
    fn key(&self) -> (u32, [u64; SPEC_WORDS]) {
        self.encode()
    }
}

impl PartialEq for IndicatorSpec {
    fn eq(&self, other: &Self) -> bool {
        self.key() == other.key()
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

/// Cache key of a built-in series: which timeframe, which side, which indicator.
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

    fn samples() -> Vec<IndicatorSpec> {
        let mut specs = Vec::new();
        for period in [1, 2] {
            for field in [PriceField::Open, PriceField::Close] {
                specs.push(IndicatorSpec::Sma { period, field });
                specs.push(IndicatorSpec::Ema { period, field });
                specs.push(IndicatorSpec::Wma { period, field });
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
            specs.push(IndicatorSpec::Keltner {
                period,
                atr_period: 10,
                k: -0.0,
                band: 1,
            });
        }
        let nan_like_none = f64::from_bits(u64::MAX ^ 1);
        for x0 in [None, Some(1.0), Some(-0.0), Some(0.0), Some(nan_like_none)] {
            for (q, r) in [(0.01, 1.0), (0.02, 1.0)] {
                let field = PriceField::Close;
                specs.push(IndicatorSpec::Kalman {
                    q,
                    r,
                    x0,
                    p0: 1.0,
                    field,
                });
                specs.push(IndicatorSpec::KalmanZScore {
                    q,
                    r,
                    x0,
                    p0: 1.0,
                    lookback: 5,
                    field,
                });
            }
        }
        specs
    }

    #[test]
    fn equality_agrees_with_the_ordering() {
        let specs = samples();
        let mut equal_pairs = 0;
        for a in &specs {
            for b in &specs {
                let same = a.cmp(b) == Ordering::Equal;
                assert_eq!(a == b, same, "{a:?} vs {b:?}");
                equal_pairs += usize::from(same);
            }
        }
        // Each spec equals itself, and None equals the one NaN pattern `encode` maps onto it.
        assert!(equal_pairs > specs.len(), "{equal_pairs}");
    }

    #[test]
    fn encode_decode_round_trips_bit_for_bit() {
        for spec in samples() {
            let (code, words) = spec.encode();
            let back = IndicatorSpec::decode(code, &words).unwrap();
            assert_eq!(back.encode(), (code, words), "{spec:?}");
            assert_eq!(back.kind(), spec.kind());
        }
        assert!(IndicatorSpec::decode(99, &[0; SPEC_WORDS]).is_err());
        let mut words = [0; SPEC_WORDS];
        words[1] = 7; // no PriceField has code 7
        assert!(IndicatorSpec::decode(0, &words).is_err());
    }

    #[test]
    fn from_named_reads_each_parameter_by_name() {
        let mut values = |name: &str| match name {
            "period" => Some(20.0),
            "k_up" => Some(2.0),
            "k_down" => Some(1.5),
            "band" => Some(-1.0),
            _ => None,
        };
        let spec = IndicatorSpec::from_named("bollinger", PriceField::High, &mut values).unwrap();
        assert_eq!(
            spec,
            IndicatorSpec::Bollinger {
                period: 20,
                k_up: 2.0,
                k_down: 1.5,
                band: -1,
                field: PriceField::High
            }
        );
        assert_eq!(spec.field(), Some(PriceField::High));
        let atr = IndicatorSpec::from_named("atr", PriceField::Close, &mut values).unwrap();
        assert_eq!(atr.field(), None);
        let e = IndicatorSpec::from_named("sma", PriceField::Close, &mut |_| Some(2.5));
        assert!(e.unwrap_err().0.contains("period"));
        let e = IndicatorSpec::from_named("sma", PriceField::Close, &mut |_| Some(-3.0));
        assert!(e.is_err());
        let e = IndicatorSpec::from_named("hma", PriceField::Close, &mut |_| None);
        assert!(e.unwrap_err().0.contains("expected one of sma, ema"));
        assert_eq!(IndicatorSpec::param_names("macd").unwrap().len(), 5);
        assert_eq!(IndicatorSpec::KINDS.len(), 17);
    }
}
