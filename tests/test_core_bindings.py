"""The bindings' contract: the TypedDicts of ``_core.pyi`` name exactly the keys of the dicts
the core returns (stubtest cannot see return values), and a bad bar column is named."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest

from omega.data import generate_synthetic
from omega.engine.rust import bar_columns
from omega.engine.settings import EngineSettings
from omega.timeframes import Timeframe

core = pytest.importorskip("omega._core")

STUB = Path(core.__file__).with_name("_core.pyi")


def typed_dict_keys() -> dict[str, list[str]]:
    """Each TypedDict of the stub -> its keys in order, inherited ones first."""
    classes = {
        node.name: node
        for node in ast.parse(STUB.read_text()).body
        if isinstance(node, ast.ClassDef)
    }
    keys: dict[str, list[str]] = {}

    def of(name: str) -> list[str]:
        if name not in keys:
            node = classes[name]
            bases = [b.id for b in node.bases if isinstance(b, ast.Name)]
            own = [s.target.id for s in node.body if isinstance(s, ast.AnnAssign)]  # type: ignore[union-attr]
            keys[name] = [k for base in bases if base in classes for k in of(base)] + own
        return keys[name]

    for name, node in classes.items():
        if any(isinstance(b, ast.Name) and b.id in ("TypedDict", *classes) for b in node.bases):
            of(name)
    return keys


KEYS = typed_dict_keys()


@pytest.fixture(scope="module")
def bars():
    return generate_synthetic(n_bars=3_000, seed=4)


@pytest.fixture(scope="module")
def settings(bars):
    return EngineSettings(
        instrument=bars.instrument, primary_timeframe=Timeframe.M5, timeframes=(Timeframe.M5,)
    )


def test_run_result_keys_match_the_stub(bars, settings):
    out = core.run_backtest(bar_columns(bars), bars.timeframe.name, settings, "sma_cross", {}, True)
    assert sorted(out) == sorted(KEYS["_RunResult"])
    assert list(out["trades"]) == KEYS["_TradeColumns"]
    assert out["metrics"] is not None
    assert list(out["metrics"]) == KEYS["_Metrics"]
    assert out["trades"]["side"].dtype == np.int8
    assert {"index", "time", "event"} <= set(out["trace"][0])


def test_sweep_rows_and_stream_dicts_match_the_stub(bars, settings):
    rows = core.run_sweep(
        bar_columns(bars), bars.timeframe.name, settings, "sma_cross", [{}, {"bogus": 1}], 1
    )
    assert list(rows[0]) == KEYS["_Metrics"]
    assert isinstance(rows[1], BaseException)
    columns = bar_columns(bars)
    session = core.StreamSession(bars.timeframe.name, settings, "sma_cross")
    session.push_columns(tuple(c[:400] for c in columns))  # sma_cross is short by bar 380
    state = session.state()
    assert list(state) == KEYS["_StreamState"]
    assert state["position"] is not None
    assert list(state["position"]) == KEYS["_StreamPosition"]
    assert sorted(session.finish()) == sorted(KEYS["_RunOutput"])


@pytest.mark.parametrize(
    ("k", "value", "got"),
    [
        (2, lambda c: np.repeat(c, 2)[::2], "a non-contiguous 1-d float64 array"),
        (2, lambda c: c.astype(np.float32), "a 1-d float32 array"),
        (0, lambda c: c.astype(np.float64), "a 1-d float64 array"),
        (9, lambda c: list(c), "list"),
    ],
)
def test_a_bad_column_is_named(bars, settings, k, value, got):
    columns = list(bar_columns(bars))
    name = ("time", "bid_open", "bid_high", "bid_low", "bid_close")[k] if k < 5 else "volume"
    dtype = "int64" if k == 0 else "float64"
    columns[k] = value(columns[k])
    expected = f"column {name}: expected a contiguous 1-d {dtype} array, got {got}"
    with pytest.raises(TypeError, match=expected):
        core.run_backtest(tuple(columns), bars.timeframe.name, settings, "sma_cross")
