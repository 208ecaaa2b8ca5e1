"""``omega optimize``: a parameter search over the config's strategy, from the command line.

Registered on the ``omega`` app by a one-line import in `omega.cli`. Only typer and the CLI's
own helpers are imported here; the search machinery loads when the command runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from omega.cli import (
    EXIT_OMEGA_ERROR,
    SWEEP_COLUMNS,
    ConfigArg,
    DataOpt,
    FormatOpt,
    MemoryCheckOpt,
    OutOpt,
    ProgressOpt,
    SetOpt,
    SpreadOpt,
    TzOpt,
    _basket_loading_label,
    _config,
    _loading_label,
    _omega_errors,
    _stages,
    _usage,
    app,
    console,
    error_console,
)
from omega.errors import OmegaError

DEFAULT_OUT = "omega-out"


def parse_param(spec: str) -> tuple[str, Any]:
    """``NAME=SPEC`` of ``--param``: ``V1,V2,...`` (choices, YAML scalars), ``LOW:HIGH`` or
    ``LOW:HIGH:STEP`` (a range: integers when every bound is one), ``LOW:HIGH:log`` (sampled
    log-uniformly), or one value (fixed)."""
    import yaml

    from omega.research.search import FloatRange, IntRange

    name, sep, text = spec.partition("=")
    name, text = name.strip(), text.strip()
    if not sep or not name or not text:
        raise _usage(f"--param {spec!r}: expected NAME=V1,V2,... or NAME=LOW:HIGH[:STEP|:log]")
    if ":" not in text:
        values = [yaml.safe_load(v.strip()) for v in text.split(",")]
        return name, values if len(values) > 1 else values[0]
    parts = [p.strip() for p in text.split(":")]
    log = parts[-1] == "log"
    if log:
        parts = parts[:-1]
    if len(parts) not in (2, 3):
        raise _usage(f"--param {spec!r}: a range is LOW:HIGH, LOW:HIGH:STEP or LOW:HIGH:log")
    try:
        numbers = [yaml.safe_load(p) for p in parts]
    except yaml.YAMLError:
        numbers = parts
    if not all(isinstance(n, int | float) and not isinstance(n, bool) for n in numbers):
        raise _usage(f"--param {spec!r}: the bounds and step of a range must be numbers")
    if all(isinstance(n, int) for n in numbers):
        return name, IntRange(*numbers, log=log)
    return name, FloatRange(*(float(n) for n in numbers), log=log)


def parse_objective(spec: str) -> str | tuple[str, str]:
    """``METRIC`` or ``METRIC:max`` / ``METRIC:min`` of ``--objective``."""
    metric, sep, direction = spec.partition(":")
    if not metric.strip():
        raise _usage(f"--objective {spec!r}: expected METRIC[:max|min]")
    if not sep:
        return metric.strip()
    if direction.strip() not in ("max", "min"):
        raise _usage(f"--objective {spec!r}: the direction is max or min")
    return metric.strip(), direction.strip()


@app.command("optimize")
def optimize_command(
    config_file: ConfigArg = None,
    params: Annotated[
        list[str] | None,
        typer.Option(
            "--param",
            help="NAME=V1,V2,... (choices), NAME=LOW:HIGH[:STEP] or NAME=LOW:HIGH:log "
            "(a range) of a strategy parameter, repeatable",
        ),
    ] = None,
    method: Annotated[str, typer.Option("--method", help="grid, random or tpe (Optuna)")] = "grid",
    trials: Annotated[
        int | None,
        typer.Option("--trials", help="sets to evaluate (random, tpe: default 100; grid: a cap)"),
    ] = None,
    objective: Annotated[
        list[str] | None,
        typer.Option(
            "--objective",
            help="METRIC[:max|min] to optimise (default sharpe); repeat for a Pareto front",
        ),
    ] = None,
    constraint: Annotated[
        list[str] | None,
        typer.Option("--constraint", help="expression sets must meet, e.g. 'fast < slow'"),
    ] = None,
    seed: Annotated[int | None, typer.Option("--seed", help="seed of random and tpe")] = None,
    backend: Annotated[
        str,
        typer.Option(
            "--backend",
            help="auto (a process pool for Python strategies, else this process), local, "
            "process or ray",
        ),
    ] = "auto",
    threads: Annotated[
        int | None,
        typer.Option("--threads", help="threads or worker processes (default: every core)"),
    ] = None,
    batch: Annotated[
        int | None, typer.Option("--batch", help="sets per evaluation call (default: auto)")
    ] = None,
    study: Annotated[
        Path | None,
        typer.Option("--study", help="SQLite file storing every set; a rerun skips what is done"),
    ] = None,
    study_name: Annotated[
        str, typer.Option("--study-name", help="name of the study in the file")
    ] = "optimize",
    data: DataOpt = None,
    data_format: FormatOpt = None,
    tz: TzOpt = None,
    spread: SpreadOpt = None,
    overrides: SetOpt = None,
    out: OutOpt = Path(DEFAULT_OUT),
    top: Annotated[int, typer.Option("--top", help="rows to print")] = 10,
    progress: ProgressOpt = True,
    memory_check: MemoryCheckOpt = True,
) -> None:
    """Search the config's strategy parameters (--param) for the best --objective; write
    optimize.csv (every set), pareto.csv and best.json.

    Every parameter not searched comes from the config. With --study, a rerun of the same
    command reads the sets already evaluated back instead of running them again. A basket
    config (instruments:) runs one basket per set and optimises the account's metrics.
    """
    from omega.research.search import optimize
    from omega.research.study import Study

    with _omega_errors():
        if not params:
            raise _usage("optimize needs at least one --param NAME=...")
        space = dict(parse_param(p) for p in params)
        objectives = [parse_objective(o) for o in (objective or ["sharpe"])]
        assignments = [*(overrides or []), *([] if memory_check else ["memory_check=false"])]
        config = _config(config_file, data, data_format, tz, spread, assignments)
        strategy, settings = _strategy(config)
        _warn_fixed_by_instruments(config, list(space))
        # The config's other parameters are fixed values of the space (a part of each set).
        space = {**{k: v for k, v in config.strategy.params.items() if k not in space}, **space}
        store = Study(study, study_name) if study is not None else None
        try:
            with _stages(progress) as stages:
                with stages.stage(_label(config)):
                    bars = _bars(config)
                with stages.stage(f"optimize ({method})", "sets") as callback:
                    result = optimize(
                        bars,
                        strategy,
                        space,
                        settings,
                        method=method,
                        trials=trials,
                        objective=objectives if len(objectives) > 1 else objectives[0],
                        constraints=constraint,
                        seed=seed,
                        backend=backend,
                        threads=threads,
                        batch=batch,
                        study=store,
                        progress=callback,
                    )
        finally:
            if store is not None:
                store.close()
        _report(result, config, out, top)


def _strategy(config: Any) -> tuple[Any, Any]:
    """What the search runs and its engine settings: a basket (its config holds them), a
    plugin or the config's strategy by name."""
    from omega.research.backends import Basket, Plugin

    if config.instruments is not None:
        return Basket(config), None
    plugin = config.strategy.plugin
    strategy = Plugin(plugin) if plugin is not None else config.strategy.name
    return strategy, config.to_engine_settings()


def _warn_fixed_by_instruments(config: Any, searched: list[str]) -> None:
    """A basket entry's own params stay over the searched values: say which."""
    from omega.research.backends import Basket

    if config.instruments is None:
        return
    for line in Basket(config).fixed_by_instruments(searched):
        error_console.print(f"[bold yellow]warning[/]: {escape(line)}", soft_wrap=True)


def _label(config: Any) -> str:
    return (
        _basket_loading_label(config) if config.instruments is not None else _loading_label(config)
    )


def _bars(config: Any) -> Any:
    """The config's bars: one series, or a basket's by symbol."""
    if config.instruments is not None:
        from omega.basket import load_basket_bars

        return load_basket_bars(config)
    from omega.runner import load_bars

    return load_bars(config)


def _report(result: Any, config: Any, out: Path, top: int) -> None:
    import json

    from rich.table import Table

    table = result.table
    if table.empty:
        raise _usage("no parameter set meets the constraints: nothing was run")
    searched = [n for n in result.params if table[n].nunique(dropna=False) > 1] or result.params
    failed = table["error"].notna()
    if failed.all():
        path = _write(out, {"optimize.csv": table.to_csv(index=False)})
        error_console.print(
            f"[bold red]error[/]: all {len(table)} parameter sets failed; "
            f"the error of each is in {escape(str(path[0]))}",
            soft_wrap=True,
        )
        raise typer.Exit(EXIT_OMEGA_ERROR)
    ranked = result.sorted()
    names = [f"{o.name} ({o.direction})" for o in result.objectives]
    subject = config.strategy.name
    if config.instruments is not None:
        subject += f" on {len(config.instruments)} instruments (the account's metrics)"
    title = f"{subject}: {len(table)} sets ({result.method}), best {names[0]} first"
    if result.skipped:
        title += f", {result.skipped} read from the study"
    if failed.any():
        title += f" ({int(failed.sum())} failed)"
    shown = Table(title=title)
    metric_columns = [c for c in SWEEP_COLUMNS if c in table.columns]
    for column in [*searched, *(SWEEP_COLUMNS[c][0] for c in metric_columns)]:
        shown.add_column(column, justify="right")

    def cell(value: Any, fmt: str) -> str:
        return "" if value is None or value != value else fmt.format(value)  # NaN: blank

    for _, row in ranked.head(top).iterrows():
        cells = [str(row[n]) for n in searched]
        cells += [cell(row.get(c), SWEEP_COLUMNS[c][1]) for c in metric_columns]
        shown.add_row(*cells)
    console.print(shown)
    files = {"optimize.csv": ranked.to_csv(index=False)}
    try:
        best = result.best
    except OmegaError as exc:  # no set has a value of the objective (NaN everywhere)
        error_console.print(f"[bold yellow]warning[/]: no best set: {escape(str(exc))}")
    else:
        files["best.json"] = json.dumps(best, indent=2, default=str) + "\n"
        console.print(f"Best: {escape(json.dumps(best, default=str))}", soft_wrap=True)
    if len(result.objectives) > 1:
        files["pareto.csv"] = result.pareto.to_csv(index=False)
        console.print(f"Pareto front: {len(result.pareto)} sets")
    written = _write(out, files)
    console.print(f"Wrote {', '.join(str(p) for p in written)}")


def _write(out: Path, files: dict[str, str]) -> list[Path]:
    """The files in ``out``, each written atomically; an unwritable folder is one line."""
    from omega.results.atomic import write_atomic

    try:
        out.mkdir(parents=True, exist_ok=True)
        return [write_atomic(out / name, text) for name, text in files.items()]
    except OSError as exc:
        error_console.print(f"[bold red]error[/]: cannot write to {out}: {exc}", soft_wrap=True)
        raise typer.Exit(EXIT_OMEGA_ERROR) from None
