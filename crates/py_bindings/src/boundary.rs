//! The common path of every entry point: typed inputs read once (bar columns, base
//! timeframe, settings, parameters), the run detached from the interpreter with panics
//! caught, and engine errors raised as `omega.errors` classes naming the source.

use crate::errors::{panic_to_pyerr, strategy_error, to_pyerr};
use crate::settings::{engine_settings, timeframe};
use numpy::{
    Element, PyArray1, PyArrayMethods, PyReadonlyArray1, PyUntypedArray, PyUntypedArrayMethods,
};
use omega_engine::{EngineError, EngineSettings};
use omega_strategies::BuiltinStrategy;
use omega_strategy_api::{BarColumns, ParamValue, Timeframe};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyString, PyTuple};
use std::panic::{catch_unwind, AssertUnwindSafe};

/// The base columns in the order Python hands them over (`omega.data.bars.COLUMNS`).
const COLUMN_NAMES: [&str; 10] = [
    "time",
    "bid_open",
    "bid_high",
    "bid_low",
    "bid_close",
    "ask_open",
    "ask_high",
    "ask_low",
    "ask_close",
    "volume",
];

/// The ten base bar columns, borrowed from numpy without copying. Extracted from a tuple of
/// ten contiguous 1-d arrays (int64 time, float64 prices and volume); a bad one is named.
pub(crate) struct Columns<'py> {
    pub time: PyReadonlyArray1<'py, i64>,
    pub bid_open: PyReadonlyArray1<'py, f64>,
    pub bid_high: PyReadonlyArray1<'py, f64>,
    pub bid_low: PyReadonlyArray1<'py, f64>,
    pub bid_close: PyReadonlyArray1<'py, f64>,
    pub ask_open: PyReadonlyArray1<'py, f64>,
    pub ask_high: PyReadonlyArray1<'py, f64>,
    pub ask_low: PyReadonlyArray1<'py, f64>,
    pub ask_close: PyReadonlyArray1<'py, f64>,
    pub volume: PyReadonlyArray1<'py, f64>,
}

/// Column `k` of `columns`, or a TypeError naming it and saying what it got instead.
fn column<'py, T: Element>(
    columns: &Bound<'py, PyTuple>,
    k: usize,
    dtype: &str,
) -> PyResult<PyReadonlyArray1<'py, T>> {
    let item = columns.get_item(k)?;
    if let Ok(array) = item.cast::<PyArray1<T>>() {
        if array.is_contiguous() {
            return Ok(array.readonly());
        }
    }
    let got = match item.cast::<PyUntypedArray>() {
        Ok(array) => format!(
            "a {}{}-d {} array",
            if array.is_contiguous() {
                ""
            } else {
                "non-contiguous "
            },
            array.ndim(),
            array.dtype().str()?
        ),
        Err(_) => item.get_type().name()?.to_string(),
    };
    Err(PyTypeError::new_err(format!(
        "column {}: expected a contiguous 1-d {dtype} array, got {got}",
        COLUMN_NAMES[k]
    )))
}

impl<'a, 'py> FromPyObject<'a, 'py> for Columns<'py> {
    type Error = PyErr;

    fn extract(obj: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        let tuple = obj.cast::<PyTuple>()?.to_owned();
        if tuple.len() != COLUMN_NAMES.len() {
            return Err(PyValueError::new_err(format!(
                "expected tuple of length {}, but got tuple of length {}",
                COLUMN_NAMES.len(),
                tuple.len()
            )));
        }
        let f = |k| column::<f64>(&tuple, k, "float64");
        Ok(Columns {
            time: column::<i64>(&tuple, 0, "int64")?,
            bid_open: f(1)?,
            bid_high: f(2)?,
            bid_low: f(3)?,
            bid_close: f(4)?,
            ask_open: f(5)?,
            ask_high: f(6)?,
            ask_low: f(7)?,
            ask_close: f(8)?,
            volume: f(9)?,
        })
    }
}

impl Columns<'_> {
    /// The columns as the engine's slices (contiguity was checked on extraction).
    pub fn bars(&self) -> PyResult<BarColumns<'_>> {
        Ok(BarColumns {
            time: self.time.as_slice()?,
            bid_open: self.bid_open.as_slice()?,
            bid_high: self.bid_high.as_slice()?,
            bid_low: self.bid_low.as_slice()?,
            bid_close: self.bid_close.as_slice()?,
            ask_open: self.ask_open.as_slice()?,
            ask_high: self.ask_high.as_slice()?,
            ask_low: self.ask_low.as_slice()?,
            ask_close: self.ask_close.as_slice()?,
            volume: self.volume.as_slice()?,
        })
    }
}

/// The base timeframe and the engine settings (in this order: a bad settings object is
/// reported before a bad timeframe).
pub(crate) fn setup(
    base_timeframe: &Bound<'_, PyAny>,
    settings: &Bound<'_, PyAny>,
) -> PyResult<(Timeframe, EngineSettings)> {
    let settings = engine_settings(settings)?;
    Ok((timeframe(base_timeframe, "base_timeframe")?, settings))
}

/// What every backtest entry point reads before it runs, read once.
#[derive(Debug)]
pub(crate) struct RunInputs<'a> {
    pub bars: BarColumns<'a>,
    pub base_tf: Timeframe,
    pub settings: EngineSettings,
    /// The data's file name for data errors (`<memory>` when there is none).
    pub source: &'a str,
}

impl<'a> RunInputs<'a> {
    pub fn read(
        columns: &'a Columns<'_>,
        base_timeframe: &Bound<'_, PyAny>,
        settings: &Bound<'_, PyAny>,
        source: &'a str,
    ) -> PyResult<Self> {
        let (base_tf, settings) = setup(base_timeframe, settings)?;
        Ok(RunInputs {
            bars: columns.bars()?,
            base_tf,
            settings,
            source,
        })
    }

    /// `f(self)` through [`run_detached`], its errors naming this run's source.
    pub fn run_detached<T: Send>(
        &self,
        py: Python<'_>,
        f: impl FnOnce(&Self) -> Result<T, EngineError> + Send,
    ) -> PyResult<T> {
        run_detached(py, self.source, || f(self))
    }
}

/// Runs `f` with the GIL held and panics caught (raised as `omega.errors.EngineError` with
/// the panic message, never as `PanicException`).
pub(crate) fn guarded<T>(py: Python<'_>, f: impl FnOnce() -> PyResult<T>) -> PyResult<T> {
    catch_unwind(AssertUnwindSafe(f))
        .unwrap_or_else(|payload| Err(panic_to_pyerr(py, payload.as_ref())))
}

/// Runs `f` detached from the interpreter (other Python threads run meanwhile) with panics
/// caught (raised as `omega.errors.EngineError`, as by [`guarded`]).
pub(crate) fn detached<T: Send>(py: Python<'_>, f: impl FnOnce() -> T + Send) -> PyResult<T> {
    py.detach(|| catch_unwind(AssertUnwindSafe(f)))
        .map_err(|payload| panic_to_pyerr(py, payload.as_ref()))
}

/// [`detached`] for the engine: its error is raised as the `omega.errors` class, naming
/// `source` (the data's file) in data errors.
pub(crate) fn run_detached<T: Send>(
    py: Python<'_>,
    source: &str,
    f: impl FnOnce() -> Result<T, EngineError> + Send,
) -> PyResult<T> {
    detached(py, f)?.map_err(|error| to_pyerr(py, error, source))
}

/// A user parameter value as the strategy API's `ParamValue` (bool before int: a Python bool
/// is an int).
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

/// The user parameters in their given order (none when `params` is None).
pub(crate) fn params_from_dict(
    params: Option<&Bound<'_, PyDict>>,
) -> PyResult<Vec<(String, ParamValue)>> {
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

/// The built-in Rust strategy `name` with `params` (StrategyError if either is refused).
pub(crate) fn builtin_strategy(
    py: Python<'_>,
    name: &str,
    params: Option<&Bound<'_, PyDict>>,
) -> PyResult<BuiltinStrategy> {
    let given = params_from_dict(params)?;
    omega_strategies::build(name, &given).map_err(|e| strategy_error(py, e.to_string()))
}
