"""The issue's performance targets, judged from one run's figures (ratios side by side)."""

from __future__ import annotations

from typing import Any

from omega.bench.report import Row, Target
from omega.bench.workloads import PEER_WORKLOADS


def _find(rows: list[Row], workload: str, engine: str, bars: int | None = None) -> Row | None:
    for r in rows:
        if (r.workload, r.engine) == (workload, engine) and r.ok and bars in (None, r.bars):
            return r
    return None


def _ratio_target(name: str, ratio: float | None, limit: float, at_least: bool) -> Target:
    if ratio is None:
        return Target(name, "", None)
    met = ratio >= limit if at_least else ratio <= limit
    return Target(name, f"{ratio:.2f}x", met)


def evaluate_targets(rows: list[Row], peers: list[Row], micro: dict[str, Any]) -> list[Target]:
    out: list[Target] = []
    for workload in PEER_WORKLOADS:
        rust = _find(peers, workload, "rust")
        size = f" {rust.bars:,}" if rust else ""
        for peer, limit, label in (
            ("vectorbt", 3.0, "faster than vectorbt (rust engine)"),
            ("backtesting", 500.0, "faster than backtesting.py"),
        ):
            other = _find(peers, workload, peer)
            ratio = other.seconds / rust.seconds if rust and other else None
            out.append(_ratio_target(f"{workload}{size}: rust >= {limit:g}x {label}", ratio,
                                     limit, True))  # fmt: skip
        talib = _find(peers, workload, "talib")
        ratio = rust.seconds / talib.seconds if rust and talib else None
        out.append(_ratio_target(f"{workload}{size}: rust time <= 3x TA-Lib indicators alone",
                                 ratio, 3.0, False))  # fmt: skip

    for r in rows:
        if r.engine == "rust" and r.ok:
            out.append(
                Target(
                    f"{r.workload} {r.bars:,}: rust memory added per bar <= 32 B",
                    f"{r.added_per_bar:.1f} B",
                    r.added_per_bar <= 32,
                )
            )

    sizes = sorted({r.bars for r in rows if r.workload == "mean_reversion"})
    for n in sizes:
        python = _find(rows, "mean_reversion", "python", n)
        for mode, limit in (("rust", 100.0), ("hybrid", 2.0)):
            other = _find(rows, "mean_reversion", mode, n)
            ratio = python.seconds / other.seconds if python and other else None
            out.append(_ratio_target(f"mean_reversion {n:,}: {mode} >= {limit:g}x python",
                                     ratio, limit, True))  # fmt: skip
    if len(sizes) >= 2:
        small, large = sizes[0], sizes[-1]
        for mode in ("rust", "hybrid", "python"):
            a = _find(rows, "mean_reversion", mode, small)
            b = _find(rows, "mean_reversion", mode, large)
            limit = 1.1 * large / small
            ratio = b.seconds / a.seconds if a and b else None
            out.append(_ratio_target(f"{mode}: time {large:,} / time {small:,} <= {limit:g}",
                                     ratio, limit, False))  # fmt: skip
    for mode in ("rust", "hybrid", "python"):
        dense = _find(rows, "mean_reversion_dense", mode)
        base = _find(rows, "mean_reversion", mode, dense.bars if dense else None)
        ratio = None
        if dense and base:
            ratio = (dense.seconds / dense.bars) / (base.seconds / base.bars)
            trades = dense.data["trades"] / max(base.data["trades"], 1)
            name = f"{mode}: {trades:.1f}x the trades <= 1.5x the time per bar"
        else:
            name = f"{mode}: ~10x the trades <= 1.5x the time per bar"
        out.append(_ratio_target(name, ratio, 1.5, False))

    if sizes:
        n = sizes[-1]
        rust = _find(rows, "mean_reversion", "rust", n)
        python = _find(rows, "mean_reversion", "python", n)
        if rust:
            d = rust.data
            bound = 1.5 * d["input_bytes"] + d["baseline_bytes"]
            out.append(_ratio_target(f"mean_reversion {n:,}: rust peak RSS <= 1.5 input + "
                                     "baseline (peak / bound)", d["peak_bytes"] / bound,
                                     1.0, False))  # fmt: skip
        if rust and python:
            saving = 1 - rust.data["peak_bytes"] / python.data["peak_bytes"]
            out.append(
                Target(
                    f"mean_reversion {n:,}: rust peak RSS >= 70% below python",
                    f"{saving:.0%} below",
                    saving >= 0.70,
                )
            )

    if micro:
        seconds = micro["import_omega_s"]
        out.append(Target("import omega <= 0.3 s", f"{seconds:.4f} s", seconds <= 0.3))
        runner = micro["import_runner_s"]
        out.append(Target("(also) import omega.runner <= 0.3 s", f"{runner:.3f} s", runner <= 0.3))
        for case in micro["mt5"]:
            ratio = case["pandas_s"] / case["omega_s"]
            out.append(_ratio_target(f"{case['label']}: load >= 2x faster than pandas.read_csv",
                                     ratio, 2.0, True))  # fmt: skip
        pq = micro["parquet"]
        out.append(_ratio_target("Parquet reload <= 2x pyarrow alone",
                                 pq["omega_s"] / pq["pyarrow_s"], 2.0, False))  # fmt: skip
    return out
