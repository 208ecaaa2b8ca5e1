"""Exact parity of the three engine modes on 200 seeded configurations (the CI run).

`nox -s parity -- --count N` runs more. A mismatch prints the first divergent bar and the
decision traces around it.
"""

from __future__ import annotations

import io

import pytest

from omega.parity import ParityCase, compare_runs, features, generate_cases, run_parity

CI_CONFIGURATIONS = 200


def test_case_generation_is_seeded_and_varied():
    first = list(generate_cases(50, seed=3))
    again = list(generate_cases(50, seed=3))
    assert first == again
    assert {c.strategy for c in first} == {
        "mean_reversion_z_score",
        "sma_cross",
        "zscore_threshold",
    }
    assert {c.settings.intrabar_policy for c in first} == {"pessimistic", "optimistic", "finer"}
    assert {c.settings.slippage.model for c in first} == {"none", "fixed", "random", "atr"}
    assert {c.settings.sizing.mode for c in first} == {"fixed", "risk_percent"}
    used = {name for case in list(generate_cases(200, seed=3)) for name in features(case)}
    assert used == {
        "limit_entry",
        "stop_entry",
        "swap",
        "margin",
        "cross",
        "session",
        "blackouts",
        "end_last_open",
        "end_mark",
    }


def test_all_modes_identical_on_ci_configurations():
    pytest.importorskip("omega._core", reason="the Rust extension omega._core is not built")
    out = io.StringIO()
    count, trades, mismatches = run_parity(CI_CONFIGURATIONS, seed=0, n_bars=12_000, out=out)
    assert count == CI_CONFIGURATIONS
    assert not mismatches, out.getvalue()
    # The comparison is only meaningful if the configurations trade.
    assert trades > 10 * CI_CONFIGURATIONS, f"only {trades} trades compared"


def test_compare_runs_reports_first_divergence():
    import numpy as np

    from omega.engine.loop import run_python
    from omega.engine.raw import RawRun
    from omega.engine.settings import EngineSettings
    from omega.parity import synthetic_bars
    from omega.strategy import get_strategy
    from omega.timeframes import Timeframe

    case: ParityCase = next(generate_cases(1, seed=11, n_bars=12_000))
    settings = EngineSettings(primary_timeframe=Timeframe.M5, timeframes=(Timeframe.M5,))
    run = run_python(synthetic_bars(case), get_strategy("sma_cross")({}), settings)
    assert run.n_trades > 2
    assert compare_runs(run, run) is None
    trades = {k: v.copy() for k, v in run.trades.items()}
    trades["exit_price"][1] = np.nextafter(trades["exit_price"][1], np.inf)
    altered = RawRun(**{**run.__dict__, "trades": trades})
    what, bar = compare_runs(run, altered)
    assert "trade 1 field exit_price" in what
    assert bar == int(run.trades["entry_index"][1])


@pytest.mark.real_data
def test_all_modes_identical_on_real_data(real_data_dir):
    pytest.importorskip("omega._core", reason="the Rust extension omega._core is not built")
    out = io.StringIO()
    count, trades, mismatches = run_parity(
        0, seed=1, out=out, real_data_dir=real_data_dir, real_count=8
    )
    assert count == 24
    assert not mismatches, out.getvalue()
    assert trades > 10 * count, f"only {trades} trades compared"
