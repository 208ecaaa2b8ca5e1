"""Type stubs of the compiled Rust core `omega._core` (kept true by `mypy.stubtest`)."""

from collections.abc import Callable, Mapping, Sequence
from typing import Any, final

import numpy as np
import numpy.typing as npt

from omega.engine.settings import EngineSettings
from omega.timeframes import Timeframe

__all__ = [
    "StreamSession",
    "_panic_at_boundary",
    "compute_metrics",
    "core_version",
    "csv_table",
    "data_first_fault",
    "data_quality_counts",
    "indicator_batch",
    "kept_buffer_bytes",
    "plugin_info",
    "release_buffers",
    "run_backtest",
    "run_backtest_plugin",
    "run_hybrid",
    "run_sweep",
    "rust_strategy_names",
    "strategy_api_versions",
]

_F64 = npt.NDArray[np.float64]
_I64 = npt.NDArray[np.int64]
_Columns = tuple[_I64, _F64, _F64, _F64, _F64, _F64, _F64, _F64, _F64, _F64]

def core_version() -> str:
    """Version of the compiled core."""

def indicator_batch(
    kind: str,
    params: Mapping[str, Any],
    values: _F64 | None = None,
    *,
    high: _F64 | None = None,
    low: _F64 | None = None,
    close: _F64 | None = None,
) -> _F64:
    """The full series of one indicator (NaN during warm-up), computed in Rust."""

def run_backtest(
    columns: _Columns,
    base_timeframe: str | Timeframe,
    settings: EngineSettings,
    strategy_name: str,
    params: Mapping[str, Any] | None = None,
    trace: bool = False,
    source: str = "<memory>",
) -> dict[str, Any]:
    """A whole backtest of a built-in Rust strategy (rust mode); the GIL is released.

    ``columns`` are the base bars (time, bid OHLC, ask OHLC, volume), borrowed without
    copying. The result holds the fields of `omega.engine.raw.RawRun` (see
    `omega.engine.rust.raw_run_from_core`), ``metrics`` among them: the run's metrics,
    computed by the core (None where they fail; Python then computes them and raises).
    """

def run_backtest_plugin(
    path: str,
    columns: _Columns,
    base_timeframe: str | Timeframe,
    settings: EngineSettings,
    params: Mapping[str, Any] | None = None,
    trace: bool = False,
    source: str = "<memory>",
) -> dict[str, Any]:
    """`run_backtest` for the strategy exported by the plugin library at ``path``.

    Raises `omega.errors.PluginError` when the library cannot be loaded, lacks the plugin
    symbol, was built for another ABI version or with other boundary type sizes, or panics;
    `StrategyError` when the strategy rejects ``params`` or reports an error.
    """

def plugin_info(path: str) -> tuple[str, str]:
    """``(strategy name, omega-strategy-api version)`` of a loaded and checked plugin."""

def run_hybrid(
    columns: _Columns,
    base_timeframe: str | Timeframe,
    settings: EngineSettings,
    driver: Any,
    trace: bool = False,
    source: str = "<memory>",
) -> dict[str, Any]:
    """The Rust engine calling a Python strategy back through ``driver`` (hybrid mode)."""

def compute_metrics(
    trades: Mapping[str, npt.ArrayLike],
    equity_time: npt.ArrayLike,
    equity: npt.ArrayLike,
    final_balance: float,
    bars_processed: int,
    base_bars: int,
    ignored_signals: int,
    dropped_orders: int,
    skipped_orders: int,
    initial_balance: float,
    timeframe_ns: int,
) -> dict[str, Any]:
    """The metrics of one run computed in Rust, identical (==) to
    `omega.results.metrics.compute_metrics`: same keys in the same order, same values.

    The arguments are the `RawRun` fields (``trades`` needs ``pnl``, ``side``, ``fees``,
    ``bars_held`` and ``exit_reason``; ``skipped_orders`` is their count).
    """

def rust_strategy_names() -> list[str]:
    """Names of the built-in Rust strategies."""

def strategy_api_versions() -> tuple[str, int]:
    """``(API_VERSION, ABI_VERSION)`` of the omega-strategy-api the core was built with."""

def run_sweep(
    columns: _Columns,
    base_timeframe: str | Timeframe,
    settings: EngineSettings,
    strategy_name: str,
    param_sets: list[dict[str, Any]],
    threads: int,
    progress: Callable[[int, int], object] | None = None,
    source: str = "<memory>",
) -> list[dict[str, Any] | BaseException]:
    """Each parameter set's metrics dict, or the exception its run failed with."""

@final
class StreamSession:
    """A built-in Rust strategy fed bars one at a time (`omega.stream.StreamSession`)."""

    def __new__(
        cls,
        base_timeframe: str | Timeframe,
        settings: EngineSettings,
        strategy_name: str,
        params: Mapping[str, Any] | None = None,
        trace: bool = False,
        source: str = "<stream>",
        plugin: str | None = None,
    ) -> StreamSession: ...
    def push(
        self,
        time: int,
        bid_open: float,
        bid_high: float,
        bid_low: float,
        bid_close: float,
        ask_open: float,
        ask_high: float,
        ask_low: float,
        ask_close: float,
        volume: float,
    ) -> int:
        """Feeds one base bar; returns how many primary bars were decided."""
    def push_columns(self, columns: _Columns) -> int:
        """Feeds every row of the ten base columns in order."""
    def state(self) -> dict[str, Any]:
        """The session after the last primary close."""
    def finish(self) -> dict[str, Any]:
        """Ends the stream; the dict of `run_backtest`."""

def kept_buffer_bytes() -> int:
    """Bytes of column buffers the core keeps from earlier runs for the next one."""

def release_buffers() -> None:
    """Frees the column buffers kept from earlier runs."""

def _panic_at_boundary(message: str, detached: bool) -> None:
    """Test hook: panics behind the same guards as ``run_backtest``."""

def data_first_fault(
    time: npt.NDArray[np.int64],
    prices: list[npt.NDArray[np.float64]],
    volume: npt.NDArray[np.float64],
) -> tuple[str, int, str] | None:
    """First hard data fault as ``(rule, bar index, column)``, or None; ``prices`` in
    ``PRICE_COLUMNS`` order; rule is "non_finite", "non_positive", "ohlc", "duplicate" or
    "non_monotonic". Same answer as ``omega.data.validation.first_fault_numpy``."""

def data_quality_counts(
    time: npt.NDArray[np.int64],
    prices: list[npt.NDArray[np.float64]],
    volume: npt.NDArray[np.float64],
    timeframe_ns: int,
    pip_size: float,
) -> dict[str, Any]:
    """Soft anomaly counts of validated bars for ``omega.data.quality.measure_quality``:
    ``(count, first five indices)`` per located kind, plain counts otherwise, and
    ``spread_close_pips`` as ``(min, median, max)`` or None when a spread is not finite."""

def csv_table(names: Sequence[str], columns: Sequence[Any], kinds: Sequence[str]) -> bytes:
    """A result table as CSV bytes (`omega.results.tables`): kinds ``time`` (int64 UTC ns),
    ``int``, ``float``, ``text``."""
