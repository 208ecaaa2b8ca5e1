//! A finished run as the result dict Python reads (`omega.engine.rust.raw_run_from_core`;
//! typed as `RunResult` in `_core.pyi`): trade columns and the equity curve as numpy arrays
//! that take over the Rust vectors (no copy), and the run's metrics.

use crate::boundary::RunInputs;
use crate::metrics::metrics_dict;
use numpy::{IntoPyArray, PyArray1};
use omega_engine::metrics::Metrics;
use omega_engine::{EngineSettings, ExitReason, RunOutput};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyString, PyTuple};

/// A finished run and its metrics, both computed while detached from the interpreter.
#[derive(Debug)]
pub(crate) struct Finished {
    output: RunOutput,
    metrics: Option<Metrics>,
}

impl Finished {
    pub fn measure(output: RunOutput, inputs: &RunInputs<'_>) -> Self {
        let metrics = run_metrics(&output, inputs.bars.time, &inputs.settings);
        Finished { output, metrics }
    }

    /// The result dict with `metrics`. `base_time` (the input's time column) stands in for
    /// `equity_time` when the run left it empty to share it (primary == base): no copy.
    pub fn into_dict<'py>(
        self,
        py: Python<'py>,
        base_time: Option<&Bound<'py, PyArray1<i64>>>,
    ) -> PyResult<Bound<'py, PyDict>> {
        let shared = self.output.equity_time.is_empty();
        let out = output_to_dict(py, self.output)?;
        if let (true, Some(time)) = (shared, base_time) {
            out.set_item("equity_time", time)?;
        }
        match self.metrics {
            Some(m) => out.set_item("metrics", metrics_dict(py, &m)?)?,
            None => out.set_item("metrics", py.None())?,
        }
        Ok(out)
    }
}

/// The metrics of a finished run (`omega_engine::metrics`, equal to Python's
/// `compute_metrics` bit for bit). `base_time` stands in for `equity_time` when the run left
/// it empty (primary timeframe == base). `None` where the metrics fail (a zero initial
/// balance, an fsum overflow): Python then recomputes them and raises its own error.
fn run_metrics(
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
    trades.set_item("swap", column(py, t.swap))?;
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
