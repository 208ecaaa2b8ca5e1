"""The results of `omega.check_bias`: one dataclass per check, and their rendering."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from omega.bias.compare import utc

if TYPE_CHECKING:
    from rich.console import Console


@dataclass
class Offence:
    """The first bar where a rerun disagreed with the full run before a cut.

    ``what`` is ``indicator`` (a declared series as the strategy reads it), ``decision``
    (the decision-trace row: event and recorded values), ``trade`` or ``equity``; ``name``
    the indicator, or the differing fields; ``full`` and ``cut`` the two values (or rows).
    """

    cut_bar: int  # primary bars in the cut run
    cut_time: int  # open time of the first primary bar left out
    what: str
    name: str
    bar: int
    time: int
    full: Any
    cut: Any


@dataclass
class LookAheadResult:
    cuts: list[tuple[int, int]] = field(default_factory=list)  # (primary bars kept, cut time)
    bars_compared: int = 0
    decisions_compared: int = 0
    indicators: list[str] = field(default_factory=list)
    offences: list[Offence] = field(default_factory=list)  # one per failing cut

    @property
    def ok(self) -> bool:
        return not self.offences

    @property
    def first(self) -> Offence | None:
        return min(self.offences, key=lambda o: (o.bar, o.cut_bar), default=None)


@dataclass
class Convergence:
    """One series over the bars of one offset run: ``bars`` until it agrees with the full run
    for good (None: it still disagreed at the last bar); ``compared`` bars where both have it."""

    name: str
    bars: int | None
    compared: int


@dataclass
class OffsetRun:
    start_bar: int  # primary bars of the full run skipped
    start_time: int
    bars: int
    series: list[Convergence]
    decisions_from: int | None  # bars until the decision trace agrees for good
    trades_changed: int  # trades in only one of the two runs (timing, side, prices, reason)
    trades_compared: int


@dataclass
class WarmupFinding:
    kind: str  # "short_declaration" | "early_decision"
    message: str
    bar: int | None = None
    time: int | None = None
    start_bar: int = 0  # the run's first bar in the full run (0: the full run)


@dataclass
class WarmupResult:
    declared: int | None
    needed: int | None  # primary bars seen before every declared indicator has a value
    needed_by: str = ""
    tolerance: float = 1e-12
    runs: list[OffsetRun] = field(default_factory=list)
    findings: list[WarmupFinding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.findings


@dataclass
class StreamResult:
    skipped: str = ""  # why the check did not run
    bars: int = 0
    decisions: int = 0
    trades: int = 0
    difference: str = ""  # the first difference, described

    @property
    def ok(self) -> bool:
        return not self.difference


@dataclass
class PolicyRun:
    policy: str
    pnl: float  # final balance - initial balance
    trades: int
    ambiguous: int  # exits on bars where SL and TP were both in range (neither gapped)
    ambiguous_pnl: float  # summed P&L of those exits
    ambiguous_share: float  # their |P&L| over all trades' |P&L| (0..1)


@dataclass
class IntrabarResult:
    runs: list[PolicyRun] = field(default_factory=list)
    note: str = ""

    @property
    def band(self) -> float:
        pnls = [r.pnl for r in self.runs]
        return max(pnls) - min(pnls) if pnls else 0.0


@dataclass
class BiasReport:
    subject: str
    data: str
    base_bars: int
    primary_bars: int
    lookahead: LookAheadResult | None = None
    warmup: WarmupResult | None = None
    stream: StreamResult | None = None
    intrabar: IntrabarResult | None = None
    runs: int = 0  # engine runs made
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        """No bias found (the intrabar bounds are information, never a failure)."""
        checks = (self.lookahead, self.warmup, self.stream)
        return all(c is None or c.ok for c in checks)

    @property
    def problems(self) -> list[str]:
        out = []
        if self.lookahead is not None and not self.lookahead.ok:
            out.append("look-ahead")
        if self.warmup is not None and not self.warmup.ok:
            out.append("warm-up")
        if self.stream is not None and not self.stream.ok:
            out.append("stream vs batch")
        return out


_WHAT = {
    "indicator": "indicator",
    "decision": "decision-trace field",
    "trade": "trade",
    "equity": "equity",
}


def _value(value: Any) -> str:
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, dict):
        return ", ".join(f"{k}={_value(v)}" for k, v in value.items() if k not in ("index", "time"))
    return str(value)


def _bars(n: int | None) -> str:
    return "never" if n is None else f"{n:,}"


def print_report(report: BiasReport, console: Console) -> None:
    """Each check's table and verdict, then the overall one."""
    from rich.markup import escape
    from rich.table import Table

    console.print(f"[bold]bias check[/]: {escape(report.subject)}")
    console.print(
        f"data: {escape(report.data)}; {report.base_bars:,} base bars, "
        f"{report.primary_bars:,} primary bars; {report.runs} runs in {report.seconds:.1f} s"
    )
    look = report.lookahead
    if look is not None:
        console.print("\n[bold]1. look-ahead[/] (reruns on the data cut at each point)")
        names = ", ".join(look.indicators) or "none known (decision trace only)"
        console.print(f"  indicators compared: {escape(names)}")
        console.print(
            f"  {len(look.cuts)} cuts, {look.bars_compared:,} bars and "
            f"{look.decisions_compared:,} decisions compared before them"
        )
        for o in sorted(look.offences, key=lambda o: o.cut_bar):
            console.print(
                f"  [red]DIFFERS[/] cut at bar {o.cut_bar:,} ({utc(o.cut_time)}): "
                f"{_WHAT[o.what]} [bold]{escape(o.name)}[/] at bar {o.bar:,} ({utc(o.time)})"
            )
            console.print(f"      full run: {escape(_value(o.full))}")
            console.print(f"      cut run:  {escape(_value(o.cut))}")
        first = look.first
        if first is None:
            console.print("  [green]PASS[/]: every value and decision before each cut unchanged")
        else:
            console.print(
                f"  [red]FAIL[/]: first offending bar {first.bar:,} ({utc(first.time)}), "
                f"{_WHAT[first.what]} {escape(first.name)} changed when the data was cut"
            )
    warm = report.warmup
    if warm is not None:
        console.print("\n[bold]2. warm-up[/] (reruns from later starts)")
        declared = "none" if warm.declared is None else f"{warm.declared:,} bars"
        needed = "unknown" if warm.needed is None else f"{warm.needed:,} bars"
        by = f" ({escape(warm.needed_by)})" if warm.needed_by else ""
        console.print(f"  declared warm-up: {declared}; indicators need: {needed}{by}")
        if warm.runs:
            table = Table(
                title=f"bars until equal to the full run for good (tolerance {warm.tolerance:g}), "
                "per later start",
                title_justify="left",
            )
            table.add_column("series")
            for run in warm.runs:
                table.add_column(f"start {run.start_bar:,}", justify="right")
            series_names = [c.name for c in warm.runs[0].series]
            for name in series_names:
                cells = []
                for run in warm.runs:
                    c = next((c for c in run.series if c.name == name), None)
                    cells.append("-" if c is None or not c.compared else _bars(c.bars))
                table.add_row(escape(name), *cells)
            table.add_section()
            table.add_row("decisions (events)", *(_bars(r.decisions_from) for r in warm.runs))
            table.add_row(
                "trades changed / full run's",
                *(f"{r.trades_changed} / {r.trades_compared}" for r in warm.runs),
            )
            console.print(table)
            if any(c.bars is None and c.compared for r in warm.runs for c in r.series):
                console.print("  (never: still differs at the run's last bar)")
        for f in warm.findings:
            console.print(f"  [red]FLAG[/]: {escape(f.message)}")
        console.print("  [green]PASS[/]" if warm.ok else "  [red]FAIL[/]")
    stream = report.stream
    if stream is not None:
        console.print("\n[bold]3. stream vs batch[/]")
        if stream.skipped:
            console.print(f"  skipped: {escape(stream.skipped)}")
        elif stream.ok:
            console.print(
                f"  [green]PASS[/]: {stream.bars:,} bars, {stream.decisions:,} decisions and "
                f"{stream.trades:,} trades identical"
            )
        else:
            console.print(f"  [red]FAIL[/]: {escape(stream.difference)}")
    intra = report.intrabar
    if intra is not None:
        console.print("\n[bold]4. intrabar bounds[/] (information)")
        table = Table(title_justify="left")
        for column in ("policy", "P&L", "trades", "SL+TP bars", "their P&L", "share of |P&L|"):
            table.add_column(column, justify="left" if column == "policy" else "right")
        for r in intra.runs:
            table.add_row(
                r.policy,
                f"{r.pnl:,.2f}",
                f"{r.trades:,}",
                f"{r.ambiguous:,}",
                f"{r.ambiguous_pnl:,.2f}",
                f"{r.ambiguous_share:.1%}",
            )
        console.print(table)
        console.print(f"  P&L band: {intra.band:,.2f}")
        if intra.note:
            console.print(f"  {escape(intra.note)}")
    if report.ok:
        console.print("\n[green]OK[/]: no bias found")
    else:
        console.print(f"\n[red]BIAS FOUND[/]: {', '.join(report.problems)}")
