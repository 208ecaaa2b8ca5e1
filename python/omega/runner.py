"""Run one backtest from a `BacktestConfig`: load data, pick the engine mode, build the result.

Mode selection follows the run-mode contract of docs (architecture.md, "Run modes"):
``engine: auto`` -> ``rust`` when the strategy has a Rust implementation and ``omega._core``
imports, ``hybrid`` for a Python-only strategy, ``python`` without the extension.
``OMEGA_USE_RUST_STRATEGY=1`` forces the Rust strategy (error if there is none), ``=0`` never
uses it. A failure on the Rust path (hybrid or rust) falls back to ``python`` with a logged
warning naming the cause; ``OMEGA_STRICT=1`` turns that into an error. The result records the
mode that ran and why.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from omega.config import BacktestConfig
from omega.data.bars import BarSeries, as_bar_series
from omega.engine.raw import RawRun
from omega.engine.settings import EngineSettings
from omega.errors import ConfigError, EngineError, OmegaError, PluginError, StrategyError
from omega.results import BacktestResult

if TYPE_CHECKING:
    import pandas as pd

    from omega.basket import BasketResult

log = logging.getLogger(__name__)

ProgressCallback = Callable[[int, int], None]
CORE_MISSING = "omega._core not available"


@dataclass(frozen=True)
class Backend:
    """What the Rust side offers in this process."""

    core_available: bool
    rust_strategies: frozenset[str] = frozenset()
    detail: str = ""  # why the core is missing (the ImportError text)


@dataclass(frozen=True)
class ModeChoice:
    mode: str  # "python" | "hybrid" | "rust"
    reason: str
    # Set when the requested Rust-side mode cannot even start (no extension): the runner then
    # treats it like a failure on the Rust path (fallback, or an error under OMEGA_STRICT=1).
    unavailable: str | None = None


def probe_backend() -> Backend:
    """Import ``omega._core`` and ask which strategies it implements in Rust."""
    try:
        import omega._core  # noqa: F401
    except ImportError as exc:
        return Backend(core_available=False, detail=str(exc))
    try:
        from omega.engine.rust import rust_strategy_names

        names = frozenset(rust_strategy_names())
    except Exception as exc:  # a stale or partial build: treat as absent, say why
        return Backend(core_available=False, detail=f"{type(exc).__name__}: {exc}")
    return Backend(core_available=True, rust_strategies=names)


def _flag(env: Mapping[str, str], name: str) -> bool | None:
    value = env.get(name, "").strip()
    if value == "":
        return None
    if value in ("0", "1"):
        return value == "1"
    raise ConfigError(f"environment {name}={value!r}: expected 0 or 1")


def select_mode(
    requested: str, strategy: str, backend: Backend, env: Mapping[str, str]
) -> ModeChoice:
    """The engine mode for ``requested`` (config ``engine``) and the reason, per the contract."""
    use_rust = _flag(env, "OMEGA_USE_RUST_STRATEGY")
    has_rust = strategy in backend.rust_strategies
    if use_rust is True:
        if requested in ("python", "hybrid"):
            raise ConfigError(
                f"engine: {requested} conflicts with OMEGA_USE_RUST_STRATEGY=1 (Rust strategy)"
            )
        if not backend.core_available:
            raise EngineError(f"OMEGA_USE_RUST_STRATEGY=1 but {CORE_MISSING} ({backend.detail})")
        if not has_rust:
            raise StrategyError(
                f"OMEGA_USE_RUST_STRATEGY=1 but strategy {strategy!r} has no Rust implementation"
            )
        return ModeChoice("rust", "OMEGA_USE_RUST_STRATEGY=1 forces the Rust strategy")
    if use_rust is False and requested == "rust":
        raise ConfigError("engine: rust conflicts with OMEGA_USE_RUST_STRATEGY=0")
    if requested == "python":
        return ModeChoice("python", "engine: python requested")
    missing = f"{CORE_MISSING} ({backend.detail})" if backend.detail else CORE_MISSING
    if requested == "auto":
        if not backend.core_available:
            return ModeChoice("python", missing)
        if use_rust is False:
            return ModeChoice("hybrid", "OMEGA_USE_RUST_STRATEGY=0: Python strategy, Rust engine")
        if has_rust:
            return ModeChoice("rust", f"strategy {strategy!r} has a Rust implementation")
        return ModeChoice("hybrid", f"strategy {strategy!r} is Python-only: Rust engine")
    if requested == "rust" and backend.core_available and not has_rust:
        raise StrategyError(
            f"engine: rust but strategy {strategy!r} has no Rust implementation "
            "(use engine: hybrid or auto)"
        )
    reason = f"engine: {requested} requested"
    if not backend.core_available:
        return ModeChoice(requested, reason, unavailable=missing)
    return ModeChoice(requested, reason)


def plugin_mode(requested: str, backend: Backend, env: Mapping[str, str]) -> ModeChoice:
    """A config naming ``strategy.plugin`` runs in ``rust`` mode through the plugin; there is
    no other implementation to choose or fall back to."""
    if _flag(env, "OMEGA_USE_RUST_STRATEGY") is False:
        raise ConfigError("strategy.plugin conflicts with OMEGA_USE_RUST_STRATEGY=0")
    if not backend.core_available:
        raise PluginError(f"strategy.plugin needs {CORE_MISSING} ({backend.detail})")
    return ModeChoice("rust", f"strategy.plugin (engine: {requested})")


# ------------------------------------------------------------------------------- data


def load_bars(config: BacktestConfig) -> BarSeries:
    """The base bars the config names (a file, or seeded synthetic bars), quality checked."""
    from omega.data.memory_guard import guard_load

    if config.instruments is not None:  # not the unused instrument: section of a basket
        raise ConfigError(
            "instruments: a basket runs with omega backtest, sweep, optimize, walk-forward and "
            "check-bias (omega.run_backtest, run_basket, run_basket_sweep, check_bias, "
            "omega.research with Basket(config)); this reads one instrument's bars: a "
            "basket's are omega.basket.load_basket_bars(config)"
        )

    guard_load(config)  # refuse what would not fit before reading it (memory_check: false)
    data = config.data
    instrument = config.instrument.to_instrument()
    if data.path is None:
        # Only the generator: the file loaders (pyarrow.csv, parquet) are not imported.
        from omega.data.synthetic import generate_synthetic

        synthetic = data.synthetic_or_default
        bars = generate_synthetic(
            n_bars=synthetic.n_bars,
            seed=synthetic.seed,
            symbol=instrument.symbol,
            instrument=instrument,
        )
        if data.strict_quality and bars.quality is not None:
            bars.quality.raise_if_any()
        return bars
    from omega.data.loading import load

    options: dict[str, Any] = {"tz": data.tz, "instrument": instrument}
    if data.spread_pips is not None:
        options["spread_pips"] = data.spread_pips
    if data.pattern is not None:
        options["pattern"] = data.pattern
    assert data.format is not None  # DataConfig requires a format with a path
    try:
        return load(data.path, data.format, strict_quality=data.strict_quality, **options)
    except ConfigError as exc:  # e.g. an unknown zone: name the config section it came from
        raise ConfigError(f"data: {exc}") from None


def _check_timeframes(bars: BarSeries, settings: EngineSettings) -> None:
    base = bars.timeframe.seconds
    for timeframe in settings.timeframes:
        if timeframe.seconds % base:
            raise ConfigError(
                f"timeframes: {timeframe} is not a multiple of the data's {bars.timeframe} bars"
            )


# ------------------------------------------------------------------------------- engines


def _run_mode(
    mode: str,
    bars: BarSeries,
    config: BacktestConfig,
    settings: EngineSettings,
    progress: ProgressCallback | None,
) -> RawRun:
    trace = config.trace
    if mode == "rust" and config.strategy.plugin is not None:
        from omega.engine.plugin import run_plugin

        return run_plugin(
            bars, config.strategy.plugin, dict(config.strategy.params), settings, trace=trace
        )
    if mode == "rust":
        from omega.engine.rust import run_rust

        return run_rust(
            bars, config.strategy.name, dict(config.strategy.params), settings, trace=trace
        )
    strategy = config.build_strategy()
    if mode == "hybrid":
        from omega.engine.hybrid import run_hybrid

        return run_hybrid(bars, strategy, settings, trace=trace)
    from omega.engine.loop import run_python

    return run_python(bars, strategy, settings, trace=trace, progress=progress)


def _strict(env: Mapping[str, str]) -> bool:
    return bool(_flag(env, "OMEGA_STRICT"))


def run_backtest(
    config: BacktestConfig,
    *,
    bars: BarSeries | pd.DataFrame | Mapping[str, BarSeries] | None = None,
    progress: ProgressCallback | None = None,
    env: Mapping[str, str] | None = None,
    backend: Backend | None = None,
) -> BacktestResult | BasketResult:
    """Run ``config`` (on ``bars`` when given, else on the data the config names).

    ``bars`` may be a BarSeries or a pandas DataFrame (``BarSeries.from_frame`` with the
    config's instrument).

    A basket, a config with ``instruments:``, runs as `omega.basket.run_basket` does and
    returns its `omega.basket.BasketResult` (``bars``, when given, is then a mapping of
    symbol to BarSeries); any other config returns a `BacktestResult`.

    ``progress(done, total)`` is called by the Python engine as primary bars are processed.
    ``env`` and ``backend`` default to ``os.environ`` and `probe_backend()` (tests pass them).
    """
    if config.instruments is not None:
        return _run_basket(config, bars, progress, env, backend)
    if isinstance(bars, Mapping) and bars and all(isinstance(v, BarSeries) for v in bars.values()):
        raise ConfigError("bars by symbol are for a basket (a config with instruments:)")
    env = os.environ if env is None else env
    settings = config.to_engine_settings()
    backend = backend or probe_backend()
    plugin = config.strategy.plugin
    if plugin is None:
        choice = select_mode(config.engine, config.strategy.name, backend, env)
    else:
        choice = plugin_mode(config.engine, backend, env)
    if bars is None:
        bars = load_bars(config)
    bars = as_bar_series(bars, config.instrument.to_instrument())  # a DataFrame is converted
    _check_timeframes(bars, settings)
    from omega.data.memory_guard import guard_run

    guard_run(config, bars, choice.mode)  # before resampling and running (memory_check)
    # Loading warnings (an MT5 file read as UTC, zero spread) travel with the result.
    mode, reason, warnings = choice.mode, choice.reason, list(bars.warnings)
    failure: str | None = choice.unavailable
    raw: RawRun | None = None
    if failure is None and mode != "python":
        try:
            raw = _run_mode(mode, bars, config, settings, progress)
        except (ConfigError, KeyboardInterrupt):
            raise  # the config is wrong for every mode; falling back would not help
        except Exception as exc:
            if plugin is not None:
                raise  # a plugin has no Python implementation to fall back to
            failure = f"{type(exc).__name__}: {exc}"
            if _strict(env):
                if isinstance(exc, OmegaError):
                    raise
                raise EngineError(f"{mode} mode failed (OMEGA_STRICT=1): {failure}") from exc
    elif failure is not None and _strict(env):
        raise EngineError(f"{mode} mode unavailable (OMEGA_STRICT=1): {failure}")
    if failure is not None:
        message = f"{mode} mode failed, falling back to python: {failure}"
        log.warning(message)
        warnings.append(message)
        mode, reason = "python", f"fallback from {mode}: {failure}"
    if raw is None:
        raw = _run_mode("python", bars, config, settings, progress)
    return BacktestResult.from_raw(
        raw,
        initial_balance=settings.initial_balance,
        timeframe_ns=settings.primary_timeframe.nanos,
        mode=mode,
        mode_reason=reason,
        config=config,
        quality=bars.quality,
        bars=bars,
        warnings=warnings,
    )


def _run_basket(
    config: BacktestConfig,
    bars: object,
    progress: ProgressCallback | None,
    env: Mapping[str, str] | None,
    backend: Backend | None,
) -> BasketResult:
    from omega.basket import run_basket

    if bars is not None and not isinstance(bars, Mapping):
        raise ConfigError(
            "a basket (instruments:) runs on bars by symbol: {symbol: BarSeries, ...}"
        )
    return run_basket(config, bars=bars, progress=progress, env=env, backend=backend)
