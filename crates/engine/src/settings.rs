//! `EngineSettings`, field for field the frozen Python `omega.engine.settings.EngineSettings`.

use crate::error::EngineError;
use omega_strategy_api::Timeframe;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IntrabarPolicy {
    Pessimistic,
    Optimistic,
    Finer,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlippageModel {
    None,
    Fixed,
    Random,
    Atr,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SlippageSettings {
    pub model: SlippageModel,
    pub pips: f64,
    pub atr_fraction: f64,
    pub atr_period: usize,
    pub seed: u64,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FeeSettings {
    pub commission_per_lot: f64,
    pub percent_of_notional: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SizingMode {
    Fixed,
    RiskPercent,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SizingSettings {
    pub mode: SizingMode,
    pub lots: f64,
    pub risk_percent: f64,
}

/// What a configured stop distance is measured in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StopUnit {
    /// Pips of the instrument.
    #[default]
    Pips,
    /// Multiples of ATR(`stop_atr_period`) of the primary bid bars at the current close.
    Atr,
}

/// Stop to entry +/- `offset` once the close is `trigger` in profit (both in `unit`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BreakEvenSettings {
    pub trigger: f64,
    pub offset: f64,
    pub unit: StopUnit,
}

/// Stop trailed `distance` (in `unit`) behind the close, only tightening.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrailingSettings {
    pub distance: f64,
    pub unit: StopUnit,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Instrument {
    pub symbol: String,
    pub pip_size: f64,
    pub point: f64,
    pub contract_size: f64,
    pub lot_step: f64,
    pub min_lot: f64,
    pub base_currency: String,
    pub quote_currency: String,
}

impl Default for Instrument {
    fn default() -> Self {
        Instrument {
            symbol: "EURUSD".into(),
            pip_size: 0.0001,
            point: 0.00001,
            contract_size: 100_000.0,
            lot_step: 0.01,
            min_lot: 0.01,
            base_currency: "EUR".into(),
            quote_currency: "USD".into(),
        }
    }
}

/// What happens to a position still open after the last bar (docs/engine/execution.md,
/// step 6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EndOfData {
    /// Closed at the last bar's close (the default).
    #[default]
    LastClose,
    /// Closed at the last bar's open (backtesting.py's `finalize_trades`).
    LastOpen,
    /// Left open and marked to market at the last close.
    Mark,
}

/// How a swap rate is given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SwapUnit {
    /// Points (of `instrument.point`) per lot per night, quote currency.
    Points,
    /// Percent of the notional per year (365 nights).
    AnnualPercent,
}

/// Swap charged (positive: credited) at each rollover a position is held over.
#[derive(Debug, Clone, PartialEq)]
pub struct SwapSettings {
    pub long: f64,
    pub short: f64,
    pub unit: SwapUnit,
    /// Local time of the rollover, minutes after midnight (17:00 = 1020).
    pub rollover_minute: u32,
    /// IANA time zone of the rollover time (`America/New_York`).
    pub timezone: String,
    /// Weekday (0 = Monday) whose rollover counts three nights.
    pub triple_weekday: u32,
}

/// Margin of a position: `margin_rate` of its notional, with a warning and a stop-out level
/// (percent of equity over used margin).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MarginSettings {
    pub margin_rate: f64,
    pub margin_call_level: f64,
    pub stop_out_level: f64,
}

/// Conversion of quote-currency amounts to the account currency when the account
/// currency is neither currency of the pair: through a conversion pair's bars (bid closes
/// at the given open times) or a fixed rate. `multiply`: the pair quotes the account
/// currency per unit of the instrument's quote currency (GBPUSD for EURGBP in USD).
#[derive(Debug, Clone, PartialEq)]
pub struct CrossSettings {
    pub symbol: String,
    pub multiply: bool,
    pub fixed_rate: Option<f64>,
    /// Open times (UTC ns, increasing) and bid closes of the conversion pair's bars.
    pub times: std::sync::Arc<[i64]>,
    pub closes: std::sync::Arc<[f64]>,
    /// In a basket: the member whose bars are the conversion pair's (`times` and `closes`
    /// are then left empty and the run reads that member's base bars: no copy).
    pub member: Option<usize>,
}

/// Trading hours: entries fill only at bars opening inside `[start, end)` local time of
/// `timezone` on the given weekdays (0 = Monday), and outside every blackout `[start, end)`
/// (UTC ns).
#[derive(Debug, Clone, PartialEq)]
pub struct SessionSettings {
    pub timezone: String,
    pub start_minute: u32,
    pub end_minute: u32,
    pub weekdays: [bool; 7],
}

#[derive(Debug, Clone, PartialEq)]
pub struct EngineSettings {
    pub primary_timeframe: Timeframe,
    pub timeframes: Vec<Timeframe>,
    pub intrabar_policy: IntrabarPolicy,
    pub slippage: SlippageSettings,
    pub fees: FeeSettings,
    pub sizing: SizingSettings,
    pub break_even: Option<BreakEvenSettings>,
    pub trailing: Option<TrailingSettings>,
    /// Period of the ATR that `StopUnit::Atr` distances multiply.
    pub stop_atr_period: usize,
    pub max_bars_held: Option<u32>,
    pub initial_balance: f64,
    pub account_currency: String,
    pub instrument: Instrument,
    /// The instrument's id: its place in a basket's `instruments:` list (0 alone). Slices,
    /// positions and working orders carry it; a signal naming another id is refused.
    pub instrument_id: u32,
    pub end_of_data: EndOfData,
    pub swap: Option<SwapSettings>,
    pub margin: Option<MarginSettings>,
    pub cross: Option<CrossSettings>,
    pub session: Option<SessionSettings>,
    /// News blackouts, `[start, end)` in UTC ns.
    pub blackouts: Vec<(i64, i64)>,
}

impl Default for EngineSettings {
    /// The Python defaults.
    fn default() -> Self {
        EngineSettings {
            primary_timeframe: Timeframe::M5,
            timeframes: vec![Timeframe::M5],
            intrabar_policy: IntrabarPolicy::Pessimistic,
            slippage: SlippageSettings {
                model: SlippageModel::None,
                pips: 0.0,
                atr_fraction: 0.0,
                atr_period: 14,
                seed: 0,
            },
            fees: FeeSettings {
                commission_per_lot: 0.0,
                percent_of_notional: 0.0,
            },
            sizing: SizingSettings {
                mode: SizingMode::Fixed,
                lots: 1.0,
                risk_percent: 1.0,
            },
            break_even: None,
            trailing: None,
            stop_atr_period: 14,
            max_bars_held: None,
            initial_balance: 100_000.0,
            account_currency: "USD".into(),
            instrument_id: 0,
            instrument: Instrument::default(),
            end_of_data: EndOfData::LastClose,
            swap: None,
            margin: None,
            cross: None,
            session: None,
            blackouts: Vec::new(),
        }
    }
}

/// How an amount in the quote currency becomes account currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Conversion {
    /// The account is in the quote currency: amounts pass unchanged.
    Quote,
    /// The account is in the base currency: divide by the rate (the pair's own price).
    Base,
    /// A cross: multiply by (`true`) or divide by (`false`) the conversion rate of the bar.
    Cross(bool),
}

impl EngineSettings {
    /// Whether a configured break-even or trailing distance is in ATR multiples (so the
    /// engine computes its stop ATR before the loop).
    pub fn uses_stop_atr(&self) -> bool {
        self.break_even.is_some_and(|b| b.unit == StopUnit::Atr)
            || self.trailing.is_some_and(|t| t.unit == StopUnit::Atr)
    }

    /// Checks what the engine relies on and works out the currency conversion.
    pub fn validate(&self) -> Result<Conversion, EngineError> {
        let cfg = |m: String| Err(EngineError::Config(m));
        let ins = &self.instrument;
        let account = self.account_currency.to_ascii_uppercase();
        let conversion = if account == ins.quote_currency.to_ascii_uppercase() {
            Conversion::Quote
        } else if account == ins.base_currency.to_ascii_uppercase() {
            Conversion::Base
        } else if let Some(cross) = &self.cross {
            check_cross(cross)?;
            Conversion::Cross(cross.multiply)
        } else {
            return cfg(format!(
                "account_currency {} is neither the base nor the quote currency of {}: \
                 give account.conversion (a pair with {} and {}, or a fixed rate)",
                self.account_currency, ins.symbol, ins.quote_currency, self.account_currency
            ));
        };
        for (name, v) in [
            ("instrument.pip_size", ins.pip_size),
            ("instrument.contract_size", ins.contract_size),
            ("instrument.lot_step", ins.lot_step),
            ("instrument.min_lot", ins.min_lot),
        ] {
            if !(v.is_finite() && v > 0.0) {
                return cfg(format!("{name} must be finite and > 0, got {v}"));
            }
        }
        if !self.initial_balance.is_finite() {
            return cfg(format!(
                "initial_balance must be finite, got {}",
                self.initial_balance
            ));
        }
        if self.slippage.model == SlippageModel::Atr && self.slippage.atr_period < 1 {
            return cfg("slippage.atr_period must be >= 1".to_string());
        }
        if self.uses_stop_atr() && self.stop_atr_period < 1 {
            return cfg("stop_atr_period must be >= 1".to_string());
        }
        if let Some(swap) = &self.swap {
            if !(swap.long.is_finite() && swap.short.is_finite()) {
                return cfg("swap.long and swap.short must be finite".to_string());
            }
            crate::calendar::zone(&swap.timezone, "swap.timezone")?;
            if swap.rollover_minute >= 24 * 60 || swap.triple_weekday > 6 {
                return cfg("swap: rollover time or triple weekday out of range".to_string());
            }
        }
        if let Some(m) = &self.margin {
            let ok = |v: f64| v.is_finite() && v > 0.0;
            if !(ok(m.margin_rate) && ok(m.margin_call_level) && ok(m.stop_out_level)) {
                return cfg("margin: rate and levels must be finite and > 0".to_string());
            }
        }
        if let Some(session) = &self.session {
            crate::calendar::zone(&session.timezone, "session.timezone")?;
            if session.start_minute >= 24 * 60 || session.end_minute > 24 * 60 {
                return cfg("session: start or end out of range".to_string());
            }
        }
        if let Some(&(start, end)) = self.blackouts.iter().find(|(s, e)| s >= e) {
            return cfg(format!(
                "blackouts: a window must end after it starts ({start} >= {end})"
            ));
        }
        Ok(conversion)
    }
}

fn check_cross(cross: &CrossSettings) -> Result<(), EngineError> {
    let cfg = |m: String| Err(EngineError::Config(m));
    match cross.fixed_rate {
        Some(rate) if !(rate.is_finite() && rate > 0.0) => cfg(format!(
            "account.conversion.rate must be finite and > 0, got {rate}"
        )),
        Some(_) => Ok(()),
        None if cross.member.is_some() => Ok(()), // a basket member's bars: checked as input
        None if cross.times.is_empty() || cross.times.len() != cross.closes.len() => cfg(format!(
            "account.conversion: the {} series is empty or its columns differ in length",
            cross.symbol
        )),
        None => match cross
            .closes
            .iter()
            .position(|c| !(c.is_finite() && *c > 0.0))
        {
            Some(row) => cfg(format!(
                "account.conversion: {} close at row {row} is not a finite price > 0",
                cross.symbol
            )),
            None => Ok(()),
        },
    }
}
