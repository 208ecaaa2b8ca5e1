"""Golden backtests: every case of tests/golden/cases.yaml, in every available engine mode,
must reproduce the stored trade list (canonical text, sha256) and key metrics exactly.

Regenerate the files only with scripts/regen_golden.py, after reviewing the change
(docs/dev/golden.md).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from omega.results.golden import compare_golden, load_cases, real_data_dir
from omega.runner import probe_backend, run_backtest

REPO = Path(__file__).resolve().parent.parent
GOLDEN = REPO / "tests" / "golden"
CASES = load_cases(GOLDEN / "cases.yaml")
MODES = ("python", "hybrid", "rust")


@pytest.fixture(scope="module")
def backend():
    return probe_backend()


def _skip_unless_available(mode: str, strategy: str, backend) -> None:
    if mode == "python":
        return
    if not backend.core_available:
        pytest.skip(f"{mode} mode: omega._core not available ({backend.detail})")
    if mode == "rust" and strategy not in backend.rust_strategies:
        pytest.skip(f"rust mode: strategy {strategy!r} has no Rust implementation")


def test_every_case_has_golden_files():
    for case in CASES:
        for suffix in (".json", ".trades.csv"):
            assert (GOLDEN / f"{case.name}{suffix}").is_file(), (
                f"missing {case.name}{suffix}: run scripts/regen_golden.py --write"
            )


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_golden(case, mode, backend):
    data_dir = real_data_dir(REPO)
    if case.real_data and data_dir is None:
        pytest.skip("real FX data not found (../shared/data or OMEGA_REAL_DATA)")
    config = case.config(REPO, data_dir).apply_overrides([f"engine={mode}"])
    _skip_unless_available(mode, config.strategy.name, backend)
    # OMEGA_STRICT: a failing Rust path must fail here, not fall back and pass as python.
    result = run_backtest(config, env={"OMEGA_STRICT": "1"}, backend=backend)
    assert result.mode == mode
    problems = compare_golden(GOLDEN, case, result)
    assert not problems, f"golden case {case.name} in {mode} mode differs:\n  " + "\n  ".join(
        problems
    )


def test_the_intrabar_policy_cases_really_differ():
    # Otherwise the three cases would pin one behaviour three times.
    import json

    hashes = {
        json.loads((GOLDEN / f"policy_{p}.json").read_text())["trades_sha256"]
        for p in ("pessimistic", "optimistic", "finer")
    }
    assert len(hashes) == 3
