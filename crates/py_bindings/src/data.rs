//! The loader's hard rules and quality counts in one Rust pass (`omega_engine::validation`),
//! for `omega.data.validation` / `omega.data.quality`, which keep numpy as the reference and
//! fallback and write every message themselves. A panic is an `omega.errors.EngineError`.

use crate::boundary::guarded;
use numpy::{Element, PyReadonlyArray1};
use omega_engine::validation::{first_fault, measure, Columns, Counted, Rule};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use std::borrow::Cow;

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(data_first_fault, m)?)?;
    m.add_function(wrap_pyfunction!(data_quality_counts, m)?)?;
    Ok(())
}

/// The column's values, borrowed when contiguous, else copied.
fn values<'a, T: Element + Copy>(column: &'a PyReadonlyArray1<'_, T>) -> Cow<'a, [T]> {
    match column.as_slice() {
        Ok(slice) => Cow::Borrowed(slice),
        Err(_) => Cow::Owned(column.as_array().iter().copied().collect()),
    }
}

struct Owned<'a> {
    time: Cow<'a, [i64]>,
    prices: Vec<Cow<'a, [f64]>>,
    volume: Cow<'a, [f64]>,
}

fn owned<'a>(
    time: &'a PyReadonlyArray1<'_, i64>,
    prices: &'a [PyReadonlyArray1<'_, f64>],
    volume: &'a PyReadonlyArray1<'_, f64>,
) -> PyResult<Owned<'a>> {
    if prices.len() != 8 {
        return Err(PyValueError::new_err(format!(
            "expected 8 price columns, got {}",
            prices.len()
        )));
    }
    let o = Owned {
        time: values(time),
        prices: prices.iter().map(values).collect(),
        volume: values(volume),
    };
    let n = o.time.len();
    if o.volume.len() != n || o.prices.iter().any(|p| p.len() != n) {
        return Err(PyValueError::new_err("bar columns differ in length"));
    }
    Ok(o)
}

fn columns<'a>(o: &'a Owned<'_>) -> Columns<'a> {
    Columns {
        time: &o.time,
        prices: std::array::from_fn(|k| &*o.prices[k]),
        volume: &o.volume,
    }
}

/// First hard fault as ``(rule, index, column)`` or None; rule is one of "non_finite",
/// "non_positive", "ohlc", "duplicate", "non_monotonic". Prices in PRICE_COLUMNS order.
#[pyfunction]
fn data_first_fault(
    py: Python<'_>,
    time: PyReadonlyArray1<'_, i64>,
    prices: Vec<PyReadonlyArray1<'_, f64>>,
    volume: PyReadonlyArray1<'_, f64>,
) -> PyResult<Option<(&'static str, usize, &'static str)>> {
    guarded(py, || {
        let o = owned(&time, &prices, &volume)?;
        Ok(first_fault(&columns(&o)).map(|f| {
            let rule = match f.rule {
                Rule::NonFinite => "non_finite",
                Rule::NonPositive => "non_positive",
                Rule::Ohlc => "ohlc",
                Rule::Duplicate => "duplicate",
                Rule::NonMonotonic => "non_monotonic",
            };
            (rule, f.index, f.column)
        }))
    })
}

fn counted<'py>(d: &Bound<'py, PyDict>, key: &str, c: &Counted) -> PyResult<()> {
    d.set_item(key, (c.count, c.examples.clone()))
}

/// Soft anomaly counts of validated, non-empty bars: a dict of ``key -> (count, example
/// indices)`` for located kinds, plain counts otherwise, and ``spread_close_pips`` as
/// ``(min, median, max)`` or None when a spread is not finite.
#[pyfunction]
fn data_quality_counts<'py>(
    py: Python<'py>,
    time: PyReadonlyArray1<'_, i64>,
    prices: Vec<PyReadonlyArray1<'_, f64>>,
    volume: PyReadonlyArray1<'_, f64>,
    timeframe_ns: i64,
    pip_size: f64,
) -> PyResult<Bound<'py, PyDict>> {
    guarded(py, || {
        let o = owned(&time, &prices, &volume)?;
        if o.time.is_empty() || timeframe_ns <= 0 {
            return Err(PyValueError::new_err("need bars and a timeframe > 0"));
        }
        let q = measure(&columns(&o), timeframe_ns, pip_size);
        let d = PyDict::new(py);
        counted(&d, "off_grid_bars", &q.off_grid)?;
        counted(&d, "irregular_intervals", &q.irregular)?;
        counted(&d, "gaps_1_5", &q.gaps[0])?;
        counted(&d, "gaps_6_60", &q.gaps[1])?;
        counted(&d, "gaps_over_60", &q.gaps[2])?;
        counted(&d, "crossed_bars", &q.crossed)?;
        counted(&d, "zero_spread_bars", &q.zero_spread)?;
        counted(&d, "negative_volume_bars", &q.negative_volume)?;
        d.set_item("weekend_gaps", q.weekend_gaps)?;
        d.set_item("missing_bars", q.missing_bars)?;
        d.set_item("crossed_by_field", q.crossed_by_field.to_vec())?;
        d.set_item("zero_volume_bars", q.zero_volume)?;
        d.set_item(
            "spread_close_pips",
            q.spread_close_pips.map(|s| (s[0], s[1], s[2])),
        )?;
        Ok(d)
    })
}
