//! `csv_table`: result tables as CSV bytes (`omega_engine::text`), for
//! `omega.results.tables`, which keeps the same formatting in Python as reference and fallback.

use crate::boundary::{detached, guarded};
use crate::errors::engine_error;
use numpy::PyReadonlyArray1;
use omega_engine::text::{csv_text, TextColumn};
use pyo3::prelude::*;
use pyo3::types::PyBytes;

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(csv_table, m)?)?;
    Ok(())
}

/// One column as handed over from Python, by kind.
enum Held<'py> {
    Int(PyReadonlyArray1<'py, i64>, bool),
    Float(PyReadonlyArray1<'py, f64>),
    Text(Vec<String>),
}

fn hold<'py>(column: &Bound<'py, PyAny>, kind: &str, name: &str) -> PyResult<Held<'py>> {
    let py = column.py();
    let bad = |e: String| engine_error(py, format!("table column {name} ({kind}): {e}"));
    Ok(match kind {
        "time" | "int" => {
            let values = column
                .extract::<PyReadonlyArray1<'py, i64>>()
                .map_err(|e| bad(e.to_string()))?;
            Held::Int(values, kind == "time")
        }
        "float" => {
            let values = column
                .extract::<PyReadonlyArray1<'py, f64>>()
                .map_err(|e| bad(e.to_string()))?;
            Held::Float(values)
        }
        "text" => Held::Text(column.extract().map_err(|e: PyErr| bad(e.to_string()))?),
        other => {
            return Err(engine_error(
                py,
                format!("table column {name}: kind {other}"),
            ))
        }
    })
}

/// `csv_table(names, columns, kinds) -> bytes`: kinds are `time` (int64 UTC ns), `int`
/// (int64), `float` (float64) and `text` (a sequence of str); numeric columns contiguous.
#[pyfunction]
fn csv_table<'py>(
    py: Python<'py>,
    names: Vec<String>,
    columns: Vec<Bound<'py, PyAny>>,
    kinds: Vec<String>,
) -> PyResult<Bound<'py, PyBytes>> {
    guarded(py, || {
        if columns.len() != names.len() || kinds.len() != names.len() {
            return Err(engine_error(
                py,
                "table: names, columns and kinds differ in length".into(),
            ));
        }
        let held = names
            .iter()
            .zip(&columns)
            .zip(&kinds)
            .map(|((name, column), kind)| hold(column, kind, name))
            .collect::<PyResult<Vec<_>>>()?;
        let texts: Vec<Vec<&str>> = held
            .iter()
            .map(|h| match h {
                Held::Text(values) => values.iter().map(String::as_str).collect(),
                _ => Vec::new(),
            })
            .collect();
        let views = held
            .iter()
            .zip(&texts)
            .map(|(h, text)| {
                Ok(match h {
                    Held::Int(values, true) => TextColumn::Time(values.as_slice()?),
                    Held::Int(values, false) => TextColumn::Int(values.as_slice()?),
                    Held::Float(values) => TextColumn::Float(values.as_slice()?),
                    Held::Text(_) => TextColumn::Text(text),
                })
            })
            .collect::<PyResult<Vec<_>>>()?;
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        let text = detached(py, || csv_text(&names, &views))?
            .map_err(|e| engine_error(py, format!("table: {e}")))?;
        Ok(PyBytes::new(py, text.as_bytes()))
    })
}
