//! Baskets from Python: `run_basket` (rust mode: built-in Rust strategies, one call, GIL
//! released) and `run_basket_hybrid` (Python strategies called back, GIL held). Each
//! member's input is checked first, so a data error names its member's file.

use crate::boundary::{builtin_strategy, guarded, params_from_dict, run_detached, setup, Columns};
use crate::errors::{strategy_error, to_pyerr};
use crate::hybrid::HybridStrategy;
use crate::plugin::{load, load_portfolio, plugin_error};
use crate::result::output_to_dict;
use numpy::IntoPyArray;
use omega_engine::bars::check_input;
use omega_engine::{
    run_basket as engine_run_basket, run_basket_shared, run_portfolio, BasketMember, BasketOutput,
    EngineError,
};
use omega_engine::{EngineSettings, RunOptions};
use omega_strategy_api::{Strategy, Timeframe};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(run_basket, m)?)?;
    m.add_function(wrap_pyfunction!(run_basket_hybrid, m)?)?;
    m.add_function(wrap_pyfunction!(run_basket_plugin, m)?)?;
    m.add_function(wrap_pyfunction!(run_basket_portfolio, m)?)?;
    m.add_function(wrap_pyfunction!(run_basket_portfolio_plugin, m)?)?;
    Ok(())
}

/// A member's inputs as read from its Python tuple.
struct Read<'py> {
    columns: Columns<'py>,
    base_tf: Timeframe,
    settings: EngineSettings,
    source: String,
}

/// `(columns, base_timeframe, settings, source)` of every member, each input checked
/// (its errors name the member's source).
fn read_members<'py>(py: Python<'py>, members: &Bound<'py, PyList>) -> PyResult<Vec<Read<'py>>> {
    let mut out: Vec<Read<'py>> = Vec::with_capacity(members.len());
    for member in members.iter() {
        let columns: Columns<'py> = member.get_item(0)?.extract()?;
        let (base_tf, mut settings) = setup(&member.get_item(1)?, &member.get_item(2)?)?;
        share_conversion(&mut settings, out.iter().map(|r| &r.settings));
        let source: String = member.get_item(3)?.extract()?;
        check_input(&columns.bars()?).map_err(|e| to_pyerr(py, e, &source))?;
        out.push(Read {
            columns,
            base_tf,
            settings,
            source,
        });
    }
    Ok(out)
}

/// Crosses of a basket often convert through the same pair (EURJPY, GBPJPY and AUDJPY
/// through USDJPY): a member's conversion series equal to an earlier member's shares that
/// one's buffers, so each pair's series is held once (16 bytes per conversion bar).
fn share_conversion<'s>(
    settings: &mut EngineSettings,
    earlier: impl Iterator<Item = &'s EngineSettings>,
) {
    let Some(cross) = settings.cross.as_mut() else {
        return;
    };
    for other in earlier.filter_map(|s| s.cross.as_ref()) {
        if other.times == cross.times && other.closes == cross.closes {
            cross.times = other.times.clone();
            cross.closes = other.closes.clone();
            return;
        }
    }
}

fn basket_members<'a>(read: &'a [Read<'_>]) -> PyResult<Vec<BasketMember<'a>>> {
    read.iter()
        .map(|r| {
            Ok(BasketMember {
                bars: r.columns.bars()?,
                base_tf: r.base_tf,
                settings: r.settings.clone(),
            })
        })
        .collect()
}

/// The result dict; a member whose run left `equity_time` empty (its primary bars are its
/// input's) gets its input's time column, not a copy.
fn basket_to_dict<'py>(
    py: Python<'py>,
    out: BasketOutput,
    read: &[Read<'py>],
) -> PyResult<Bound<'py, PyDict>> {
    let members = PyList::empty(py);
    for (member, input) in out.members.into_iter().zip(read) {
        let shared = member.equity_time.is_empty() && !member.equity.is_empty();
        let dict = output_to_dict(py, member)?;
        if shared {
            dict.set_item("equity_time", input.columns.time.as_any())?;
        }
        members.append(dict)?;
    }
    account_dict(py, members, out.time, out.equity, out.final_balance)
}

/// The result dict of a basket around its members' dicts.
pub(crate) fn account_dict<'py>(
    py: Python<'py>,
    members: Bound<'py, PyList>,
    time: Vec<i64>,
    equity: Vec<f64>,
    final_balance: f64,
) -> PyResult<Bound<'py, PyDict>> {
    let result = PyDict::new(py);
    result.set_item("members", members)?;
    result.set_item("time", time.into_pyarray(py))?;
    result.set_item("equity", equity.into_pyarray(py))?;
    result.set_item("final_balance", final_balance)?;
    Ok(result)
}

/// `run_basket(members, trace=False) -> dict`: members are `(columns, base_timeframe,
/// settings, source, strategy_name, params)`; one account, the GIL released while it runs.
#[pyfunction]
#[pyo3(signature = (members, trace=false))]
fn run_basket<'py>(
    py: Python<'py>,
    members: &Bound<'py, PyList>,
    trace: bool,
) -> PyResult<Bound<'py, PyDict>> {
    guarded(py, || {
        let read = read_members(py, members)?;
        let mut strategies = Vec::with_capacity(read.len());
        for member in members.iter() {
            let name: String = member.get_item(4)?.extract()?;
            let params = member.get_item(5)?;
            let params = params.cast::<PyDict>().ok();
            strategies.push(builtin_strategy(py, &name, params)?);
        }
        let out = run_released(py, &read, &mut strategies, trace)?;
        basket_to_dict(py, out, &read)
    })
}

/// `run_basket_hybrid(members, trace=False) -> dict`: members are `(columns,
/// base_timeframe, settings, source, driver)` (an `omega.engine.hybrid` driver each).
#[pyfunction]
#[pyo3(signature = (members, trace=false))]
fn run_basket_hybrid<'py>(
    py: Python<'py>,
    members: &Bound<'py, PyList>,
    trace: bool,
) -> PyResult<Bound<'py, PyDict>> {
    guarded(py, || {
        let read = read_members(py, members)?;
        let mut strategies = Vec::with_capacity(read.len());
        for member in members.iter() {
            strategies.push(HybridStrategy::new(member.get_item(4)?, trace)?);
        }
        let inputs = basket_members(&read)?;
        // Python strategies may share state (a portfolio strategy's members do).
        match run_basket_shared(&inputs, &mut strategies, RunOptions { trace }) {
            Ok(out) => basket_to_dict(py, out, &read),
            Err(EngineError::Strategy(message)) => Err(strategies
                .iter_mut()
                .find_map(HybridStrategy::take_python_error)
                .unwrap_or_else(|| strategy_error(py, message))),
            Err(error) => Err(to_pyerr(py, error, &basket_source(&read))),
        }
    })
}

/// `run_basket_plugin(path, members, trace=False) -> dict`: members are `(columns,
/// base_timeframe, settings, source, params)`, each an instance of the plugin's strategy
/// (the library loaded once); one account, the GIL released while it runs.
#[pyfunction]
#[pyo3(signature = (path, members, trace=false))]
fn run_basket_plugin<'py>(
    py: Python<'py>,
    path: &str,
    members: &Bound<'py, PyList>,
    trace: bool,
) -> PyResult<Bound<'py, PyDict>> {
    guarded(py, || {
        let read = read_members(py, members)?;
        let plugin = load(py, path)?;
        let mut strategies = Vec::with_capacity(read.len());
        for member in members.iter() {
            let params = member.get_item(4)?;
            let given = params_from_dict(params.cast::<PyDict>().ok())?;
            strategies.push(plugin.create(&given).map_err(|e| plugin_error(py, e))?);
        }
        let out = run_released(py, &read, &mut strategies, trace);
        // A fault of the plugin itself wins over the engine error it caused.
        if let Some(fault) = strategies.iter_mut().find_map(|s| s.take_fault()) {
            return Err(plugin_error(py, fault));
        }
        basket_to_dict(py, out?, &read)
    })
}

/// `run_basket_portfolio(members, name, params, trace=False) -> dict`: members are
/// `(columns, base_timeframe, settings, source)`, run by the built-in Rust portfolio
/// strategy `name`; one account, the GIL released while it runs.
#[pyfunction]
#[pyo3(signature = (members, name, params, trace=false))]
fn run_basket_portfolio<'py>(
    py: Python<'py>,
    members: &Bound<'py, PyList>,
    name: &str,
    params: Option<&Bound<'py, PyDict>>,
    trace: bool,
) -> PyResult<Bound<'py, PyDict>> {
    guarded(py, || {
        let read = read_members(py, members)?;
        let given = params_from_dict(params)?;
        let mut portfolio = omega_strategies::build_portfolio(name, &given)
            .map_err(|e| strategy_error(py, e.to_string()))?;
        let inputs = basket_members(&read)?;
        let out = run_detached(py, &basket_source(&read), || {
            run_portfolio(&inputs, &mut portfolio, RunOptions { trace })
        })?;
        basket_to_dict(py, out, &read)
    })
}

/// `run_basket_portfolio_plugin(members, path, params, trace=False) -> dict`: members are
/// `(columns, base_timeframe, settings, source)`, run by the portfolio strategy the plugin
/// library at `path` exports (PluginError for a single-strategy plugin); one account, the
/// GIL released while it runs.
#[pyfunction]
#[pyo3(signature = (members, path, params, trace=false))]
fn run_basket_portfolio_plugin<'py>(
    py: Python<'py>,
    members: &Bound<'py, PyList>,
    path: &str,
    params: Option<&Bound<'py, PyDict>>,
    trace: bool,
) -> PyResult<Bound<'py, PyDict>> {
    guarded(py, || {
        let read = read_members(py, members)?;
        let given = params_from_dict(params)?;
        let mut portfolio = load_portfolio(py, path)?
            .create(&given)
            .map_err(|e| plugin_error(py, e))?;
        let inputs = basket_members(&read)?;
        let out = run_detached(py, &basket_source(&read), || {
            run_portfolio(&inputs, &mut portfolio, RunOptions { trace })
        });
        // A fault of the plugin itself wins over the engine error it caused.
        if let Some(fault) = portfolio.take_fault() {
            return Err(plugin_error(py, fault));
        }
        basket_to_dict(py, out?, &read)
    })
}

/// The basket run with the GIL released (strategies that need no interpreter), its errors
/// naming the members' sources.
fn run_released<S: Strategy + Send>(
    py: Python<'_>,
    read: &[Read<'_>],
    strategies: &mut [S],
    trace: bool,
) -> PyResult<BasketOutput> {
    let inputs = basket_members(read)?;
    run_detached(py, &basket_source(read), || {
        engine_run_basket(&inputs, strategies, RunOptions { trace })
    })
}

/// The members' sources, for an error the engine raises about the basket as a whole.
fn basket_source(read: &[Read<'_>]) -> String {
    read.iter()
        .map(|r| r.source.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}
