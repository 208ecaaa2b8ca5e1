"""``omega check-bias``: the command-line front end of `omega.bias.check_bias`.

Exit status 0 when no bias is found, 1 when one is, 2 on a usage, config or load error (as
``omega check-plugin``). `register` adds the command to the ``omega`` Typer app.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import typer

EXIT_BIAS = 1


def register(app: typer.Typer) -> None:
    """Add ``check-bias`` to ``app``."""
    app.command("check-bias")(check_bias_command)


@contextlib.contextmanager
def _progress(enabled: bool) -> Iterator[Any]:
    """``callback(label, done, total)`` drawing a bar of the engine runs on a terminal."""
    from omega.cli import console

    if not (enabled and console.is_terminal):
        yield None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as progress:
        task = progress.add_task("bias check", total=None)

        def callback(label: str, done: int, total: int) -> None:
            progress.update(task, description=label, completed=done, total=total)

        yield callback


def check_bias_command(
    config_file: Annotated[
        list[Path] | None,
        typer.Argument(
            help="YAML or JSON config (default: the default config); after --data, further "
            "data files",
            show_default=False,
        ),
    ] = None,
    data: Annotated[
        list[Path] | None, typer.Option("--data", help="data file, folder or glob")
    ] = None,
    data_format: Annotated[
        str | None, typer.Option("--format", help="mt5, histdata, lean, csv or parquet")
    ] = None,
    tz: Annotated[str | None, typer.Option("--tz", help="time zone of the file's times")] = None,
    spread: Annotated[
        float | None, typer.Option("--spread", metavar="PIPS", help="fixed spread, bid-only data")
    ] = None,
    engine: Annotated[
        str | None, typer.Option("--engine", help="auto, python, hybrid or rust")
    ] = None,
    overrides: Annotated[
        list[str] | None, typer.Option("--set", help="KEY=VALUE config override, repeatable")
    ] = None,
    cuts: Annotated[int, typer.Option("--cuts", help="points where the data is cut")] = 5,
    offsets: Annotated[
        int, typer.Option("--offsets", help="later starts of the warm-up check")
    ] = 5,
    tolerance: Annotated[
        float,
        typer.Option("--tolerance", help="relative tolerance of the warm-up agreement"),
    ] = 1e-12,
    only: Annotated[
        list[str] | None,
        typer.Option("--only", help="run only these checks: lookahead, warmup, stream, intrabar"),
    ] = None,
    progress: Annotated[
        bool, typer.Option("--progress/--no-progress", help="progress bar (on a terminal)")
    ] = True,
) -> None:
    """Check a strategy config (or a basket: every instrument at the same cuts and starts)
    for bias: look-ahead (cut data), warm-up (later starts), stream vs batch, intrabar
    bounds; exit 0 when none is found, 1 when one is, 2 on a usage or config error."""
    from omega.bias import CHECKS, check_bias, print_report
    from omega.cli import _config, _omega_errors, console

    with _omega_errors():
        assignments = list(overrides or [])
        if engine is not None:
            assignments.append(f"engine={engine}")
        config = _config(config_file, data, data_format, tz, spread, assignments)
        with _progress(progress) as callback:
            report = check_bias(
                config,
                cuts=cuts,
                offsets=offsets,
                checks=tuple(only) if only else CHECKS,
                tolerance=tolerance,
                progress=callback,
            )
        print_report(report, console)
    if not report.ok:
        raise typer.Exit(EXIT_BIAS)
