"""The reference engine on the real EURUSD minute data in ../shared/data (skipped if absent)."""

from __future__ import annotations

import numpy as np
import pytest

from omega.data import load, resample
from omega.engine.loop import run_python
from omega.engine.settings import EngineSettings, FeeSettings, SizingSettings
from omega.strategy import get_strategy
from omega.timeframes import Timeframe

M5, H1 = Timeframe.M5, Timeframe.H1
SETS = {
    "mt5": ("mt5_eurusd_2024", {"tz": "EET"}),
    "histdata": ("histdata_eurusd_2017", {"spread_pips": 0.8}),
}


@pytest.mark.real_data
@pytest.mark.parametrize("fmt", sorted(SETS))
@pytest.mark.parametrize("strategy", ["mean_reversion_z_score", "sma_cross", "zscore_threshold"])
def test_builtins_run_on_real_data(real_data_dir, fmt: str, strategy: str) -> None:
    folder, options = SETS[fmt]
    bars = load(real_data_dir / folder, fmt, **options)
    settings = EngineSettings(
        primary_timeframe=M5,
        timeframes=(M5, H1),
        fees=FeeSettings(commission_per_lot=3.5),
        sizing=SizingSettings(mode="risk_percent", risk_percent=1.0),
    )
    raw = run_python(bars, get_strategy(strategy)({}), settings)
    primary = resample(bars, M5)
    assert raw.bars_processed == len(primary) and raw.base_bars == len(bars)
    assert raw.equity_time.tolist() == primary.time.tolist()
    assert np.isfinite(raw.equity).all() and raw.equity[-1] == raw.final_balance
    t = raw.trades
    assert raw.n_trades >= 20
    assert (np.diff(t["exit_index"]) >= 0).all()  # rows in the order they close
    assert (t["entry_index"] <= t["exit_index"]).all() and (t["fees"] > 0).all()
    assert np.array_equal(t["pnl"], t["gross_pnl"] - t["fees"])
