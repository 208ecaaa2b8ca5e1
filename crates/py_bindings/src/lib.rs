//! `omega._core`: the only crate that knows Python exists.
//!
//! Each area registers its functions from its own module (`indicators`, `engine` for the
//! `rust` and `hybrid` modes, `plugin`, `sweep`, `stream`, `metrics`, `data`, `tables`), and
//! every entry point takes the common path of `boundary`: typed inputs read once
//! (`Columns`, `RunInputs`), panics caught (`guarded`, `detached`), engine errors raised as
//! `omega.errors` classes (`run_detached`). `result` builds the result dict of a run.

use pyo3::prelude::*;

mod basket;
mod basket_stream;
mod boundary;
mod data;
mod engine;
mod errors;
mod hybrid;
mod indicators;
mod metrics;
mod plugin;
mod result;
mod settings;
mod stream;
mod sweep;
mod tables;

/// Version of the compiled core, checked by `omega` at import time.
#[pyfunction]
fn core_version() -> &'static str {
    env!("CARGO_PKG_VERSION")
}

#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(core_version, m)?)?;
    indicators::register(m)?;
    engine::register(m)?;
    basket::register(m)?;
    basket_stream::register(m)?;
    metrics::register(m)?;
    plugin::register(m)?;
    sweep::register(m)?;
    stream::register(m)?;
    data::register(m)?;
    tables::register(m)?;
    Ok(())
}
