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
