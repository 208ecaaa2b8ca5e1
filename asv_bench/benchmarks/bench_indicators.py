"""Reference indicators over 1M closes (Python reference; the Rust port runs in the engine)."""

from __future__ import annotations

import omega.indicators as ind

from .common import bars


class Indicators:
    params = (["sma", "ema", "rsi", "rolling_std"],)
    param_names = ["indicator"]

    def setup(self, name):
        self.close = bars(200_000).bid_close

    def time_batch(self, name):
        factory = {
            "sma": lambda: ind.SMA(30),
            "ema": lambda: ind.EMA(30),
            "rsi": lambda: ind.RSI(14),
            "rolling_std": lambda: ind.RollingStd(50),
        }[name]
        factory().batch(self.close)
