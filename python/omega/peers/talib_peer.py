"""TA-Lib computing the peer workloads' indicators alone (no signals, no trades)."""

from __future__ import annotations

from typing import Any

import numpy as np


def run(close: np.ndarray, workload: str, params: dict[str, Any]) -> None:
    import talib

    if workload == "sma_cross":
        talib.SMA(close, params["fast"])
        talib.SMA(close, params["slow"])
        return
    if workload == "zscore_threshold":
        period = params["period"]
        std = talib.STDDEV(close, period, 1.0)  # population deviation, as the specification
        with np.errstate(divide="ignore", invalid="ignore"):
            (close - talib.SMA(close, period)) / std
        return
    raise ValueError(f"TA-Lib peer has no workload {workload!r}")
