//! `run_backtest_plugin`: `rust` mode with a strategy loaded at run time from a plugin
//! library (omega-plugin-host), one call, GIL released during the run.
//!
//! Plugin failures (load, ABI or size mismatch, missing symbol, a panic or invalid answer
//! inside the plugin) raise `omega.errors.PluginError`; a strategy's own error (bad
//! parameters, `take_error`) raises `StrategyError` as for a built-in strategy.

use crate::errors::{panic_to_pyerr, strategy_error, to_pyerr};
use crate::settings::{engine_settings, timeframe};
use numpy::{IntoPyArray, PyReadonlyArray1};
use omega_engine::{run_backtest as engine_run, RunOptions, RunOutput};
use omega_plugin_host::{Plugin, PluginError};
use omega_strategy_api::{BarColumns, ParamValue};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};
use std::panic::{catch_unwind, AssertUnwindSafe};

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(run_backtest_plugin, m)?)?;
    m.add_function(wrap_pyfunction!(plugin_info, m)?)?;
    Ok(())
}

/// `omega.errors.PluginError(message)`, or `StrategyError` for the strategy's own errors.
fn plugin_error(py: Python<'_>, error: PluginError) -> PyErr {
    if let PluginError::Strategy { message } = error {
        return strategy_error(py, message);
    }
    let build = || -> PyResult<PyErr> {
        let class = py.import("omega.errors")?.getattr("PluginError")?;
        Ok(PyErr::from_value(class.call1((error.to_string(),))?))
    };
    build().unwrap_or_else(|import_failure| import_failure)
}

fn load(py: Python<'_>, path: &str) -> PyResult<Plugin> {
    Plugin::load(path).map_err(|e| plugin_error(py, e))
}

/// `plugin_info(path) -> (name, api_version)`: loads and checks the plugin (PluginError if
/// it is refused) without running it.
#[pyfunction]
fn plugin_info(py: Python<'_>, path: &str) -> PyResult<(String, String)> {
    guarded(py, || {
        let plugin = load(py, path)?;
        Ok((plugin.name().to_string(), plugin.api_version().to_string()))
    })
}

/// `run_backtest_plugin(path, columns, base_timeframe, settings, params=None, trace=False,
/// source="<memory>") -> dict`: the result dict of `run_backtest`, for the strategy exported
/// by the plugin library at `path`.
#[allow(clippy::too_many_arguments)] // the Python signature, keyword arguments included
#[pyfunction]
#[pyo3(signature = (path, columns, base_timeframe, settings, params=None, trace=false, source="<memory>"))]
fn run_backtest_plugin<'py>(
    py: Python<'py>,
    path: &str,
    columns: Columns<'py>,
    base_timeframe: &Bound<'py, PyAny>,
    settings: &Bound<'py, PyAny>,
    params: Option<&Bound<'py, PyDict>>,
    trace: bool,
    source: &str,
) -> PyResult<Bound<'py, PyDict>> {
    guarded(py, || {
        let settings = engine_settings(settings)?;
        let base_tf = timeframe(base_timeframe, "base_timeframe")?;
        let given = params_from_dict(params)?;
        let plugin = load(py, path)?;
        let mut strategy = plugin.create(&given).map_err(|e| plugin_error(py, e))?;
        let bars = bar_columns(&columns)?;
        let options = RunOptions { trace };
        let result = py.detach(|| {
            catch_unwind(AssertUnwindSafe(|| {
                engine_run(bars, base_tf, &settings, &mut strategy, options)
            }))
        });
        // A fault of the plugin itself wins over the engine error it caused.
        if let Some(fault) = strategy.take_fault() {
            return Err(plugin_error(py, fault));
        }
        match result {
            Ok(Ok(output)) => output_to_dict(py, output),
            Ok(Err(error)) => Err(to_pyerr(py, error, source)),
            Err(payload) => Err(panic_to_pyerr(py, payload.as_ref())),
        }
    })
}

// The helpers below mirror private ones of engine.rs (owned by the rust-mode bindings); they
// should become `pub(crate)` there and be used from here instead.

/// The base bar columns, borrowed.
type Columns<'py> = (
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

fn bar_columns<'a>(c: &'a Columns<'_>) -> PyResult<BarColumns<'a>> {
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

/// A parameter value (bool before int: a Python bool is an int).
fn param_value(value: &Bound<'_, PyAny>, name: &str) -> PyResult<ParamValue> {
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

fn params_from_dict(params: Option<&Bound<'_, PyDict>>) -> PyResult<Vec<(String, ParamValue)>> {
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

fn guarded<T>(py: Python<'_>, f: impl FnOnce() -> PyResult<T>) -> PyResult<T> {
    catch_unwind(AssertUnwindSafe(f))
        .unwrap_or_else(|payload| Err(panic_to_pyerr(py, payload.as_ref())))
}

fn output_to_dict(py: Python<'_>, out: RunOutput) -> PyResult<Bound<'_, PyDict>> {
    let t = out.trades;
    let trades = PyDict::new(py);
    trades.set_item("entry_time", t.entry_time.into_pyarray(py))?;
    trades.set_item("exit_time", t.exit_time.into_pyarray(py))?;
    trades.set_item("entry_index", t.entry_index.into_pyarray(py))?;
    trades.set_item("exit_index", t.exit_index.into_pyarray(py))?;
    trades.set_item("side", t.side.into_pyarray(py))?;
    trades.set_item("size", t.size.into_pyarray(py))?;
    trades.set_item("entry_price", t.entry_price.into_pyarray(py))?;
    trades.set_item("exit_price", t.exit_price.into_pyarray(py))?;
    trades.set_item("sl", t.sl.into_pyarray(py))?;
    trades.set_item("tp", t.tp.into_pyarray(py))?;
    let reasons: Vec<&str> = t.exit_reason.iter().map(|r| r.as_str()).collect();
    trades.set_item("exit_reason", PyList::new(py, reasons)?)?;
    trades.set_item("gross_pnl", t.gross_pnl.into_pyarray(py))?;
    trades.set_item("fees", t.fees.into_pyarray(py))?;
    trades.set_item("pnl", t.pnl.into_pyarray(py))?;
    trades.set_item("bars_held", t.bars_held.into_pyarray(py))?;
    trades.set_item("mfe", t.mfe.into_pyarray(py))?;
    trades.set_item("tag", PyList::new(py, t.tag)?)?;

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
