//! Indicator bindings: one batch function over numpy columns, used by the Rust == Python
//! parity tests. Errors become `omega.indicators.errors` exceptions; a panic is an
//! `omega.errors.EngineError` (`crate::boundary`).

use crate::boundary::{detached, guarded};
use numpy::{IntoPyArray, PyArray1, PyReadonlyArray1};
use omega_indicators::{compute, IndicatorError, SideColumns};
use omega_strategy_api::{IndicatorSpec, PriceField};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyType};

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(indicator_batch, m)?)?;
    Ok(())
}

/// `indicator_batch(kind, params, values=None, *, high=None, low=None, close=None)`.
///
/// `kind` and `params` are those of `omega.indicators.IndicatorSpec` (`spec.kind`,
/// `spec.param_dict`). Single-input kinds read `values`; kinds without a field (ATR, ADX,
/// ...) read `high`, `low`, `close`.
/// Returns a new float64 array (NaN during warm-up).
#[pyfunction]
#[pyo3(signature = (kind, params, values=None, *, high=None, low=None, close=None))]
fn indicator_batch<'py>(
    py: Python<'py>,
    kind: &str,
    params: &Bound<'py, PyDict>,
    values: Option<PyReadonlyArray1<'py, f64>>,
    high: Option<PyReadonlyArray1<'py, f64>>,
    low: Option<PyReadonlyArray1<'py, f64>>,
    close: Option<PyReadonlyArray1<'py, f64>>,
) -> PyResult<Bound<'py, PyArray1<f64>>> {
    guarded(py, || {
        let spec = spec_from_params(py, kind, params)?;
        let missing = |name: &str| input_error(py, format!("{kind}: missing input array {name}"));
        let series = if spec.field().is_none() {
            let high = high.ok_or_else(|| missing("high"))?;
            let low = low.ok_or_else(|| missing("low"))?;
            let close = close.ok_or_else(|| missing("close"))?;
            let (h, l, c) = (high.as_slice()?, low.as_slice()?, close.as_slice()?);
            let columns = SideColumns {
                open: c,
                high: h,
                low: l,
                close: c,
            };
            detached(py, || compute(&spec, &columns))?
        } else {
            let values = values.ok_or_else(|| missing("values"))?;
            let v = values.as_slice()?;
            let columns = SideColumns {
                open: v,
                high: v,
                low: v,
                close: v,
            };
            detached(py, || compute(&spec, &columns))?
        };
        series
            .map(|out| out.into_pyarray(py))
            .map_err(|e| to_py_err(py, e))
    })
}

/// The Rust `IndicatorSpec` for a Python spec's kind and parameters (field: close), read by
/// name through the spec table of omega-strategy-api.
fn spec_from_params(
    py: Python<'_>,
    kind: &str,
    params: &Bound<'_, PyDict>,
) -> PyResult<IndicatorSpec> {
    let mut failure: Option<PyErr> = None;
    let mut get = |name: &str| -> Option<f64> {
        match params.get_item(name) {
            Ok(Some(value)) if !value.is_none() => match value.extract::<f64>() {
                Ok(number) => Some(number),
                Err(e) => {
                    failure.get_or_insert_with(|| {
                        parameter_error(py, format!("{kind}: parameter {name}: {e}"))
                    });
                    None
                }
            },
            Ok(_) => None,
            Err(e) => {
                failure.get_or_insert(e);
                None
            }
        }
    };
    let spec = IndicatorSpec::from_named(kind, PriceField::Close, &mut get);
    if let Some(error) = failure {
        return Err(error);
    }
    spec.map_err(|e| parameter_error(py, e.0))
}

fn to_py_err(py: Python<'_>, error: IndicatorError) -> PyErr {
    match error {
        IndicatorError::InvalidParameter { .. } => parameter_error(py, error.to_string()),
        IndicatorError::InputMismatch(_) => input_error(py, error.to_string()),
    }
}

fn parameter_error(py: Python<'_>, message: String) -> PyErr {
    omega_error(py, "IndicatorParameterError", message)
}

fn input_error(py: Python<'_>, message: String) -> PyErr {
    omega_error(py, "IndicatorInputError", message)
}

/// An exception of `omega.indicators.errors` (both subclass ValueError); a plain ValueError
/// if that module cannot be imported.
fn omega_error(py: Python<'_>, class: &str, message: String) -> PyErr {
    let class = py
        .import("omega.indicators.errors")
        .and_then(|module| module.getattr(class))
        .and_then(|class| class.cast_into::<PyType>().map_err(PyErr::from));
    match class {
        Ok(class) => PyErr::from_type(class, message),
        Err(_) => pyo3::exceptions::PyValueError::new_err(message),
    }
}
