"""Memory guard: refuse a run that would not fit in memory, before loading or resampling.

A backtest on more bars than the machine can hold would otherwise be killed by the kernel
(no message, no output) after minutes of parsing. The guard estimates what the run needs,
reads what is available, and raises `InsufficientMemoryError` naming both figures and the
override (``memory_check: false`` in a config, ``--no-memory-check`` on the command line)
when the estimate exceeds it.

Where the figures come from (measured on main, Linux x86-64, Python 3.11, peak RSS of a
fresh process minus its RSS before the step, with `omega.bench.memory` as the bench does:
`python -m omega.bench.worker` per workload and mode for the run, the same reading around one
``omega.data.load`` call for the loaders, around one ``run_sweep`` call for sweeps):

* Loading (``omega.data.load`` on synthetic files of 500,000 bars): the parse peak per bar
  is 221 B (MT5), 285 B (HistData), 246 B (CSV), 232 B (LEAN), 155 B (Parquet), and most of
  it stays resident afterwards (Arrow keeps its pool). The bar count of a text file is not
  known before parsing, so it is taken as the file size over the shortest line a format
  plausibly has (smaller than the 50-77 B of real files: more bars, a safe side estimate);
  Parquet files give their row count in the footer.
* The run, per M1 base bar on top of the loaded series (`omega.bench.worker`, 0.2-2 M bars):
  rust 24 B (M5 primary) to 53 B (M1 primary, 33k trades); hybrid 65 B (M5) to 189 B (M1
  primary with M5 and H1); python 60 B (M5) to 224 B (M1 with M5 and H1). The model below
  is ``per_base_bar + per_primary_bar * primary/base`` per mode, rounded up so that every
  measured case is covered, plus 80 B per bar of each coarser timeframe's frame.
* A sweep (the Rust sweep, bench's SMA grid, 1 M bars, 2 threads): 113 B per bar for 28
  sets of 8 windows, 212 B for 210 sets of 21 windows: each indicator series is computed
  once and kept (8 B per primary bar), so the model is one run per thread plus one series
  per distinct parameter value.

The figures are estimates with a margin, not promises: the guard exists to turn "killed by
the kernel" into a message, so it errs on the side of letting a run start (an estimate far
above the truth would refuse runs that fit).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from omega.errors import InsufficientMemoryError

if TYPE_CHECKING:
    from omega.config import BacktestConfig
    from omega.data.bars import BarSeries
    from omega.engine.settings import EngineSettings

BAR_BYTES = 80  # a BarSeries: time + 8 price columns + volume, 8 bytes each
# Parse peak per bar of each format (measured peaks above, rounded up by ~10%).
LOAD_BYTES_PER_BAR = {"mt5": 245, "histdata": 315, "csv": 270, "lean": 255, "parquet": 170}
# Shortest plausible line of each text format: the bar count of a file is its size over this.
MIN_LINE_BYTES = {"mt5": 45, "histdata": 40, "csv": 40, "lean": 60}
# Engine working set: bytes per base bar + bytes per primary bar, per mode.
RUN_BYTES = {"rust": (16, 48), "hybrid": (48, 160), "python": (48, 200)}
# A sweep: each thread holds one run's working set at a time; per set, one table row.
SWEEP_ROW_BYTES = 4_096

OVERRIDE = "memory_check: false in the config, or --no-memory-check on the command line"


def format_bytes(n: int) -> str:
    for unit, size in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{n} B"


@dataclass(frozen=True)
class Available:
    bytes: int
    source: str  # where the figure comes from, for the message


@dataclass
class Estimate:
    """Bytes a step needs, by part (for the message and for tests)."""

    what: str
    parts: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.parts.values())


# ------------------------------------------------------------------------- available memory

_UNLIMITED = 1 << 60  # cgroup v1 writes "no limit" as a page-aligned LONG_MAX


def available_memory() -> Available | None:
    """What a new allocation can get: the system's available memory, or the cgroup's
    headroom when a cgroup limit is lower. None where neither can be read (not Linux and
    no psutil): the guard then lets the run start."""
    found: list[Available] = []
    try:
        import psutil
    except ImportError:
        meminfo = _meminfo_available()
        if meminfo is not None:
            found.append(Available(meminfo, "MemAvailable in /proc/meminfo"))
    else:
        found.append(Available(psutil.virtual_memory().available, "psutil available memory"))
    cgroup = cgroup_headroom()
    if cgroup is not None:
        found.append(cgroup)
    return min(found, key=lambda a: a.bytes) if found else None


def _meminfo_available(path: str = "/proc/meminfo") -> int | None:
    try:
        with open(path) as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def _read_int(path: Path) -> int | None:
    try:
        text = path.read_text().strip()
    except OSError:
        return None
    if text == "max":
        return None
    try:
        value = int(text)
    except ValueError:
        return None
    return None if value >= _UNLIMITED else value


def _inactive_file(stat: Path, key: str) -> int:
    """Page cache the kernel reclaims before an OOM kill (counted in the cgroup's usage)."""
    try:
        for line in stat.read_text().splitlines():
            name, _, value = line.partition(" ")
            if name == key:
                return int(value)
    except (OSError, ValueError):
        pass
    return 0


def cgroup_headroom(root: Path = Path("/sys/fs/cgroup"), proc: Path = Path("/proc/self/cgroup")):
    """limit - (usage - reclaimable cache) of this process's memory cgroup (v2 or v1), or
    None without a limit."""
    try:
        lines = proc.read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        _, controllers, rel = line.split(":", 2)
        rel = rel.lstrip("/")
        if controllers == "":  # v2: one unified hierarchy
            candidates = [root / rel, root]
            files = ("memory.max", "memory.current", "memory.stat", "inactive_file")
        elif "memory" in controllers.split(","):
            candidates = [root / "memory" / rel, root / "memory"]
            files = (
                "memory.limit_in_bytes",
                "memory.usage_in_bytes",
                "memory.stat",
                "total_inactive_file",
            )
        else:
            continue
        for folder in candidates:  # inside a container the own cgroup is mounted as the root
            limit = _read_int(folder / files[0])
            usage = _read_int(folder / files[1])
            if limit is None or usage is None:
                continue
            used = max(0, usage - _inactive_file(folder / files[2], files[3]))
            return Available(
                max(0, limit - used), f"cgroup memory limit {format_bytes(limit)} at {folder}"
            )
    return None


# ------------------------------------------------------------------------------- estimates


def _ratio(base_seconds: int, seconds: int) -> float:
    return base_seconds / seconds if seconds else 1.0


def run_parts(
    n_bars: int,
    base_seconds: int,
    primary_seconds: int,
    timeframe_seconds: list[int],
    mode: str,
) -> dict[str, int]:
    """The run's working set on top of loaded bars: resampled frames and the engine's."""
    per_base, per_primary = RUN_BYTES.get(mode, RUN_BYTES["python"])
    frames = sum(
        int(n_bars * _ratio(base_seconds, s)) * BAR_BYTES
        for s in set(timeframe_seconds)
        if s != base_seconds
    )
    engine = n_bars * per_base + int(n_bars * _ratio(base_seconds, primary_seconds)) * per_primary
    return {"resampled frames": frames, f"{mode} engine (indicators, equity, trades)": engine}


def estimate_bars_in_files(files: list[str], fmt: str) -> int:
    """Bars in a set of files before reading them (rows in a Parquet footer; else file size
    over the format's shortest plausible line)."""
    if fmt == "parquet":
        import pyarrow.parquet as pq

        total = 0
        for name in files:
            try:
                total += pq.read_metadata(name).num_rows
            except Exception:  # a broken footer is the loader's to report, with its name
                total += os.path.getsize(name) // 8
        return total
    line = MIN_LINE_BYTES.get(fmt, MIN_LINE_BYTES["csv"])
    return sum(os.path.getsize(name) for name in files) // line


def check(estimate: Estimate, available: Available | None = None) -> None:
    """Raise `InsufficientMemoryError` when ``estimate`` exceeds the available memory."""
    available = available if available is not None else available_memory()
    if available is None:
        return
    if estimate.total > available.bytes:
        detail = ", ".join(f"{k} {format_bytes(v)}" for k, v in estimate.parts.items() if v)
        raise InsufficientMemoryError(
            f"not enough memory: {estimate.what} needs about {format_bytes(estimate.total)} "
            f"({detail}), {format_bytes(available.bytes)} is available ({available.source}); "
            f"use less data, or run anyway with {OVERRIDE}",
            needed=estimate.total,
            available=available.bytes,
        )


def _mode_for_estimate(mode: str) -> str:
    # auto resolves after loading; hybrid is the larger of the modes it may pick for a
    # built-in or Python strategy (rust needs less).
    return "hybrid" if mode == "auto" else mode


def check_load(
    files: list[str],
    fmt: str,
    *,
    base_seconds: int,
    primary_seconds: int,
    timeframe_seconds: list[int],
    mode: str,
) -> Estimate:
    """Before reading ``files``: their parse peak plus the run that follows."""
    n = estimate_bars_in_files(files, fmt)
    mode = _mode_for_estimate(mode)
    estimate = Estimate(
        f"loading about {n:,} bars of {fmt} data and running them",
        {f"{fmt} parsing": n * LOAD_BYTES_PER_BAR.get(fmt, max(LOAD_BYTES_PER_BAR.values()))},
    )
    estimate.parts.update(run_parts(n, base_seconds, primary_seconds, timeframe_seconds, mode))
    check(estimate)
    return estimate


def check_synthetic(
    n_bars: int, *, primary_seconds: int, timeframe_seconds: list[int], mode: str
) -> Estimate:
    """Before generating synthetic M1 bars: the series plus the run."""
    mode = _mode_for_estimate(mode)
    estimate = Estimate(
        f"generating {n_bars:,} synthetic bars and running them",
        {"bars": n_bars * BAR_BYTES * 2},  # the generator's temporaries are one series more
    )
    estimate.parts.update(run_parts(n_bars, 60, primary_seconds, timeframe_seconds, mode))
    check(estimate)
    return estimate


def check_run(
    n_bars: int,
    *,
    base_seconds: int,
    primary_seconds: int,
    timeframe_seconds: list[int],
    mode: str,
) -> Estimate:
    """Before resampling and running loaded bars (their memory is already in use)."""
    estimate = Estimate(f"a {mode} backtest of {n_bars:,} bars")
    estimate.parts.update(run_parts(n_bars, base_seconds, primary_seconds, timeframe_seconds, mode))
    check(estimate)
    return estimate


def check_sweep(
    n_bars: int,
    n_sets: int,
    threads: int,
    distinct_values: int,
    *,
    base_seconds: int,
    primary_seconds: int,
    timeframe_seconds: list[int],
    mode: str,
) -> Estimate:
    """Before a sweep: one working set per thread running at once, one row per set."""
    estimate = Estimate(f"a sweep of {n_sets:,} sets on {n_bars:,} bars ({threads} threads)")
    parts = run_parts(n_bars, base_seconds, primary_seconds, timeframe_seconds, mode)
    concurrent = max(1, min(threads, n_sets))
    for name, value in parts.items():
        estimate.parts[name] = value if name == "resampled frames" else value * concurrent
    primary_bars = int(n_bars * _ratio(base_seconds, primary_seconds))
    estimate.parts["indicator series"] = distinct_values * primary_bars * 8
    estimate.parts["result rows"] = n_sets * SWEEP_ROW_BYTES
    check(estimate)
    return estimate


# ------------------------------------------------------------------- entry points (configs)


def _timeframes(config: BacktestConfig) -> tuple[int, list[int]]:
    settings = config.to_engine_settings()
    return settings.primary_timeframe.seconds, [t.seconds for t in settings.timeframes]


def guard_load(config: BacktestConfig) -> Estimate | None:
    """Before `omega.runner.load_bars` reads the config's data (or generates it); None when
    the config turns the check off or the files cannot be listed (the loader then reports
    that, with its own error)."""
    if not config.memory_check:
        return None
    primary, timeframes = _timeframes(config)
    data = config.data
    if data.path is None:
        return check_synthetic(
            data.synthetic_or_default.n_bars,
            primary_seconds=primary,
            timeframe_seconds=timeframes,
            mode=config.engine,
        )
    from omega.data.loaders._source import resolve_files
    from omega.errors import OmegaError

    fmt = str(data.format).lower()
    pattern = data.pattern or ("*.parquet" if fmt == "parquet" else "*.csv")
    paths = data.path if isinstance(data.path, str) else [str(p) for p in data.path]
    try:
        files = resolve_files(paths, pattern)
    except (OmegaError, OSError):
        return None
    return check_load(
        files,
        fmt,
        base_seconds=60,  # M1 files are the rule; coarser data makes this an over-estimate
        primary_seconds=primary,
        timeframe_seconds=timeframes,
        mode=config.engine,
    )


def guard_run(config: BacktestConfig, bars: BarSeries, mode: str) -> Estimate | None:
    """Before `omega.runner.run_backtest` resamples and runs ``bars`` in ``mode``."""
    if not config.memory_check:
        return None
    primary, timeframes = _timeframes(config)
    return check_run(
        len(bars),
        base_seconds=bars.timeframe.seconds,
        primary_seconds=primary,
        timeframe_seconds=timeframes,
        mode=mode,
    )


def guard_sweep(
    bars: BarSeries,
    sets: list[dict[str, object]],
    settings: EngineSettings,
    threads: int,
    mode: str,
) -> Estimate:
    """Before `omega.sweep.run_sweep` runs ``sets`` on ``bars`` (``mode`` rust: the Rust
    sweep on ``threads`` threads; python: one set after another)."""
    distinct = {repr(v) for params in sets for v in params.values()}
    return check_sweep(
        len(bars),
        len(sets),
        threads if mode == "rust" else 1,
        len(distinct),
        base_seconds=bars.timeframe.seconds,
        primary_seconds=settings.primary_timeframe.seconds,
        timeframe_seconds=[t.seconds for t in settings.timeframes],
        mode=mode,
    )
