"""What the benchmark runs: named workloads (strategy, parameters, timeframes, input kind)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from omega.engine.settings import EngineSettings
from omega.timeframes import Timeframe

MODES = ("python", "hybrid", "rust")


@dataclass(frozen=True)
class Workload:
    strategy: str
    params: dict[str, Any] = field(default_factory=dict)
    primary: str = "M1"
    extra_timeframes: tuple[str, ...] = ()
    # Peer workloads run on a 9-decimal price grid (no SMA ties) with ask == bid, the setup
    # that peers filling on one price column can reproduce exactly.
    peer_input: bool = False

    def settings(self) -> EngineSettings:
        primary = Timeframe.parse(self.primary)
        extra = tuple(Timeframe.parse(t) for t in self.extra_timeframes)
        return EngineSettings(primary_timeframe=primary, timeframes=(primary, *extra))


WORKLOADS: dict[str, Workload] = {
    # The default workload: M1 data, M5 primary, H1 trend filter, default parameters.
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
