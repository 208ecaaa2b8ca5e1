"""Whole backtests of the default strategy, per mode and size (time and peak memory)."""

from __future__ import annotations

from omega.engine.loop import run_python
from omega.strategy import get_strategy

from .common import bars, default_settings, rust_available

STRATEGY = "mean_reversion_z_score"


class Backtest:
    params = (["python", "hybrid", "rust"], [100_000, 1_000_000])
    param_names = ["mode", "bars"]
    timeout = 600

    def setup(self, mode, n_bars):
        if mode != "python" and not rust_available():
            raise NotImplementedError("omega._core not built")
        if mode == "python" and n_bars > 100_000:
            raise NotImplementedError("python mode only at 100k bars (it is the slow baseline)")
        self.bars = bars(n_bars)
        self.settings = default_settings()

    def _run(self, mode):
        if mode == "rust":
            from omega.engine.rust import run_rust

            return run_rust(self.bars, STRATEGY, {}, self.settings)
        strategy = get_strategy(STRATEGY)({})
        if mode == "hybrid":
            from omega.engine.hybrid import run_hybrid

            return run_hybrid(self.bars, strategy, self.settings)
        return run_python(self.bars, strategy, self.settings)

    def time_backtest(self, mode, n_bars):
        self._run(mode)

    def peakmem_backtest(self, mode, n_bars):
        self._run(mode)
