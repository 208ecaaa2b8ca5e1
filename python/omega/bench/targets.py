"""The performance goals, judged from one run's figures (ratios measured side by side).

- `run_backtest` in rust mode >= 3x faster than vectorbt's Rust engine end to end, on
  sma_cross and zscore_threshold;
- `run_backtest` rust >= 50x python mode on the default workload, at every size measured;
- `omega backtest` (fresh process, default config, all outputs) <= 2x `import pandas`;
- `run_sweep` on the SMA-cross grid >= 450M bar-evaluations/s and >= 100x vectorbt
  broadcasting the same grid;
- memory added per bar through `run_backtest` (rust mode) <= 32 B on every workload.
"""

from __future__ import annotations

from typing import Any

from omega.bench.report import Row, Target
from omega.bench.workloads import PEER_WORKLOADS

SWEEP_RATE = 450e6
MEMORY_PER_BAR = 32.0


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


def evaluate_targets(
    rows: list[Row],
    peers: list[Row],
    cli: dict[str, Any] | None = None,
    sweep: list[dict[str, Any]] | None = None,
) -> list[Target]:
    out: list[Target] = []
    for workload in PEER_WORKLOADS:
        omega = _find(peers, workload, "rust")
        vbt = _find(peers, workload, "vectorbt")
        size = f" {omega.bars:,}" if omega else ""
        ratio = vbt.seconds / omega.seconds if omega and vbt else None
        name = (f"{workload}{size}: run_backtest rust >= 3x faster than vectorbt (Rust engine) "
                "end to end")  # fmt: skip
        out.append(_ratio_target(name, ratio, 3.0, True))

    sizes = sorted({r.bars for r in rows if r.workload == "mean_reversion"})
    for n in sizes or [None]:
        python = _find(rows, "mean_reversion", "python", n)
        rust = _find(rows, "mean_reversion", "rust", n)
        ratio = python.seconds / rust.seconds if python and rust else None
        label = f" {n:,}" if n else ""
        out.append(_ratio_target(f"mean_reversion{label}: run_backtest rust >= 50x python mode",
                                 ratio, 50.0, True))  # fmt: skip

    if cli:
        ratio = cli["cli_median"] / cli["pandas_median"]
        out.append(_ratio_target("omega backtest (fresh process) <= 2x python -c 'import pandas'",
                                 ratio, 2.0, False))  # fmt: skip
    else:
        out.append(Target("omega backtest (fresh process) <= 2x python -c 'import pandas'", "",
                          None))  # fmt: skip

    runs = {r["engine"]: r for r in sweep or []}
    omega_sweep = runs.get("omega")
    name = "run_sweep sma_cross >= 450M bar-evaluations/s"
    if omega_sweep:
        rate = omega_sweep["sets"] * omega_sweep["bars"] / omega_sweep["seconds"]
        out.append(Target(name, f"{rate / 1e6:,.1f}M/s", rate >= SWEEP_RATE))
    else:
        out.append(Target(name, "", None))
    vbt_sweep = runs.get("vectorbt")
    ratio = vbt_sweep["seconds"] / omega_sweep["seconds"] if omega_sweep and vbt_sweep else None
    out.append(_ratio_target("run_sweep >= 100x vectorbt broadcasting the same grid", ratio,
                             100.0, True))  # fmt: skip

    for r in rows:
        if r.engine == "rust" and r.ok:
            out.append(
                Target(
                    f"{r.workload} {r.bars:,}: memory added per bar through run_backtest "
                    f"(rust) <= {MEMORY_PER_BAR:g} B",
                    f"{r.added_per_bar:.1f} B",
                    r.added_per_bar <= MEMORY_PER_BAR,
                )
            )
    return out
