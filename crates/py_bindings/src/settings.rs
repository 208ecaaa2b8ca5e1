//! `omega.engine.settings.EngineSettings` (a frozen dataclass) read attribute by attribute
//! into the engine's settings. Floats are Python floats, so they arrive bit for bit.

use crate::errors::config_error;
use numpy::PyArrayMethods;
use omega_engine::{
    BreakEvenSettings, CrossSettings, EndOfData, EngineSettings, FeeSettings, Instrument,
    IntrabarPolicy, MarginSettings, SessionSettings, SizingMode, SizingSettings, SlippageModel,
    SlippageSettings, StopUnit, SwapSettings, SwapUnit, TrailingSettings,
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
    let end_of_data: String = get(s, "end_of_data", "settings")?;
    let end_of_data = choice(
        py,
        &end_of_data,
        "execution.end_of_data",
        &[
            ("last_close", EndOfData::LastClose),
            ("last_open", EndOfData::LastOpen),
            ("mark", EndOfData::Mark),
        ],
    )?;
    Ok(EngineSettings {
        end_of_data,
        swap: optional(s, "swap", swap)?,
        margin: optional(s, "margin", |m| {
            Ok(MarginSettings {
                margin_rate: get(m, "margin_rate", "margin")?,
                margin_call_level: get(m, "margin_call_level", "margin")?,
                stop_out_level: get(m, "stop_out_level", "margin")?,
            })
        })?,
        cross: optional(s, "cross", cross)?,
        session: optional(s, "session", session)?,
        blackouts: get(s, "blackouts", "settings")?,
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
        instrument_id: get(s, "instrument_id", "settings")?,
    })
}

/// `s.<name>` converted by `read`, or `None` when the attribute is `None`.
fn optional<'py, T>(
    s: &Bound<'py, PyAny>,
    name: &str,
    read: impl Fn(&Bound<'py, PyAny>) -> PyResult<T>,
) -> PyResult<Option<T>> {
    let value = s.getattr(name)?;
    if value.is_none() {
        Ok(None)
    } else {
        read(&value).map(Some)
    }
}

fn swap(w: &Bound<'_, PyAny>) -> PyResult<SwapSettings> {
    let unit: String = get(w, "unit", "swap")?;
    Ok(SwapSettings {
        long: get(w, "long", "swap")?,
        short: get(w, "short", "swap")?,
        unit: choice(
            w.py(),
            &unit,
            "swap.unit",
            &[
                ("points", SwapUnit::Points),
                ("annual_percent", SwapUnit::AnnualPercent),
            ],
        )?,
        rollover_minute: get(w, "rollover_minute", "swap")?,
        timezone: get(w, "timezone", "swap")?,
        triple_weekday: get(w, "triple_weekday", "swap")?,
    })
}

/// `obj.<name>`: None, or a column of `T` (a numpy array copied in one pass; a plain
/// sequence element by element, which costs ~100 ns per element).
fn column<'py, T: numpy::Element + Copy + FromPyObjectOwned<'py>>(
    obj: &Bound<'py, PyAny>,
    name: &str,
    path: &str,
) -> PyResult<Option<Vec<T>>> {
    let value = obj.getattr(name)?;
    if value.is_none() {
        return Ok(None);
    }
    if let Ok(array) = value.cast::<numpy::PyArray1<T>>() {
        return Ok(Some(array.readonly().as_array().to_vec()));
    }
    get(obj, name, path)
}

fn cross(c: &Bound<'_, PyAny>) -> PyResult<CrossSettings> {
    // A basket member's bars convert: the run reads them there (the columns are not copied).
    let member: Option<usize> = get(c, "member", "conversion")?;
    let (times, closes): (Option<Vec<i64>>, Option<Vec<f64>>) = match member {
        Some(_) => (None, None),
        None => (
            column(c, "times", "conversion")?,
            column(c, "closes", "conversion")?,
        ),
    };
    Ok(CrossSettings {
        symbol: get(c, "symbol", "conversion")?,
        multiply: get(c, "multiply", "conversion")?,
        fixed_rate: get(c, "fixed_rate", "conversion")?,
        times: times.unwrap_or_default().into(),
        closes: closes.unwrap_or_default().into(),
        member,
    })
}

fn session(v: &Bound<'_, PyAny>) -> PyResult<SessionSettings> {
    let mut weekdays = [false; 7];
    let days: Vec<usize> = get(v, "weekdays", "session")?;
    for day in days {
        if day > 6 {
            return Err(config_error(
                v.py(),
                format!("session.weekdays: {day} is not a weekday (0 = Monday .. 6)"),
            ));
        }
        weekdays[day] = true;
    }
    Ok(SessionSettings {
        timezone: get(v, "timezone", "session")?,
        start_minute: get(v, "start_minute", "session")?,
        end_minute: get(v, "end_minute", "session")?,
        weekdays,
    })
}
