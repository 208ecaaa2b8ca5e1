//! `run_sweep`: one built-in strategy over many parameter sets in one call (shared frames and
//! indicator series, runs on several threads, the GIL released between progress reports).

use crate::boundary::{builtin_strategy, guarded, Columns, RunInputs};
use crate::errors::to_pyerr;
use crate::metrics::metrics_dict;
use omega_engine::run_sweep as engine_sweep;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};
use std::time::{Duration, Instant};

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(run_sweep, m)?)?;
    Ok(())
}

/// Progress reports at most this often (and at the end).
const REPORT_EVERY: Duration = Duration::from_millis(200);

/// `run_sweep(columns, base_timeframe, settings, strategy_name, param_sets, threads,
/// progress=None, source="<memory>") -> list`: for each parameter set (a dict), the metrics
/// dict of its run, or the exception that run failed with (bad parameters, a strategy
/// error). `progress(done, total)` is called with the GIL held; Ctrl-C stops the sweep
/// after the runs under way and raises `KeyboardInterrupt`.
#[allow(clippy::too_many_arguments)] // the Python signature, keyword arguments included
#[pyfunction]
#[pyo3(signature = (columns, base_timeframe, settings, strategy_name, param_sets, threads, progress=None, source="<memory>"))]
fn run_sweep<'py>(
    py: Python<'py>,
    columns: Columns<'py>,
    base_timeframe: &Bound<'py, PyAny>,
    settings: &Bound<'py, PyAny>,
    strategy_name: &str,
    param_sets: &Bound<'py, PyList>,
    threads: usize,
    progress: Option<Bound<'py, PyAny>>,
    source: &str,
) -> PyResult<Bound<'py, PyList>> {
    guarded(py, || {
        let inputs = RunInputs::read(&columns, base_timeframe, settings, source)?;
        // Parameter sets that do not build a strategy fail here, alone.
        let mut outcomes: Vec<Option<PyErr>> = Vec::with_capacity(param_sets.len());
        let mut strategies = Vec::new();
        for params in param_sets.iter() {
            match builtin_strategy(py, strategy_name, Some(params.cast::<PyDict>()?)) {
                Ok(strategy) => {
                    strategies.push(strategy);
                    outcomes.push(None);
                }
                Err(error) => outcomes.push(Some(error)),
            }
        }
        let total = strategies.len();
        let progress = progress.map(Bound::unbind);
        let mut interrupted: Option<PyErr> = None;
        let mut last_report = Instant::now();
        let mut report = |done: usize| -> bool {
            if done < total && last_report.elapsed() < REPORT_EVERY {
                return true;
            }
            last_report = Instant::now();
            Python::attach(|py| {
                let reported = match &progress {
                    Some(callback) => callback.call1(py, (done, total)).map(drop),
                    None => Ok(()),
                };
                match reported.and_then(|()| py.check_signals()) {
                    Ok(()) => true,
                    Err(error) => {
                        interrupted = Some(error);
                        false
                    }
                }
            })
        };
        let threads = threads.max(1);
        let swept = inputs.run_detached(py, |i| {
            engine_sweep(
                i.bars,
                i.base_tf,
                &i.settings,
                strategies,
                threads,
                &mut report,
            )
        });
        // Ctrl-C or a failing progress callback wins over what the sweep returned.
        if let Some(error) = interrupted {
            return Err(error);
        }
        let mut results = swept?.into_iter();
        let out = PyList::empty(py);
        for outcome in outcomes {
            let item = match outcome {
                Some(build_error) => build_error.into_value(py).into_any(),
                None => match results.next().expect("one result per built strategy") {
                    Ok(metrics) => metrics_dict(py, &metrics)?.into_any().unbind(),
                    Err(error) => to_pyerr(py, error, source).into_value(py).into_any(),
                },
            };
            out.append(item)?;
        }
        Ok(out)
    })
}
