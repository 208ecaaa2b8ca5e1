//! `omega._core`: the only crate that knows Python exists.
//!
//! Each area registers its functions from its own module so the bindings stay thin and
//! separately owned: `indicators` (indicator batch functions for parity tests) and `engine`
//! (backtests in `rust` and `hybrid` mode).

use pyo3::prelude::*;

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
    metrics::register(m)?;
    plugin::register(m)?;
    sweep::register(m)?;
    stream::register(m)?;
    data::register(m)?;
    tables::register(m)?;
    Ok(())
}
