"""Golden backtests: reference runs whose trade lists and key metrics are pinned in files.

The cases live in ``tests/golden/cases.yaml``; ``scripts/regen_golden.py`` (the only writer)
runs them in ``python`` mode and stores ``<name>.trades.csv`` (canonical text) and
``<name>.json`` (hash, counts, key metrics); ``tests/test_golden.py`` reruns every case in every
available mode and compares exactly. See docs/dev/golden.md.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from omega.config import BacktestConfig, default_config
from omega.results.canonical import canonical_trades_text
from omega.results.result import BacktestResult, json_safe

# Metrics pinned in the JSON file: all are exact (fsum-based), see omega.results.metrics.
KEY_METRICS = (
    "final_balance",
    "net_profit",
    "max_drawdown",
    "max_drawdown_pct",
    "max_drawdown_duration_bars",
    "sharpe",
    "sortino",
    "win_rate",
    "profit_factor",
    "expectancy",
    "exposure",
    "total_fees",
    "ignored_signals",
    "dropped_orders",
    "skipped_orders",
    "exit_reasons",
)


@dataclass(frozen=True)
class GoldenCase:
    name: str
    description: str
    config_file: str | None = None  # relative to the repository root
    real_data: str | None = None  # folder under the real-data directory
    overrides: list[str] = field(default_factory=list)

    def config(self, repo_root: Path, real_data_dir: Path | None) -> BacktestConfig:
        base = (
            BacktestConfig.from_file(repo_root / self.config_file)
            if self.config_file
            else default_config()
        )
        if self.real_data is not None:
            if real_data_dir is None:
                raise FileNotFoundError(f"case {self.name} needs the real data directory")
            base = base.with_data_file(str(real_data_dir / self.real_data))
        return base.apply_overrides(self.overrides) if self.overrides else base


def load_cases(path: Path) -> list[GoldenCase]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return [
        GoldenCase(
            name=name,
            description=spec.get("description", ""),
            config_file=spec.get("config"),
            real_data=spec.get("real_data"),
            overrides=list(spec.get("overrides", [])),
        )
        for name, spec in data["cases"].items()
    ]


def real_data_dir(repo_root: Path) -> Path | None:
    """env OMEGA_REAL_DATA, else <repo>/../shared/data; None where absent."""
    env = os.environ.get("OMEGA_REAL_DATA")
    path = Path(env) if env else repo_root.parent / "shared" / "data"
    return path if path.is_dir() else None


def golden_record(case: GoldenCase, result: BacktestResult) -> dict[str, Any]:
    raw = result.raw
    return json_safe(
        {
            "case": case.name,
            "description": case.description,
            "trades_sha256": result.trades_sha256,
            "n_trades": raw.n_trades,
            "bars_processed": raw.bars_processed,
            "base_bars": raw.base_bars,
            "metrics": {key: result.metrics[key] for key in KEY_METRICS},
        }
    )


def write_golden(folder: Path, case: GoldenCase, result: BacktestResult) -> None:
    from omega.results.atomic import write_atomic

    write_atomic(folder / f"{case.name}.trades.csv", canonical_trades_text(result.raw))
    record = json.dumps(golden_record(case, result), indent=2, allow_nan=False) + "\n"
    write_atomic(folder / f"{case.name}.json", record)


def compare_golden(folder: Path, case: GoldenCase, result: BacktestResult) -> list[str]:
    """Human-readable differences from the stored golden files (empty when identical)."""
    expected = json.loads((folder / f"{case.name}.json").read_text(encoding="utf-8"))
    expected_text = (folder / f"{case.name}.trades.csv").read_text(encoding="utf-8")
    actual = golden_record(case, result)
    actual_text = canonical_trades_text(result.raw)
    problems = []
    for key in ("n_trades", "bars_processed", "base_bars", "trades_sha256"):
        if expected[key] != actual[key]:
            problems.append(f"{key}: expected {expected[key]!r}, got {actual[key]!r}")
    if expected_text != actual_text:
        problems.append(_first_trade_difference(expected_text, actual_text))
    for key in KEY_METRICS:
        want, got = expected["metrics"].get(key), actual["metrics"][key]
        if want != got:
            problems.append(f"metrics.{key}: expected {want!r}, got {got!r}")
    return problems


def _first_trade_difference(expected: str, actual: str) -> str:
    want, got = expected.splitlines(), actual.splitlines()
    for line, (a, b) in enumerate(zip(want, got, strict=False)):
        if a != b:
            header = want[0].split(",")
            cells = [
                f"{name}: {x} != {y}"
                for name, x, y in zip(header, a.split(","), b.split(","), strict=False)
                if x != y
            ]
            return (
                f"first differing trade: row {line} (of {len(want) - 1} expected, "
                f"{len(got) - 1} got): {'; '.join(cells)}"
            )
    return f"trade lists agree on {min(len(want), len(got)) - 1} rows, then differ in length"
