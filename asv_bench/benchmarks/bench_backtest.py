"""Whole backtests as users call them: `omega.run_backtest(config, bars=bars)` per engine mode
and size (time and peak memory), the engine entry point alone as a breakdown, and
`omega.sweep.run_sweep` over a 210-set SMA-cross grid."""

from __future__ import annotations

import itertools

from omega import BacktestConfig, run_backtest

from .common import bars, peer_bars, skip_without_core

# The peer workloads: one lot, no fees (see omega.bench.workloads).
PEER_EXECUTION = {"fees": {"commission_per_lot": 0.0}, "sizing": {"mode": "fixed", "lots": 1.0}}


def config(mode: str, strategy: str | None = None) -> BacktestConfig:
    """The default config (``strategy`` None), or a peer workload's on M1."""
    if strategy is None:
        return BacktestConfig.from_dict({"engine": mode})
    return BacktestConfig.from_dict(
        {
            "engine": mode,
            "strategy": {"name": strategy},
            "timeframes": {"primary": "M1", "extra": []},
            "execution": PEER_EXECUTION,
        }
    )


class Backtest:
    """The default config (mean_reversion_z_score, M5 primary, H1 filter) end to end."""

    params = (["python", "hybrid", "rust"], [100_000, 1_000_000])
    param_names = ["mode", "bars"]
    timeout = 600

    def setup(self, mode, n_bars):
        skip_without_core(mode)
        self.bars = bars(n_bars)
        self.config = config(mode)

    def time_run_backtest(self, mode, n_bars):
        run_backtest(self.config, bars=self.bars)

    def peakmem_run_backtest(self, mode, n_bars):
        run_backtest(self.config, bars=self.bars)


class EngineOnly:
    """The rust engine entry point alone (`run_rust`), the breakdown of `Backtest`."""

    params = ([100_000, 1_000_000],)
    param_names = ["bars"]

    def setup(self, n_bars):
        skip_without_core("rust")
        self.bars = bars(n_bars)
        self.settings = config("rust").to_engine_settings()

    def time_run_rust(self, n_bars):
        from omega.engine.rust import run_rust

        run_rust(self.bars, "mean_reversion_z_score", {}, self.settings)


class PeerWorkload:
    """sma_cross and zscore_threshold on 1M M1 bars (the workloads compared with peers)."""

    params = (["python", "hybrid", "rust"], ["sma_cross", "zscore_threshold"])
    param_names = ["mode", "workload"]
    timeout = 600

    def setup(self, mode, workload):
        skip_without_core(mode)
        self.bars = peer_bars(1_000_000)
        self.config = config(mode, workload)

    def time_run_backtest(self, mode, workload):
        run_backtest(self.config, bars=self.bars)

    def peakmem_run_backtest(self, mode, workload):
        run_backtest(self.config, bars=self.bars)


class Sweep:
    """`run_sweep` of sma_cross: every fast < slow pair of 21 windows (210 sets), 200,000 M1
    bars (bar-evaluations per second = 210 x 200,000 / time)."""

    timeout = 600

    def setup(self):
        skip_without_core("rust")
        self.bars = peer_bars(200_000)
        self.settings = config("rust", "sma_cross").to_engine_settings()
        windows = range(5, 110, 5)
        self.sets = [{"fast": a, "slow": b} for a, b in itertools.combinations(windows, 2)]

    def time_sweep_sma_cross_210_sets(self):
        from omega.sweep import run_sweep

        run_sweep(self.bars, "sma_cross", self.sets, self.settings)
