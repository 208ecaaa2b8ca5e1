//! The `Strategy` the Rust engine drives in hybrid mode.
//!
//! Per close the engine calls the Python strategy's own `evaluate` / `manage_position`
//! directly, with one Python `DataSlice` (built once by `omega.engine.hybrid`) moved in place:
//! its index slot is set from here, its position slot only when a position opens or closes,
//! and the `Position` view reads a [`PositionMirror`] whose fields are overwritten in place.
//! The slice's `value` and `closed_bars` are [`IndicatorReader`] methods, so the strategy's
//! most frequent reads cost one call into Rust instead of a Python method (`series` and
//! `last_closed` stay the Python methods, reading the index slot set from here). Nothing is
//! allocated per bar when the strategy returns `None`; signals and actions (rare) go through
//! the Python driver, which checks them exactly as the Python engine does.

use crate::boundary::{detached, Columns};
use numpy::IntoPyArray;
use omega_engine::resample::resample;
use omega_strategy_api::{
    DataSlice, Distance, EntryOrder, InstrumentId, OrderAction, Position, PositionAction,
    RunContext, Side, Strategy, StrategyError, Timeframe, TradeSignal, WorkingOrder,
};
use pyo3::buffer::PyBuffer;
use pyo3::exceptions::{PyException, PyIndexError, PyTypeError};
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

/// The engine's open position as the attributes a Python `Position` view reads
/// (`omega.strategy.position.PositionState`); overwritten in place at every call.
#[pyclass(module = "omega._core")]
#[derive(Debug, Default)]
pub struct PositionMirror {
    #[pyo3(get)]
    side: i8,
    #[pyo3(get)]
    entry_time: i64,
    #[pyo3(get)]
    entry_index: usize,
    #[pyo3(get)]
    entry_price: f64,
    #[pyo3(get)]
    size: f64,
    #[pyo3(get)]
    sl: Option<f64>,
    #[pyo3(get)]
    tp: Option<f64>,
    #[pyo3(get)]
    bars_held: u32,
    #[pyo3(get)]
    mfe: f64,
    #[pyo3(get)]
    unrealized_pnl: f64,
    #[pyo3(get)]
    tag: String,
}

impl PositionMirror {
    /// Copies `p`. The tag is fixed when a position opens, so it is copied only for another
    /// position (`fresh`, or another entry): comparing strings at every call showed up in
    /// profiles.
    fn update(&mut self, p: &Position, fresh: bool) {
        if fresh || self.entry_index != p.entry_index || self.entry_time != p.entry_time {
            self.tag.clone_from(&p.tag);
        }
        self.side = p.side.sign();
        self.entry_time = p.entry_time;
        self.entry_index = p.entry_index;
        self.entry_price = p.entry_price;
        self.size = p.size;
        self.sl = p.stop_loss;
        self.tp = p.take_profit;
        self.bars_held = p.bars_held;
        self.mfe = p.mfe;
        self.unrealized_pnl = p.unrealized_pnl;
    }
}

/// A series copied out of the market once, keyed by the address of its Python object.
#[derive(Debug)]
struct Column<T> {
    source: Py<PyAny>,
    data: Vec<T>,
}

/// The last `closed_bars` view of one timeframe object (`None`: the primary by default).
#[derive(Debug)]
struct ClosedEntry {
    timeframe: Option<Py<PyAny>>,
    visible: Option<usize>,
    j: i64,
    view: Py<PyAny>,
}

/// Entries above this are dropped at once: a strategy that builds a new timeframe object per
/// bar stays correct (each read resolves again through Python) without an ever-growing memo.
const MEMO_LIMIT: usize = 64;

/// `DataSlice.value` and `DataSlice.closed_bars` in Rust, with the same rules and values as
/// the Python methods (`omega.strategy.data_slice`): the handles' series and visibility maps
/// are copied once; any read the Python method would refuse (unknown handle, negative
/// offset) is handed to it, so the error is the same.
#[pyclass(module = "omega._core")]
#[derive(Debug)]
pub struct IndicatorReader {
    index: i64,
    /// Per handle: its values column and its visibility column (`None`: the primary).
    handles: Vec<(usize, Option<usize>)>,
    /// The Python `DataSlice.value` of a plain slice: the error paths.
    value_checked: Py<PyAny>,
    resolve: Py<PyAny>,
    closed_view: Py<PyAny>,
    /// `closed_bars`' identity memo, with the last view handed out per timeframe object.
    closed: Vec<ClosedEntry>,
    values: Vec<Column<f64>>,
    visible: Vec<Column<i64>>,
}

fn find_or_copy<T: pyo3::buffer::Element + Copy>(
    columns: &mut Vec<Column<T>>,
    source: &Bound<'_, PyAny>,
) -> PyResult<usize> {
    if let Some(k) = columns.iter().position(|c| c.source.is(source)) {
        return Ok(k);
    }
    let buffer = PyBuffer::<T>::get(source)?;
    let data = buffer.to_vec(source.py())?;
    columns.push(Column {
        source: source.clone().unbind(),
        data,
    });
    Ok(columns.len() - 1)
}

fn same(held: Option<&Py<PyAny>>, given: Option<&Bound<'_, PyAny>>) -> bool {
    match (held, given) {
        (None, None) => true,
        (Some(h), Some(g)) => h.is(g),
        _ => false,
    }
}

impl IndicatorReader {
    /// Index of the last visible bar of the visibility column `visible` (the current primary
    /// index itself for the primary timeframe).
    fn visible_index(&self, visible: Option<usize>) -> PyResult<i64> {
        match visible {
            None => Ok(self.index),
            Some(v) => self.visible[v]
                .data
                .get(usize::try_from(self.index).unwrap_or(usize::MAX))
                .copied()
                .ok_or_else(|| PyIndexError::new_err("array index out of range")),
        }
    }
}

#[pymethods]
impl IndicatorReader {
    /// `value(handle, offset=0)`: the declared indicator at the last closed bar of its
    /// timeframe minus `offset` bars (NaN when nothing has closed or before the start).
    #[pyo3(signature = (handle, offset=0))]
    fn value(&self, handle: &Bound<'_, PyAny>, offset: i64) -> PyResult<f64> {
        let found = handle
            .extract::<i64>()
            .ok()
            .filter(|&h| h >= 0 && offset >= 0)
            .and_then(|h| self.handles.get(usize::try_from(h).ok()?));
        let Some(&(values, visible)) = found else {
            // the Python method raises the engine's error for this read
            return self
                .value_checked
                .bind(handle.py())
                .call1((handle, offset))?
                .extract();
        };
        let j = self.visible_index(visible)?;
        let k = j - offset;
        if k < 0 {
            return Ok(f64::NAN);
        }
        self.values[values]
            .data
            .get(k as usize)
            .copied()
            .ok_or_else(|| PyIndexError::new_err("array index out of range"))
    }

    /// `closed_bars(timeframe=None)`: the closed bars of `timeframe` as a read-only
    /// `BarSeries`, built by `DataSlice._closed_view` only when a new bar has closed.
    #[pyo3(signature = (timeframe=None))]
    fn closed_bars(
        &mut self,
        py: Python<'_>,
        timeframe: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        let k = match self
            .closed
            .iter()
            .position(|e| same(e.timeframe.as_ref(), timeframe))
        {
            Some(k) => k,
            None => {
                let arg = timeframe
                    .cloned()
                    .unwrap_or_else(|| py.None().into_bound(py));
                let visible_obj = self.resolve.bind(py).call1((&arg,))?.get_item(1)?;
                let visible = if visible_obj.is_none() {
                    None
                } else {
                    Some(find_or_copy(&mut self.visible, &visible_obj)?)
                };
                if self.closed.len() >= MEMO_LIMIT {
                    self.closed.clear();
                }
                self.closed.push(ClosedEntry {
                    timeframe: timeframe.map(|t| t.clone().unbind()),
                    visible,
                    j: -2,
                    view: py.None(),
                });
                self.closed.len() - 1
            }
        };
        let j = self.visible_index(self.closed[k].visible)?;
        if self.closed[k].j != j {
            let view = self.closed_view.bind(py).call1((timeframe, j))?.unbind();
            let entry = &mut self.closed[k];
            entry.j = j;
            entry.view = view;
        }
        Ok(self.closed[k].view.clone_ref(py))
    }
}

/// The driver's base bars resampled by omega-engine to each timeframe named in
/// `driver.resample_to`, as tuples of ten numpy columns (the Python market is built on them:
/// the same contract as `omega.data.resample`, at a fraction of its cost).
fn resampled_frames<'py>(driver: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyList>> {
    let py = driver.py();
    // The base columns as the driver hands them over (`omega.engine.rust.bar_columns`).
    let c: Columns<'py> = driver.getattr("base_columns")?.extract()?;
    let base = c.bars()?;
    let frames = PyList::empty(py);
    for name in driver.getattr("resample_to")?.try_iter()? {
        let name: String = name?.extract()?;
        let target = Timeframe::parse(&name)
            .ok_or_else(|| PyTypeError::new_err(format!("unknown timeframe {name:?}")))?;
        let (bars, _) = detached(py, || resample(&base, target))?;
        frames.append((
            bars.time.into_pyarray(py),
            bars.bid_open.into_pyarray(py),
            bars.bid_high.into_pyarray(py),
            bars.bid_low.into_pyarray(py),
            bars.bid_close.into_pyarray(py),
            bars.ask_open.into_pyarray(py),
            bars.ask_high.into_pyarray(py),
            bars.ask_low.into_pyarray(py),
            bars.ask_close.into_pyarray(py),
            bars.volume.into_pyarray(py),
        ))?;
    }
    Ok(frames)
}

/// Calls the Python strategy per close; a Python exception is kept (raised as itself by
/// `run_hybrid`) and the run stops with a `StrategyError`.
#[derive(Debug)]
pub struct HybridStrategy<'py> {
    driver: Bound<'py, PyAny>,
    evaluate: Bound<'py, PyAny>,
    /// `None` when the strategy keeps the base `manage_position` (always `None`): not called.
    manage: Option<Bound<'py, PyAny>>,
    slice: Bound<'py, PyAny>,
    reader: Bound<'py, IndicatorReader>,
    mirror: Bound<'py, PositionMirror>,
    view: Bound<'py, PyAny>,
    /// Whether the slice's position slot currently holds `view` (else `None`).
    showing_position: bool,
    /// Whether the strategy overrides `manage_order` (else the call is skipped).
    manages_orders: bool,
    /// The session flag the Python slice shows (set only when it changes).
    in_session: bool,
    name: String,
    trace: bool,
    /// The Python exception that stopped the run (the engine sees its message).
    error: Option<PyErr>,
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
    Option<u32>,
);

/// The order fields of a checked signal: kind, price, expiry in bars, expiry time.
type OrderTuple = (String, Option<f64>, Option<u32>, Option<i64>);

impl<'py> HybridStrategy<'py> {
    /// `driver` is an `omega.engine.hybrid._Driver`: `build(frames)` makes its market and
    /// slice from the frames resampled here; it then provides the strategy's methods, the
    /// slice, and `attach(reader, mirror) -> Position view`.
    pub fn new(driver: Bound<'py, PyAny>, trace: bool) -> PyResult<Self> {
        let py = driver.py();
        driver.call_method1("build", (resampled_frames(&driver)?,))?;
        let name = driver.getattr("name")?.extract()?;
        let mut reader = IndicatorReader {
            index: -1,
            handles: Vec::new(),
            value_checked: driver.getattr("value_checked")?.unbind(),
            resolve: driver.getattr("resolve")?.unbind(),
            closed_view: driver.getattr("closed_view")?.unbind(),
            closed: Vec::new(),
            values: Vec::new(),
            visible: Vec::new(),
        };
        // Per handle (values, visibility or None); equal declarations share one series
        // object, copied once.
        for entry in driver.getattr("handles")?.try_iter()? {
            let entry = entry?;
            let values = find_or_copy(&mut reader.values, &entry.get_item(0)?)?;
            let visible_obj = entry.get_item(1)?;
            let visible = if visible_obj.is_none() {
                None
            } else {
                Some(find_or_copy(&mut reader.visible, &visible_obj)?)
            };
            reader.handles.push((values, visible));
        }
        let reader = Bound::new(py, reader)?;
        let mirror = Bound::new(py, PositionMirror::default())?;
        let view = driver.call_method1("attach", (&reader, &mirror))?;
        let manage = driver.getattr("manage")?;
        Ok(HybridStrategy {
            evaluate: driver.getattr("evaluate")?,
            manage: (!manage.is_none()).then_some(manage),
            slice: driver.getattr("slice")?,
            reader,
            mirror,
            view,
            showing_position: false,
            manages_orders: driver.getattr("manages_orders")?.extract()?,
            in_session: true,
            driver,
            name,
            trace,
            error: None,
        })
    }

    /// The Python exception that stopped the run, if one did.
    pub fn take_python_error(&mut self) -> Option<PyErr> {
        self.error.take()
    }

    /// Points the Python slice (and the reader) at this close and this position; returns
    /// the per-call trace dict when a trace is recorded.
    fn move_slice(
        &mut self,
        slice: &DataSlice<'_>,
        position: Option<&Position>,
    ) -> PyResult<Option<Bound<'py, PyDict>>> {
        let py = self.slice.py();
        let index = slice.index();
        self.reader.borrow_mut().index = index as i64;
        self.slice.setattr(intern!(py, "_i"), index)?;
        if slice.in_session() != self.in_session {
            self.in_session = slice.in_session();
            self.slice
                .setattr(intern!(py, "_in_session"), self.in_session)?;
        }
        match position {
            Some(p) => {
                self.mirror.borrow_mut().update(p, !self.showing_position);
                if !self.showing_position {
                    self.slice.setattr(intern!(py, "_position"), &self.view)?;
                    self.showing_position = true;
                }
            }
            None if self.showing_position => {
                self.slice.setattr(intern!(py, "_position"), py.None())?;
                self.showing_position = false;
            }
            None => {}
        }
        if !self.trace {
            return Ok(None);
        }
        let values = PyDict::new(py);
        self.slice.setattr(intern!(py, "_values"), &values)?;
        Ok(Some(values))
    }

    /// Replays the values the Python strategy recorded during the call into the Rust trace.
    fn replay(values: Option<Bound<'py, PyDict>>, slice: &DataSlice<'_>) -> PyResult<()> {
        if let Some(values) = values {
            for (name, value) in values.iter() {
                slice.record(&name.extract::<String>()?, value.extract()?);
            }
        }
        Ok(())
    }

    /// A strategy exception as the `StrategyError` the Python engine raises (bar, time, cause).
    fn strategy_failure(&self, index: usize, error: PyErr) -> PyErr {
        let py = self.driver.py();
        if !error.is_instance_of::<PyException>(py) {
            return error; // KeyboardInterrupt and friends pass through, as in the Python engine
        }
        match self
            .driver
            .call_method1("failure", (index, error.value(py)))
        {
            Ok(wrapped) => PyErr::from_value(wrapped),
            Err(e) => e,
        }
    }

    /// Keeps the Python exception for [`HybridStrategy::take_python_error`]; the engine
    /// stops the run with its message.
    fn fail(&mut self, error: PyErr) -> StrategyError {
        let message = StrategyError::new(error.to_string());
        if self.error.is_none() {
            self.error = Some(error);
        }
        message
    }

    fn call_evaluate(&mut self, slice: &DataSlice<'_>) -> PyResult<Option<TradeSignal>> {
        let values = self.move_slice(slice, slice.position())?;
        let out = self
            .evaluate
            .call1((&self.slice,))
            .map_err(|e| self.strategy_failure(slice.index(), e))?;
        Self::replay(values, slice)?;
        if out.is_none() {
            return Ok(None);
        }
        let checked = self.driver.call_method1("signal", (slice.index(), out))?;
        let (fields, order): (SignalTuple, OrderTuple) = checked.extract()?;
        let (direction, sl, tp, sld, tpd, size, risk, max_bars, tag, instrument) = fields;
        let (kind, price, expiry_bars, expires_at) = order;
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
        signal.instrument = instrument.map(InstrumentId);
        signal.entry = match (kind.as_str(), price) {
            ("limit", Some(p)) => EntryOrder::Limit(p),
            ("stop", Some(p)) => EntryOrder::Stop(p),
            _ => EntryOrder::Market,
        };
        signal.expiry_bars = expiry_bars;
        signal.expires_at = expires_at;
        Ok(Some(signal))
    }

    fn call_manage_order(
        &mut self,
        order: &WorkingOrder,
        slice: &DataSlice<'_>,
    ) -> PyResult<Vec<OrderAction>> {
        if !self.manages_orders {
            return Ok(Vec::new());
        }
        let values = self.move_slice(slice, None)?;
        let (kind, price) = match order.entry {
            EntryOrder::Limit(p) => ("limit", p),
            EntryOrder::Stop(p) => ("stop", p),
            _ => ("market", f64::NAN),
        };
        let view = (
            order.side.sign(),
            kind,
            price,
            order.placed_index,
            order.bars_left,
            order.expires_at,
            order.tag.as_str(),
        );
        let out = self
            .driver
            .call_method1("manage_order", (slice.index(), view))?;
        Self::replay(values, slice)?;
        let mut actions = Vec::new();
        for pair in out.try_iter()? {
            let (kind, value): (String, Option<f64>) = pair?.extract()?;
            actions.push(match (kind.as_str(), value) {
                ("cancel", _) => OrderAction::Cancel,
                ("modify", Some(p)) => OrderAction::ModifyPrice(p),
                _ => {
                    return Err(PyTypeError::new_err(format!(
                        "hybrid driver returned an unknown order action {kind:?}"
                    )))
                }
            });
        }
        Ok(actions)
    }

    fn call_manage(
        &mut self,
        position: &Position,
        slice: &DataSlice<'_>,
    ) -> PyResult<Vec<PositionAction>> {
        let Some(manage) = &self.manage else {
            return Ok(Vec::new());
        };
        let manage = manage.clone();
        let values = self.move_slice(slice, Some(position))?;
        let out = manage
            .call1((&self.view, &self.slice))
            .map_err(|e| self.strategy_failure(slice.index(), e))?;
        Self::replay(values, slice)?;
        if out.is_none() {
            return Ok(Vec::new());
        }
        // `(kind, value)` pairs in order; ATR distances already turned into prices
        let checked = self.driver.call_method1("actions", (slice.index(), out))?;
        let mut actions = Vec::new();
        for pair in checked.try_iter()? {
            let (kind, value): (String, Option<f64>) = pair?.extract()?;
            actions.push(match (kind.as_str(), value) {
                ("close", _) => PositionAction::Close,
                ("partial", Some(f)) => PositionAction::PartialClose(f),
                ("sl", level) => PositionAction::ModifyStopLoss(level),
                ("tp", level) => PositionAction::ModifyTakeProfit(level),
                ("break_even_pips", Some(x)) => PositionAction::MoveToBreakEven(Distance::Pips(x)),
                ("break_even_price", Some(x)) => {
                    PositionAction::MoveToBreakEven(Distance::Price(x))
                }
                ("trail_pips", Some(x)) => PositionAction::TrailStop(Distance::Pips(x)),
                ("trail_price", Some(x)) => PositionAction::TrailStop(Distance::Price(x)),
                _ => {
                    return Err(PyTypeError::new_err(format!(
                        "hybrid driver returned an unknown action {kind:?}"
                    )))
                }
            });
        }
        Ok(actions)
    }
}

impl Strategy for HybridStrategy<'_> {
    fn name(&self) -> &str {
        &self.name
    }

    /// The Python strategy's `init` ran in the driver and its indicators are read from the
    /// Python market: nothing is declared to the engine.
    fn init(&mut self, _ctx: &mut RunContext<'_>) -> Result<(), StrategyError> {
        Ok(())
    }

    fn evaluate(&mut self, slice: &DataSlice<'_>) -> Result<Option<TradeSignal>, StrategyError> {
        self.call_evaluate(slice).map_err(|e| self.fail(e))
    }

    fn manage_position(
        &mut self,
        position: &Position,
        slice: &DataSlice<'_>,
    ) -> Result<Vec<PositionAction>, StrategyError> {
        self.call_manage(position, slice).map_err(|e| self.fail(e))
    }

    fn manage_order(
        &mut self,
        order: &WorkingOrder,
        slice: &DataSlice<'_>,
    ) -> Result<Vec<OrderAction>, StrategyError> {
        self.call_manage_order(order, slice)
            .map_err(|e| self.fail(e))
    }
}
