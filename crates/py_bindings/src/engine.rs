//! Backtests from Python: `run_backtest` (rust mode: Rust engine + built-in Rust strategy,
//! one call, GIL released) and `run_hybrid` (Rust engine calling a Python strategy back).
//!
//! The common path (inputs, detaching, panics, errors) is `crate::boundary`; the result
//! dict is `crate::result`.

use crate::boundary::{builtin_strategy, guarded, run_detached, Columns, RunInputs};
use crate::errors::{strategy_error, to_pyerr};
use crate::hybrid::HybridStrategy;
use crate::result::Finished;
use omega_engine::{
    run_backtest as engine_run, run_backtest_sharing_base_time, EngineError, RunOptions,
};
use pyo3::prelude::*;
use pyo3::types::PyDict;

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

/// `run_backtest(columns, base_timeframe, settings, strategy_name, params=None, trace=False,
/// source="<memory>") -> dict`: a whole backtest of a built-in Rust strategy in one call,
/// with the GIL released while the engine runs (the metrics are computed there too).
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
        let inputs = RunInputs::read(&columns, base_timeframe, settings, source)?;
        let mut strategy = builtin_strategy(py, strategy_name, params)?;
        let options = RunOptions { trace };
        let finished = inputs.run_detached(py, |i| {
            run_backtest_sharing_base_time(i.bars, i.base_tf, &i.settings, &mut strategy, options)
                .map(|output| Finished::measure(output, i))
        })?;
        // Primary == base: `equity_time` is the input's time column, not a copy.
        finished.into_dict(py, Some(&columns.time))
    })
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
        let inputs = RunInputs::read(&columns, base_timeframe, settings, source)?;
        let mut strategy = HybridStrategy::new(driver.clone(), trace)?;
        let i = &inputs;
        match engine_run(
            i.bars,
            i.base_tf,
            &i.settings,
            &mut strategy,
            RunOptions { trace },
        ) {
            Ok(output) => Finished::measure(output, i).into_dict(py, None),
            // The Python exception itself (a StrategyError with its cause) when there is one.
            Err(EngineError::Strategy(message)) => Err(strategy
                .take_python_error()
                .unwrap_or_else(|| strategy_error(py, message))),
            Err(error) => Err(to_pyerr(py, error, i.source)),
        }
    })
}

/// Panics inside the same guards as `run_backtest` (`guarded`, and `run_detached` inside
/// it), so tests can prove that no panic reaches Python as `PanicException`. Not API.
#[pyfunction]
fn _panic_at_boundary(py: Python<'_>, message: String, detached: bool) -> PyResult<()> {
    guarded(py, || {
        if !detached {
            panic!("{message}");
        }
        run_detached(py, "<memory>", || -> Result<(), EngineError> {
            panic!("{message}")
        })
    })
}

/// Names of the built-in Rust strategies (portfolio strategies included).
#[pyfunction]
fn rust_strategy_names() -> Vec<&'static str> {
    let portfolios = omega_strategies::PORTFOLIO_NAMES.iter();
    omega_strategies::NAMES
        .iter()
        .chain(portfolios)
        .copied()
        .collect()
}

/// `(API_VERSION, ABI_VERSION)` of the omega-strategy-api this core was built with.
#[pyfunction]
fn strategy_api_versions() -> (&'static str, u32) {
    (
        omega_strategy_api::API_VERSION,
        omega_strategy_api::ABI_VERSION,
    )
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
