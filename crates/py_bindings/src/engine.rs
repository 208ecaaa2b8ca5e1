//! Backtests from Python: `run_backtest` (rust mode: Rust engine + built-in Rust strategy,
//! one call, GIL released) and `run_hybrid` (Rust engine calling a Python strategy back).
//!
//! Bar columns are borrowed from numpy without copying; results come back as numpy arrays
//! that take over the Rust vectors (no copy). Every entry point catches panics, so none
//! reaches Python as `PanicException`.

use crate::errors::{panic_to_pyerr, strategy_error, to_pyerr};
use crate::hybrid::HybridStrategy;
use crate::metrics::metrics_dict;
use crate::settings::{engine_settings, timeframe};
use numpy::{IntoPyArray, PyReadonlyArray1};
use omega_engine::metrics::Metrics;
use omega_engine::{
    run_backtest as engine_run, run_backtest_sharing_base_time, EngineError, EngineSettings,
    ExitReason, RunOptions, RunOutput,
};
use omega_strategy_api::{BarColumns, ParamValue};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};
use std::panic::{catch_unwind, AssertUnwindSafe};

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    // Rust `log` records reach Python `logging` (logger names follow the Rust module paths).
    // Levels are looked up per record (not cached), so `logging` configured after import is
    // honoured; the engine logs a few records per run, never per bar.
    if let Ok(logger) = pyo3_log::Logger::new(m.py(), pyo3_log::Caching::Loggers) {
        let _ = logger.install();
    }
    m.add_function(wrap_pyfunction!(run_backtest, m)?)?;
    m.add_function(wrap_pyfunction!(run_hybrid, m)?)?;
    m.add_function(wrap_pyfunction!(rust_strategy_names, m)?)?;
    m.add_function(wrap_pyfunction!(strategy_api_versions, m)?)?;
    m.add_function(wrap_pyfunction!(kept_buffer_bytes, m)?)?;
    m.add_function(wrap_pyfunction!(release_buffers, m)?)?;
    m.add_function(wrap_pyfunction!(_panic_at_boundary, m)?)?;
    Ok(())
}

/// The base bar columns, borrowed.
pub(crate) type Columns<'py> = (
    PyReadonlyArray1<'py, i64>,
    PyReadonlyArray1<'py, f64>,
    PyReadonlyArray1<'py, f64>,
    PyReadonlyArray1<'py, f64>,
    PyReadonlyArray1<'py, f64>,
    PyReadonlyArray1<'py, f64>,
    PyReadonlyArray1<'py, f64>,
    PyReadonlyArray1<'py, f64>,
    PyReadonlyArray1<'py, f64>,
    PyReadonlyArray1<'py, f64>,
);

pub(crate) fn bar_columns<'a>(c: &'a Columns<'_>) -> PyResult<BarColumns<'a>> {
    Ok(BarColumns {
        time: c.0.as_slice()?,
        bid_open: c.1.as_slice()?,
        bid_high: c.2.as_slice()?,
        bid_low: c.3.as_slice()?,
        bid_close: c.4.as_slice()?,
        ask_open: c.5.as_slice()?,
        ask_high: c.6.as_slice()?,
        ask_low: c.7.as_slice()?,
        ask_close: c.8.as_slice()?,
        volume: c.9.as_slice()?,
    })
}

/// A user parameter value as the strategy API's `ParamValue` (bool before int: a Python bool
/// is an int).
pub(crate) fn param_value(value: &Bound<'_, PyAny>, name: &str) -> PyResult<ParamValue> {
    if value.is_instance_of::<PyBool>() {
        return Ok(ParamValue::Bool(value.extract()?));
    }
    if value.is_instance_of::<PyInt>() {
        return Ok(ParamValue::Int(value.extract()?));
    }
    if value.is_instance_of::<PyFloat>() {
        return Ok(ParamValue::Float(value.extract()?));
    }
    if value.is_instance_of::<PyString>() {
        return Ok(ParamValue::Text(value.extract()?));
    }
    if let Ok(tf) = timeframe(value, name) {
        return Ok(ParamValue::Timeframe(tf));
    }
    Err(strategy_error(
        value.py(),
        format!("parameter {name}: unsupported value {value}"),
    ))
}

pub(crate) fn params_from_dict(
    params: Option<&Bound<'_, PyDict>>,
) -> PyResult<Vec<(String, ParamValue)>> {
    let mut out = Vec::new();
    if let Some(params) = params {
        for (k, v) in params.iter() {
            let name: String = k.extract()?;
            let value = param_value(&v, &name)?;
            out.push((name, value));
        }
    }
    Ok(out)
}

/// Runs `f` with panics caught (as `EngineError` with the panic message).
pub(crate) fn guarded<T>(py: Python<'_>, f: impl FnOnce() -> PyResult<T>) -> PyResult<T> {
    catch_unwind(AssertUnwindSafe(f))
        .unwrap_or_else(|payload| Err(panic_to_pyerr(py, payload.as_ref())))
}

/// `run_backtest(columns, base_timeframe, settings, strategy_name, params, trace=False,
/// source="<memory>") -> dict`: a whole backtest of a built-in Rust strategy in one call,
/// with the GIL released while the engine runs.
#[allow(clippy::too_many_arguments)] // the Python signature, keyword arguments included
#[pyfunction]
#[pyo3(signature = (columns, base_timeframe, settings, strategy_name, params=None, trace=false, source="<memory>"))]
fn run_backtest<'py>(
    py: Python<'py>,
    columns: Columns<'py>,
    base_timeframe: &Bound<'py, PyAny>,
    settings: &Bound<'py, PyAny>,
    strategy_name: &str,
    params: Option<&Bound<'py, PyDict>>,
    trace: bool,
    source: &str,
) -> PyResult<Bound<'py, PyDict>> {
    guarded(py, || {
        let settings = engine_settings(settings)?;
        let base_tf = timeframe(base_timeframe, "base_timeframe")?;
        let given = params_from_dict(params)?;
        let mut strategy = omega_strategies::build(strategy_name, &given)
            .map_err(|e| strategy_error(py, e.to_string()))?;
        let bars = bar_columns(&columns)?;
        let options = RunOptions { trace };
        let base_time = bars.time;
        // The engine owns nothing Python: borrowed slices, plain Rust settings and strategy.
        // The metrics are computed here too, still detached, so Python never recomputes them.
        let result = py.detach(|| {
            catch_unwind(AssertUnwindSafe(|| {
                run_backtest_sharing_base_time(bars, base_tf, &settings, &mut strategy, options)
                    .map(|output| {
                        let metrics = run_metrics(&output, base_time, &settings);
                        (output, metrics)
                    })
            }))
        });
        match result {
            // No copy of the base times: `equity_time` is the input's time column then.
            Ok(Ok((output, metrics))) if output.equity_time.is_empty() => {
                let out = output_to_dict(py, output)?;
                out.set_item("equity_time", &*columns.0)?;
                set_metrics(py, &out, metrics)?;
                Ok(out)
            }
            Ok(Ok((output, metrics))) => {
                let out = output_to_dict(py, output)?;
                set_metrics(py, &out, metrics)?;
                Ok(out)
            }
            Ok(Err(error)) => Err(to_pyerr(py, error, source)),
            Err(payload) => Err(panic_to_pyerr(py, payload.as_ref())),
        }
    })
}

/// The metrics of a finished run (`omega_engine::metrics`, equal to Python's
/// `compute_metrics` bit for bit). `base_time` stands in for `equity_time` when the run left
/// it empty (primary timeframe == base). `None` where the metrics fail (a zero initial
/// balance, an fsum overflow): Python then recomputes them and raises its own error.
pub(crate) fn run_metrics(
    output: &RunOutput,
    base_time: &[i64],
    settings: &EngineSettings,
) -> Option<Metrics> {
    let equity_time = if output.equity_time.is_empty() && !output.equity.is_empty() {
        base_time
    } else {
        &output.equity_time
    };
    Metrics::from_output(
        output,
        equity_time,
        settings.initial_balance,
        settings.primary_timeframe.nanos(),
    )
    .ok()
}

/// `result["metrics"]`: the metrics dict, or `None` (Python computes them then).
pub(crate) fn set_metrics(
    py: Python<'_>,
    out: &Bound<'_, PyDict>,
    metrics: Option<Metrics>,
) -> PyResult<()> {
    match metrics {
        Some(m) => out.set_item("metrics", metrics_dict(py, &m)?),
        None => out.set_item("metrics", py.None()),
    }
}

/// `run_hybrid(columns, base_timeframe, settings, driver, trace=False, source="<memory>")`:
/// the Rust engine, calling `driver.evaluate(i, position)` / `driver.manage(i, position)` (a
/// `omega.engine.hybrid` driver around the Python strategy) at each close. The GIL stays held.
#[pyfunction]
#[pyo3(signature = (columns, base_timeframe, settings, driver, trace=false, source="<memory>"))]
fn run_hybrid<'py>(
    py: Python<'py>,
    columns: Columns<'py>,
    base_timeframe: &Bound<'py, PyAny>,
    settings: &Bound<'py, PyAny>,
    driver: &Bound<'py, PyAny>,
    trace: bool,
    source: &str,
) -> PyResult<Bound<'py, PyDict>> {
    guarded(py, || {
        let settings = engine_settings(settings)?;
        let base_tf = timeframe(base_timeframe, "base_timeframe")?;
        let bars = bar_columns(&columns)?;
        let mut strategy = HybridStrategy::new(driver.clone(), trace)?;
        match engine_run(
            bars,
            base_tf,
            &settings,
            &mut strategy,
            RunOptions { trace },
        ) {
            Ok(output) => {
                let metrics = run_metrics(&output, bars.time, &settings);
                let out = output_to_dict(py, output)?;
                set_metrics(py, &out, metrics)?;
                Ok(out)
            }
            // The Python exception itself (a StrategyError with its cause) when there is one.
            Err(EngineError::Strategy(message)) => Err(strategy
                .take_python_error()
                .unwrap_or_else(|| strategy_error(py, message))),
            Err(error) => Err(to_pyerr(py, error, source)),
        }
    })
}

/// Panics inside the same guards as `run_backtest` (detached, caught twice), so tests can
/// prove that no panic reaches Python as `PanicException`. Not part of the API.
#[pyfunction]
fn _panic_at_boundary(py: Python<'_>, message: String, detached: bool) -> PyResult<()> {
    guarded(py, || {
        if !detached {
            panic!("{message}");
        }
        let result = py.detach(|| catch_unwind(AssertUnwindSafe(|| -> () { panic!("{message}") })));
        match result {
            Ok(()) => Ok(()),
            Err(payload) => Err(panic_to_pyerr(py, payload.as_ref())),
        }
    })
}

/// Names of the built-in Rust strategies.
#[pyfunction]
fn rust_strategy_names() -> Vec<&'static str> {
    omega_strategies::NAMES.to_vec()
}

/// `(API_VERSION, ABI_VERSION)` of the omega-strategy-api this core was built with.
#[pyfunction]
fn strategy_api_versions() -> (&'static str, u32) {
    (
        omega_strategy_api::API_VERSION,
        omega_strategy_api::ABI_VERSION,
    )
}

/// A numeric trade column for numpy without its spare capacity (a log grown by doubling
/// would otherwise hand up to twice its bytes to the array).
fn column<T: numpy::Element>(py: Python<'_>, mut values: Vec<T>) -> Bound<'_, numpy::PyArray1<T>> {
    values.shrink_to_fit();
    values.into_pyarray(py)
}

/// A string column as a list of `names[ids[i]]` in which equal strings are one Python
/// object: a pointer per trade instead of a string each.
fn string_column<'py, S: AsRef<str>>(
    py: Python<'py>,
    names: &[S],
    ids: impl ExactSizeIterator<Item = usize>,
) -> PyResult<Bound<'py, PyList>> {
    let objects: Vec<Bound<'py, PyString>> = names
        .iter()
        .map(|name| PyString::new(py, name.as_ref()))
        .collect();
    PyList::new(py, ids.map(|id| objects[id].clone()))
}

/// Bytes of column buffers the core keeps from earlier runs for the next one.
#[pyfunction]
fn kept_buffer_bytes() -> usize {
    omega_indicators::buffers::kept_bytes()
}

/// Frees the column buffers kept from earlier runs.
#[pyfunction]
fn release_buffers() {
    omega_indicators::buffers::release();
}

pub(crate) fn output_to_dict(py: Python<'_>, out: RunOutput) -> PyResult<Bound<'_, PyDict>> {
    let t = out.trades;
    let trades = PyDict::new(py);
    trades.set_item("entry_time", column(py, t.entry_time))?;
    trades.set_item("exit_time", column(py, t.exit_time))?;
    trades.set_item("entry_index", column(py, t.entry_index))?;
    trades.set_item("exit_index", column(py, t.exit_index))?;
    trades.set_item("side", column(py, t.side))?;
    trades.set_item("size", column(py, t.size))?;
    trades.set_item("entry_price", column(py, t.entry_price))?;
    trades.set_item("exit_price", column(py, t.exit_price))?;
    trades.set_item("sl", column(py, t.sl))?;
    trades.set_item("tp", column(py, t.tp))?;
    let reasons = ExitReason::ALL.map(ExitReason::as_str);
    let reason_ids = t.exit_reason.iter().map(|r| *r as usize);
    trades.set_item("exit_reason", string_column(py, &reasons, reason_ids)?)?;
    trades.set_item("gross_pnl", column(py, t.gross_pnl))?;
    trades.set_item("fees", column(py, t.fees))?;
    trades.set_item("pnl", column(py, t.pnl))?;
    trades.set_item("bars_held", column(py, t.bars_held))?;
    trades.set_item("mfe", column(py, t.mfe))?;
    let tag_ids = t.tag.ids.iter().map(|&id| id as usize);
    trades.set_item("tag", string_column(py, &t.tag.names, tag_ids)?)?;

    let result = PyDict::new(py);
    result.set_item("trades", trades)?;
    result.set_item("equity_time", out.equity_time.into_pyarray(py))?;
    result.set_item("equity", out.equity.into_pyarray(py))?;
    result.set_item("final_balance", out.final_balance)?;
    result.set_item("bars_processed", out.bars_processed)?;
    result.set_item("base_bars", out.base_bars)?;
    result.set_item("ignored_signals", out.ignored_signals)?;
    result.set_item("dropped_orders", out.dropped_orders)?;
    let skipped = PyList::empty(py);
    for s in out.skipped_orders {
        skipped.append(PyTuple::new(
            py,
            [
                s.time.into_pyobject(py)?.into_any(),
                s.reason.into_pyobject(py)?.into_any(),
                s.detail.into_pyobject(py)?.into_any(),
            ],
        )?)?;
    }
    result.set_item("skipped_orders", skipped)?;
    match out.trace {
        None => result.set_item("trace", py.None())?,
        Some(rows) => {
            let list = PyList::empty(py);
            for row in rows {
                let d = PyDict::new(py);
                d.set_item("index", row.index)?;
                d.set_item("time", row.time)?;
                d.set_item("event", row.event)?;
                // Later records of a name overwrite earlier ones in place, like a Python dict.
                for (name, value) in row.values {
                    d.set_item(name, value)?;
                }
                list.append(d)?;
            }
            result.set_item("trace", list)?;
        }
    }
    Ok(result)
}
