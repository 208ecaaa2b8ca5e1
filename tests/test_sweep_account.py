"""A sweep's rows equal single backtests with the order and FX-account features on (pending
entries, swap, margin, a session, marking at the end): the streamed metrics see the swaps in
the balance and the marked final equity."""

from __future__ import annotations

import math
from pathlib import Path

from omega.config import BacktestConfig
from omega.runner import load_bars, run_backtest
from omega.sweep import parameter_grid, run_sweep

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "fx_account.yaml"
KEYS = ("final_balance", "sharpe", "sortino", "max_drawdown", "n_trades", "total_swap", "exposure")


def test_sweep_rows_equal_single_backtests_with_the_fx_account() -> None:
    config = BacktestConfig.from_file(EXAMPLE).apply_overrides(
        ["data.synthetic.n_bars=120000", "engine=rust"]
    )
    bars = load_bars(config)
    grid = parameter_grid(
        {"fast": [8, 10], "entry_offset_pips": [0.0, 3.0], "entry_stop": [True, False]}
    )
    # a set names every parameter: the sweep does not read the config's
    sets = [{**config.strategy.params, **changes} for changes in grid]
    table = run_sweep(bars, "sma_cross", sets, config.to_engine_settings(), threads=2)
    swaps = 0.0
    for k, params in enumerate(sets):
        overrides = [f"strategy.params.{name}={value}" for name, value in params.items()]
        metrics = run_backtest(config.apply_overrides(overrides), bars=bars).metrics
        for key in KEYS:
            got, want = table.iloc[k][key], metrics[key]
            same = got == want or (isinstance(want, float) and math.isnan(got) and math.isnan(want))
            assert same, (params, key, got, want)
        swaps += abs(metrics["total_swap"])
    assert swaps > 0.0, "the sets must hold positions over rollovers"
