"""The parity kit for plugin authors: a Rust strategy plugin against its Python twin.

`check_plugin` runs the plugin (the Rust engine, one call) and the twin (the Python reference
engine) with decision traces over a spread of settings (`DEFAULT_CASES`: M1, M5 and M15
primaries, one with an extra H1 timeframe, every intrabar policy, fixed and risk-percent
sizing, with and without slippage) and compares them exactly: the trace row of every bar
(event and recorded values, floats by bit pattern, NaN equal to NaN), then the trades, the
equity curve and the counters. Each case reports either how many bars, decisions (trace rows
with an event) and trades matched, or the FIRST difference: its bar, both sides' trace rows
around it and the fields that differ. ``omega check-plugin`` is the command-line front end.
"""

from __future__ import annotations

import dataclasses
import importlib
import importlib.util
import math
import struct
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from omega.data.bars import BarSeries
from omega.engine.settings import (
    EngineSettings,
    IntrabarPolicy,
    SizingSettings,
    SlippageSettings,
)
from omega.errors import ConfigError, PluginError
from omega.strategy import Strategy
from omega.timeframes import Timeframe

if TYPE_CHECKING:
    from rich.console import Console

    from omega.engine.raw import RawRun

__all__ = [
    "DEFAULT_CASES",
    "CaseResult",
    "CheckCase",
    "CheckReport",
    "Difference",
    "check_plugin",
    "load_twin",
    "print_report",
]

#: Synthetic data used when no bars are given: 50,000 M1 bars (about 35 days; M15 has
#: ~3,300 bars, enough for the example strategies to trade).
DEFAULT_BARS = 50_000
DEFAULT_SEED = 7


@dataclass(frozen=True)
class CheckCase:
    """One run configuration: a primary timeframe (plus extra ones), an intrabar policy, a
    sizing and a slippage model; everything else is `EngineSettings`' default."""

    primary: Timeframe
    intrabar_policy: IntrabarPolicy = "pessimistic"
    sizing: SizingSettings = field(default_factory=SizingSettings)
    slippage: SlippageSettings = field(default_factory=SlippageSettings)
    extra_timeframes: tuple[Timeframe, ...] = ()

    @property
    def name(self) -> str:
        tfs = "+".join(tf.name for tf in (self.primary, *self.extra_timeframes))
        sizing = "fixed" if self.sizing.mode == "fixed" else "risk%"
        slip = "no slip" if self.slippage.model == "none" else f"slip {self.slippage.model}"
        return f"{tfs} {self.intrabar_policy} {sizing} {slip}"

    def settings(self, bars: BarSeries) -> EngineSettings:
        return replace(
            EngineSettings(instrument=bars.instrument),
            primary_timeframe=self.primary,
            timeframes=(self.primary, *self.extra_timeframes),
            intrabar_policy=self.intrabar_policy,
            sizing=self.sizing,
            slippage=self.slippage,
        )


_FIXED = SizingSettings(mode="fixed", lots=1.0)
_RISK = SizingSettings(mode="risk_percent", risk_percent=1.0)

#: The spread `check_plugin` runs by default ("finer" needs a primary coarser than the data,
#: so it starts at M5).
DEFAULT_CASES: tuple[CheckCase, ...] = (
    CheckCase(Timeframe.M1, "pessimistic", _FIXED),
    CheckCase(Timeframe.M1, "optimistic", _RISK, SlippageSettings(model="fixed", pips=0.5)),
    CheckCase(Timeframe.M5, "finer", _FIXED, SlippageSettings(model="random", pips=1.0, seed=42)),
    CheckCase(Timeframe.M5, "pessimistic", _RISK),
    CheckCase(Timeframe.M5, "optimistic", _FIXED, SlippageSettings(model="atr", atr_fraction=0.1)),
    CheckCase(Timeframe.M15, "finer", _RISK, SlippageSettings(model="fixed", pips=0.3)),
    CheckCase(Timeframe.M15, "optimistic", _FIXED),
    CheckCase(
        Timeframe.M15,
        "pessimistic",
        _RISK,
        SlippageSettings(model="random", pips=0.8, seed=3),
        extra_timeframes=(Timeframe.H1,),
    ),
)


@dataclass
class Difference:
    """The first point where the plugin and the twin disagree in one case.

    ``what`` is ``"trace"`` (a bar's decision row), ``"trade"``, ``"equity"`` or
    ``"summary"`` (final balance and counters); ``index``/``time`` the primary bar (-1 and 0
    for a summary difference); ``fields`` the names that differ; ``plugin_rows`` and
    ``twin_rows`` the trace rows from a few bars before to a few bars after it.
    """

    what: str
    index: int
    time: int
    fields: tuple[str, ...]
    plugin_rows: list[dict[str, Any]]
    twin_rows: list[dict[str, Any]]
    detail: str = ""


@dataclass
class CaseResult:
    case: CheckCase
    bars: int  # primary bars compared
    # Trace rows with an event (signals, exits, stop changes) and trades that matched: all
    # of them, or those before the first difference.
    decisions: int
    trades: int
    difference: Difference | None = None

    @property
    def ok(self) -> bool:
        return self.difference is None


@dataclass
class CheckReport:
    plugin: Path
    plugin_strategy: str
    api_version: str
    twin: str
    data: str
    params: dict[str, Any]
    results: list[CaseResult]

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.results)

    @property
    def failures(self) -> list[CaseResult]:
        return [r for r in self.results if not r.ok]


def load_twin(spec: str) -> type[Strategy]:
    """The Strategy class named by ``module:Class`` (an importable module, the current
    directory first) or ``path/to/file.py:Class``; `ConfigError` when it cannot be loaded."""
    module_name, sep, class_name = spec.rpartition(":")
    if not sep or not module_name or not class_name:
        raise ConfigError(f"--twin {spec!r}: expected module:Class or path/to/file.py:Class")
    try:
        if module_name.endswith(".py") or "/" in module_name:
            path = Path(module_name).expanduser().resolve()
            if not path.is_file():
                raise ConfigError(f"--twin {spec!r}: no such file {path}")
            name = f"omega_twin_{path.stem}"
            module = sys.modules.get(name)
            if module is None or getattr(module, "__file__", None) != str(path):
                loader_spec = importlib.util.spec_from_file_location(name, path)
                if loader_spec is None or loader_spec.loader is None:
                    raise ConfigError(f"--twin {spec!r}: cannot import {path}")
                module = importlib.util.module_from_spec(loader_spec)
                sys.modules[name] = module
                loader_spec.loader.exec_module(module)
        else:
            if "" not in sys.path and str(Path.cwd()) not in sys.path:
                sys.path.insert(0, str(Path.cwd()))
            module = importlib.import_module(module_name)
    except ConfigError:
        raise
    except Exception as exc:  # the twin's own import failure, named for the user
        raise ConfigError(f"--twin {spec!r}: {type(exc).__name__}: {exc}") from None
    cls = getattr(module, class_name, None)
    if not (isinstance(cls, type) and issubclass(cls, Strategy)):
        raise ConfigError(f"--twin {spec!r}: {class_name} is not an omega Strategy subclass")
    return cls


def check_plugin(
    plugin: str | Path,
    twin: type[Strategy] | str,
    *,
    bars: BarSeries | None = None,
    params: Mapping[str, Any] | None = None,
    cases: Sequence[CheckCase] = DEFAULT_CASES,
    n_bars: int = DEFAULT_BARS,
    seed: int = DEFAULT_SEED,
    context: int = 3,
) -> CheckReport:
    """Run ``plugin`` and ``twin`` (a Strategy class or a ``module:Class`` string) with
    ``params`` on ``bars`` (default: ``n_bars`` synthetic EURUSD minutes from ``seed``) in
    each case; the report says per case what matched or where they first differ.

    `PluginError` when the plugin cannot be loaded; `ConfigError` when the twin cannot; a
    `StrategyError` of either side (e.g. rejected parameters) propagates.
    """
    from omega.engine.loop import run_python
    from omega.engine.plugin import plugin_info, plugin_kind, resolve_plugin_path, run_plugin

    path = resolve_plugin_path(plugin)
    if plugin_kind(path) == "portfolio":
        raise PluginError(
            f"plugin {path} is a portfolio strategy plugin (export_portfolio_strategy!): "
            "check-plugin compares a single-instrument strategy with its Python twin; compare "
            "a portfolio plugin on a basket instead (run_basket of a config naming it in "
            "strategy.plugin against the Python portfolio strategy with engine: python)"
        )
    strategy_name, api_version = plugin_info(path)
    twin_cls = load_twin(twin) if isinstance(twin, str) else twin
    if not (isinstance(twin_cls, type) and issubclass(twin_cls, Strategy)):
        raise ConfigError(f"twin {twin_cls!r} is not an omega Strategy subclass")
    if bars is None:
        from omega.data import generate_synthetic

        bars = generate_synthetic(n_bars=n_bars, seed=seed, symbol="EURUSD")
    given = dict(params or {})
    results = []
    for case in cases:
        settings = case.settings(bars)
        got = run_plugin(bars, path, given, settings, trace=True)
        want = run_python(bars, twin_cls(given), settings, trace=True)
        results.append(_compare(case, got, want, context))
    return CheckReport(
        plugin=path,
        plugin_strategy=strategy_name,
        api_version=api_version,
        twin=f"{twin_cls.__module__}:{twin_cls.__qualname__}",
        data=bars.source,
        params=given,
        results=results,
    )


def _same(a: Any, b: Any) -> bool:
    """Exact equality; floats by bit pattern (0.0 is not -0.0), any NaN equals any NaN."""
    if isinstance(a, float) and isinstance(b, float):
        if math.isnan(a) or math.isnan(b):
            return math.isnan(a) and math.isnan(b)
        return struct.pack("<d", a) == struct.pack("<d", b)
    return type(a) is type(b) and a == b


def _row_fields(a: dict[str, Any], b: dict[str, Any]) -> tuple[str, ...]:
    """Keys whose values differ, or that one row has and the other not (in row order)."""
    keys = list(a) + [k for k in b if k not in a]
    differ = [k for k in keys if k not in a or k not in b or not _same(a[k], b[k])]
    if not differ and list(a) != list(b):
        differ = ["<order of recorded values>"]
    return tuple(differ)


def _compare(case: CheckCase, got: RawRun, want: RawRun, context: int) -> CaseResult:
    rows_p, rows_t = got.trace or [], want.trace or []
    decisions = sum(1 for row in rows_t if row.get("event") != "none")
    result = CaseResult(case, bars=len(rows_t), decisions=decisions, trades=want.n_trades)

    def at(
        what: str, i: int, fields: Sequence[str], detail: str = "", trades: int | None = None
    ) -> CaseResult:
        # what matched before the difference: decisions of the earlier bars, trades closed
        # before it (or the earlier trades, for a trade difference)
        result.decisions = sum(1 for row in rows_t[:i] if row.get("event") != "none")
        exits = want.trades["exit_index"]
        result.trades = int(np.count_nonzero(exits < i)) if trades is None else trades
        lo, hi = max(0, i - context), i + context + 1
        time = int((rows_t[i] if i < len(rows_t) else rows_p[i])["time"]) if i >= 0 else 0
        result.difference = Difference(
            what, i, time, tuple(fields), rows_p[lo:hi], rows_t[lo:hi], detail
        )
        return result

    for i, (a, b) in enumerate(zip(rows_p, rows_t, strict=False)):
        fields = _row_fields(a, b)
        if fields:
            return at("trace", i, fields)
    if len(rows_p) != len(rows_t):
        i = min(len(rows_p), len(rows_t))
        return at("trace", i, ("<bars>",), f"plugin {len(rows_p)} bars, twin {len(rows_t)}")

    n = min(got.n_trades, want.n_trades)
    for j in range(n):
        fields = [c for c in got.trades if not _same(_item(got, c, j), _item(want, c, j))]
        if fields:
            index = int(want.trades["exit_index"][j])
            detail = "trade #{}: {}".format(
                j,
                "; ".join(
                    f"{c} plugin {_item(got, c, j)!r} twin {_item(want, c, j)!r}" for c in fields
                ),
            )
            return at("trade", min(index, len(rows_t) - 1), fields, detail, trades=j)
    if got.n_trades != want.n_trades:
        j = n
        longer = got if got.n_trades > want.n_trades else want
        index = int(longer.trades["exit_index"][j])
        detail = f"plugin {got.n_trades} trades, twin {want.n_trades}"
        return at("trade", min(index, len(rows_t) - 1), ("<trades>",), detail, trades=n)

    if len(got.equity) == len(want.equity):
        differs = np.flatnonzero(
            ~((got.equity == want.equity) | (np.isnan(got.equity) & np.isnan(want.equity)))
        )
        if differs.size:
            i = int(differs[0])
            detail = f"equity plugin {got.equity[i]!r} twin {want.equity[i]!r}"
            return at("equity", i, ("equity",), detail)
    summary = [
        name
        for name in (
            "final_balance",
            "bars_processed",
            "base_bars",
            "ignored_signals",
            "dropped_orders",
        )
        if not _same(getattr(got, name), getattr(want, name))
    ]
    if len(got.equity) != len(want.equity):
        summary.append("equity length")
    skipped = [dataclasses.astuple(s) for s in got.skipped_orders]
    if skipped != [dataclasses.astuple(s) for s in want.skipped_orders]:
        summary.append("skipped_orders")
    if summary:
        detail = "; ".join(
            f"{name} plugin {getattr(got, name, '?')!r} twin {getattr(want, name, '?')!r}"
            for name in summary
        )
        result.difference = Difference("summary", -1, 0, tuple(summary), [], [], detail)
    return result


def _item(run: RawRun, column: str, j: int) -> Any:
    value = run.trades[column][j]
    return value.item() if isinstance(value, np.generic) else value


# -- rendering -------------------------------------------------------------------------------


def _utc(ns: int) -> str:
    return str(np.datetime64(int(ns), "ns").astype("datetime64[s]")) + "Z"


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return "nan" if math.isnan(value) else repr(value)
    return str(value)


def print_report(report: CheckReport, console: Console) -> None:
    """The summary table, then each failing case's first difference with both traces."""
    from rich.markup import escape
    from rich.table import Table

    console.print(
        f"plugin [bold]{escape(report.plugin.name)}[/] ({escape(report.plugin_strategy)}, "
        f"omega-strategy-api {escape(report.api_version)}) vs twin "
        f"[bold]{escape(report.twin)}[/]"
    )
    console.print(f"data: {escape(report.data)}; params: {escape(repr(report.params))}")
    table = Table(title="plugin vs twin, exact comparison", title_justify="left")
    for column, justify in (
        ("case", "left"),
        ("bars", "right"),
        ("decisions matched", "right"),
        ("trades matched", "right"),
        ("result", "left"),
    ):
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    for r in report.results:
        if r.ok:
            verdict = "[green]match[/]"
        else:
            d = r.difference
            assert d is not None
            where = "end of run" if d.index < 0 else f"bar {d.index} ({_utc(d.time)})"
            verdict = f"[red]DIFFER[/] {d.what} at {where}: {escape(', '.join(d.fields))}"
        table.add_row(r.case.name, f"{r.bars:,}", f"{r.decisions:,}", f"{r.trades:,}", verdict)
    console.print(table)
    for r in report.failures:
        d = r.difference
        assert d is not None
        console.print(f"\n[bold red]first difference[/] in case [bold]{escape(r.case.name)}[/]:")
        if d.index >= 0:
            console.print(
                f"  bar {d.index} at {_utc(d.time)} ({d.what}); differing: "
                f"{escape(', '.join(d.fields))}"
            )
        if d.detail:
            console.print(f"  {escape(d.detail)}")
        if d.plugin_rows or d.twin_rows:
            console.print(_rows_table(d))
    if report.ok:
        total = sum(r.decisions for r in report.results)
        trades = sum(r.trades for r in report.results)
        console.print(
            f"[green]OK[/]: {len(report.results)} cases, {total:,} decisions and "
            f"{trades:,} trades identical"
        )
    else:
        console.print(f"[red]MISMATCH[/]: {len(report.failures)} of {len(report.results)} cases")


def _rows_table(d: Difference) -> Any:
    from rich.markup import escape
    from rich.table import Table

    keys: list[str] = []
    for row in (*d.plugin_rows, *d.twin_rows):
        keys.extend(k for k in row if k not in keys and k not in ("index", "time"))
    table = Table(show_lines=False)
    for column in ("side", "bar", "time", *keys):
        table.add_column(column, style="red" if column in d.fields else None)
    pairs = {int(r["index"]): r for r in d.twin_rows}
    for r in d.plugin_rows:
        pairs.setdefault(int(r["index"]), r)
    plugin_by = {int(r["index"]): r for r in d.plugin_rows}
    twin_by = {int(r["index"]): r for r in d.twin_rows}
    for i in sorted(pairs):
        for side, rows in (("plugin", plugin_by), ("twin", twin_by)):
            row = rows.get(i)
            if row is None:
                continue
            mark = ">" if i == d.index else " "
            cells = [escape(_cell(row.get(k, "-"))) for k in keys]
            table.add_row(f"{mark} {side}", str(i), _utc(row["time"]), *cells)
    return table
