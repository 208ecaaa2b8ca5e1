"""The example of docs/strategies/writing_python.md runs as written."""

from __future__ import annotations

import re
from pathlib import Path

from omega.data import generate_synthetic
from omega.engine.loop import run_python
from omega.engine.settings import EngineSettings
from omega.strategy import get_strategy, strategy_schema
from omega.strategy.registry import _REGISTRY
from omega.timeframes import Timeframe

GUIDE = Path(__file__).resolve().parent.parent / "docs" / "strategies" / "writing_python.md"


def test_the_guide_example_registers_and_trades() -> None:
    code = re.search(r"```python\n(.*?)```", GUIDE.read_text(), re.S).group(1)
    namespace: dict = {}
    exec(compile(code, str(GUIDE), "exec"), namespace)  # the page's own example
    try:
        check_breakout()
    finally:
        _REGISTRY.pop("breakout", None)  # keep the process-wide registry as other tests expect


def check_breakout() -> None:
    cls = get_strategy("breakout")
    assert strategy_schema("breakout")["properties"]["period"]["minimum"] == 2
    bars = generate_synthetic(n_bars=20_000, seed=5)
    settings = EngineSettings(primary_timeframe=Timeframe.M5, timeframes=(Timeframe.M5,))
    raw = run_python(bars, cls({"period": 30}), settings, trace=True)
    assert raw.n_trades > 5
    assert set(raw.trades["tag"]) == {"breakout"}
    assert any("atr" in row for row in raw.trace)
