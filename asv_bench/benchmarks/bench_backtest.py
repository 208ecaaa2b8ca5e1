"""Whole backtests per mode and size (time and peak memory), through the engine entry points
of each mode: `run_python`, `run_hybrid`, `run_rust` (docs/engine)."""

from __future__ import annotations

from omega.engine.loop import run_python
from omega.strategy import get_strategy

from .common import bars, peer_bars, settings_for, skip_without_core

DEFAULT = ("mean_reversion_z_score", "M5", ("H1",))
PEER = {"sma_cross": ("sma_cross", "M1", ()), "zscore_threshold": ("zscore_threshold", "M1", ())}


def run(mode, strategy_name, data, settings):
    if mode == "rust":
        from omega.engine.rust import run_rust

        return run_rust(data, strategy_name, {}, settings)
    strategy = get_strategy(strategy_name)({})
    if mode == "hybrid":
        from omega.engine.hybrid import run_hybrid

        return run_hybrid(data, strategy, settings)
    return run_python(data, strategy, settings)


class Backtest:
    """The default workload (mean_reversion_z_score, M5 primary, H1 filter)."""

    params = (["python", "hybrid", "rust"], [100_000, 1_000_000])
    param_names = ["mode", "bars"]
    timeout = 600

    def setup(self, mode, n_bars):
        skip_without_core(mode)
        self.bars = bars(n_bars)
        self.settings = settings_for(*DEFAULT[1:])

    def time_backtest(self, mode, n_bars):
        run(mode, DEFAULT[0], self.bars, self.settings)

    def peakmem_backtest(self, mode, n_bars):
        run(mode, DEFAULT[0], self.bars, self.settings)


class PeerWorkload:
    """sma_cross and zscore_threshold on M1 (the workloads compared with peers)."""

    params = (["python", "hybrid", "rust"], list(PEER))
    param_names = ["mode", "workload"]
    timeout = 600

    def setup(self, mode, workload):
        skip_without_core(mode)
        self.bars = peer_bars(1_000_000)
        self.strategy, primary, extra = PEER[workload]
        self.settings = settings_for(primary, extra)

    def time_backtest(self, mode, workload):
        run(mode, self.strategy, self.bars, self.settings)

    def peakmem_backtest(self, mode, workload):
        run(mode, self.strategy, self.bars, self.settings)


class Sweep:
    """A parameter sweep of the default workload: 16 sets (four lookbacks, four entry
    thresholds) in one `omega.sweep.run_sweep` call, rust mode only."""

    params = ([100_000, 1_000_000],)
    param_names = ["bars"]
    timeout = 600

    def setup(self, n_bars):
        skip_without_core("rust")
        from omega.sweep import parameter_grid

        self.bars = bars(n_bars)
        self.settings = settings_for(*DEFAULT[1:])
        self.sets = parameter_grid(
            {"lookback": [100, 150, 200, 250], "z_entry": [2.5, 3.0, 3.5, 4.0]}
        )

    def time_sweep(self, n_bars):
        from omega.sweep import run_sweep

        run_sweep(self.bars, DEFAULT[0], self.sets, self.settings)
