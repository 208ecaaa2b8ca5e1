"""Strategy plugins: `rust` mode with a strategy loaded at run time from a shared library.

A plugin is a cdylib built against the Rust crate ``omega-strategy-api`` that exports its
strategy with ``export_strategy!`` (docs/ffi/rust_strategy.md, "Writing a plugin"). The core
loads it, refuses it with `PluginError` unless its ABI version and boundary type sizes match,
and runs the whole backtest in one call, exactly like a built-in Rust strategy.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from omega.data.bars import BarSeries
from omega.engine.raw import RawRun
from omega.engine.rust import bar_columns, raw_run_from_core
from omega.engine.settings import EngineSettings
from omega.errors import PluginError


def _core() -> Any:
    try:
        from omega import _core
    except ImportError as exc:
        raise PluginError(f"strategy plugins need the compiled core omega._core: {exc}") from None
    return _core


def resolve_plugin_path(path: str | Path) -> Path:
    """The absolute path of an existing plugin file (relative paths: from the current
    directory), so the dynamic loader never searches its library path for it."""
    resolved = Path(path).expanduser().resolve()
    if not resolved.is_file():
        raise PluginError(f"plugin {path}: no such file")
    return resolved


def plugin_info(path: str | Path) -> tuple[str, str]:
    """``(strategy name, omega-strategy-api version)`` of a plugin, after loading and checking
    it (`PluginError` if it is refused)."""
    name, api_version = _core().plugin_info(str(resolve_plugin_path(path)))
    return str(name), str(api_version)


def plugin_kind(path: str | Path) -> str:
    """``"strategy"`` (``export_strategy!``: one instance per instrument) or ``"portfolio"``
    (``export_portfolio_strategy!``: one strategy over a basket), from the symbol the library
    exports (`PluginError` if it exports neither)."""
    return str(_core().plugin_kind(str(resolve_plugin_path(path))))


def run_plugin(
    bars: BarSeries,
    path: str | Path,
    params: Mapping[str, Any] | None,
    settings: EngineSettings,
    trace: bool = False,
) -> RawRun:
    """Backtest the strategy exported by the plugin at ``path`` with ``params`` on ``bars``.

    The plugin validates ``params`` itself (`StrategyError` when it rejects them); a plugin
    that cannot be loaded, is built for another ABI, or panics raises `PluginError`.
    """
    out = _core().run_backtest_plugin(
        str(resolve_plugin_path(path)),
        bar_columns(bars),
        bars.timeframe.name,
        settings,
        dict(params or {}),
        trace,
        bars.source,
    )
    return raw_run_from_core(out)
