"""Type stubs of the compiled Rust core `omega._core` (kept true by `mypy.stubtest`)."""

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal, TypedDict, final

import numpy as np
import numpy.typing as npt

from omega.engine.settings import EngineSettings
from omega.timeframes import Timeframe

__all__ = [
    "BasketStreamSession",
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
    "plugin_kind",
    "release_buffers",
    "run_backtest",
    "run_backtest_plugin",
    "run_basket",
    "run_basket_hybrid",
    "run_basket_plugin",
    "run_basket_portfolio",
    "run_basket_portfolio_plugin",
    "run_hybrid",
    "run_sweep",
    "rust_strategy_names",
    "strategy_api_versions",
]

_F64 = npt.NDArray[np.float64]
_I64 = npt.NDArray[np.int64]
_Columns = tuple[_I64, _F64, _F64, _F64, _F64, _F64, _F64, _F64, _F64, _F64]

# The dicts the core returns. Private names: they exist only here (stubtest skips private
# names absent at runtime); import them under ``TYPE_CHECKING`` to annotate.

class _TradeColumns(TypedDict):
    """One entry per closed trade row (`omega.engine.raw.TRADE_COLUMNS`)."""

    entry_time: _I64
    exit_time: _I64
    entry_index: _I64
    exit_index: _I64
    side: npt.NDArray[np.int8]
    size: _F64
    entry_price: _F64
    exit_price: _F64
    sl: _F64
    tp: _F64
    exit_reason: list[str]
    gross_pnl: _F64
    fees: _F64
    swap: _F64
    pnl: _F64
    bars_held: _I64
    mfe: _F64
    tag: list[str]

class _Metrics(TypedDict):
    """`omega.results.metrics.compute_metrics`'s dict: same keys, same order."""

    initial_balance: float
    final_balance: float
    net_profit: float
    return_pct: float
    cagr: float
    span_days: float
    periods_per_year: float
    max_drawdown: float
    max_drawdown_pct: float
    max_drawdown_duration_bars: int
    max_drawdown_duration_seconds: float
    sharpe: float
    sortino: float
    n_trades: int
    n_long: int
    n_short: int
    n_wins: int
    n_losses: int
    win_rate: float
    gross_profit: float
    gross_loss: float
    profit_factor: float
    expectancy: float
    avg_win: float
    avg_loss: float
    largest_win: float
    largest_loss: float
    total_fees: float
    total_swap: float
    avg_bars_held: float
    exposure: float
    exit_reasons: dict[str, int]
    bars_processed: int
    base_bars: int
    ignored_signals: int
    dropped_orders: int
    skipped_orders: int

class _RunOutput(TypedDict):
    """A finished run (the fields of `omega.engine.raw.RawRun` but the metrics)."""

    trades: _TradeColumns
    equity_time: _I64
    equity: _F64
    final_balance: float
    bars_processed: int
    base_bars: int
    ignored_signals: int
    dropped_orders: int
    skipped_orders: list[tuple[int, str, str]]
    """``(time, reason, detail)`` per order that was not placed."""
    trace: list[dict[str, int | float | str]] | None
    """With ``trace=True``: per decision ``index``, ``time``, ``event`` and the values the
    strategy recorded (floats, by name); else None."""

class _RunResult(_RunOutput):
    """`_RunOutput` and its metrics (None where they fail; Python then recomputes them and
    raises its own error)."""

    metrics: _Metrics | None

class _StreamPosition(TypedDict):
    side: Literal["long", "short"]
    size: float
    entry_price: float
    entry_time: int
    stop_loss: float | None
    take_profit: float | None
    bars_held: int
    unrealized_pnl: float
    tag: str

class _StreamState(TypedDict):
    bars_stepped: int
    balance: float
    equity: float | None
    n_trades: int
    position: _StreamPosition | None
    pending_entry: Literal["long", "short"] | None
    pending_exit: bool

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
) -> _RunResult:
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
) -> _RunResult:
    """`run_backtest` for the strategy exported by the plugin library at ``path``.

    Raises `omega.errors.PluginError` when the library cannot be loaded, lacks the plugin
    symbol, was built for another ABI version or with other boundary type sizes, or panics;
    `StrategyError` when the strategy rejects ``params`` or reports an error.
    """

def plugin_info(path: str) -> tuple[str, str]:
    """``(strategy name, omega-strategy-api version)`` of a loaded and checked plugin."""

def plugin_kind(path: str) -> Literal["strategy", "portfolio"]:
    """Which kind of plugin the library at ``path`` is (from its exported symbol)."""

def run_hybrid(
    columns: _Columns,
    base_timeframe: str | Timeframe,
    settings: EngineSettings,
    driver: Any,
    trace: bool = False,
    source: str = "<memory>",
) -> _RunResult:
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
) -> _Metrics:
    """The metrics of one run computed in Rust, identical (==) to
    `omega.results.metrics.compute_metrics`: same keys in the same order, same values.

    The arguments are the `RawRun` fields (``trades`` needs ``pnl``, ``side``, ``fees``,
    ``bars_held`` and ``exit_reason``, and reads ``swap`` where present; ``skipped_orders`` is
    their count).
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
) -> list[_Metrics | BaseException]:
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
    def state(self) -> _StreamState:
        """The session after the last primary close."""
    def finish(self) -> _RunOutput:
        """Ends the stream; the dict of `run_backtest` without ``metrics``."""

class _BasketResult(TypedDict):
    """A basket run: each member's `_RunOutput` (its ``equity`` is the member's open P&L at
    each of its primary closes) and the account's timeline and equity."""

    members: list[_RunOutput]
    time: npt.NDArray[np.int64]
    equity: npt.NDArray[np.float64]
    final_balance: float

def run_basket(members: list[tuple[Any, ...]], trace: bool = False) -> _BasketResult:
    """Several instruments on one account with built-in Rust strategies: members are
    ``(columns, base_timeframe, settings, source, strategy_name, params)``; the GIL is
    released (docs/engine/portfolio.md)."""

def run_basket_hybrid(members: list[tuple[Any, ...]], trace: bool = False) -> _BasketResult:
    """`run_basket` calling Python strategies back: members are ``(columns,
    base_timeframe, settings, source, driver)``."""

def run_basket_plugin(
    path: str, members: list[tuple[Any, ...]], trace: bool = False
) -> _BasketResult:
    """`run_basket` with the plugin at ``path``: members are ``(columns, base_timeframe,
    settings, source, params)``, an instance of its strategy each."""

def run_basket_portfolio(
    members: list[tuple[Any, ...]],
    name: str,
    params: dict[str, Any] | None,
    trace: bool = False,
) -> _BasketResult:
    """`run_basket` with the built-in Rust portfolio strategy ``name``: members are
    ``(columns, base_timeframe, settings, source)``."""

def run_basket_portfolio_plugin(
    members: list[tuple[Any, ...]],
    path: str,
    params: dict[str, Any] | None,
    trace: bool = False,
) -> _BasketResult:
    """`run_basket` with the portfolio strategy exported by the plugin at ``path``
    (``export_portfolio_strategy!``): members are ``(columns, base_timeframe, settings,
    source)``."""

@final
class BasketStreamSession:
    """A basket fed bar by bar (`omega.stream.BasketStreamSession`)."""

    def __new__(
        cls,
        members: list[tuple[Any, ...]],
        trace: bool = False,
        plugin: str | None = None,
        portfolio: tuple[str, dict[str, Any] | None] | None = None,
    ) -> BasketStreamSession: ...
    def push(
        self,
        k: int,
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
        """Feeds member ``k``'s next base bar; returns how many basket times were decided."""
    def push_merged(self, columns: list[_Columns]) -> int:
        """Feeds every member's columns merged in time order (equal times in member order)."""
    def times_stepped(self) -> int:
        """Basket times decided so far."""
    def finish(self) -> _BasketResult:
        """Ends the stream; the dict of `run_basket`."""

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
