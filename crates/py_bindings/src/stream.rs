//! `StreamSession`: a built-in Rust strategy fed bars one at a time (a live feed, a replay),
//! deciding at each primary close exactly as in a backtest.

use crate::engine::{bar_columns, guarded, output_to_dict, params_from_dict, Columns};
use crate::errors::{engine_error, strategy_error, to_pyerr};
use crate::settings::{engine_settings, timeframe};
use omega_engine::{EngineError, RunOptions, StreamSession};
use omega_strategies::BuiltinStrategy;
use omega_strategy_api::{Bar, Ohlc, Side};
use pyo3::prelude::*;
use pyo3::types::PyDict;

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyStreamSession>()?;
    Ok(())
}

/// `StreamSession(base_timeframe, settings, strategy_name, params=None, trace=False,
/// source="<stream>")`: see `omega.stream.StreamSession`.
#[pyclass(unsendable, name = "StreamSession", module = "omega._core")]
#[derive(Debug)]
pub struct PyStreamSession {
    /// `None` once finished.
    inner: Option<StreamSession<BuiltinStrategy>>,
    source: String,
}

impl PyStreamSession {
    fn session(&mut self, py: Python<'_>) -> PyResult<&mut StreamSession<BuiltinStrategy>> {
        self.inner
            .as_mut()
            .ok_or_else(|| engine_error(py, "the stream session is finished".to_string()))
    }

    fn error(&self, py: Python<'_>, error: EngineError) -> PyErr {
        to_pyerr(py, error, &self.source)
    }
}

#[pymethods]
impl PyStreamSession {
    #[new]
    #[pyo3(signature = (base_timeframe, settings, strategy_name, params=None, trace=false, source="<stream>"))]
    fn new(
        py: Python<'_>,
        base_timeframe: &Bound<'_, PyAny>,
        settings: &Bound<'_, PyAny>,
        strategy_name: &str,
        params: Option<&Bound<'_, PyDict>>,
        trace: bool,
        source: &str,
    ) -> PyResult<Self> {
        guarded(py, || {
            let settings = engine_settings(settings)?;
            let base_tf = timeframe(base_timeframe, "base_timeframe")?;
            let given = params_from_dict(params)?;
            let strategy = omega_strategies::build(strategy_name, &given)
                .map_err(|e| strategy_error(py, e.to_string()))?;
            let session = StreamSession::new(base_tf, settings, strategy, RunOptions { trace })
                .map_err(|e| to_pyerr(py, e, source))?;
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
        let bar = Bar {
            time,
            bid: Ohlc {
                open: bid_open,
                high: bid_high,
                low: bid_low,
                close: bid_close,
            },
            ask: Ohlc {
                open: ask_open,
                high: ask_high,
                low: ask_low,
                close: ask_close,
            },
            volume,
        };
        guarded(py, || {
            let pushed = self.session(py)?.push(bar);
            pushed.map_err(|e| self.error(py, e))
        })
    }

    /// Feeds every row of the ten base columns in order (as `push`, one call).
    fn push_columns(&mut self, py: Python<'_>, columns: Columns<'_>) -> PyResult<usize> {
        guarded(py, || {
            let bars = bar_columns(&columns)?;
            let session = self.session(py)?;
            let mut stepped = 0;
            for i in 0..bars.len() {
                match session.push(bars.bar(i)) {
                    Ok(n) => stepped += n,
                    Err(e) => return Err(to_pyerr(py, e, &self.source)),
                }
            }
            Ok(stepped)
        })
    }

    /// The session after the last primary close: bars stepped, balance, last equity, closed
    /// trade rows, the open position (a dict or None) and the orders waiting for the next
    /// open (`pending_entry`: "long", "short" or None; `pending_exit`: bool).
    fn state<'py>(&mut self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let session = self.session(py)?;
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

    /// Ends the stream and returns the run's result (the dict of `run_backtest`).
    fn finish<'py>(&mut self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        guarded(py, || {
            let session = self
                .inner
                .take()
                .ok_or_else(|| engine_error(py, "the stream session is finished".to_string()))?;
            let out = session.finish().map_err(|e| self.error(py, e))?;
            output_to_dict(py, out)
        })
    }
}
