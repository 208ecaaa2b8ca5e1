"""TA-Lib computing the peer workloads' indicators alone (no signals, no trades): a floor for
what any engine computing the same indicators spends on them."""

from __future__ import annotations

from typing import Any

import numpy as np

from omega.peers.data import Columns

CALL = "talib.SMA / talib.STDDEV on the close column (indicators only, no trades)"
INDEX = "none (numpy arrays)"


def version() -> str:
    import talib

    return f"TA-Lib {talib.__version__}"


def run(cols: Columns, workload: str, params: dict[str, Any]) -> None:
    import talib

    close = cols.close
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
