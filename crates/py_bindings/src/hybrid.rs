//! The `Strategy` the Rust engine drives in hybrid mode: each call goes to a Python driver
//! (`omega.engine.hybrid._Driver`) that moves one prebuilt Python `DataSlice` to the bar and
//! calls the Python strategy. Signals and actions come back as plain tuples.

use omega_strategy_api::{
    DataSlice, IndicatorKey, Position, PositionAction, Side, Strategy, Timeframe, TradeSignal,
};
use pyo3::prelude::*;
use pyo3::types::PyTuple;

/// Holds the Python driver; a Python exception is kept and the run stops through `take_error`.
#[derive(Debug)]
pub struct HybridStrategy<'py> {
    driver: Bound<'py, PyAny>,
    name: String,
    trace: bool,
    error: Option<PyErr>,
    reported: bool,
}

type SignalTuple = (
    i8,
    Option<f64>,
    Option<f64>,
    Option<f64>,
    Option<f64>,
    Option<f64>,
    Option<f64>,
    Option<u32>,
    String,
);

impl<'py> HybridStrategy<'py> {
    pub fn new(driver: Bound<'py, PyAny>, trace: bool) -> PyResult<Self> {
        let name = driver.getattr("name")?.extract()?;
        Ok(HybridStrategy {
            driver,
            name,
            trace,
            error: None,
            reported: false,
        })
    }

    /// The Python exception that stopped the run, if one did.
    pub fn take_python_error(&mut self) -> Option<PyErr> {
        self.error.take()
    }

    fn position_arg(&self, position: Option<&Position>) -> PyResult<Bound<'py, PyAny>> {
        let py = self.driver.py();
        Ok(match position {
            None => py.None().into_bound(py),
            Some(p) => (
                p.side.sign(),
                p.entry_time,
                p.entry_index,
                p.entry_price,
                p.size,
                p.stop_loss,
                p.take_profit,
                p.bars_held,
                p.mfe,
                p.unrealized_pnl,
                p.tag.as_str(),
            )
                .into_pyobject(py)?
                .into_any(),
        })
    }

    /// Replays the values the Python strategy recorded during the call into the Rust trace.
    fn replay_records(&self, slice: &DataSlice<'_>) -> PyResult<()> {
        if !self.trace {
            return Ok(());
        }
        let values: Vec<(String, f64)> = self.driver.call_method0("take_values")?.extract()?;
        for (name, value) in values {
            slice.record(&name, value);
        }
        Ok(())
    }

    fn fail(&mut self, error: PyErr) {
        if self.error.is_none() {
            self.error = Some(error);
        }
    }

    fn call_evaluate(&mut self, slice: &DataSlice<'_>) -> PyResult<Option<TradeSignal>> {
        let position = self.position_arg(slice.position())?;
        let out = self
            .driver
            .call_method1("evaluate", (slice.index(), position))?;
        self.replay_records(slice)?;
        if out.is_none() {
            return Ok(None);
        }
        let (direction, sl, tp, sld, tpd, size, risk, max_bars, tag): SignalTuple =
            out.extract()?;
        let mut signal = TradeSignal::new(if direction == 1 {
            Side::Long
        } else {
            Side::Short
        });
        signal.stop_loss = sl;
        signal.take_profit = tp;
        signal.stop_loss_distance = sld;
        signal.take_profit_distance = tpd;
        signal.size = size;
        signal.risk_percent = risk;
        signal.max_bars = max_bars;
        signal.tag = tag;
        Ok(Some(signal))
    }

    fn call_manage(
        &mut self,
        position: &Position,
        slice: &DataSlice<'_>,
    ) -> PyResult<Option<PositionAction>> {
        let arg = self.position_arg(Some(position))?;
        let out = self.driver.call_method1("manage", (slice.index(), arg))?;
        self.replay_records(slice)?;
        if out.is_none() {
            return Ok(None);
        }
        let tuple = out.cast_into::<PyTuple>().map_err(PyErr::from)?;
        let kind: String = tuple.get_item(0)?.extract()?;
        let value: Option<f64> = tuple.get_item(1)?.extract()?;
        Ok(Some(match (kind.as_str(), value) {
            ("close", _) => PositionAction::Close,
            ("partial", Some(f)) => PositionAction::PartialClose(f),
            ("sl", level) => PositionAction::ModifyStopLoss(level),
            ("tp", level) => PositionAction::ModifyTakeProfit(level),
            ("break_even", Some(o)) => PositionAction::MoveToBreakEven(o),
            _ => {
                return Err(pyo3::exceptions::PyTypeError::new_err(format!(
                    "hybrid driver returned an unknown action {kind:?}"
                )))
            }
        }))
    }
}

impl Strategy for HybridStrategy<'_> {
    fn name(&self) -> &str {
        &self.name
    }

    /// The Python side reads indicators it computed itself; the engine computes none for it.
    fn indicators(&self, _primary: Timeframe) -> Vec<IndicatorKey> {
        Vec::new()
    }

    fn evaluate(&mut self, slice: &DataSlice<'_>) -> Option<TradeSignal> {
        match self.call_evaluate(slice) {
            Ok(signal) => signal,
            Err(e) => {
                self.fail(e);
                None
            }
        }
    }

    fn manage_position(
        &mut self,
        position: &Position,
        slice: &DataSlice<'_>,
    ) -> Option<PositionAction> {
        match self.call_manage(position, slice) {
            Ok(action) => action,
            Err(e) => {
                self.fail(e);
                None
            }
        }
    }

    fn take_error(&mut self) -> Option<String> {
        if self.reported {
            return None;
        }
        let message = self.error.as_ref().map(|e| e.to_string())?;
        self.reported = true;
        Some(message)
    }
}
