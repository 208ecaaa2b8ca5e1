"""What the benchmark runs: named workloads, each a `BacktestConfig` as a user would write it."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from omega.config import BacktestConfig
    from omega.engine.settings import EngineSettings

MODES = ("python", "hybrid", "rust")

# The peer workloads trade one lot with no fees: peers fill on one price column without a
# per-lot commission, and fixed sizing needs no stop (the sma_cross strategy sets none).
_PEER_EXECUTION = {"fees": {"commission_per_lot": 0.0}, "sizing": {"mode": "fixed", "lots": 1.0}}


@dataclass(frozen=True)
class Workload:
    strategy: str
    params: dict[str, Any] = field(default_factory=dict)
    primary: str = "M1"
    extra_timeframes: tuple[str, ...] = ()
    # Peer workloads run on a 9-decimal price grid (no SMA ties) with ask == bid, the setup
    # that peers filling on one price column can reproduce exactly.
    peer_input: bool = False

    def config_dict(self, mode: str = "auto") -> dict[str, Any]:
        """The config a user would write for this workload (engine ``mode``)."""
        data: dict[str, Any] = {
            "engine": mode,
            "strategy": {"name": self.strategy, "params": dict(self.params)},
            "timeframes": {"primary": self.primary, "extra": list(self.extra_timeframes)},
        }
        if self.peer_input:
            data["execution"] = copy.deepcopy(_PEER_EXECUTION)
        return data

    def config(self, mode: str = "auto") -> BacktestConfig:
        from omega.config import BacktestConfig

        return BacktestConfig.from_dict(self.config_dict(mode))

    def settings(self) -> EngineSettings:
        """The engine settings `run_backtest` derives from the config (for the breakdown
        column's direct engine call and for sweeps)."""
        return self.config().to_engine_settings()


WORKLOADS: dict[str, Workload] = {
    # The default config: M1 data, M5 primary, H1 trend filter, default parameters, fees and
    # risk-percent sizing (what `omega backtest` runs without a config).
    "mean_reversion": Workload("mean_reversion_z_score", {}, "M5", ("H1",)),
    # The strategy's first defaults: about ten times the trades on the same bars (cost per
    # trade versus cost per bar).
    "mean_reversion_dense": Workload(
        "mean_reversion_z_score",
        {"lookback": 50, "z_entry": 2.0, "sl_atr": 2.0, "tp_atr": 3.0},
        "M5",
        ("H1",),
    ),
    "sma_cross": Workload("sma_cross", {}, "M1", (), peer_input=True),
    "zscore_threshold": Workload("zscore_threshold", {}, "M1", (), peer_input=True),
}
PEER_WORKLOADS = tuple(name for name, w in WORKLOADS.items() if w.peer_input)
