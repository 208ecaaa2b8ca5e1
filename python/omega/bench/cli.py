"""`python -m omega.bench`: runs every measurement in fresh processes and prints the tables.

Primary figures are what users call: `omega.run_backtest(config, bars=bars)` per engine mode
(the engine call alone is a breakdown column), `omega backtest` as a fresh process next to
`python -c "import pandas"`, and `omega.sweep.run_sweep`. With ``--peers``: vectorbt (Rust
and numba engines), raptorbt, backtesting.py and TA-Lib on the peer workloads, and vectorbt
broadcasting the sweep's grid. Then the verdict per performance goal.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from omega.bench.inputs import default_cache_root
from omega.bench.inputs import ensure_input as _ensure_in_process
from omega.bench.report import (
    Row,
    cli_table,
    mode_table,
    peer_table,
    sweep_table,
    table,
    targets_table,
)
from omega.bench.targets import evaluate_targets
from omega.bench.workloads import MODES, PEER_WORKLOADS, WORKLOADS

Emit = Callable[[str], None]
PEER_ORDER = ("vectorbt", "vectorbt_numba", "raptorbt", "backtesting", "talib")


def _child(args: list[str], env: dict[str, str] | None = None) -> tuple[dict[str, Any], str]:
    proc = subprocess.run(
        [sys.executable, *args],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, **(env or {})},
    )
    lines = proc.stdout.strip().splitlines()
    if proc.returncode != 0 or not lines:
        tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        return {}, tail
    return json.loads(lines[-1]), ""


def ensure_input(cache: Path, n_bars: int, *, peer: bool) -> Path:
    """Writes an input in a child process, so the parent never holds the generator's
    temporaries (several GiB at 10M bars) while it runs the timed children."""
    module = _ensure_in_process.__module__
    code = (
        f"import sys; from pathlib import Path; from {module} import ensure_input; "
        f"print(ensure_input(Path(sys.argv[1]), {n_bars}, peer={peer}))"
    )
    proc = subprocess.run([sys.executable, "-c", code, str(cache)], capture_output=True,
                          text=True, check=True)  # fmt: skip
    return Path(proc.stdout.strip().splitlines()[-1])


def _n_bars(folder: Path) -> int:
    return int(json.loads((folder / "meta.json").read_text())["n_bars"])


def run_mode(workload: str, mode: str, folder: Path, repeat: int, **extra: Any) -> Row:
    spec = {"workload": workload, "mode": mode, "input": str(folder), "repeat": repeat, **extra}
    data, error = _child(["-m", "omega.bench.worker", json.dumps(spec)])
    return Row(workload, mode, _n_bars(folder), data, error)


def run_peer(peer: str, workload: str, folder: Path, trades_out: Path, repeat: int) -> Row:
    args = ["-m", "omega.peers", peer, workload, str(folder), str(trades_out)]
    env = {"OMEGA_PEER_REPEAT": str(repeat), "TQDM_DISABLE": "1", "RAPTORBT_NO_VERSION_CHECK": "1"}
    data, error = _child(args, env)
    return Row(workload, peer, _n_bars(folder), data, error)


def git_commit() -> str:
    """The checkout's commit (with ``+changes`` when the tree differs from it), if any."""
    root = Path(__file__).resolve().parents[3]
    try:
        git = ["git", "-C", str(root)]
        options: dict[str, Any] = {"capture_output": True, "text": True, "check": True}
        head = subprocess.run([*git, "rev-parse", "--short", "HEAD"], **options).stdout.strip()
        status = [*git, "status", "--porcelain", "--untracked-files=no"]
        dirty = subprocess.run(status, **options).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + ("+changes" if dirty else "")


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m omega.bench", description=__doc__)
    parser.add_argument("--bars", type=int, nargs="+", default=[1_000_000, 10_000_000],
                        help="sizes of the default (mean_reversion) workload, M1 bars")  # fmt: skip
    parser.add_argument("--other-bars", type=int, default=1_000_000,
                        help="size of the other workloads and of the peer runs")  # fmt: skip
    parser.add_argument("--sweep-bars", type=int, default=200_000,
                        help="M1 bars of the sweep (210 SMA-cross sets)")  # fmt: skip
    parser.add_argument("--workloads", nargs="+", default=list(WORKLOADS), choices=list(WORKLOADS))
    parser.add_argument("--modes", nargs="+", default=list(MODES), choices=list(MODES))
    parser.add_argument(
        "--peers",
        action="store_true",
        help="vectorbt, raptorbt, backtesting.py, TA-Lib; vectorbt's sweep",
    )
    parser.add_argument("--repeat", type=int, default=3, help="best of N runs per process")
    parser.add_argument("--cli-runs", type=int, default=5,
                        help="fresh `omega backtest` processes (median)")  # fmt: skip
    parser.add_argument("--no-cli", action="store_true", help="skip the CLI timing")
    parser.add_argument("--no-sweep", action="store_true", help="skip the sweep table")
    parser.add_argument("--no-micro", action="store_true", help="skip import/loader timings")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="smoke run: 3,000 bars, one repeat (tooling, not timing)",
    )
    parser.add_argument("--cache-dir", type=Path, default=None)
    parser.add_argument("--json", type=Path, default=None, help="write all figures as JSON")
    parser.add_argument("--markdown", type=Path, default=None, help="write the tables as Markdown")
    args = parser.parse_args(argv)
    if args.quick:
        args.bars, args.other_bars, args.sweep_bars = [3_000], 3_000, 3_000
        args.repeat, args.cli_runs = 1, 1
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    cache: Path = args.cache_dir or default_cache_root()
    cache.mkdir(parents=True, exist_ok=True)
    out: list[str] = []

    def emit(text: str = "") -> None:
        print(text, flush=True)
        out.append(text)

    load = os.getloadavg()
    emit(
        f"{datetime.date.today()}: commit {git_commit()}, {platform.machine()}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}, numpy {np.__version__}; "
        f"load average at start {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"
    )
    rows: list[Row] = []
    trades_files: dict[str, Path] = {}
    for workload in args.workloads:
        w = WORKLOADS[workload]
        sizes = args.bars if workload == "mean_reversion" else [args.other_bars]
        for n_bars in sizes:
            folder = ensure_input(cache, n_bars, peer=w.peer_input)
            group = []
            for mode in args.modes:
                extra: dict[str, Any] = {}
                if w.peer_input and mode == "rust":  # the peers' trades are compared with these
                    trades_files[workload] = cache / f"trades-omega-{workload}-{n_bars}.npy"
                    extra["trades_out"] = str(trades_files[workload])
                group.append(run_mode(workload, mode, folder, args.repeat, **extra))
            rows += group
            emit(f"\n### {workload}, {n_bars:,} M1 bars: omega.run_backtest per mode\n")
            emit(mode_table(group))

    traced: list[Row] = []
    if "mean_reversion" in args.workloads:
        folder = ensure_input(cache, args.other_bars, peer=False)
        traced = [run_mode("mean_reversion", m, folder, 1, tracemalloc=True) for m in args.modes]
        emit(f"\n### tracemalloc peak (Python allocations), mean_reversion {args.other_bars:,}\n")
        emit(
            table(
                ["mode", "traced peak MiB"],
                [[r.engine, f"{r.data.get('traced_peak_bytes', 0) / 2**20:.1f}"] for r in traced],
            )
        )

    peer_rows: list[Row] = []
    if args.peers:
        peer_rows = run_peers(args, cache, rows, trades_files, emit)

    cli: dict[str, Any] = {}
    if not args.no_cli:
        cli, error = _child(["-m", "omega.bench.process", str(args.cli_runs)])
        if error:
            emit(f"\nCLI timing failed: {error}")
        else:
            emit("\n### omega backtest as a fresh process, next to import pandas\n")
            emit(cli_table(cli))
            emit(f"\nfiles written by each run: {', '.join(cli['files'])}")

    sweep: list[dict[str, Any]] = []
    if not args.no_sweep:
        sweep = run_sweeps(args, cache, emit)

    micro: dict[str, Any] = {}
    if not args.no_micro:
        micro = run_micro(args, cache, emit)

    emit("\n### goals\n")
    targets = evaluate_targets(rows, peer_rows, cli, sweep)
    emit(targets_table(targets))
    load = os.getloadavg()
    emit(f"\nload average at the end {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    if args.json:
        everything = {
            "rows": [r.__dict__ for r in rows + traced + peer_rows],
            "cli": cli,
            "sweep": sweep,
            "micro": micro,
            "targets": [t.__dict__ for t in targets],
        }
        args.json.write_text(json.dumps(everything, indent=2))
    if args.markdown:
        args.markdown.write_text("\n".join(out) + "\n")
    failed = [r for r in rows + traced + peer_rows if not r.ok]
    for r in failed:
        print(f"failed: {r.workload} {r.engine}: {r.error}", file=sys.stderr)
    return 1 if failed else 0


def run_peers(
    args: argparse.Namespace,
    cache: Path,
    rows: list[Row],
    trades_files: dict[str, Path],
    emit: Emit,
) -> list[Row]:
    """Each peer on each peer workload, next to Omega's rust-mode row of the mode table (or a
    fresh one when the mode table did not run it); trades compared where the rules match."""
    from omega.peers.compare import compare_trades

    peer_rows: list[Row] = []
    for workload in PEER_WORKLOADS:
        folder = ensure_input(cache, args.other_bars, peer=True)
        omega = next((r for r in rows if (r.workload, r.engine) == (workload, "rust")), None)
        if omega is None or workload not in trades_files:
            trades_files[workload] = cache / f"trades-omega-{workload}-{args.other_bars}.npy"
            omega = run_mode(workload, "rust", folder, args.repeat,
                             trades_out=str(trades_files[workload]))  # fmt: skip
        group = [omega]
        comparisons: dict[str, str] = {}
        last_open = int(np.load(folder / "time.npy", mmap_mode="r")[-1])
        for peer in PEER_ORDER:
            trades_out = cache / f"trades-{peer}-{workload}-{args.other_bars}.npy"
            trades_out.unlink(missing_ok=True)
            row = run_peer(peer, workload, folder, trades_out, args.repeat)
            group.append(row)
            if row.ok and trades_out.exists() and omega.ok and not row.data.get("approximate"):
                ours, theirs = np.load(trades_files[workload]), np.load(trades_out)
                comparisons[peer] = compare_trades(ours, theirs, last_open).summary()
        peer_rows += group
        emit(f"\n### peers: {workload}, {args.other_bars:,} M1 bars (bid only, no fees), "
             "end to end from numpy columns to trades\n")  # fmt: skip
        cells = {
            p: t if t.startswith("identical") else "no (below)" for p, t in comparisons.items()
        }
        emit(peer_table(group, cells))
        for peer, text in comparisons.items():
            if not text.startswith("identical"):
                emit(f"\n{peer}: {text}")
    return peer_rows


def run_sweeps(args: argparse.Namespace, cache: Path, emit: Emit) -> list[dict[str, Any]]:
    """Omega's run_sweep and (with --peers) vectorbt broadcasting the same grid, one after the
    other, each in a fresh process."""
    folder = ensure_input(cache, args.sweep_bars, peer=True)
    engines = ["omega", "vectorbt"] if args.peers else ["omega"]
    runs: list[dict[str, Any]] = []
    for engine in engines:
        spec = json.dumps({"engine": engine, "input": str(folder)})
        data, error = _child(["-m", "omega.bench.sweeps", spec])
        if error:
            emit(f"\nsweep ({engine}) failed: {error}")
            continue
        runs.append(data)
    if not runs:
        return runs
    trades_equal = ""
    omega = next((r for r in runs if r["engine"] == "omega"), None)
    vbt = next((r for r in runs if r["engine"] == "vectorbt"), None)
    if omega and vbt:
        same = sum(a == b for a, b in zip(omega["trades"], vbt["trades"], strict=True))
        trades_equal = f"{same} of {len(omega['trades'])}"
    emit(f"\n### parameter sweep: sma_cross, {runs[0]['sets']} sets (every fast < slow pair of "
         f"21 windows), {runs[0]['bars']:,} M1 bars\n")  # fmt: skip
    emit(sweep_table(runs, trades_equal))
    return runs


def run_micro(args: argparse.Namespace, cache: Path, emit: Emit) -> dict[str, Any]:
    size = 3_000 if args.quick else 1_000_000
    micro, error = _child(["-m", "omega.bench.micro", str(cache), str(size), str(size)])
    if error:
        emit(f"\nimport/loader timings failed: {error}")
        return {}
    emit("\n### import and loading (best of several runs)\n")
    body = [
        ["import omega (fresh process)", f"{micro['import_omega_s']:.4f}", "", ""],
        ["import omega.runner (what a backtest loads)", f"{micro['import_runner_s']:.4f}", "", ""],
    ]
    for case in micro["mt5"]:
        body.append(
            [
                f"{case['label']}, {case['rows']:,} rows: omega.load vs pandas.read_csv",
                f"{case['omega_s']:.4f}",
                f"{case['pandas_s']:.4f}",
                f"{case['pandas_s'] / case['omega_s']:.2f}x faster",
            ]
        )
    pq = micro["parquet"]
    body.append(
        [
            f"Parquet {pq['rows']:,} rows: omega.load vs pyarrow.parquet.read_table",
            f"{pq['omega_s']:.4f}",
            f"{pq['pyarrow_s']:.4f}",
            f"{pq['omega_s'] / pq['pyarrow_s']:.2f}x the time",
        ]
    )
    emit(table(["measurement", "omega s", "other s", "ratio"], body))
    return micro
