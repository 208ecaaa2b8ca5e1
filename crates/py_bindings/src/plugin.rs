//! `run_backtest_plugin`: `rust` mode with a strategy loaded at run time from a plugin
//! library (omega-plugin-host), one call, GIL released during the run.
//!
//! Plugin failures (load, ABI or size mismatch, missing symbol, a panic or invalid answer
//! inside the plugin) raise `omega.errors.PluginError`; a strategy's own error (bad
//! parameters, a `StrategyError` it returns) raises `StrategyError` as for a built-in strategy.

use crate::boundary::{guarded, params_from_dict, Columns, RunInputs};
use crate::errors::strategy_error;
use crate::result::Finished;
use omega_engine::{run_backtest as engine_run, RunOptions};
use omega_plugin_host::{Plugin, PluginError, PluginKind, PluginStrategy, PortfolioPlugin};
use pyo3::prelude::*;
use pyo3::types::PyDict;

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(run_backtest_plugin, m)?)?;
    m.add_function(wrap_pyfunction!(plugin_info, m)?)?;
    m.add_function(wrap_pyfunction!(plugin_kind, m)?)?;
    Ok(())
}

/// `omega.errors.PluginError(message)`, or `StrategyError` for the strategy's own errors.
pub(crate) fn plugin_error(py: Python<'_>, error: PluginError) -> PyErr {
    if let PluginError::Strategy { message } = error {
        return strategy_error(py, message);
    }
    let build = || -> PyResult<PyErr> {
        let class = py.import("omega.errors")?.getattr("PluginError")?;
        Ok(PyErr::from_value(class.call1((error.to_string(),))?))
    };
    build().unwrap_or_else(|import_failure| import_failure)
}

pub(crate) fn load(py: Python<'_>, path: &str) -> PyResult<Plugin> {
    Plugin::load(path).map_err(|e| plugin_error(py, e))
}

pub(crate) fn load_portfolio(py: Python<'_>, path: &str) -> PyResult<PortfolioPlugin> {
    PortfolioPlugin::load(path).map_err(|e| plugin_error(py, e))
}

/// The strategy of the plugin at `path` with `params` (the strategy keeps the library
/// loaded while it lives).
pub(crate) fn plugin_strategy(
    py: Python<'_>,
    path: &str,
    params: Option<&Bound<'_, PyDict>>,
) -> PyResult<PluginStrategy> {
    let given = params_from_dict(params)?;
    load(py, path)?
        .create(&given)
        .map_err(|e| plugin_error(py, e))
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

/// `plugin_kind(path) -> "strategy" | "portfolio"`: which kind of plugin the library is
/// (from the symbol it exports; nothing in it is called), PluginError if it is neither.
#[pyfunction]
fn plugin_kind(py: Python<'_>, path: &str) -> PyResult<&'static str> {
    guarded(py, || {
        omega_plugin_host::plugin_kind(path)
            .map(PluginKind::as_str)
            .map_err(|e| plugin_error(py, e))
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
        let inputs = RunInputs::read(&columns, base_timeframe, settings, source)?;
        let mut strategy = plugin_strategy(py, path, params)?;
        let options = RunOptions { trace };
        let finished = inputs.run_detached(py, |i| {
            engine_run(i.bars, i.base_tf, &i.settings, &mut strategy, options)
                .map(|output| Finished::measure(output, i))
        });
        // A fault of the plugin itself wins over the engine error it caused.
        if let Some(fault) = strategy.take_fault() {
            return Err(plugin_error(py, fault));
        }
        finished?.into_dict(py, None)
    })
}
