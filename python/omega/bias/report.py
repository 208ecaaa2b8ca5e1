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
    In a basket, ``symbol`` is the instrument (``bar`` its primary bar) or ``account`` (the
    account's equity, ``bar`` a point of the basket's timeline); "" for one instrument.
    """

    cut_bar: int  # primary bars in the cut run
    cut_time: int  # open time of the first primary bar left out
    what: str
    name: str
    bar: int
    time: int
    full: Any
    cut: Any
    symbol: str = ""


@dataclass
class LookAheadResult:
    cuts: list[tuple[int, int]] = field(default_factory=list)  # (primary bars kept, cut time)
    bars_compared: int = 0
    decisions_compared: int = 0
    indicators: list[str] = field(default_factory=list)  # in a basket: "SYMBOL: series"
    offences: list[Offence] = field(default_factory=list)  # one per failing cut

    @property
    def ok(self) -> bool:
        return not self.offences

    @property
    def first(self) -> Offence | None:
        return min(self.offences, key=lambda o: (o.time, o.cut_bar), default=None)


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
    symbol: str = ""  # the basket's instrument ("" for one instrument)


@dataclass
class WarmupResult:
    """One instrument's warm-up check. A basket's: ``instruments`` holds each instrument's
    (``runs`` empty here; ``findings`` all of theirs; ``needed`` the most any needs)."""

    declared: int | None
    needed: int | None  # primary bars seen before every declared indicator has a value
    needed_by: str = ""
    tolerance: float = 1e-12
    runs: list[OffsetRun] = field(default_factory=list)
    findings: list[WarmupFinding] = field(default_factory=list)
    instruments: dict[str, WarmupResult] = field(default_factory=dict)
    note: str = ""

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
    instruments: int = 0  # a basket's instruments (bars, decisions, trades summed over them)

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
    """The runs under each policy (a basket's: the account's); a basket's ``instruments``
    hold each instrument's (its P&L: its trades' summed P&L)."""

    runs: list[PolicyRun] = field(default_factory=list)
    note: str = ""
    instruments: dict[str, IntrabarResult] = field(default_factory=dict)

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
    symbols: list[str] = field(default_factory=list)  # a basket's instruments, in order

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
    """Each check's table and verdict, then the overall one (a basket's: per instrument)."""
    from rich.markup import escape

    console.print(f"[bold]bias check[/]: {escape(report.subject)}")
    if report.symbols:
        console.print(f"instruments: {', '.join(report.symbols)}")
    console.print(
        f"data: {escape(report.data)}; {report.base_bars:,} base bars, "
        f"{report.primary_bars:,} primary bars; {report.runs} runs in {report.seconds:.1f} s"
    )
    if report.lookahead is not None:
        _print_lookahead(report.lookahead, console, bool(report.symbols))
    if report.warmup is not None:
        _print_warmup(report.warmup, console)
    if report.stream is not None:
        _print_stream(report.stream, console)
    if report.intrabar is not None:
        _print_intrabar(report.intrabar, console)
    if report.ok:
        console.print("\n[green]OK[/]: no bias found")
    else:
        console.print(f"\n[red]BIAS FOUND[/]: {', '.join(report.problems)}")


def _where(o: Offence) -> str:
    """``bar 12 (time)``, after the instrument in a basket."""
    at = f"bar {o.bar:,} ({utc(o.time)})"
    if o.symbol == "account":
        return f"point {o.bar:,} of the account's timeline ({utc(o.time)})"
    return f"{o.symbol} {at}" if o.symbol else at


def _print_lookahead(look: LookAheadResult, console: Console, basket: bool) -> None:
    from rich.markup import escape

    console.print("\n[bold]1. look-ahead[/] (reruns on the data cut at each point)")
    if basket and look.indicators:  # "SYMBOL: series": one line per instrument
        console.print("  indicators compared:")
        by_symbol: dict[str, list[str]] = {}
        for name in look.indicators:
            symbol, series = name.split(": ", 1)
            by_symbol.setdefault(symbol, []).append(series)
        for symbol, names in by_symbol.items():
            console.print(f"    {symbol}: {escape(', '.join(names))}")
    else:
        known = ", ".join(look.indicators) or "none known (decision trace only)"
        console.print(f"  indicators compared: {escape(known)}")
    console.print(
        f"  {len(look.cuts)} cuts, {look.bars_compared:,} bars and "
        f"{look.decisions_compared:,} decisions compared before them"
    )
    for o in sorted(look.offences, key=lambda o: o.cut_bar):
        console.print(
            f"  [red]DIFFERS[/] cut at bar {o.cut_bar:,} ({utc(o.cut_time)}): "
            f"{_WHAT[o.what]} [bold]{escape(o.name)}[/] at {escape(_where(o))}"
        )
        console.print(f"      full run: {escape(_value(o.full))}")
        console.print(f"      cut run:  {escape(_value(o.cut))}")
    first = look.first
    if first is None:
        console.print("  [green]PASS[/]: every value and decision before each cut unchanged")
    else:
        console.print(
            f"  [red]FAIL[/]: first offending {escape(_first_where(first))}, "
            f"{_WHAT[first.what]} {escape(first.name)} changed when the data was cut"
        )


def _first_where(o: Offence) -> str:
    if o.symbol and o.symbol != "account":
        return f"instrument {o.symbol}, bar {o.bar:,} ({utc(o.time)})"
    return _where(o)


def _print_warmup(warm: WarmupResult, console: Console) -> None:
    from rich.markup import escape

    console.print("\n[bold]2. warm-up[/] (reruns from later starts)")
    parts = warm.instruments or {"": warm}
    for symbol, part in parts.items():
        declared = "none" if part.declared is None else f"{part.declared:,} bars"
        needed = "unknown" if part.needed is None else f"{part.needed:,} bars"
        by = f" ({escape(part.needed_by)})" if part.needed_by else ""
        prefix = f"{symbol}: " if symbol else ""
        console.print(f"  {prefix}declared warm-up: {declared}; indicators need: {needed}{by}")
    if any(part.runs for part in parts.values()):
        console.print(_warmup_table(parts, warm.tolerance))
    if any(c.bars is None and c.compared for p in parts.values() for r in p.runs for c in r.series):
        console.print("  (never: still differs at the run's last bar)")
    if warm.note:
        console.print(f"  {escape(warm.note)}")
    for f in warm.findings:
        console.print(f"  [red]FLAG[/]: {escape(f.message)}")
    console.print("  [green]PASS[/]" if warm.ok else "  [red]FAIL[/]")


def _warmup_table(parts: dict[str, WarmupResult], tolerance: float) -> Any:
    """One column per later start; a basket's rows grouped by instrument (its starts are
    the same times for every instrument, at different bars of each)."""
    from rich.markup import escape
    from rich.table import Table

    basket = "" not in parts
    table = Table(
        title=f"bars until equal to the full run for good (tolerance {tolerance:g}), "
        "per later start",
        title_justify="left",
    )
    if basket:
        table.add_column("instrument")
    table.add_column("series")
    runs = next(part.runs for part in parts.values() if part.runs)
    for run in runs:
        start = utc(run.start_time)[:16].replace("T", " ") if basket else f"{run.start_bar:,}"
        table.add_column(f"start {start}", justify="right")
    for symbol, part in parts.items():
        if not part.runs:
            continue
        label = [symbol] if basket else []
        if basket:
            table.add_section()
        for name in [c.name for c in part.runs[0].series]:
            cells = []
            for run in part.runs:
                c = next((c for c in run.series if c.name == name), None)
                cells.append("-" if c is None or not c.compared else _bars(c.bars))
            table.add_row(*label, escape(name), *cells)
            label = [""] if basket else []
        if not basket:
            table.add_section()
        table.add_row(*label, "decisions (events)", *(_bars(r.decisions_from) for r in part.runs))
        label = [""] if basket else []
        table.add_row(
            *label,
            "trades changed / full run's",
            *(f"{r.trades_changed} / {r.trades_compared}" for r in part.runs),
        )
    return table


def _print_stream(stream: StreamResult, console: Console) -> None:
    from rich.markup import escape

    console.print("\n[bold]3. stream vs batch[/]")
    if stream.skipped:
        console.print(f"  skipped: {escape(stream.skipped)}")
    elif stream.ok:
        over = f" over {stream.instruments} instruments" if stream.instruments else ""
        console.print(
            f"  [green]PASS[/]: {stream.bars:,} bars, {stream.decisions:,} decisions and "
            f"{stream.trades:,} trades identical{over}"
        )
    else:
        console.print(f"  [red]FAIL[/]: {escape(stream.difference)}")


def _print_intrabar(intra: IntrabarResult, console: Console) -> None:
    from rich.markup import escape
    from rich.table import Table

    console.print("\n[bold]4. intrabar bounds[/] (information)")
    table = Table(title_justify="left")
    basket = bool(intra.instruments)
    columns = ["policy", "P&L", "trades", "SL+TP bars", "their P&L", "share of |P&L|"]
    if basket:
        columns.insert(0, "instrument")
    for column in columns:
        table.add_column(column, justify="left" if column in ("instrument", "policy") else "right")
    parts = {"account": intra, **intra.instruments} if basket else {"": intra}
    for symbol, part in parts.items():
        if basket and symbol != "account":
            table.add_section()
        for r in part.runs:
            cells = (
                r.policy,
                f"{r.pnl:,.2f}",
                f"{r.trades:,}",
                f"{r.ambiguous:,}",
                f"{r.ambiguous_pnl:,.2f}",
                f"{r.ambiguous_share:.1%}",
            )
            table.add_row(*((symbol, *cells) if basket else cells))
    console.print(table)
    console.print(f"  P&L band{' of the account' if basket else ''}: {intra.band:,.2f}")
    if basket:
        bands = ", ".join(f"{s} {part.band:,.2f}" for s, part in intra.instruments.items())
        console.print(f"  per instrument: {bands}")
    if intra.note:
        console.print(f"  {escape(intra.note)}")
