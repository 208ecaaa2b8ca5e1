//! `omega.engine.settings.EngineSettings` (a frozen dataclass) read attribute by attribute
//! into the engine's settings. Floats are Python floats, so they arrive bit for bit.

use crate::errors::config_error;
use omega_engine::{
    BreakEvenSettings, EngineSettings, FeeSettings, Instrument, IntrabarPolicy, SizingMode,
    SizingSettings, SlippageModel, SlippageSettings, StopUnit, TrailingSettings,
};
use omega_strategy_api::Timeframe;
use pyo3::prelude::*;

fn get<'py, T: FromPyObjectOwned<'py>>(
    obj: &Bound<'py, PyAny>,
    name: &str,
    path: &str,
) -> PyResult<T> {
    let value = obj.getattr(name)?;
    value.extract::<T>().map_err(|e| {
        let e: PyErr = e.into();
        config_error(obj.py(), format!("{path}.{name}: {e}"))
    })
}

/// A `Timeframe` enum member (or its name) as the Rust timeframe.
pub fn timeframe(value: &Bound<'_, PyAny>, path: &str) -> PyResult<Timeframe> {
    let name: String = match value.getattr("name") {
        Ok(name) if !value.is_instance_of::<pyo3::types::PyString>() => name.extract()?,
        _ => value.extract()?,
    };
    Timeframe::parse(&name)
        .ok_or_else(|| config_error(value.py(), format!("{path}: unknown timeframe {name:?}")))
}

fn choice<T: Copy>(py: Python<'_>, value: &str, path: &str, options: &[(&str, T)]) -> PyResult<T> {
    options
        .iter()
        .find(|(name, _)| *name == value)
        .map(|(_, v)| *v)
        .ok_or_else(|| {
            let known: Vec<&str> = options.iter().map(|(n, _)| *n).collect();
            config_error(
                py,
                format!(
                    "{path}: unknown value {value:?}; expected one of {}",
                    known.join(", ")
                ),
            )
        })
}

/// The seed as the generator's u64 (a negative seed wraps like `seed & (2**64 - 1)`).
fn seed(value: &Bound<'_, PyAny>) -> PyResult<u64> {
    if let Ok(v) = value.extract::<u64>() {
        return Ok(v);
    }
    let masked = value.call_method1("__and__", (u64::MAX,))?;
    masked.extract::<u64>()
}

pub fn engine_settings(s: &Bound<'_, PyAny>) -> PyResult<EngineSettings> {
    let py = s.py();
    let primary_timeframe = timeframe(
        &s.getattr("primary_timeframe")?,
        "settings.primary_timeframe",
    )?;
    let mut timeframes = Vec::new();
    for tf in s.getattr("timeframes")?.try_iter()? {
        timeframes.push(timeframe(&tf?, "settings.timeframes")?);
    }
    let policy: String = get(s, "intrabar_policy", "settings")?;
    let intrabar_policy = choice(
        py,
        &policy,
        "execution.intrabar_policy",
        &[
            ("pessimistic", IntrabarPolicy::Pessimistic),
            ("optimistic", IntrabarPolicy::Optimistic),
            ("finer", IntrabarPolicy::Finer),
        ],
    )?;
    let sl = s.getattr("slippage")?;
    let model: String = get(&sl, "model", "slippage")?;
    let slippage = SlippageSettings {
        model: choice(
            py,
            &model,
            "execution.slippage.model",
            &[
                ("none", SlippageModel::None),
                ("fixed", SlippageModel::Fixed),
                ("random", SlippageModel::Random),
                ("atr", SlippageModel::Atr),
            ],
        )?,
        pips: get(&sl, "pips", "slippage")?,
        atr_fraction: get(&sl, "atr_fraction", "slippage")?,
        atr_period: get(&sl, "atr_period", "slippage")?,
        seed: seed(&sl.getattr("seed")?)?,
    };
    let fees = s.getattr("fees")?;
    let fees = FeeSettings {
        commission_per_lot: get(&fees, "commission_per_lot", "fees")?,
        percent_of_notional: get(&fees, "percent_of_notional", "fees")?,
    };
    let sz = s.getattr("sizing")?;
    let mode: String = get(&sz, "mode", "sizing")?;
    let sizing = SizingSettings {
        mode: choice(
            py,
            &mode,
            "execution.sizing.mode",
            &[
                ("fixed", SizingMode::Fixed),
                ("risk_percent", SizingMode::RiskPercent),
            ],
        )?,
        lots: get(&sz, "lots", "sizing")?,
        risk_percent: get(&sz, "risk_percent", "sizing")?,
    };
    let unit = |section: &Bound<'_, PyAny>, name: &str| -> PyResult<StopUnit> {
        let unit: String = get(section, "unit", name)?;
        choice(
            py,
            &unit,
            &format!("execution.{name}.unit"),
            &[("pips", StopUnit::Pips), ("atr", StopUnit::Atr)],
        )
    };
    let be = s.getattr("break_even")?;
    let break_even = if be.is_none() {
        None
    } else {
        Some(BreakEvenSettings {
            trigger: get(&be, "trigger", "break_even")?,
            offset: get(&be, "offset", "break_even")?,
            unit: unit(&be, "break_even")?,
        })
    };
    let tr = s.getattr("trailing")?;
    let trailing = if tr.is_none() {
        None
    } else {
        Some(TrailingSettings {
            distance: get(&tr, "distance", "trailing")?,
            unit: unit(&tr, "trailing")?,
        })
    };
    let ins = s.getattr("instrument")?;
    let instrument = Instrument {
        symbol: get(&ins, "symbol", "instrument")?,
        pip_size: get(&ins, "pip_size", "instrument")?,
        point: get(&ins, "point", "instrument")?,
        contract_size: get(&ins, "contract_size", "instrument")?,
        lot_step: get(&ins, "lot_step", "instrument")?,
        min_lot: get(&ins, "min_lot", "instrument")?,
        base_currency: get(&ins, "base_currency", "instrument")?,
        quote_currency: get(&ins, "quote_currency", "instrument")?,
    };
    Ok(EngineSettings {
        primary_timeframe,
        timeframes,
        intrabar_policy,
        slippage,
        fees,
        sizing,
        break_even,
        trailing,
        stop_atr_period: get(s, "stop_atr_period", "settings")?,
        max_bars_held: get(s, "max_bars_held", "settings")?,
        initial_balance: get(s, "initial_balance", "settings")?,
        account_currency: get(s, "account_currency", "settings")?,
        instrument,
    })
}
