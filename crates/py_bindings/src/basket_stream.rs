//! `BasketStreamSession`: a basket fed bar by bar (`omega.stream.BasketStreamSession`), with
//! built-in Rust strategies, a strategy plugin, a built-in Rust portfolio strategy or a
//! portfolio plugin.

use crate::basket::account_dict;
use crate::boundary::{builtin_strategy, guarded, params_from_dict, setup, Columns};
use crate::errors::{engine_error, strategy_error, to_pyerr};
use crate::plugin::{load, load_portfolio, plugin_error};
use crate::result::output_to_dict;
use crate::stream::bar_of;
use omega_engine::{BasketOutput, BasketStream, EngineError, PortfolioStream, RunOptions};
use omega_plugin_host::{PluginPortfolio, PluginStrategy};
use omega_strategies::{BuiltinStrategy, PairsZScore};
use omega_strategy_api::Bar;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyBasketStream>()?;
    Ok(())
}

#[derive(Debug)]
enum Stream {
    Builtin(Box<BasketStream<BuiltinStrategy>>),
    Plugin(Box<BasketStream<PluginStrategy>>),
    Portfolio(Box<PortfolioStream<PairsZScore>>),
    PluginPortfolio(Box<PortfolioStream<PluginPortfolio>>),
}

/// `BasketStreamSession(members, trace=False, plugin=None, portfolio=None)`: members are
/// `(base_timeframe, settings, strategy_name, params)`; with `portfolio` (a built-in Rust
/// portfolio strategy's `(name, params)`) the members' names and params are unused; with
/// both `plugin` and `portfolio`, the plugin is a portfolio plugin run with `portfolio`'s
/// params (its name unused); see `omega.stream`.
#[pyclass(unsendable, name = "BasketStreamSession", module = "omega._core")]
#[derive(Debug)]
pub struct PyBasketStream {
    /// `None` once finished.
    inner: Option<Stream>,
}

const SOURCE: &str = "<basket stream>";

impl PyBasketStream {
    fn stream(&mut self, py: Python<'_>) -> PyResult<&mut Stream> {
        self.inner
            .as_mut()
            .ok_or_else(|| engine_error(py, "the basket stream is finished".to_string()))
    }
}

fn push_one(stream: &mut Stream, k: usize, bar: Bar) -> Result<usize, EngineError> {
    match stream {
        Stream::Builtin(s) => s.push(k, bar),
        Stream::Plugin(s) => s.push(k, bar),
        Stream::Portfolio(s) => s.push(k, bar),
        Stream::PluginPortfolio(s) => s.push(k, bar),
    }
}

fn to_dict(py: Python<'_>, out: BasketOutput) -> PyResult<Bound<'_, PyDict>> {
    let members = PyList::empty(py);
    for member in out.members {
        members.append(output_to_dict(py, member)?)?;
    }
    account_dict(py, members, out.time, out.equity, out.final_balance)
}

#[pymethods]
impl PyBasketStream {
    #[new]
    #[pyo3(signature = (members, trace=false, plugin=None, portfolio=None))]
    fn new(
        py: Python<'_>,
        members: &Bound<'_, PyList>,
        trace: bool,
        plugin: Option<&str>,
        portfolio: Option<(String, Option<Bound<'_, PyDict>>)>,
    ) -> PyResult<Self> {
        guarded(py, || {
            let options = RunOptions { trace };
            let mut setups = Vec::with_capacity(members.len());
            for member in members.iter() {
                setups.push(setup(&member.get_item(0)?, &member.get_item(1)?)?);
            }
            let started = |e| to_pyerr(py, e, SOURCE);
            let stream = match (plugin, portfolio) {
                (Some(path), Some((_, params))) => {
                    let given = params_from_dict(params.as_ref())?;
                    let built = load_portfolio(py, path)?
                        .create(&given)
                        .map_err(|e| plugin_error(py, e))?;
                    Stream::PluginPortfolio(Box::new(
                        PortfolioStream::new(setups, built, options).map_err(started)?,
                    ))
                }
                (None, Some((name, params))) => {
                    let given = params_from_dict(params.as_ref())?;
                    let built = omega_strategies::build_portfolio(&name, &given)
                        .map_err(|e| strategy_error(py, e.to_string()))?;
                    Stream::Portfolio(Box::new(
                        PortfolioStream::new(setups, built, options).map_err(started)?,
                    ))
                }
                (Some(path), None) => {
                    let loaded = load(py, path)?;
                    let mut strategies = Vec::with_capacity(members.len());
                    for member in members.iter() {
                        let params = member.get_item(3)?;
                        let given = params_from_dict(params.cast::<PyDict>().ok())?;
                        strategies.push(loaded.create(&given).map_err(|e| plugin_error(py, e))?);
                    }
                    Stream::Plugin(Box::new(
                        BasketStream::new(setups, strategies, options).map_err(started)?,
                    ))
                }
                (None, None) => {
                    let mut strategies = Vec::with_capacity(members.len());
                    for member in members.iter() {
                        let name: String = member.get_item(2)?.extract()?;
                        let params = member.get_item(3)?;
                        strategies.push(builtin_strategy(py, &name, params.cast::<PyDict>().ok())?);
                    }
                    Stream::Builtin(Box::new(
                        BasketStream::new(setups, strategies, options).map_err(started)?,
                    ))
                }
            };
            Ok(PyBasketStream {
                inner: Some(stream),
            })
        })
    }

    /// Feeds member `k`'s next base bar (open time in UTC ns, bid and ask OHLC, volume);
    /// returns how many basket times were stepped.
    #[allow(clippy::too_many_arguments)] // one bar's fields, as Python passes them
    fn push(
        &mut self,
        py: Python<'_>,
        k: usize,
        time: i64,
        bid_open: f64,
        bid_high: f64,
        bid_low: f64,
        bid_close: f64,
        ask_open: f64,
        ask_high: f64,
        ask_low: f64,
        ask_close: f64,
        volume: f64,
    ) -> PyResult<usize> {
        let row = [
            bid_open, bid_high, bid_low, bid_close, ask_open, ask_high, ask_low, ask_close, volume,
        ];
        guarded(py, || {
            let stream = self.stream(py)?;
            push_one(stream, k, bar_of(time, &row)).map_err(|e| to_pyerr(py, e, SOURCE))
        })
    }

    /// Feeds every member's columns merged in time order (equal times in member order):
    /// a replay of whole series in one call.
    fn push_merged(&mut self, py: Python<'_>, columns: &Bound<'_, PyList>) -> PyResult<usize> {
        guarded(py, || {
            let held: Vec<Columns<'_>> = columns
                .iter()
                .map(|c| c.extract())
                .collect::<PyResult<_>>()?;
            let bars = held
                .iter()
                .map(Columns::bars)
                .collect::<PyResult<Vec<_>>>()?;
            let stream = self.stream(py)?;
            let mut next = vec![0usize; bars.len()];
            let mut stepped = 0;
            loop {
                let pick = (0..bars.len())
                    .filter(|&k| next[k] < bars[k].len())
                    .min_by_key(|&k| (bars[k].time[next[k]], k));
                let Some(k) = pick else {
                    break;
                };
                let bar = bars[k].bar(next[k]);
                next[k] += 1;
                stepped += push_one(stream, k, bar).map_err(|e| to_pyerr(py, e, SOURCE))?;
            }
            Ok(stepped)
        })
    }

    /// Basket times stepped so far.
    fn times_stepped(&mut self, py: Python<'_>) -> PyResult<usize> {
        Ok(match self.stream(py)? {
            Stream::Builtin(s) => s.times_stepped(),
            Stream::Plugin(s) => s.times_stepped(),
            Stream::Portfolio(s) => s.times_stepped(),
            Stream::PluginPortfolio(s) => s.times_stepped(),
        })
    }

    /// Ends the stream and returns the basket's result (the dict of `run_basket`).
    fn finish<'py>(&mut self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        guarded(py, || {
            let stream = self
                .inner
                .take()
                .ok_or_else(|| engine_error(py, "the basket stream is finished".to_string()))?;
            let out = match stream {
                Stream::Builtin(s) => s.finish(),
                Stream::Plugin(s) => s.finish(),
                Stream::Portfolio(s) => s.finish(),
                Stream::PluginPortfolio(s) => s.finish(),
            };
            to_dict(py, out.map_err(|e| to_pyerr(py, e, SOURCE))?)
        })
    }
}
