"""Tables (Markdown pipe tables: readable in a terminal, pasted as-is into the docs) and the
performance goals, each judged met or missed with its measured ratio."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

MIB = 2**20
OMEGA_CALL = "omega.run_backtest(config, bars=bars)"
ENGINE_CALL = "omega.engine.rust.run_rust (engine only, breakdown)"


@dataclass
class Row:
    """One timed run: an Omega mode or a peer, as the worker reported it."""

    workload: str
    engine: str  # an Omega mode, or a peer name
    bars: int
    data: dict[str, Any]
    error: str = ""

    @property
    def ok(self) -> bool:
        return not self.error

    @property
    def seconds(self) -> float:
        return self.data["seconds"]

    @property
    def added_per_bar(self) -> float:
        return (self.data["peak_bytes"] - self.data["loaded_bytes"]) / self.bars


def table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
    lines = ["| " + " | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)) + " |"]
    lines.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for r in rows:
        cells = [r[0].ljust(widths[0])] + [
            c.rjust(w) for c, w in zip(r[1:], widths[1:], strict=True)
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def mode_table(rows: list[Row]) -> str:
    """End to end through `run_backtest` per mode, the engine call alone as a breakdown."""
    python = next((r for r in rows if r.engine == "python" and r.ok), None)
    body = []
    for r in rows:
        if not r.ok:
            body.append([r.engine, f"{r.bars:,}", "failed", r.error[:60], *[""] * 9])
            continue
        d = r.data
        speedup = f"{python.seconds / r.seconds:.1f}x" if python else "n/a"
        body.append(
            [
                r.engine,
                f"{r.bars:,}",
                f"{r.seconds:.3f}",
                f"{r.bars / r.seconds:,.0f}",
                speedup,
                f"{d['engine_seconds']:.3f}",
                f"{d['engine_seconds'] / r.seconds:.0%}",
                f"{d['frames_seconds']:.3f}",
                f"{d['trades']:,}",
                f"{d['baseline_bytes'] / MIB:.0f}",
                f"{d['input_bytes'] / MIB:.0f}",
                f"{d['peak_bytes'] / MIB:.0f}",
                f"{r.added_per_bar:.1f}",
            ]
        )
    header = ["mode", "bars", "run_backtest s", "bars/s", "vs python", "engine s",
              "engine share", "first .trades+.equity s", "trades", "baseline MiB", "input MiB",
              "peak RSS MiB", "added B/bar"]  # fmt: skip
    return table(header, body)


def peer_table(rows: list[Row], comparisons: dict[str, str]) -> str:
    """Omega's rust mode end to end (and its engine alone), then each peer: its version, the
    call, the index type, its time end to end and how many times Omega's it is."""
    omega = next((r for r in rows if r.engine == "rust" and r.ok), None)
    body = []
    if omega is not None:
        d = omega.data
        body.append(["omega rust", d.get("version", "omega"), OMEGA_CALL, "BarSeries (int64 ns)",
                     f"{omega.seconds:.4f}", "1.00", f"{d['trades']:,}",
                     f"{d['peak_bytes'] / MIB:.0f}", ""])  # fmt: skip
        body.append(["omega rust", "", ENGINE_CALL, "", f"{d['engine_seconds']:.4f}",
                     f"{d['engine_seconds'] / omega.seconds:.2f}", "", "", ""])  # fmt: skip
    for r in rows:
        if r.engine == "rust":
            continue
        if not r.ok:
            body.append([r.engine, "", "failed", r.error[:70], "", "", "", "", ""])
            continue
        d = r.data
        approximate = d.get("approximate", False)
        ratio = "-" if approximate or omega is None else f"{r.seconds / omega.seconds:.2f}"
        if d["trades"] < 0:
            trades, same = "", "indicators only"
        else:
            trades = f"{d['trades']:,}"
            same = "approximate, not compared" if approximate else comparisons.get(r.engine, "")
        body.append([r.engine, d["version"], d["call"], d["index"], f"{r.seconds:.4f}", ratio,
                     trades, f"{d['peak_bytes'] / MIB:.0f}", same])  # fmt: skip
    header = ["engine", "version", "call", "index", "time s", "time / omega run_backtest",
              "trades", "peak RSS MiB", "same trades as omega"]  # fmt: skip
    return table(header, body)


def sweep_table(runs: list[dict[str, Any]], trades_equal: str) -> str:
    omega = next((r for r in runs if r["engine"] == "omega"), None)
    body = []
    for r in runs:
        rate = r["sets"] * r["bars"] / r["seconds"]
        ratio = f"{r['seconds'] / omega['seconds']:.1f}" if omega else "-"
        body.append([r["engine"], r["version"], r["call"], f"{r['sets']}", f"{r['bars']:,}",
                     f"{r['seconds']:.3f}", f"{rate / 1e6:,.1f}M", ratio,
                     f"{r['peak_bytes'] / MIB:.0f}",
                     "" if r["engine"] == "omega" else trades_equal])  # fmt: skip
        if "simulation_seconds" in r:
            sim = r["simulation_seconds"]
            body.append([r["engine"], "", "of which Portfolio.from_signals alone", "", "",
                         f"{sim:.3f}", f"{r['sets'] * r['bars'] / sim / 1e6:,.1f}M",
                         f"{sim / omega['seconds']:.1f}" if omega else "-", "", ""])  # fmt: skip
    header = ["engine", "version", "call", "sets", "bars", "wall s", "bar-evaluations/s",
              "time / omega", "peak RSS MiB", "trades per set equal to omega's"]  # fmt: skip
    return table(header, body)


def cli_table(data: dict[str, Any]) -> str:
    cli, pandas = data["cli_median"], data["pandas_median"]
    body = [
        [data["cli_command"], f"{cli:.3f}", f"{min(data['cli_seconds']):.3f}",
         f"{max(data['cli_seconds']):.3f}", f"{cli / pandas:.2f}x"],
        ['python -c "import pandas"', f"{pandas:.3f}", f"{min(data['pandas_seconds']):.3f}",
         f"{max(data['pandas_seconds']):.3f}", "1.00x"],
    ]  # fmt: skip
    header = [f"fresh process (median of {data['runs']}, alternating)", "median s", "min s",
              "max s", "vs import pandas"]  # fmt: skip
    return table(header, body)


@dataclass
class Target:
    name: str
    measured: str
    met: bool | None  # None: not measured in this run
    detail: dict[str, Any] = field(default_factory=dict)

    def cells(self) -> list[str]:
        verdict = {True: "met", False: "MISSED", None: "not measured"}[self.met]
        return [self.name, self.measured, verdict]


def targets_table(targets: list[Target]) -> str:
    return table(["goal", "measured", "verdict"], [t.cells() for t in targets])
