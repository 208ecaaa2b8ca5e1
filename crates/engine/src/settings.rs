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
            instrument: Instrument::default(),
        }
    }
}

/// How an amount in the quote currency becomes account currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Conversion {
    /// The account is in the quote currency: amounts pass unchanged.
    Quote,
    /// The account is in the base currency: divide by the rate.
    Base,
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
        } else {
            return cfg(format!(
                "account_currency {} is neither the base nor the quote currency of {} \
                 (cross rates are not supported yet)",
                self.account_currency, ins.symbol
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
        Ok(conversion)
    }
}
