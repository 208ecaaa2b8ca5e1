//! `run_sweep`: one built-in strategy over many parameter sets in one call (shared frames and
//! indicator series, runs on several threads, the GIL released between progress reports).

use crate::engine::{bar_columns, guarded, params_from_dict, Columns};
use crate::errors::{panic_to_pyerr, strategy_error, to_pyerr};
use crate::metrics::metrics_dict;
use crate::settings::{engine_settings, timeframe};
use omega_engine::{run_sweep as engine_sweep, SweepResult};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};
use std::panic::{catch_unwind, AssertUnwindSafe};
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
        let settings = engine_settings(settings)?;
        let base_tf = timeframe(base_timeframe, "base_timeframe")?;
        let bars = bar_columns(&columns)?;
        // Parameter sets that do not build a strategy fail here, alone.
        let mut outcomes: Vec<Option<PyErr>> = Vec::with_capacity(param_sets.len());
        let mut strategies = Vec::new();
        for params in param_sets.iter() {
            let params = params.cast::<PyDict>()?;
            let built = params_from_dict(Some(params)).and_then(|given| {
                omega_strategies::build(strategy_name, &given)
                    .map_err(|e| strategy_error(py, e.to_string()))
            });
            match built {
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
        let swept = py.detach(|| {
            catch_unwind(AssertUnwindSafe(|| {
                engine_sweep(bars, base_tf, &settings, strategies, threads, &mut report)
            }))
        });
        if let Some(error) = interrupted {
            return Err(error);
        }
        let results: Vec<SweepResult> = match swept {
            Ok(Ok(results)) => results,
            Ok(Err(error)) => return Err(to_pyerr(py, error, source)),
            Err(payload) => return Err(panic_to_pyerr(py, payload.as_ref())),
        };
        let mut results = results.into_iter();
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
