//! Engine errors and panics as `omega.errors` exceptions (the Python classes themselves, so
//! `except omega.errors.ConfigError` catches errors from both engines alike).

use omega_engine::{panic_message, DataErrorKind, EngineError};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use std::any::Any;

/// Raises `omega.errors.<class_name>(message, **kwargs)`.
fn omega_error(
    py: Python<'_>,
    class_name: &str,
    message: String,
    kwargs: Option<&Bound<'_, PyDict>>,
) -> PyErr {
    let build = || -> PyResult<PyErr> {
        let class = py.import("omega.errors")?.getattr(class_name)?;
        let instance = class.call((message.clone(),), kwargs)?;
        Ok(PyErr::from_value(instance))
    };
    build().unwrap_or_else(|import_failure| import_failure)
}

pub fn config_error(py: Python<'_>, message: String) -> PyErr {
    omega_error(py, "ConfigError", message, None)
}

pub fn strategy_error(py: Python<'_>, message: String) -> PyErr {
    omega_error(py, "StrategyError", message, None)
}

pub fn engine_error(py: Python<'_>, message: String) -> PyErr {
    omega_error(py, "EngineError", message, None)
}

/// One `EngineError` variant -> one `omega.errors` class; data errors name row and column.
pub fn to_pyerr(py: Python<'_>, error: EngineError, source: &str) -> PyErr {
    match error {
        EngineError::Config(m) => config_error(py, m),
        EngineError::Strategy(m) => strategy_error(py, m),
        EngineError::Internal(m) => engine_error(py, format!("internal engine error: {m}")),
        EngineError::Cancelled => engine_error(py, "cancelled before it ran".to_string()),
        EngineError::Data {
            kind,
            message,
            row,
            column,
        } => {
            let class = match kind {
                DataErrorKind::Empty => "EmptyDataError",
                DataErrorKind::NonMonotonicTimestamp => "NonMonotonicTimestampError",
                DataErrorKind::NonFinite => "NonFiniteValueError",
                DataErrorKind::ColumnLength => "DataError",
            };
            let kwargs = PyDict::new(py);
            let filled = kwargs
                .set_item("file", source)
                .and_then(|_| kwargs.set_item("row", row))
                .and_then(|_| kwargs.set_item("column", column));
            match filled {
                Ok(()) => omega_error(py, class, message, Some(&kwargs)),
                Err(e) => e,
            }
        }
    }
}

/// A panic caught at the boundary, as `omega.errors.EngineError`.
pub fn panic_to_pyerr(py: Python<'_>, payload: &(dyn Any + Send)) -> PyErr {
    engine_error(
        py,
        format!("internal engine error (panic): {}", panic_message(payload)),
    )
}
