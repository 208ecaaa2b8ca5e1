"""`rust` mode: the whole backtest in one call into the Rust core (`omega._core`).

The base bar columns are handed over without copying, the core releases the GIL for the run,
and the result comes back as numpy arrays, assembled here into the same `RawRun` the Python
engine returns.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from omega.data.bars import COLUMNS, BarSeries
from omega.engine.raw import TRADE_COLUMNS, RawRun, SkippedOrder
from omega.engine.settings import EngineSettings


def _core() -> Any:
    from omega import _core

    return _core


def rust_strategy_names() -> list[str]:
    """Names of the strategies implemented in Rust (built into ``omega._core``)."""
    return list(_core().rust_strategy_names())


def bar_columns(bars: BarSeries) -> tuple[np.ndarray, ...]:
    """The ten base columns in the order the core takes them (contiguous, no copy)."""
    return tuple(getattr(bars, name) for name in COLUMNS)


def raw_run_from_core(out: dict) -> RawRun:
    """The core's result dict as a `RawRun` (object columns become numpy object arrays)."""
    trades: dict[str, np.ndarray] = {}
    for name, dtype in TRADE_COLUMNS.items():
        values = out["trades"][name]
        if dtype == "object":
            column = np.empty(len(values), dtype=object)
            column[:] = values
        else:
            column = np.asarray(values, dtype=dtype)
        trades[name] = column
    return RawRun(
        trades=trades,
        equity_time=out["equity_time"],
        equity=out["equity"],
        final_balance=out["final_balance"],
        bars_processed=out["bars_processed"],
        base_bars=out["base_bars"],
        ignored_signals=out["ignored_signals"],
        dropped_orders=out["dropped_orders"],
        skipped_orders=[
            SkippedOrder(t, reason, detail) for t, reason, detail in out["skipped_orders"]
        ],
        trace=out["trace"],
        metrics=out.get("metrics"),
    )


def _normalised_params(strategy_name: str, params: Mapping[str, Any] | None) -> dict[str, Any]:
    """Validate with the Python twin's parameter model where one exists, so a config is
    accepted or rejected with the same message in every mode; the Rust registry validates
    the result again (its rules are the same)."""
    if not params:
        # Nothing to validate: the Rust registry fills in the same documented defaults, and
        # skipping the model skips importing pydantic and the Python strategies (~70 ms cold).
        return {}
    from omega.errors import StrategyError
    from omega.strategy import get_strategy

    try:
        cls = get_strategy(strategy_name)
    except StrategyError:
        return dict(params or {})  # a Rust-only strategy: the Rust registry decides
    return cls.validate_params(params).model_dump()


def rust_portfolio_params(name: str, params: Mapping[str, Any] | None) -> dict[str, Any]:
    """A portfolio strategy's params for its Rust twin: validated by the Python model,
    ``legs`` (a pair of symbols) as the text ``"A,B"`` (the Rust parameters hold no
    tuples)."""
    given = _normalised_params(name, params)
    legs = given.pop("legs", None)
    if legs is not None:
        given["legs"] = ",".join(legs)
    return given


def run_rust(
    bars: BarSeries,
    strategy_name: str,
    params: Mapping[str, Any] | None,
    settings: EngineSettings,
    *,
    trace: bool = False,
) -> RawRun:
    """Backtest the built-in Rust strategy ``strategy_name`` with ``params`` on ``bars``."""
    out = _core().run_backtest(
        bar_columns(bars),
        bars.timeframe.name,
        settings,
        strategy_name,
        _normalised_params(strategy_name, params),
        trace,
        bars.source,
    )
    if out["equity_time"] is bars.time:
        # Primary == base: the core hands back the input's time column instead of a copy;
        # the run gets a read-only view, so writing to it cannot change the bars.
        shared = bars.time.view()
        shared.flags.writeable = False
        out["equity_time"] = shared
    return raw_run_from_core(out)
