//! `StreamSession`: a Rust strategy (built in, or a plugin) fed bars one at a time (a live
//! feed, a replay), deciding at each primary close exactly as in a backtest.

use crate::boundary::{builtin_strategy, guarded, setup, Columns};
use crate::errors::{engine_error, to_pyerr};
use crate::plugin::{plugin_error, plugin_strategy};
use crate::result::output_to_dict;
use omega_engine::{EngineError, RunOptions, StreamSession};
use omega_plugin_host::PluginStrategy;
use omega_strategies::BuiltinStrategy;
use omega_strategy_api::{Bar, Ohlc, Side, Strategy};
use pyo3::prelude::*;
use pyo3::types::PyDict;

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyStreamSession>()?;
    Ok(())
}

#[derive(Debug)]
enum Session {
    Builtin(Box<StreamSession<BuiltinStrategy>>),
    Plugin(Box<StreamSession<PluginStrategy>>),
}

/// `$body` with `$s` bound to the session, whichever strategy it runs.
macro_rules! with_session {
    ($session:expr, $s:ident => $body:expr) => {
        match $session {
            Session::Builtin($s) => $body,
            Session::Plugin($s) => $body,
        }
    };
}

/// `StreamSession(base_timeframe, settings, strategy_name, params=None, trace=False,
/// source="<stream>", plugin=None)`: see `omega.stream.StreamSession`.
#[pyclass(unsendable, name = "StreamSession", module = "omega._core")]
#[derive(Debug)]
pub struct PyStreamSession {
    /// `None` once finished.
    inner: Option<Session>,
    source: String,
}

impl PyStreamSession {
    fn session(&mut self, py: Python<'_>) -> PyResult<&mut Session> {
        self.inner
            .as_mut()
            .ok_or_else(|| engine_error(py, "the stream session is finished".to_string()))
    }

    /// The Python error of a failed call: a plugin's own fault wins over the engine error
    /// it caused.
    fn error(py: Python<'_>, session: &mut Session, error: EngineError, source: &str) -> PyErr {
        if let Session::Plugin(s) = session {
            if let Some(fault) = s.strategy_mut().take_fault() {
                return plugin_error(py, fault);
            }
        }
        to_pyerr(py, error, source)
    }
}

#[pymethods]
impl PyStreamSession {
    #[new]
    #[pyo3(signature = (base_timeframe, settings, strategy_name, params=None, trace=false, source="<stream>", plugin=None))]
    #[allow(clippy::too_many_arguments)] // the Python signature, keyword arguments included
    fn new(
        py: Python<'_>,
        base_timeframe: &Bound<'_, PyAny>,
        settings: &Bound<'_, PyAny>,
        strategy_name: &str,
        params: Option<&Bound<'_, PyDict>>,
        trace: bool,
        source: &str,
        plugin: Option<&str>,
    ) -> PyResult<Self> {
        guarded(py, || {
            let (base_tf, settings) = setup(base_timeframe, settings)?;
            let options = RunOptions { trace };
            let started = |e| to_pyerr(py, e, source);
            let session = match plugin {
                Some(path) => {
                    let strategy = plugin_strategy(py, path, params)?;
                    let session = StreamSession::new(base_tf, settings, strategy, options);
                    Session::Plugin(Box::new(session.map_err(started)?))
                }
                None => {
                    let strategy = builtin_strategy(py, strategy_name, params)?;
                    let session = StreamSession::new(base_tf, settings, strategy, options);
                    Session::Builtin(Box::new(session.map_err(started)?))
                }
            };
            Ok(PyStreamSession {
                inner: Some(session),
                source: source.to_string(),
            })
        })
    }

    /// Feeds one base bar (open time in UTC ns, bid and ask OHLC, volume); returns how many
    /// primary bars closed and were decided.
    #[allow(clippy::too_many_arguments)] // one bar's fields, as Python passes them
    fn push(
        &mut self,
        py: Python<'_>,
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
        let bar = bar_of(
            time,
            &[
                bid_open, bid_high, bid_low, bid_close, ask_open, ask_high, ask_low, ask_close,
                volume,
            ],
        );
        let source = self.source.clone();
        guarded(py, || {
            let session = self.session(py)?;
            let pushed = with_session!(&mut *session, s => s.push(bar));
            pushed.map_err(|e| Self::error(py, session, e, &source))
        })
    }

    /// Feeds every row of the ten base columns in order (as `push`, one call).
    fn push_columns(&mut self, py: Python<'_>, columns: Columns<'_>) -> PyResult<usize> {
        let source = self.source.clone();
        guarded(py, || {
            let bars = columns.bars()?;
            let session = self.session(py)?;
            let pushed = with_session!(&mut *session, s => {
                (0..bars.len()).try_fold(0, |stepped, i| Ok(stepped + s.push(bars.bar(i))?))
            });
            pushed.map_err(|e| Self::error(py, session, e, &source))
        })
    }

    /// The session after the last primary close: bars stepped, balance, last equity, closed
    /// trade rows, the open position (a dict or None) and the orders waiting for the next
    /// open (`pending_entry`: "long", "short" or None; `pending_exit`: bool).
    fn state<'py>(&mut self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let session = self.session(py)?;
        with_session!(&*session, s => state_dict(py, s))
    }

    /// Ends the stream and returns the run's result (the dict of `run_backtest`).
    fn finish<'py>(&mut self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let source = self.source.clone();
        guarded(py, || {
            let session = self
                .inner
                .take()
                .ok_or_else(|| engine_error(py, "the stream session is finished".to_string()))?;
            let finished = match session {
                Session::Builtin(s) => s.finish(),
                Session::Plugin(s) => {
                    let (finished, mut strategy) = s.finish_with_strategy();
                    if let (Err(_), Some(fault)) = (&finished, strategy.take_fault()) {
                        return Err(plugin_error(py, fault));
                    }
                    finished
                }
            };
            let out = finished.map_err(|e| to_pyerr(py, e, &source))?;
            output_to_dict(py, out)
        })
    }
}

fn state_dict<'py, S: Strategy>(
    py: Python<'py>,
    session: &StreamSession<S>,
) -> PyResult<Bound<'py, PyDict>> {
    let account = session.account();
    let state = PyDict::new(py);
    state.set_item("bars_stepped", session.bars_stepped())?;
    state.set_item("balance", account.balance)?;
    state.set_item("equity", session.equity().last().copied())?;
    state.set_item("n_trades", account.trades.len())?;
    let side_name = |side: Side| match side {
        Side::Long => "long",
        Side::Short => "short",
    };
    let position = match &account.position {
        None => None,
        Some(p) => {
            let d = PyDict::new(py);
            d.set_item("side", side_name(p.side))?;
            d.set_item("size", p.size)?;
            d.set_item("entry_price", p.entry_price)?;
            d.set_item("entry_time", p.entry_time)?;
            d.set_item("stop_loss", p.stop_loss)?;
            d.set_item("take_profit", p.take_profit)?;
            d.set_item("bars_held", p.bars_held)?;
            d.set_item("unrealized_pnl", p.unrealized_pnl)?;
            d.set_item("tag", &p.tag)?;
            Some(d)
        }
    };
    state.set_item("position", position)?;
    let (entry, exit) = session.pending();
    state.set_item("pending_entry", entry.map(|s| side_name(s.side)))?;
    state.set_item("pending_exit", exit)?;
    Ok(state)
}

/// A base bar from its open time and `[bid OHLC, ask OHLC, volume]` (as Python passes them).
pub(crate) fn bar_of(time: i64, row: &[f64; 9]) -> Bar {
    Bar {
        time,
        bid: Ohlc {
            open: row[0],
            high: row[1],
            low: row[2],
            close: row[3],
        },
        ask: Ohlc {
            open: row[4],
            high: row[5],
            low: row[6],
            close: row[7],
        },
        volume: row[8],
    }
}
