"""Evaluate parameter sets on a backend: the same rows as `omega.sweep.run_sweep`, anywhere.

    evaluate(bars, strategy, param_sets, settings, *, backend="auto", threads=None,
             progress=None) -> pandas.DataFrame

One row per set, in the given order, with the columns of `run_sweep` (the parameters, every
metric, ``error``); the backend never changes a value. ``strategy`` is a registered name, a
`Plugin` (a strategy plugin library, ``strategy.plugin`` of a config) or a `Basket` (a basket
config, an ``instruments:`` list: each set is one basket run, its row the account's metrics,
`omega.basket.run_basket_sweep`; ``bars`` are then the basket's bars by symbol and
``settings`` None, the config's own).

- ``"auto"`` (default): ``"process"`` for a Python-only strategy (all cores; so for a
  basket whose strategy runs in Python, a portfolio strategy's say), ``"local"`` for a
  strategy with a Rust implementation and for a plugin (both already use every core in this
  process), and for a single set or a single thread.
- ``"local"``: this process. A strategy with a Rust implementation is one `run_sweep` call
  (sets in parallel, shared resampling and indicator series); a Python strategy runs set
  after set; a plugin runs one backtest per set on a thread pool (the core releases the GIL
  while a plugin runs, so ``threads`` sets run at once); a basket is one `run_basket_sweep`
  call (``threads`` basket runs at once; a rust-mode basket releases the GIL).
- ``"process"``: a pool of ``threads`` worker processes (default: every core), for Python
  strategies (and plugins) on all cores. The bars go to each worker once (at its start); the
  sets are cut into contiguous chunks, so neighbouring sets still share one sweep call.
- ``"ray"``: chunks as Ray tasks on the connected cluster (``ray.init()`` first, or a local
  instance is started); the bars are put in Ray's object store once and read by every task
  of a node from there. Ray is optional (``pip install omega[ray]``).

Errors of the data or the settings raise (as in `run_sweep`); a set that fails gets its
message in ``error``. Ctrl-C stops after the work under way and raises KeyboardInterrupt.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from omega.errors import ConfigError, OmegaError

if TYPE_CHECKING:
    import pandas as pd

    from omega.config import BacktestConfig
    from omega.data.bars import BarSeries
    from omega.engine.settings import EngineSettings

log = logging.getLogger("omega.sweep")  # the logger run_sweep's warnings come from
Progress = Callable[[int, int], None]
BACKENDS = ("auto", "local", "process", "ray")
USER_MODULE_PREFIX = "omega_user_strategy_"  # omega.config.model.import_strategy_module


@dataclass(frozen=True)
class Plugin:
    """A strategy plugin library (``strategy.plugin``) as the strategy of a search."""

    path: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "path", str(Path(self.path).expanduser().resolve()))

    @property
    def name(self) -> str:
        return f"plugin:{self.path}"


@dataclass(frozen=True)
class Basket:
    """A basket config (an ``instruments:`` list) as the strategy of a search: a set is the
    config with ``strategy.params`` updated by the set (the instruments' own ``params``
    still apply on top), run as one basket on one account; its row holds the account's
    metrics (`omega.basket.run_basket_sweep`)."""

    config: BacktestConfig

    def __post_init__(self) -> None:
        if self.config.instruments is None:
            raise ConfigError("Basket needs a config with an instruments: list")

    @property
    def name(self) -> str:
        plugin = self.config.strategy.plugin
        return f"basket:{self.config.strategy.name if plugin is None else f'plugin:{plugin}'}"

    @property
    def symbols(self) -> list[str]:
        assert self.config.instruments is not None
        return [entry.to_instrument().symbol for entry in self.config.instruments]

    def with_params(self, params: Mapping[str, Any]) -> BacktestConfig:
        """The basket's config with ``strategy.params`` updated by ``params`` (what
        `run_basket_sweep` runs for the set)."""
        from omega.config import BacktestConfig

        data = self.config.user_dict()
        strategy = dict(data.get("strategy", {}))
        strategy["params"] = {**self.config.strategy.params, **params}
        data["strategy"] = strategy
        return BacktestConfig.from_dict(data)

    def fixed_by_instruments(self, names: Iterable[str]) -> list[str]:
        """One line per instrument whose own ``params`` set one of ``names``: a search of
        those leaves them as they are on that instrument."""
        assert self.config.instruments is not None
        lines = []
        for k, entry in enumerate(self.config.instruments):
            fixed = [name for name in names if name in entry.params]
            if fixed:
                lines.append(
                    f"instruments[{k}] ({entry.symbol}) sets its own {', '.join(fixed)}: "
                    "the search leaves them as they are there"
                )
        return lines

    def uses_rust(self) -> bool:
        """Whether its runs go through the core's rust mode (a run releases the GIL)."""
        from omega.runner import probe_backend, select_mode

        if self.config.strategy.plugin is not None:
            return True
        try:
            choice = select_mode(
                self.config.engine, self.config.strategy.name, probe_backend(), os.environ
            )
        except OmegaError:  # the run itself says why
            return False
        return choice.mode == "rust" and choice.unavailable is None


Strategy = str | Plugin | Basket


def strategy_label(strategy: Strategy) -> str:
    """The name a study stores for ``strategy``."""
    return strategy if isinstance(strategy, str) else strategy.name


def evaluate(
    bars: BarSeries,
    strategy: Strategy,
    param_sets: Iterable[Mapping[str, Any]],
    settings: EngineSettings | None = None,
    *,
    backend: str = "auto",
    threads: int | None = None,
    progress: Progress | None = None,
) -> pd.DataFrame:
    """Backtest ``strategy`` once per set on ``backend``; one row per set, `run_sweep`'s rows.

    ``threads``: threads (local) or worker processes / Ray tasks at once (process, ray);
    default every core (process, local) or every CPU of the cluster (ray).
    ``progress(done, total)`` is called as sets finish.
    """
    from omega.engine.settings import EngineSettings

    if backend not in BACKENDS:
        raise ConfigError(f"backend {backend!r}: expected one of {', '.join(BACKENDS)}")
    if threads is not None and threads < 1:
        raise ConfigError(f"threads must be >= 1, got {threads}")
    sets = [dict(p) for p in param_sets]
    if isinstance(strategy, Basket):
        if settings is not None:
            raise ConfigError("a basket's settings are its config's: give settings=None")
    elif settings is None:
        settings = EngineSettings(instrument=bars.instrument)
    if not sets:
        return _empty(sets)
    backend = resolve_backend(backend, strategy, len(sets), threads)
    if backend == "local":
        outcome = _local(bars, strategy, sets, settings, threads, progress)
    elif backend == "process":
        outcome = _process(bars, strategy, sets, settings, threads, progress)
    else:
        outcome = _ray(bars, strategy, sets, settings, threads, progress)
    return outcome


def resolve_backend(backend: str, strategy: Strategy, n_sets: int, threads: int | None) -> str:
    """The backend ``"auto"`` stands for (see the module docs); others as given."""
    if backend != "auto":
        return backend
    if n_sets < 2 or _cores(threads) < 2 or _strategy_class(strategy) is None:
        return "local"
    return "process"


def _empty(sets: list[dict[str, Any]]) -> pd.DataFrame:
    import pandas as pd

    return pd.DataFrame(sets)  # run_sweep's table of no sets


def _cores(threads: int | None) -> int:
    return threads or os.cpu_count() or 1


# ------------------------------------------------------------------------------- local


def _local(
    bars: Any,
    strategy: Strategy,
    sets: list[dict[str, Any]],
    settings: Any,
    threads: int | None,
    progress: Progress | None,
) -> pd.DataFrame:
    if isinstance(strategy, Basket):
        from omega.basket import run_basket_sweep

        return run_basket_sweep(
            strategy.config, sets, bars=bars, threads=threads, progress=progress
        )
    if isinstance(strategy, Plugin):
        return _plugin_sweep(bars, strategy, sets, settings, _cores(threads), progress)
    from omega.sweep import run_sweep

    counted = progress
    if progress is not None:
        # run_sweep counts the sets it runs; sets refused before running count as done.
        def counted(done: int, total: int) -> None:
            progress(done + len(sets) - total, len(sets))

    return run_sweep(bars, strategy, sets, settings, threads=threads, progress=counted)


def _plugin_sweep(
    bars: BarSeries,
    plugin: Plugin,
    sets: list[dict[str, Any]],
    settings: EngineSettings,
    threads: int,
    progress: Progress | None,
) -> pd.DataFrame:
    """One plugin backtest per set on ``threads`` threads; rows as `run_sweep`'s."""
    from omega.engine.plugin import plugin_info, run_plugin
    from omega.errors import StrategyError
    from omega.results.metrics import compute_metrics
    from omega.sweep import _table

    plugin_info(plugin.path)  # a library that cannot load fails every set: raise once

    def one(params: dict[str, Any]) -> dict[str, Any] | BaseException:
        try:
            raw = run_plugin(bars, plugin.path, params, settings)
        except StrategyError as error:  # the plugin rejected these parameters
            return error
        return compute_metrics(raw, settings.initial_balance, settings.primary_timeframe.nanos)

    outcomes: list[dict[str, Any] | BaseException] = []
    with ThreadPoolExecutor(max_workers=threads) as pool:
        for outcome in pool.map(one, sets):
            outcomes.append(outcome)
            if progress is not None:
                progress(len(outcomes), len(sets))
    failed = sum(isinstance(o, BaseException) for o in outcomes)
    if failed:
        log.warning("%d of %d parameter sets failed; see the error column", failed, len(sets))
    return _table(sets, outcomes)


def _chunks(sets: list[dict[str, Any]], n: int) -> list[list[dict[str, Any]]]:
    """``sets`` cut into at most ``n`` contiguous chunks of near-equal size, in order."""
    n = max(1, min(n, len(sets)))
    size, extra = divmod(len(sets), n)
    out, start = [], 0
    for i in range(n):
        stop = start + size + (1 if i < extra else 0)
        out.append(sets[start:stop])
        start = stop
    return out


def _merge(sets: list[dict[str, Any]], chunks: list[list[dict[str, Any]]]) -> pd.DataFrame:
    """The table `run_sweep` builds for ``sets``, from the records of its chunks' tables.

    Built again from the rows (not concatenated) so that column order and dtypes are those
    of one table over all sets: a failed set carries its parameters and ``error`` only.
    """
    import pandas as pd

    names = {name for params in sets for name in params}
    rows = []
    for params, record in zip(sets, (r for chunk in chunks for r in chunk), strict=True):
        error = record.get("error")
        row: dict[str, Any] = dict(params)
        if isinstance(error, str):
            row["error"] = error
        else:
            row.update((k, v) for k, v in record.items() if k not in names and k != "error")
            row["error"] = None
        rows.append(row)
    return pd.DataFrame(rows)


# ------------------------------------------------------------------------------- process

# The bars and settings of this worker process, set once by the pool's initializer.
_WORKER: dict[str, Any] = {}


def _worker_init(bars: BarSeries, settings: EngineSettings, strategy_class: Any) -> None:
    _WORKER.update(bars=bars, settings=settings)
    _ensure_registered(strategy_class)
    _quiet_chunks()


def _quiet_chunks() -> None:
    """A chunk's "k of n sets failed" is not logged in a worker: the caller logs the total."""
    logging.getLogger("omega.sweep").setLevel(logging.ERROR)


def _ensure_registered(strategy_class: Any) -> None:
    """A Python strategy defined in the caller's script exists in a fresh worker only when it
    travels with the task (pickled by value); register it there under its name."""
    if strategy_class is None:
        return
    from omega.strategy.registry import _REGISTRY, register_strategy

    if _REGISTRY.get(strategy_class.name) is None:
        register_strategy(strategy_class)


def _worker_chunk(strategy: Strategy, sets: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return _records(_WORKER["bars"], strategy, sets, _WORKER["settings"])


def _records(
    bars: BarSeries, strategy: Strategy, sets: list[dict[str, Any]], settings: EngineSettings
) -> list[dict[str, Any]]:
    """One chunk on one thread, as row records; failures are counted by the caller."""
    table = _local(bars, strategy, sets, settings, 1, None)
    return table.to_dict("records")


def _strategy_class(strategy: Strategy) -> Any:
    """The Python class of a strategy that has no Rust implementation (shipped to workers)."""
    if isinstance(strategy, Basket):
        if strategy.uses_rust():
            return None
        from omega.strategy import get_strategy

        return get_strategy(strategy.config.strategy.name)
    if isinstance(strategy, Plugin):
        return None
    from omega.runner import probe_backend

    if strategy in probe_backend().rust_strategies:
        return None
    from omega.strategy import get_strategy

    return get_strategy(strategy)


def _process(
    bars: BarSeries,
    strategy: Strategy,
    sets: list[dict[str, Any]],
    settings: EngineSettings,
    threads: int | None,
    progress: Progress | None,
) -> pd.DataFrame:
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    workers = min(_cores(threads), len(sets))
    # Several chunks per worker keep the cores busy when sets differ in cost.
    chunks = _chunks(sets, workers * 4)
    # fork: the workers inherit the caller's registered strategies and imports; elsewhere
    # spawn, and the strategy class travels pickled.
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    tables: list[list[dict[str, Any]]] = [[] for _ in chunks]
    done = 0
    with ProcessPoolExecutor(
        max_workers=workers,
        mp_context=context,
        initializer=_worker_init,
        initargs=(bars, settings, _strategy_class(strategy)),
    ) as pool:
        futures = {pool.submit(_worker_chunk, strategy, chunk): i for i, chunk in enumerate(chunks)}
        try:
            from concurrent.futures import as_completed

            for future in as_completed(futures):
                i = futures[future]
                tables[i] = future.result()
                done += len(chunks[i])
                if progress is not None:
                    progress(done, len(sets))
        except BaseException:
            for future in futures:
                future.cancel()
            raise
    return _finish(sets, tables)


# ------------------------------------------------------------------------------- ray


def _ray_module() -> Any:
    try:
        import ray
    except ImportError:
        raise ConfigError(
            "backend 'ray' needs Ray: pip install 'omega[ray]' (or pip install ray)"
        ) from None
    return ray


# The bars last put in the object store, reused by the next call on the same bars and the
# same Ray session (a search evaluates batch after batch on one series).
_RAY_SHARED: dict[str, Any] = {}


def _shared_bars(ray: Any, bars: BarSeries) -> Any:
    context = ray.get_runtime_context()
    session = (context.get_node_id(), context.get_job_id())
    if _RAY_SHARED.get("bars") is bars and _RAY_SHARED.get("session") == session:
        return _RAY_SHARED["ref"]
    _RAY_SHARED.clear()  # drop the old series (and its object) first
    ref = ray.put(bars)
    _RAY_SHARED.update(bars=bars, session=session, ref=ref)
    return ref


def _by_value(cls: Any) -> None:
    """A strategy from a ``strategy.module`` file (imported under a private module name the
    Ray workers cannot import) is pickled with its module's code."""
    if cls is None or not cls.__module__.startswith(USER_MODULE_PREFIX):
        return
    import sys

    from ray import cloudpickle

    cloudpickle.register_pickle_by_value(sys.modules[cls.__module__])


def _ray_chunk(
    bars: BarSeries,
    settings: EngineSettings,
    strategy: Strategy,
    strategy_class: Any,
    sets: list[dict[str, Any]],
) -> list[dict[str, Any]]:
    _ensure_registered(strategy_class)
    _quiet_chunks()
    return _records(bars, strategy, sets, settings)


def _ray(
    bars: BarSeries,
    strategy: Strategy,
    sets: list[dict[str, Any]],
    settings: EngineSettings,
    threads: int | None,
    progress: Progress | None,
) -> pd.DataFrame:
    ray = _ray_module()
    if not ray.is_initialized():
        ray.init()
    cpus = threads or int(ray.cluster_resources().get("CPU", 1)) or 1
    chunks = _chunks(sets, cpus)
    remote = ray.remote(num_cpus=1)(_ray_chunk)
    # One copy of the bars and settings in the object store; each node reads it once.
    bars_ref = _shared_bars(ray, bars)
    settings_ref = ray.put(settings)
    cls = _strategy_class(strategy)
    _by_value(cls)
    refs = [remote.remote(bars_ref, settings_ref, strategy, cls, chunk) for chunk in chunks]
    index = {ref: i for i, ref in enumerate(refs)}
    tables: list[list[dict[str, Any]]] = [[] for _ in chunks]
    pending, done = list(refs), 0
    try:
        while pending:
            ready, pending = ray.wait(pending, num_returns=1)
            for ref in ready:
                i = index[ref]
                tables[i] = _ray_result(ray, ref)
                done += len(chunks[i])
                if progress is not None:
                    progress(done, len(sets))
    except BaseException:
        for ref in pending:
            ray.cancel(ref)
        raise
    return _finish(sets, tables)


def _finish(sets: list[dict[str, Any]], chunks: list[list[dict[str, Any]]]) -> pd.DataFrame:
    table = _merge(sets, chunks)
    failed = int(table["error"].notna().sum())
    if failed:
        log.warning("%d of %d parameter sets failed; see the error column", failed, len(sets))
    return table


def _ray_result(ray: Any, ref: Any) -> list[dict[str, Any]]:
    """The table of a finished task; an Omega error raised in it is raised here as itself."""
    try:
        return ray.get(ref)
    except ray.exceptions.RayTaskError as error:
        cause = error.as_instanceof_cause()
        original = getattr(error, "cause", None)
        if isinstance(original, OmegaError):
            raise original from None
        raise cause from None
