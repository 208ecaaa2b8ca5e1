//! `compute_metrics`: the Rust metrics (`omega_engine::metrics`) of a `RawRun`'s arrays, as
//! the same dict, in the same key order, as `omega.results.metrics.compute_metrics`.
//!
//! Where Python raises, this raises the same built-in exception with the same message
//! (`ZeroDivisionError` for a zero initial balance, `ValueError`/`OverflowError` from fsum);
//! columns of different lengths are an `omega.errors.EngineError` naming the column.

use crate::boundary::guarded;
use crate::errors::engine_error;
use numpy::{AllowTypeChange, Element, PyArrayLike1};
use omega_engine::metrics::{
    compute_metrics as rust_metrics, Metrics, MetricsError, MetricsInput, TradeColumns,
};
use pyo3::exceptions::{PyOverflowError, PyValueError, PyZeroDivisionError};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use std::borrow::Cow;

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(compute_metrics, m)?)?;
    Ok(())
}

type Column<'py, T> = PyArrayLike1<'py, T, AllowTypeChange>;

/// The column's values, borrowed when contiguous (as numpy hands them over), else copied.
fn values<'a, T: Element + Copy>(column: &'a Column<'_, T>) -> Cow<'a, [T]> {
    match column.as_slice() {
        Ok(slice) => Cow::Borrowed(slice),
        Err(_) => Cow::Owned(column.as_array().iter().copied().collect()),
    }
}

/// `trades[name]` as a numpy array of `T` (converted like `np.asarray(x, dtype=T)`).
fn trade_column<'py, T>(trades: &Bound<'py, PyDict>, name: &str) -> PyResult<Column<'py, T>>
where
    T: Element + 'py,
    for<'a> Vec<T>: FromPyObject<'a, 'py>,
{
    let py = trades.py();
    let value = trades
        .get_item(name)?
        .ok_or_else(|| engine_error(py, format!("metrics input: trades has no column {name}")))?;
    value
        .extract()
        .map_err(|e| engine_error(py, format!("metrics input: trades column {name}: {e}")))
}

fn to_pyerr(py: Python<'_>, error: MetricsError) -> PyErr {
    let message = error.to_string();
    match error {
        MetricsError::ZeroInitialBalance => PyZeroDivisionError::new_err(message),
        MetricsError::FsumInfMinusInf => PyValueError::new_err(message),
        MetricsError::FsumOverflow => PyOverflowError::new_err(message),
        MetricsError::ColumnLength { .. } => engine_error(py, message),
    }
}

/// The metrics as Python's dict: same keys, same order, same types (ints stay ints).
pub(crate) fn metrics_dict<'py>(py: Python<'py>, m: &Metrics) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("initial_balance", m.initial_balance)?;
    d.set_item("final_balance", m.final_balance)?;
    d.set_item("net_profit", m.net_profit)?;
    d.set_item("return_pct", m.return_pct)?;
    d.set_item("cagr", m.cagr)?;
    d.set_item("span_days", m.span_days)?;
    d.set_item("periods_per_year", m.periods_per_year)?;
    d.set_item("max_drawdown", m.max_drawdown)?;
    d.set_item("max_drawdown_pct", m.max_drawdown_pct)?;
    d.set_item("max_drawdown_duration_bars", m.max_drawdown_duration_bars)?;
    d.set_item(
        "max_drawdown_duration_seconds",
        m.max_drawdown_duration_seconds,
    )?;
    d.set_item("sharpe", m.sharpe)?;
    d.set_item("sortino", m.sortino)?;
    d.set_item("n_trades", m.n_trades)?;
    d.set_item("n_long", m.n_long)?;
    d.set_item("n_short", m.n_short)?;
    d.set_item("n_wins", m.n_wins)?;
    d.set_item("n_losses", m.n_losses)?;
    d.set_item("win_rate", m.win_rate)?;
    d.set_item("gross_profit", m.gross_profit)?;
    d.set_item("gross_loss", m.gross_loss)?;
    d.set_item("profit_factor", m.profit_factor)?;
    d.set_item("expectancy", m.expectancy)?;
    d.set_item("avg_win", m.avg_win)?;
    d.set_item("avg_loss", m.avg_loss)?;
    d.set_item("largest_win", m.largest_win)?;
    d.set_item("largest_loss", m.largest_loss)?;
    d.set_item("total_fees", m.total_fees)?;
    d.set_item("total_swap", m.total_swap)?;
    d.set_item("avg_bars_held", m.avg_bars_held)?;
    d.set_item("exposure", m.exposure)?;
    let reasons = PyDict::new(py);
    for (reason, count) in &m.exit_reasons {
        reasons.set_item(reason, count)?;
    }
    d.set_item("exit_reasons", reasons)?;
    d.set_item("bars_processed", m.bars_processed)?;
    d.set_item("base_bars", m.base_bars)?;
    d.set_item("ignored_signals", m.ignored_signals)?;
    d.set_item("dropped_orders", m.dropped_orders)?;
    d.set_item("skipped_orders", m.skipped_orders)?;
    Ok(d)
}

/// The metrics of one run from the fields of its `RawRun` (`trades` needs the columns `pnl`,
/// `side`, `fees`, `bars_held`, `exit_reason`, and reads `swap` where present;
/// `skipped_orders` is their count).
#[pyfunction]
#[allow(clippy::too_many_arguments)] // one argument per RawRun field, named as in Python
#[pyo3(signature = (
    trades, equity_time, equity, final_balance, bars_processed, base_bars, ignored_signals,
    dropped_orders, skipped_orders, initial_balance, timeframe_ns
))]
fn compute_metrics<'py>(
    py: Python<'py>,
    trades: &Bound<'py, PyDict>,
    equity_time: Column<'py, i64>,
    equity: Column<'py, f64>,
    final_balance: f64,
    bars_processed: usize,
    base_bars: usize,
    ignored_signals: usize,
    dropped_orders: usize,
    skipped_orders: usize,
    initial_balance: f64,
    timeframe_ns: i64,
) -> PyResult<Bound<'py, PyDict>> {
    guarded(py, || {
        let pnl = trade_column::<f64>(trades, "pnl")?;
        let side = trade_column::<i8>(trades, "side")?;
        let fees = trade_column::<f64>(trades, "fees")?;
        let bars_held = trade_column::<i64>(trades, "bars_held")?;
        // optional: trades of older results have no swap column
        let swap_column = match trades.get_item("swap")? {
            Some(_) => Some(trade_column::<f64>(trades, "swap")?),
            None => None,
        };
        let swap: Vec<f64> = swap_column
            .as_ref()
            .map(|c| values(c).into_owned())
            .unwrap_or_default();
        let reasons_object = trades.get_item("exit_reason")?.ok_or_else(|| {
            engine_error(py, "metrics input: trades has no column exit_reason".into())
        })?;
        let reasons: Vec<String> = reasons_object
            .try_iter()?
            .map(|item| item?.extract::<String>())
            .collect::<PyResult<_>>()
            .map_err(|e| {
                engine_error(py, format!("metrics input: trades column exit_reason: {e}"))
            })?;
        let reason_strs: Vec<&str> = reasons.iter().map(String::as_str).collect();
        let (pnl, side, fees, bars_held) = (
            values(&pnl),
            values(&side),
            values(&fees),
            values(&bars_held),
        );
        let (equity_time, equity) = (values(&equity_time), values(&equity));
        let input = MetricsInput {
            trades: TradeColumns {
                pnl: &pnl,
                side: &side,
                fees: &fees,
                swap: &swap,
                bars_held: &bars_held,
                exit_reason: &reason_strs,
            },
            equity_time: &equity_time,
            equity: &equity,
            final_balance,
            bars_processed,
            base_bars,
            ignored_signals,
            dropped_orders,
            skipped_orders,
            initial_balance,
            timeframe_ns,
        };
        let metrics = rust_metrics(&input).map_err(|e| to_pyerr(py, e))?;
        metrics_dict(py, &metrics)
    })
}
