"""`python -m omega.bench`: runs every measurement in fresh processes and prints the tables."""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np

from omega.bench.inputs import default_cache_root
from omega.bench.inputs import ensure_input as _ensure_in_process
from omega.bench.report import Row, mode_table, peer_table, table
from omega.bench.targets import evaluate_targets
from omega.bench.workloads import MODES, PEER_WORKLOADS, WORKLOADS


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
    folder = _ensure_in_process.__module__
    code = (
        f"import sys; from pathlib import Path; from {folder} import ensure_input; "
        f"print(ensure_input(Path(sys.argv[1]), {n_bars}, peer={peer}))"
    )
    proc = subprocess.run([sys.executable, "-c", code, str(cache)], capture_output=True,
                          text=True, check=True)  # fmt: skip
    return Path(proc.stdout.strip().splitlines()[-1])


def run_mode(workload: str, mode: str, folder: Path, repeat: int, **extra: Any) -> Row:
    spec = {"workload": workload, "mode": mode, "input": str(folder), "repeat": repeat, **extra}
    data, error = _child(["-m", "omega.bench.worker", json.dumps(spec)])
    n_bars = int(json.loads((folder / "meta.json").read_text())["n_bars"])
    return Row(workload, mode, n_bars, data, error)


def run_peer(peer: str, workload: str, folder: Path, trades_out: Path, repeat: int) -> Row:
    args = ["-m", "omega.peers", peer, workload, str(folder), str(trades_out)]
    data, error = _child(args, {"OMEGA_PEER_REPEAT": str(repeat), "TQDM_DISABLE": "1"})
    n_bars = int(json.loads((folder / "meta.json").read_text())["n_bars"])
    return Row(workload, peer, n_bars, data, error)


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m omega.bench", description=__doc__)
    parser.add_argument("--bars", type=int, nargs="+", default=[1_000_000, 10_000_000],
                        help="sizes of the mean_reversion workload (M1 bars)")  # fmt: skip
    parser.add_argument("--other-bars", type=int, default=1_000_000,
                        help="size of the other workloads and of the peer runs")  # fmt: skip
    parser.add_argument("--workloads", nargs="+", default=list(WORKLOADS), choices=list(WORKLOADS))
    parser.add_argument("--modes", nargs="+", default=list(MODES), choices=list(MODES))
    parser.add_argument("--peers", action="store_true", help="backtesting.py, vectorbt, TA-Lib")
    parser.add_argument("--repeat", type=int, default=3, help="best of N runs per process")
    parser.add_argument("--no-micro", action="store_true", help="skip import/loader timings")
    parser.add_argument(
        "--quick", action="store_true", help="smoke run: 3,000 bars, one repeat (not timing)"
    )
    parser.add_argument("--cache-dir", type=Path, default=None)
    parser.add_argument("--json", type=Path, default=None, help="write all figures as JSON")
    parser.add_argument("--markdown", type=Path, default=None, help="write the tables as Markdown")
    args = parser.parse_args(argv)
    if args.quick:
        args.bars, args.other_bars, args.repeat = [3_000], 3_000, 1
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    cache: Path = args.cache_dir or default_cache_root()
    cache.mkdir(parents=True, exist_ok=True)
    out: list[str] = []

    def emit(text: str = "") -> None:
        print(text, flush=True)
        out.append(text)

    emit(
        f"{datetime.date.today()}: {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, numpy {np.__version__}"
    )
    rows: list[Row] = []
    for workload in args.workloads:
        w = WORKLOADS[workload]
        sizes = args.bars if workload == "mean_reversion" else [args.other_bars]
        for n_bars in sizes:
            folder = ensure_input(cache, n_bars, peer=w.peer_input)
            group = [run_mode(workload, mode, folder, args.repeat) for mode in args.modes]
            rows += group
            emit(f"\n### {workload}, {n_bars:,} M1 bars\n")
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

    sweep: dict[str, Any] = {}
    if "mean_reversion" in args.workloads and "rust" in args.modes:
        sweep = run_sweep_case(args, cache, rows, emit)

    peer_rows: list[Row] = []
    if args.peers:
        peer_rows = run_peers(args, cache, rows, emit)

    micro: dict[str, Any] = {}
    if not args.no_micro:
        micro = run_micro(args, cache, emit)

    emit("\n### targets\n")
    targets = evaluate_targets(rows, peer_rows, micro)
    from omega.bench.report import targets_table

    emit(targets_table(targets))
    if args.json:
        everything = {
            "rows": [r.__dict__ for r in rows + traced + peer_rows],
            "micro": micro,
            "sweep": sweep,
            "targets": [t.__dict__ for t in targets],
        }
        args.json.write_text(json.dumps(everything, indent=2))
    if args.markdown:
        args.markdown.write_text("\n".join(out) + "\n")
    failed = [r for r in rows + traced + peer_rows if not r.ok]
    for r in failed:
        print(f"failed: {r.workload} {r.engine}: {r.error}", file=sys.stderr)
    return 1 if failed else 0


def run_sweep_case(args: argparse.Namespace, cache: Path, rows: list[Row], emit) -> dict[str, Any]:
    """The sweep table: one `run_sweep` call against a `run_rust` call per set, and the python
    mode's time per run (from the mode table) times the sets."""
    folder = ensure_input(cache, args.other_bars, peer=False)
    data, error = _child(["-m", "omega.bench.sweeps", json.dumps({"input": str(folder)})])
    if error:
        print(f"failed: sweep: {error}", file=sys.stderr)
        return {"error": error}
    sets, sweep_s = data["sets"], data["sweep_seconds"]
    python = next(
        (r for r in rows if r.workload == "mean_reversion" and r.engine == "python"
         and r.bars == data["bars"] and r.ok),
        None,
    )  # fmt: skip
    cells = [
        [
            f"{sets}",
            f"{sweep_s:.3f}",
            f"{sweep_s / sets * 1e3:.1f}",
            f"{data['single_runs_seconds'] / sets * 1e3:.1f}",
            f"{data['single_runs_seconds'] / sweep_s:.1f}x",
            f"{python.seconds * sets / sweep_s:.0f}x" if python else "-",
        ]
    ]
    emit(f"\n### parameter sweep: mean_reversion, {data['bars']:,} M1 bars\n")
    header = ["sets", "sweep s", "ms per set", "ms per single rust run",
              "sweep vs single runs", "sweep vs python mode"]  # fmt: skip
    emit(table(header, cells))
    return data


def run_peers(args: argparse.Namespace, cache: Path, rows: list[Row], emit) -> list[Row]:
    from omega.peers.compare import compare_trades

    peer_rows: list[Row] = []
    for workload in PEER_WORKLOADS:
        folder = ensure_input(cache, args.other_bars, peer=True)
        omega_trades = cache / f"trades-omega-{workload}-{args.other_bars}.npy"
        rust = run_mode(workload, "rust", folder, args.repeat, trades_out=str(omega_trades))
        group = [rust]
        comparisons: dict[str, str] = {}
        last_open = int(np.load(folder / "time.npy", mmap_mode="r")[-1])
        for peer in ("talib", "vectorbt", "vectorbt_numba", "backtesting"):
            trades_out = cache / f"trades-{peer}-{workload}-{args.other_bars}.npy"
            trades_out.unlink(missing_ok=True)
            row = run_peer(peer, workload, folder, trades_out, args.repeat)
            group.append(row)
            if row.ok and trades_out.exists() and rust.ok:
                result = compare_trades(np.load(omega_trades), np.load(trades_out), last_open)
                comparisons[peer] = result.summary()
        peer_rows += group
        emit(f"\n### peers: {workload}, {args.other_bars:,} M1 bars (bid only, no fees)\n")
        cells = {
            p: t if t.startswith("identical") else "no (below)" for p, t in comparisons.items()
        }
        emit(peer_table(group, cells))
        for peer, text in comparisons.items():
            if not text.startswith("identical"):
                emit(f"\n{peer}: {text}")
    return peer_rows


def run_micro(args: argparse.Namespace, cache: Path, emit) -> dict[str, Any]:
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
