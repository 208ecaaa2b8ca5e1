"""Tables (Markdown pipe tables: readable in a terminal, pasted as-is into the docs) and the
issue's targets, each judged met or missed with its measured ratio."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

MIB = 2**20


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
    python = next((r for r in rows if r.engine == "python" and r.ok), None)
    body = []
    for r in rows:
        if not r.ok:
            body.append([r.engine, f"{r.bars:,}", "failed", r.error[:60], "", "", "", "", "", ""])
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
                f"{d['trades']:,}",
                f"{d['baseline_bytes'] / MIB:.0f}",
                f"{d['input_bytes'] / MIB:.0f}",
                f"{d['peak_bytes'] / MIB:.0f}",
                f"{r.added_per_bar:.1f}",
            ]
        )
    header = ["mode", "bars", "time s", "bars/s", "vs python", "trades", "baseline MiB",
              "input MiB", "peak RSS MiB", "added B/bar"]  # fmt: skip
    return table(header, body)


def peer_table(rows: list[Row], comparisons: dict[str, str]) -> str:
    rust = next((r for r in rows if r.engine == "rust" and r.ok), None)
    body = []
    for r in rows:
        if not r.ok:
            body.append([r.engine, "failed", r.error[:60], "", "", ""])
            continue
        ratio = f"{r.seconds / rust.seconds:.2f}" if rust else "n/a"
        trades = "" if r.data["trades"] < 0 else f"{r.data['trades']:,}"
        body.append(
            [
                r.engine,
                f"{r.seconds:.4f}",
                ratio,
                trades,
                f"{r.data['peak_bytes'] / MIB:.0f}",
                comparisons.get(r.engine, ""),
            ]
        )
    header = ["engine", "time s", "time / omega rust", "trades", "peak RSS MiB",
              "same trades as omega rust"]  # fmt: skip
    return table(header, body)


@dataclass
class Target:
    name: str
    measured: str
    met: bool | None  # None: not measured in this run

    def cells(self) -> list[str]:
        verdict = {True: "met", False: "MISSED", None: "not measured"}[self.met]
        return [self.name, self.measured, verdict]


def targets_table(targets: list[Target]) -> str:
    return table(["target", "measured", "verdict"], [t.cells() for t in targets])
