"""The ``omega`` command line: backtest, validate-data, schema, strategies.

Errors of the `OmegaError` hierarchy print one line (kind, file, row, column where known) and
exit with status 2; no traceback.
"""

from __future__ import annotations

import contextlib
import json
import logging
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, cast

import typer
from rich.console import Console
from rich.markup import escape

from omega.bias import cli as bias_cli
from omega.errors import OmegaError

if TYPE_CHECKING:
    from rich.table import Table

    from omega.results import BacktestResult
    from omega.results.result import TableFormat

EXIT_OMEGA_ERROR = 2
DEFAULT_OUT = "omega-out"

app = typer.Typer(
    name="omega",
    help="Omega FX backtesting: run backtests, check data, inspect configs and strategies.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
console = Console(highlight=False)
error_console = Console(stderr=True, highlight=False)


class _WarningsToStderr(logging.Handler):
    """Warnings logged by omega (data defaults, engine fallbacks, failed sweep sets) as
    ``warning: ...`` lines on stderr, once each."""

    def emit(self, record: logging.LogRecord) -> None:
        text = escape(record.getMessage())
        error_console.print(f"[bold yellow]warning[/]: {text}", soft_wrap=True)


_WARNINGS_HANDLER = _WarningsToStderr(logging.WARNING)


def _version(value: bool) -> None:
    if value:
        from omega import __version__

        console.print(f"omega {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool,
        typer.Option(
            "--version", is_eager=True, callback=_version, help="print the version and exit"
        ),
    ] = False,
) -> None:
    """Omega FX backtesting: run backtests, check data, inspect configs and strategies."""
    logger = logging.getLogger("omega")
    if _WARNINGS_HANDLER not in logger.handlers:
        logger.addHandler(_WARNINGS_HANDLER)


@contextlib.contextmanager
def _omega_errors() -> Iterator[None]:
    """Turn an OmegaError into a one-line message and exit status 2."""
    try:
        yield
    except OmegaError as exc:
        message = f"{type(exc).__name__}: {exc}".replace("\n", " ")
        error_console.print(f"[bold red]error[/]: {escape(message)}", soft_wrap=True)
        raise typer.Exit(EXIT_OMEGA_ERROR) from None


def _stats_table(result: Any) -> Table:
    """``result.stats`` grouped as ``STATS_GROUPS``, each value at the precision of its unit."""
    from rich.table import Table

    from omega.results.stats import account_currency, stats_rows, stats_values

    config = result.config
    title = "Statistics"
    if config is not None:
        title += (
            f": {config.strategy.name} on {config.instrument.symbol} {config.timeframes.primary}"
        )
    table = Table(title=title, title_justify="left", show_header=False, show_edge=False)
    table.add_column("statistic")
    table.add_column("value", justify="right")
    # stats_values: the values of result.stats without importing pandas for a Series.
    for group, items in stats_rows(stats_values(result), account_currency(result)):
        if not items:
            continue
        table.add_row(f"[bold underline]{escape(group)}[/]", "", end_section=False)
        for label, text in items:
            table.add_row(f"  {escape(label)}", text)
        table.add_section()
    return table


def _run_notes(metrics: dict[str, Any]) -> list[str]:
    """What the statistics do not say: how trades ended, orders the engine could not place."""
    notes = []
    exits = metrics.get("exit_reasons") or {}
    if exits:
        notes.append("Exits: " + ", ".join(f"{reason} {n:,}" for reason, n in exits.items()))
    problems = {
        "ignored signals": metrics.get("ignored_signals", 0),
        "dropped orders": metrics.get("dropped_orders", 0),
        "skipped orders": metrics.get("skipped_orders", 0),
    }
    found = [f"{n:,} {what}" for what, n in problems.items() if n]
    if found:
        notes.append("Orders: " + ", ".join(found) + " (details in metrics.json)")
    return notes


ProgressCallback = Callable[[int, int], None]


class _Stages:
    """Progress of a command's stages on the terminal, one line per running stage.

    A stage with a known total (bars of the Python engine, sets of a sweep) shows a bar and
    ``done/total``; one without (loading, the Rust engine, writing files) a spinner and the
    elapsed time. Disabled (no terminal, or --no-progress): every stage is a no-op.
    """

    def __init__(self, progress: Any | None = None) -> None:
        self._progress = progress

    @contextlib.contextmanager
    def stage(
        self, label: str, unit: str = "", total: int | None = None
    ) -> Iterator[ProgressCallback | None]:
        """Show ``label`` while the block runs; yields ``callback(done, total)`` (or None)."""
        progress = self._progress
        if progress is None:
            yield None
            return
        task = progress.add_task(label, total=total, unit=unit)

        def callback(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        try:
            yield callback
        finally:
            progress.remove_task(task)


def _count_text(completed: float, total: float | None, unit: str) -> str:
    """``12,000/50,000 bars``; without a total (not known yet, or never) only what is done."""
    if total is None:
        return f"{completed:,.0f} {unit}".strip() if completed else ""
    return f"{completed:,.0f}/{total:,.0f} {unit}".strip()


@contextlib.contextmanager
def _stages(enabled: bool) -> Iterator[_Stages]:
    """Stages drawn on the terminal when ``enabled`` and stdout is one (rich is imported only
    then)."""
    if not (enabled and console.is_terminal):
        yield _Stages()
        return
    from rich.progress import (
        BarColumn,
        Progress,
        ProgressColumn,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
    )
    from rich.text import Text

    class CountColumn(ProgressColumn):
        # Not TextColumn("{task.total:,}"): that raised TypeError while the total was None,
        # which crashed every backtest and sweep in a terminal.
        def render(self, task: Any) -> Text:
            return Text(_count_text(task.completed, task.total, task.fields.get("unit", "")))

    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        CountColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as progress:
        yield _Stages(progress)


# Options shared by the commands that run a config.
ConfigArg = Annotated[
    list[Path] | None,
    typer.Argument(
        help="YAML or JSON config (default: the default config); after --data, further data "
        "files (a shell-expanded glob)",
        show_default=False,
    ),
]
DataOpt = Annotated[
    list[Path] | None,
    typer.Option(
        "--data",
        help="data file, folder or glob; several files (--data a.csv b.csv) are read like a folder",
    ),
]
FormatOpt = Annotated[
    str | None,
    typer.Option(
        "--format", help="mt5, histdata, lean, csv or parquet; default: inferred from the file"
    ),
]
TzOpt = Annotated[
    str | None,
    typer.Option("--tz", help="time zone of the file's times (MT5: the broker's, e.g. EET)"),
]
SpreadOpt = Annotated[
    float | None,
    typer.Option(
        "--spread", metavar="PIPS", help="fixed spread for bid-only data (HistData, 1-sided CSV)"
    ),
]
SetOpt = Annotated[
    list[str] | None, typer.Option("--set", help="KEY=VALUE config override, repeatable")
]
OutOpt = Annotated[Path, typer.Option("--out", help="output folder")]
ProgressOpt = Annotated[
    bool, typer.Option("--progress/--no-progress", help="progress bar (on a terminal)")
]
MemoryCheckOpt = Annotated[
    bool,
    typer.Option(
        "--memory-check/--no-memory-check",
        help="refuse a run estimated not to fit in the available memory",
    ),
]


@app.command()
def backtest(
    config_file: ConfigArg = None,
    data: DataOpt = None,
    data_format: FormatOpt = None,
    tz: TzOpt = None,
    spread: SpreadOpt = None,
    engine: Annotated[
        str | None, typer.Option("--engine", help="auto, python, hybrid or rust")
    ] = None,
    overrides: SetOpt = None,
    out: OutOpt = Path(DEFAULT_OUT),
    trace: Annotated[bool, typer.Option("--trace", help="record the decision trace")] = False,
    report: Annotated[
        bool, typer.Option("--report/--no-report", help="write report.html (the slowest output)")
    ] = True,
    output_format: Annotated[
        str,
        typer.Option(
            "--output-format",
            help="format of the trades and equity tables: csv or parquet",
            case_sensitive=False,
        ),
    ] = "csv",
    progress: ProgressOpt = True,
    memory_check: MemoryCheckOpt = True,
) -> None:
    """Run a backtest and write trades.csv, equity.csv, metrics.json and report.html."""
    from omega.runner import load_bars, run_backtest

    with _omega_errors():
        table_format = output_format.lower()
        if table_format not in ("csv", "parquet"):
            raise _usage(f"--output-format {output_format!r}: expected csv or parquet")
        assignments = list(overrides or [])
        if engine is not None:
            assignments.append(f"engine={engine}")
        if trace:
            assignments.append("trace=true")
        if not memory_check:
            assignments.append("memory_check=false")
        config = _config(config_file, data, data_format, tz, spread, assignments)
        if config.instruments is not None:
            _backtest_basket(config, out, report, cast("TableFormat", table_format), progress)
            return
        with _stages(progress) as stages:
            with stages.stage(_loading_label(config)):
                bars = load_bars(config)
            with stages.stage("backtest", "bars") as callback:
                # instruments: is None here: a single run, a BacktestResult
                result = cast("BacktestResult", run_backtest(config, bars=bars, progress=callback))
        console.print(
            f"[bold]Engine mode:[/] {result.mode} ({escape(result.mode_reason)})", soft_wrap=True
        )
        # Fallback warnings reach stderr through logging (omega.runner), not printed twice.
        summary = result.quality_summary()
        if summary is not None:
            console.print("[bold]Data quality[/]")
            text = summary if isinstance(summary, str) else json.dumps(summary, indent=2)
            console.print(text, markup=False, soft_wrap=True)
        console.print(_stats_table(result))
        for note in _run_notes(result.metrics):
            console.print(note, markup=False, soft_wrap=True)
        try:
            with _stages(progress) as stages, stages.stage(f"writing {out}/"):
                written = result.save(
                    out, report=report, table_format=cast("TableFormat", table_format)
                )
        except OSError as exc:
            error_console.print(f"[bold red]error[/]: cannot write to {out}: {exc}", soft_wrap=True)
            raise typer.Exit(EXIT_OMEGA_ERROR) from None
        console.print(f"Wrote {', '.join(sorted(written))} to {out}/")


# Columns of the basket summary: metric, header, format (every metric is in metrics.json).
BASKET_COLUMNS = {
    "n_trades": ("trades", "{:,.0f}"),
    "win_rate": ("win rate", "{:.1%}"),
    "net_profit": ("P&L", "{:,.0f}"),
    "return_pct": ("return %", "{:.2f}"),
    "max_drawdown_pct": ("max DD %", "{:.2f}"),
    "sharpe": ("sharpe", "{:.3f}"),
    "profit_factor": ("PF", "{:.3f}"),
}


def _backtest_basket(
    config: Any, out: Path, report: bool, table_format: TableFormat, progress: bool
) -> None:
    """``omega backtest`` of a config with ``instruments:``: one account, N instruments."""
    from omega.basket import load_basket_bars, run_basket

    n = len(config.instruments)
    with _stages(progress) as stages:
        with stages.stage(_basket_loading_label(config)):
            bars = load_basket_bars(config)
        with stages.stage("backtest", "bars") as callback:
            result = run_basket(config, bars=bars, progress=callback)
    console.print(
        f"[bold]Engine mode:[/] {result.mode} ({escape(result.mode_reason)})", soft_wrap=True
    )
    console.print(_basket_table(result))
    for note in _run_notes(result.account.metrics):
        console.print(note, markup=False, soft_wrap=True)
    console.print(
        f"Each instrument's statistics and data quality: stats.csv, metrics.json, report.html "
        f"({n} instruments)",
        markup=False,
        soft_wrap=True,
    )
    try:
        with _stages(progress) as stages, stages.stage(f"writing {out}/"):
            written = result.save(out, report=report, table_format=table_format)
    except OSError as exc:
        error_console.print(f"[bold red]error[/]: cannot write to {out}: {exc}", soft_wrap=True)
        raise typer.Exit(EXIT_OMEGA_ERROR) from None
    console.print(f"Wrote {', '.join(sorted(written))} to {out}/")


def _basket_table(result: Any) -> Table:
    """One row per instrument, then the account's."""
    from rich.table import Table

    config = result.config
    currency = config.account.currency
    title = (
        f"Basket: {config.strategy.name} on {len(result.symbols)} instruments "
        f"{config.timeframes.primary}, one {currency} account of "
        f"{result.initial_balance:,.2f}"
    )
    # No outer edge, as the statistics table: the eight columns fit 80 characters.
    table = Table(title=title, title_justify="left", show_edge=False)
    table.add_column("")
    for metric, (header, _) in BASKET_COLUMNS.items():
        label = f"{header} [{currency}]" if metric == "net_profit" else header
        table.add_column(label, justify="right")
    rows = [(symbol, r.metrics) for symbol, r in result.instruments.items()]
    for k, (name, metrics) in enumerate([*rows, ("account", result.account.metrics)]):
        cells = [_cell(metrics.get(metric), fmt) for metric, (_, fmt) in BASKET_COLUMNS.items()]
        style = "bold" if k == len(rows) else None
        table.add_row(escape(name), *cells, style=style, end_section=k == len(rows) - 1)
    return table


def _cell(value: Any, fmt: str) -> str:
    """``value`` in ``fmt``; blank where undefined (None, NaN, infinite)."""
    if value is None or value != value or value in (float("inf"), float("-inf")):
        return ""
    return fmt.format(value)


def _basket_loading_label(config: Any) -> str:
    n = len(config.instruments)
    if config.instruments[0].path is None:
        return f"generating a synthetic basket of {n} instruments"
    return f"loading {n} instruments"


# Metrics shown for each parameter set of a sweep, with their headers and formats (every
# metric goes to sweep.csv).
SWEEP_COLUMNS = {
    "n_trades": ("trades", "{:,.0f}"),
    "return_pct": ("return %", "{:.2f}"),
    "max_drawdown_pct": ("max DD %", "{:.2f}"),
    "sharpe": ("sharpe", "{:.3f}"),
    "profit_factor": ("PF", "{:.3f}"),
}


def _grid(specs: list[str]) -> dict[str, list[Any]]:
    """``NAME=V1,V2,...`` options as a grid (values read as YAML scalars: 3, 2.5, H1)."""
    import yaml

    grid: dict[str, list[Any]] = {}
    for spec in specs:
        name, sep, values = spec.partition("=")
        if not sep or not name.strip() or not values.strip():
            raise _usage(f"--grid {spec!r}: expected NAME=V1,V2,...")
        grid[name.strip()] = [yaml.safe_load(v.strip()) for v in values.split(",")]
    return grid


@app.command()
def sweep(
    config_file: ConfigArg = None,
    grid: Annotated[
        list[str] | None,
        typer.Option("--grid", help="NAME=V1,V2,... values of a strategy parameter, repeatable"),
    ] = None,
    data: DataOpt = None,
    data_format: FormatOpt = None,
    tz: TzOpt = None,
    spread: SpreadOpt = None,
    overrides: SetOpt = None,
    out: OutOpt = Path(DEFAULT_OUT),
    sort: Annotated[str, typer.Option("--sort", help="metric to rank by, best first")] = "sharpe",
    top: Annotated[int, typer.Option("--top", help="rows to print")] = 10,
    threads: Annotated[
        int | None, typer.Option("--threads", help="threads (default: every core)")
    ] = None,
    progress: ProgressOpt = True,
    memory_check: MemoryCheckOpt = True,
) -> None:
    """Run the config's strategy once per combination of --grid values; write sweep.csv.

    Every other parameter comes from the config. The bars are loaded once; a strategy with a
    Rust implementation runs all sets in one call on every core.
    """
    from omega.runner import load_bars
    from omega.sweep import parameter_grid, run_sweep

    with _omega_errors():
        if not grid:
            raise _usage("sweep needs at least one --grid NAME=V1,V2,...")
        assignments = [*(overrides or []), *([] if memory_check else ["memory_check=false"])]
        config = _config(config_file, data, data_format, tz, spread, assignments)
        if config.strategy.plugin is not None:
            raise _usage("sweep: strategy plugins are not supported; use a built-in strategy")
        sets = [{**config.strategy.params, **combo} for combo in parameter_grid(_grid(grid))]
        with _stages(progress) as stages:
            if config.instruments is not None:  # a basket: one basket run per set
                from omega.basket import load_basket_bars, run_basket_sweep

                with stages.stage(f"loading {len(config.instruments)} instruments"):
                    basket_bars = load_basket_bars(config)
                with stages.stage("sweep", "sets", total=len(sets)) as callback:
                    table = run_basket_sweep(
                        config, sets, bars=basket_bars, threads=threads, progress=callback
                    )
            else:
                settings = config.to_engine_settings()
                with stages.stage(_loading_label(config)):
                    bars = load_bars(config)
                with stages.stage("sweep", "sets", total=len(sets)) as callback:
                    table = run_sweep(
                        bars,
                        config.strategy.name,
                        sets,
                        settings,
                        threads=threads,
                        progress=callback,
                        memory_check=config.memory_check,
                    )
        names = list(_grid(grid))
        failed = table["error"].notna()
        for _, row in table[failed].iterrows():
            label = " ".join(f"{n}={row[n]}" for n in names)
            first_line = str(row["error"]).splitlines()[0]
            error_console.print(f"failed: {escape(label)}: {escape(first_line)}", soft_wrap=True)
        if failed.all():
            # No metric columns exist, so there is nothing to rank; the errors still go to
            # sweep.csv so that every set's failure can be read in one place.
            path = _write_sweep(table, out)
            error_console.print(
                f"[bold red]error[/]: all {len(sets)} parameter sets failed; "
                f"the error of each is in {escape(str(path))}",
                soft_wrap=True,
            )
            raise typer.Exit(EXIT_OMEGA_ERROR)
        if sort not in table.columns:
            raise _usage(f"--sort {sort!r}: not a metric (try sharpe, net_profit, return_pct)")
        ranked = table.sort_values(sort, ascending=False, na_position="last", kind="stable")
        title = f"{config.strategy.name}: {len(sets)} sets, best {sort} first"
        if failed.any():
            title += f" ({int(failed.sum())} failed)"
        from rich.table import Table

        shown = Table(title=title)
        for column in [*names, *(header for header, _ in SWEEP_COLUMNS.values())]:
            shown.add_column(column, justify="right")

        def cell(value: Any, fmt: str) -> str:
            return "" if value is None or value != value else fmt.format(value)  # NaN: blank

        for _, row in ranked.head(top).iterrows():
            cells = [str(row[n]) for n in names]
            cells += [cell(row.get(c), fmt) for c, (_, fmt) in SWEEP_COLUMNS.items()]
            shown.add_row(*cells)
        console.print(shown)
        console.print(f"Wrote {_write_sweep(ranked, out)}")


def _write_sweep(table: Any, out: Path) -> Path:
    """sweep.csv in ``out``, written atomically; an unwritable folder is a one-line error."""
    from omega.results.atomic import write_atomic

    try:
        out.mkdir(parents=True, exist_ok=True)
        return write_atomic(out / "sweep.csv", table.to_csv(index=False))
    except OSError as exc:
        error_console.print(f"[bold red]error[/]: cannot write to {out}: {exc}", soft_wrap=True)
        raise typer.Exit(EXIT_OMEGA_ERROR) from None


def _config(
    args: list[Path] | None,
    data: list[Path] | None,
    data_format: str | None,
    tz: str | None,
    spread: float | None,
    assignments: list[str],
) -> Any:
    """The config file (or the default config), then --data/--format/--tz/--spread, then
    KEY=VALUE assignments: the order every command that runs a config applies them in."""
    from omega.config import BacktestConfig, default_config

    config_file, data_paths = _split_arguments(args or [], data or [])
    config = BacktestConfig.from_file(config_file) if config_file else default_config()
    if data_paths:
        if data_format is None:
            data_format = _inferred_format(data_paths)
        path: str | list[str] = data_paths[0] if len(data_paths) == 1 else data_paths
        config = config.with_data_file(path, data_format, tz, spread)
    elif data_format is not None or tz is not None or spread is not None:
        raise _usage("--format, --tz and --spread need --data")
    if assignments:
        config = config.apply_overrides(assignments)
    return config


CONFIG_SUFFIXES = (".yaml", ".yml", ".json")


def _split_arguments(args: list[Path], data: list[Path]) -> tuple[Path | None, list[str]]:
    """The config file and the data files among the positional arguments.

    ``--data a.csv b.csv`` (what the shell makes of ``--data *.csv``) leaves ``b.csv`` as a
    positional argument: with --data, every argument that is not a .yaml/.yml/.json config
    is one more data file.
    """
    if not data:
        if len(args) > 1:
            raise _usage(
                f"one config file expected, got {len(args)} arguments "
                "(data files go after --data: --data a.csv b.csv)"
            )
        return (args[0] if args else None), []
    configs = [a for a in args if a.suffix.lower() in CONFIG_SUFFIXES]
    if len(configs) > 1:
        raise _usage(f"one config file expected, got {', '.join(map(str, configs))}")
    extra = [a for a in args if a.suffix.lower() not in CONFIG_SUFFIXES]
    return (configs[0] if configs else None), [str(p) for p in [*data, *extra]]


def _inferred_format(paths: list[str]) -> str:
    """The format the data says it is, printed so that a wrong guess is seen."""
    from omega.data.infer import infer_format

    fmt, reason = infer_format(paths)
    console.print(f"[bold]Data format:[/] {fmt} (inferred: {escape(reason)})", soft_wrap=True)
    return fmt


def _loading_label(config: Any) -> str:
    data = config.data
    return f"loading {data.path}" if data.path is not None else "generating synthetic bars"


def _usage(message: str) -> OmegaError:
    from omega.errors import ConfigError

    return ConfigError(message)


@app.command("validate-data")
def validate_data(
    files: Annotated[
        list[Path],
        typer.Argument(help="data file, folder or glob; several files are read like a folder"),
    ],
    data_format: FormatOpt = None,
    tz: TzOpt = None,
    spread: SpreadOpt = None,
    symbol: Annotated[str, typer.Option("--symbol", help="instrument symbol")] = "EURUSD",
    strict: Annotated[
        bool, typer.Option("--strict", help="treat soft anomalies as errors")
    ] = False,
    progress: ProgressOpt = True,
) -> None:
    """Load a data file and print its quality report; exit status 2 on a hard error."""
    from omega.data import load
    from omega.data.bars import Instrument

    with _omega_errors():
        try:
            instrument = Instrument.for_symbol(symbol)
        except ValueError as exc:
            raise _usage(f"--symbol: {exc}") from None
        paths = [str(f) for f in files]
        if data_format is None:
            data_format = _inferred_format(paths)
        options: dict[str, Any] = {} if spread is None else {"spread_pips": spread}
        label = paths[0] if len(paths) == 1 else f"{len(paths)} files"
        with _stages(progress) as stages, stages.stage(f"loading {label}"):
            bars = load(
                paths if len(paths) > 1 else paths[0],
                data_format,
                tz=tz,
                instrument=instrument,
                strict_quality=strict,
                **options,
            )
        if bars.quality is not None:
            console.print(bars.quality.summary(), markup=False, soft_wrap=True)
        else:
            console.print(f"{label}: {len(bars):,} bars loaded")
        console.print("[green]OK[/]: no hard errors")


@app.command()
def schema() -> None:
    """Print the JSON Schema of the backtest configuration."""
    from omega.config import config_json_schema

    sys.stdout.write(json.dumps(config_json_schema(), indent=2) + "\n")


@app.command()
def strategies() -> None:
    """List the registered strategies with their parameters."""
    from rich.table import Table

    from omega.strategy import list_strategies, strategy_schema

    with _omega_errors():
        rust, why_not = _rust_strategies()
        for name in list_strategies():
            params = strategy_schema(name)
            if name in rust:
                runs = "Rust and Python (engine auto: rust)"
            else:
                runs = "Python only (engine auto: hybrid)" + why_not
            table = Table(title=f"{name}: {runs}", title_justify="left")
            for column in ("parameter", "type", "default", "description"):
                table.add_column(column)
            for key, spec in params.get("properties", {}).items():
                table.add_row(
                    key,
                    _schema_type(spec),
                    json.dumps(spec.get("default")) if "default" in spec else "required",
                    spec.get("description", ""),
                )
            console.print(table)


def _rust_strategies() -> tuple[frozenset[str], str]:
    """The strategies implemented in Rust, and why there are none when the core is missing."""
    try:
        from omega.engine.rust import rust_strategy_names

        return frozenset(rust_strategy_names()), ""
    except ImportError as exc:
        return frozenset(), f"; the Rust core is not available: {exc}"


def _schema_type(spec: dict[str, Any]) -> str:
    if "type" in spec:
        bounds = [
            f"{label} {spec[key]}"
            for key, label in (
                ("minimum", ">="),
                ("exclusiveMinimum", ">"),
                ("maximum", "<="),
                ("exclusiveMaximum", "<"),
            )
            if key in spec
        ]
        return spec["type"] + (f" ({', '.join(bounds)})" if bounds else "")
    if "enum" in spec:
        return " | ".join(map(str, spec["enum"]))
    if "anyOf" in spec:
        return " | ".join(_schema_type(s) for s in spec["anyOf"])
    if "$ref" in spec:
        return spec["$ref"].rsplit("/", 1)[-1]
    return "any"


EXIT_MISMATCH = 1


@app.command("check-plugin")
def check_plugin_command(
    plugin: Annotated[Path, typer.Argument(help="the plugin library (.so)")],
    twin: Annotated[
        str,
        typer.Option("--twin", help="the Python twin: module:Class or path/to/file.py:Class"),
    ],
    data: Annotated[
        Path | None, typer.Option("--data", help="data file (default: synthetic EURUSD minutes)")
    ] = None,
    data_format: FormatOpt = None,
    tz: TzOpt = None,
    params: Annotated[
        str | None, typer.Option("--params", help='strategy parameters as JSON, e.g. {"n": 20}')
    ] = None,
    n_bars: Annotated[
        int, typer.Option("--bars", help="synthetic bars when no --data is given")
    ] = 50_000,
) -> None:
    """Run a strategy plugin and its Python twin over a spread of settings and compare every
    decision exactly; exit 0 when all match, 1 on a mismatch, 2 on a usage or load error."""
    from omega.plugin_check import check_plugin, print_report

    with _omega_errors():
        given: dict[str, Any] = {}
        if params is not None:
            try:
                given = json.loads(params)
            except json.JSONDecodeError as exc:
                raise _usage(f"--params: not JSON: {exc}") from None
            if not isinstance(given, dict):
                raise _usage(f"--params: expected a JSON object, got {params!r}")
        if n_bars < 1:
            raise _usage(f"--bars: must be >= 1, got {n_bars}")
        bars = None
        if data is not None:
            from omega.data import load

            bars = load(str(data), data_format or _inferred_format([str(data)]), tz=tz)
        report = check_plugin(plugin, twin, bars=bars, params=given, n_bars=n_bars)
        print_report(report, console)
    if not report.ok:
        raise typer.Exit(EXIT_MISMATCH)


@app.command("new-strategy")
def new_strategy_command(
    name: Annotated[str, typer.Argument(help="strategy name, a lowercase identifier")],
    directory: Annotated[
        Path | None, typer.Option("--dir", help="parent folder (default: the current one)")
    ] = None,
    api_path: Annotated[
        Path | None,
        typer.Option(
            "--api-path",
            help="a local omega-strategy-api crate to depend on by path "
            "(default: $OMEGA_STRATEGY_API_PATH, this checkout's, or the published version)",
        ),
    ] = None,
) -> None:
    """Scaffold a strategy plugin crate, its Python twin and a parity test in DIR/NAME."""
    from omega.scaffold import new_strategy

    with _omega_errors():
        made = new_strategy(name, directory, api_path=api_path)
    console.print(f"created [bold]{escape(str(made.directory))}[/]:")
    for path in made.files:
        console.print(f"  {escape(str(path.relative_to(made.directory)))}")
    console.print(f"omega-strategy-api: {escape(made.api_dependency)}")
    console.print(
        f"next: cd {escape(str(made.directory))} && cargo build && "
        f"pytest test_{name}_parity.py  (or omega check-plugin "
        f"target/debug/{made.library} --twin {name}_twin.py:{made.twin.split(':')[1]})"
    )


bias_cli.register(app)  # omega check-bias (omega/bias/cli.py)


import omega.research.cli_optimize  # noqa: E402, F401  (registers `omega optimize`)
from omega.research import cli_validate  # noqa: E402  (walk-forward, validate-robustness)

cli_validate.register(app)


def main() -> None:
    """Entry point of the ``omega`` script."""
    app()


if __name__ == "__main__":
    main()
