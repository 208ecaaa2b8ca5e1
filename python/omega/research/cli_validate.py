"""``omega walk-forward`` and ``omega validate-robustness``: the command-line front ends of
`omega.research.walkforward` and `omega.research.robustness`. `register` adds them to the
``omega`` Typer app; nothing heavy is imported until a command runs.

``omega walk-forward CONFIG --train 6M --test 1M --grid NAME=V1,V2`` writes into ``--out``:
folds.csv (per fold: windows, chosen parameters, in- and out-of-sample figures), sweeps.csv
(every in-sample row with its fold), trades.csv and equity.csv (the stitched out-of-sample
run), walk_forward.json (the summary, the grid and the effective config) and report.html (the
research report page).

``omega validate-robustness RESULTS`` reads a results folder (of ``omega backtest``,
``omega sweep`` or ``omega walk-forward``) and computes what its files allow: Monte Carlo over
trades.csv, the deflated Sharpe ratio of equity.csv against the trials of sweep.csv or
sweeps.csv (one trial without them: the PSR), the neighbourhood heatmap of the sweep, and the
PBO by CSCV (a walk-forward folder: its grid re-run on ``--pbo-blocks`` blocks of its data).
It writes robustness.json and robustness.html into the folder.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    import pandas as pd

WALK_FORWARD_JSON = "walk_forward.json"


def register(app: typer.Typer) -> None:
    """Add ``walk-forward`` and ``validate-robustness`` to ``app``."""
    app.command("walk-forward")(walk_forward_command)
    app.command("validate-robustness")(validate_robustness_command)


def _write_table(frame: pd.DataFrame, path: Path) -> None:
    from omega.results.atomic import write_atomic

    write_atomic(path, frame.to_csv(index=False, date_format="%Y-%m-%dT%H:%M:%SZ"))


def walk_forward_command(
    config_file: Annotated[
        list[Path] | None,
        typer.Argument(
            help="YAML or JSON config (default: the default config); after --data, further "
            "data files",
            show_default=False,
        ),
    ] = None,
    grid: Annotated[
        list[str] | None,
        typer.Option("--grid", help="NAME=V1,V2,... values of a strategy parameter, repeatable"),
    ] = None,
    train: Annotated[
        str, typer.Option("--train", help="training window: 6M, 2W, 10D, 12H, 1Y or 5000bars")
    ] = "6M",
    test: Annotated[str, typer.Option("--test", help="test window (same units)")] = "1M",
    step: Annotated[
        str | None, typer.Option("--step", help="shift between folds (default: --test)")
    ] = None,
    anchored: Annotated[
        bool, typer.Option("--anchored/--rolling", help="training from the first bar, growing")
    ] = False,
    objective: Annotated[
        str, typer.Option("--objective", help="metric to maximise in sample; -NAME minimises")
    ] = "sharpe",
    backend: Annotated[
        str,
        typer.Option("--backend", help="auto, local, process or ray (the in-sample sweeps)"),
    ] = "auto",
    threads: Annotated[
        int | None, typer.Option("--threads", help="threads or workers (default: every core)")
    ] = None,
    data: Annotated[
        list[Path] | None, typer.Option("--data", help="data file, folder or glob")
    ] = None,
    data_format: Annotated[str | None, typer.Option("--format", help="data format")] = None,
    tz: Annotated[str | None, typer.Option("--tz", help="time zone of the file's times")] = None,
    spread: Annotated[
        float | None, typer.Option("--spread", metavar="PIPS", help="fixed spread (pips)")
    ] = None,
    overrides: Annotated[
        list[str] | None, typer.Option("--set", help="KEY=VALUE config override, repeatable")
    ] = None,
    out: Annotated[Path, typer.Option("--out", help="output folder")] = Path("omega-out"),
    mc_runs: Annotated[
        int, typer.Option("--mc-runs", help="Monte Carlo runs over the OOS trades (0: none)")
    ] = 1000,
    report: Annotated[bool, typer.Option("--report/--no-report", help="write report.html")] = True,
    progress: Annotated[
        bool, typer.Option("--progress/--no-progress", help="progress bar (on a terminal)")
    ] = True,
) -> None:
    """Walk-forward: optimise the --grid in each training window, run the best set on the
    following test window, roll on; write the folds, the stitched out-of-sample trades and
    equity, and the research report. A basket config (instruments:) runs one basket per set
    and window, on each instrument's bars cut to the window; the figures are the account's."""
    from omega.cli import _config, _grid, _omega_errors, _stages, _usage, console
    from omega.research.cli_optimize import _bars, _label, _strategy, _warn_fixed_by_instruments
    from omega.sweep import parameter_grid

    with _omega_errors():
        if not grid:
            raise _usage("walk-forward needs at least one --grid NAME=V1,V2,...")
        config = _config(config_file, data, data_format, tz, spread, list(overrides or []))
        if config.strategy.plugin is not None:
            raise _usage("walk-forward: strategy plugins are not supported; use a built-in one")
        sets = [{**config.strategy.params, **combo} for combo in parameter_grid(_grid(grid))]
        strategy, settings = _strategy(config)
        _warn_fixed_by_instruments(config, list(_grid(grid)))
        from omega.research.walkforward import parse_span, walk_forward

        for name, value in (("train", train), ("test", test), ("step", step)):
            if value is not None:
                parse_span(_span_arg(value), f"--{name}")  # a usage error before loading
        with _stages(progress) as stages:
            with stages.stage(_label(config)):
                bars = _bars(config)
            with stages.stage("walk-forward", "folds") as callback:
                wf = walk_forward(
                    bars,
                    strategy,
                    sets,
                    settings,
                    train=_span_arg(train),
                    test=_span_arg(test),
                    step=None if step is None else _span_arg(step),
                    anchored=anchored,
                    objective=objective,
                    backend=backend,
                    threads=threads,
                    progress=callback,
                )
        _print_folds(wf, list(_grid(grid)), console)
        try:
            out.mkdir(parents=True, exist_ok=True)
            written = _save_walk_forward(
                wf, out, config, sets, train, test, step, anchored, backend
            )
            if report:
                written.append(_walk_forward_report(wf, out, config, mc_runs))
        except OSError as exc:
            raise _usage(f"cannot write to {out}: {exc}") from None
        console.print("Wrote " + ", ".join(str(p) for p in written))


def _span_arg(value: str) -> int | str:
    """A bare number on the command line is a bar count."""
    return int(value) if value.strip().isdigit() else value


def _print_folds(wf: Any, names: list[str], console: Any) -> None:
    from rich.table import Table

    subject = wf.strategy
    if wf.symbols is not None:
        subject += f" on {len(wf.symbols)} instruments (the account)"
    shown = Table(title=f"{subject}: {len(wf.folds)} folds, in-sample {wf.objective}")
    for column in ["fold", "test from", *names, "IS score", "OOS return %", "OOS trades"]:
        shown.add_column(column, justify="right")
    for _, row in wf.folds.iterrows():
        shown.add_row(
            str(row["fold"]),
            row["test_start"].strftime("%Y-%m-%d"),
            *(str(row[f"param_{n}"]) for n in names),
            f"{row['is_score']:.3f}",
            f"{row['oos_return_pct']:.2f}",
            str(row["oos_n_trades"]),
        )
    console.print(shown)
    console.print(
        f"Out of sample: return {wf.oos['return_pct']:.2f} %, max drawdown "
        f"{wf.oos['max_drawdown_pct']:.2f} %, Sharpe {wf.oos['sharpe']:.3f}, "
        f"{wf.oos['n_trades']} trades; walk-forward efficiency {wf.efficiency:.3f}"
    )


def _save_walk_forward(
    wf: Any,
    out: Path,
    config: Any,
    sets: list[dict[str, Any]],
    train: str,
    test: str,
    step: str | None,
    anchored: bool,
    backend: str,
) -> list[Path]:
    import pandas as pd

    from omega.results.atomic import write_atomic
    from omega.results.result import json_safe

    files = {"folds.csv": wf.folds, "sweeps.csv": wf.sweeps, "trades.csv": wf.trades}
    files["equity.csv"] = pd.DataFrame({"time": wf.equity.index, "equity": wf.equity.to_numpy()})
    for name, frame in files.items():
        _write_table(frame, out / name)
    summary = {
        "strategy": wf.strategy,
        "symbols": wf.symbols,
        "param_names": wf.param_names,
        "param_sets": sets,
        "train": train,
        "test": test,
        "step": step,
        "anchored": anchored,
        "objective": wf.objective,
        "backend": backend,
        "initial_balance": config.account.initial_balance,
        "currency": str(config.account.currency),
        "efficiency": wf.efficiency,
        "oos": wf.oos,
        "timing": wf.timing,
        "config": config.effective_dict(),
    }
    text = json.dumps(json_safe(summary), indent=2, default=str, allow_nan=False) + "\n"
    write_atomic(out / WALK_FORWARD_JSON, text)
    return [out / name for name in files] + [out / WALK_FORWARD_JSON]


def _trial_means(sweeps: pd.DataFrame, names: list[str], metric: str) -> pd.DataFrame:
    """One row per parameter set: ``metric`` averaged over the folds (the heatmap's values)."""
    return sweeps.groupby(names, dropna=False)[metric].mean().reset_index()


def _walk_forward_report(wf: Any, out: Path, config: Any, mc_runs: int) -> Path:
    from omega.report.research import ResearchReport, write_research_report
    from omega.research.robustness import monte_carlo, neighbourhood_stability

    initial = config.account.initial_balance
    where = config.instrument.symbol if wf.symbols is None else ", ".join(wf.symbols)
    report = ResearchReport(
        title=f"Walk-forward: {wf.strategy} on {where}",
        walk_forward=wf,
        currency=str(config.account.currency),
    )
    if mc_runs > 0 and len(wf.trades):
        report.monte_carlo = monte_carlo(wf.trades, initial, n=mc_runs)
        report.actual_equity = [initial, *(initial + wf.trades["pnl"].cumsum())]
    varying = [n for n in wf.param_names if wf.sweeps[n].nunique() > 1]
    if len(varying) >= 2 and "sharpe" in wf.sweeps.columns:
        means = _trial_means(wf.sweeps, varying[:2], "sharpe")
        report.neighbourhood = neighbourhood_stability(means, varying[0], varying[1])
        report.notes.append("Heatmap: the in-sample Sharpe of each set averaged over the folds.")
    return write_research_report(report, out / "report.html")


# ----------------------------------------------------------------------------- validate


def validate_robustness_command(
    results: Annotated[
        Path, typer.Argument(help="a results folder of omega backtest, sweep or walk-forward")
    ],
    mc_runs: Annotated[int, typer.Option("--mc-runs", help="Monte Carlo runs (0: none)")] = 1000,
    method: Annotated[
        str, typer.Option("--method", help="Monte Carlo: bootstrap or reshuffle")
    ] = "bootstrap",
    seed: Annotated[int, typer.Option("--seed", help="Monte Carlo seed")] = 0,
    pbo_blocks: Annotated[
        int,
        typer.Option("--pbo-blocks", help="CSCV blocks for the PBO of a walk-forward (0: none)"),
    ] = 8,
    x: Annotated[str | None, typer.Option("--x", help="heatmap parameter across")] = None,
    y: Annotated[str | None, typer.Option("--y", help="heatmap parameter up")] = None,
    metric: Annotated[str, typer.Option("--metric", help="heatmap metric")] = "sharpe",
    progress: Annotated[
        bool, typer.Option("--progress/--no-progress", help="progress bar (on a terminal)")
    ] = True,
) -> None:
    """Robustness and overfitting statistics of a results folder: Monte Carlo over its trades,
    deflated Sharpe ratio, parameter-neighbourhood heatmap, PBO (CSCV)."""
    from omega.cli import _omega_errors, _stages, _usage, console

    with _omega_errors():
        if not results.is_dir():
            raise _usage(f"{results}: not a results folder")
        found = _read_results(results)
        if found["trades"] is None and found["sweep"] is None:
            raise _usage(
                f"{results}: no trades.csv or sweep table (sweep.csv, sweeps.csv) to validate"
            )
        from omega.report.research import ResearchReport, write_research_report

        report = ResearchReport(title=f"Robustness: {results}", currency=found["currency"])
        summary: dict[str, Any] = {"folder": str(results)}
        _monte_carlo_part(found, report, summary, mc_runs, method, seed)
        _dsr_part(found, report, summary)
        _neighbourhood_part(found, report, summary, x, y, metric)
        with _stages(progress) as stages:
            _pbo_part(found, report, summary, pbo_blocks, stages)
        _print_summary(summary, console)
        from omega.results.atomic import write_atomic
        from omega.results.result import json_safe

        try:
            write_atomic(
                results / "robustness.json",
                json.dumps(json_safe(summary), indent=2, default=str, allow_nan=False) + "\n",
            )
            page = write_research_report(report, results / "robustness.html")
        except OSError as exc:
            raise _usage(f"cannot write to {results}: {exc}") from None
        console.print(f"Wrote {results / 'robustness.json'}, {page}")


def _read_results(folder: Path) -> dict[str, Any]:
    import pandas as pd

    found: dict[str, Any] = {"trades": None, "equity": None, "sweep": None, "wf": None}
    found["initial"], found["currency"] = None, "USD"
    if (folder / WALK_FORWARD_JSON).is_file():
        found["wf"] = json.loads((folder / WALK_FORWARD_JSON).read_text(encoding="utf-8"))
        found["initial"] = float(found["wf"]["initial_balance"])
        found["currency"] = found["wf"]["currency"]
    elif (folder / "metrics.json").is_file():
        meta = json.loads((folder / "metrics.json").read_text(encoding="utf-8"))
        found["initial"] = float(meta["metrics"]["initial_balance"])
        account = ((meta.get("config") or {}).get("account")) or {}
        found["currency"] = account.get("currency", "USD")
    for name in ("trades", "equity"):
        for suffix in ("csv", "parquet"):
            path = folder / f"{name}.{suffix}"
            if path.is_file():
                read = pd.read_csv if suffix == "csv" else pd.read_parquet
                found[name] = read(path)
                break
    for name in ("sweeps.csv", "sweep.csv"):
        if (folder / name).is_file():
            found["sweep"] = pd.read_csv(folder / name)
            break
    return found


def _monte_carlo_part(
    found: dict[str, Any], report: Any, summary: dict[str, Any], runs: int, method: str, seed: int
) -> None:
    from omega.cli import _usage
    from omega.research.robustness import monte_carlo

    trades = found["trades"]
    if runs <= 0 or trades is None or trades.empty:
        return
    if found["initial"] is None:
        raise _usage("trades.csv without metrics.json or walk_forward.json: no initial balance")
    mc = monte_carlo(trades, found["initial"], n=runs, method=method, seed=seed)
    report.monte_carlo = mc
    report.actual_equity = [found["initial"], *(found["initial"] + trades["pnl"].cumsum())]
    summary["monte_carlo"] = {
        "method": method,
        "runs": runs,
        "trades": mc.n_trades,
        "percentiles": mc.percentiles.to_dict(orient="index"),
    }


def _dsr_part(found: dict[str, Any], report: Any, summary: dict[str, Any]) -> None:
    import numpy as np

    from omega.research.robustness import deflated_sharpe_of_search

    equity = found["equity"]
    if equity is None or found["initial"] is None or len(equity) < 3:
        return
    marks = np.concatenate(([found["initial"]], equity["equity"].to_numpy(dtype=np.float64)))
    returns = marks[1:] / marks[:-1] - 1.0
    sweep = found["sweep"]
    if sweep is not None and "sharpe" in sweep.columns:
        if "fold" in sweep.columns:  # walk-forward: the trials of one fold's search
            sweep = sweep[sweep["fold"] == sweep["fold"].iloc[0]]
        trials, ppy = sweep["sharpe"], sweep.get("periods_per_year")
    else:
        trials, ppy = [math.nan], None
        report.notes.append("No sweep table: the DSR is the PSR of a single trial.")
    result = deflated_sharpe_of_search(returns, trials, ppy)
    report.dsr = result
    summary["deflated_sharpe"] = {
        "dsr": result.dsr,
        "sr0": result.sr0,
        "sharpe_per_bar": result.sharpe,
        "n_obs": result.n_obs,
        "n_trials": result.n_trials,
        "trials_variance": result.trials_variance,
        "skew": result.skew,
        "kurtosis": result.kurtosis,
    }


def _neighbourhood_part(
    found: dict[str, Any],
    report: Any,
    summary: dict[str, Any],
    x: str | None,
    y: str | None,
    metric: str,
) -> None:
    from omega.cli import _usage
    from omega.research.robustness import neighbourhood_stability

    sweep = found["sweep"]
    if sweep is None or metric not in sweep.columns:
        return
    if found["wf"] is not None:
        names = list(found["wf"]["param_names"])
    else:  # omega sweep: the parameter columns come first, then the metrics
        names = list(sweep.columns[: list(sweep.columns).index("initial_balance")])
    varying = [n for n in names if sweep[n].nunique() > 1]
    x = x or (varying[0] if varying else None)
    y = y or (varying[1] if len(varying) > 1 else None)
    if x is None or y is None:
        return
    for name in (x, y):
        if name not in names:
            raise _usage(f"--x/--y {name!r}: not a parameter of the sweep ({', '.join(names)})")
    table = sweep[sweep[metric].notna()]
    if "fold" in table.columns:
        table = _trial_means(table, [x, y], metric)
        report.notes.append(f"Heatmap: {metric} of each set averaged over the folds.")
    nb = neighbourhood_stability(table, x, y, metric)
    report.neighbourhood = nb
    summary["neighbourhood"] = nb.best


def _pbo_part(
    found: dict[str, Any], report: Any, summary: dict[str, Any], blocks: int, stages: Any
) -> None:
    from omega.config import BacktestConfig
    from omega.research.robustness import block_performance, probability_of_backtest_overfitting
    from omega.runner import load_bars

    wf = found["wf"]
    if wf is None or blocks <= 0:
        if blocks > 0:
            report.notes.append(
                "PBO needs the search's data and grid: run validate-robustness on an "
                "omega walk-forward folder."
            )
        return
    if wf.get("symbols"):
        report.notes.append("PBO: not computed for a basket's walk-forward (one instrument only).")
        return
    config = BacktestConfig.from_dict(wf["config"])
    bars = load_bars(config)
    with stages.stage("PBO blocks", "blocks", total=blocks) as callback:
        matrix = block_performance(
            bars,
            wf["strategy"],
            wf["param_sets"],
            config.to_engine_settings(),
            n_blocks=blocks,
            backend=wf["backend"],
            progress=callback,
        )
    result = probability_of_backtest_overfitting(matrix, blocks, metric="mean")
    report.pbo = result
    summary["pbo"] = {
        "pbo": result.pbo,
        "prob_oos_loss": result.prob_oos_loss,
        "partitions": result.n_partitions,
        "combinations": result.n_combinations,
        "metric": "mean block return_pct",
    }


def _print_summary(summary: dict[str, Any], console: Any) -> None:
    from rich.table import Table

    from omega.report.html import format_metric

    shown = Table(title="Robustness", show_header=False)
    shown.add_column("statistic")
    shown.add_column("value", justify="right")
    mc = summary.get("monte_carlo")
    if mc:
        for q in ("p5", "p50", "p95"):
            row = mc["percentiles"][q]
            shown.add_row(f"MC {q} return %", f"{row['return_pct']:.2f}")
            shown.add_row(f"MC {q} max drawdown %", f"{row['max_drawdown_pct']:.2f}")
    dsr = summary.get("deflated_sharpe")
    if dsr:
        shown.add_row("trials", str(dsr["n_trials"]))
        shown.add_row("deflated Sharpe ratio", f"{dsr['dsr']:.4f}")
    nb = summary.get("neighbourhood")
    if nb:
        shown.add_row("neighbourhood stability", format_metric(nb["stability"]))
    pbo = summary.get("pbo")
    if pbo:
        shown.add_row("PBO", f"{pbo['pbo']:.3f}")
    console.print(shown)
