"""The report's chart data: thinned to screen resolution with numpy, written as JSON text.

A chart a few thousand pixels wide cannot show more than a few thousand candles or line
points, so long runs are re-bucketed before anything is serialised: candles by merging
consecutive primary bars (open of the first, highest high, lowest low, close of the last),
lines by keeping each bucket's minimum and maximum (spikes and the deepest drawdown stay
visible). Serialisation is ``json.dumps`` of short lists, never a loop over bars.
"""

from __future__ import annotations

import json
import math
import re
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from omega.data.bars import BarSeries

MAX_CANDLES = 2000
LINE_BUCKETS = 2000  # a line keeps at most 2 * LINE_BUCKETS points
MAX_TRADES = 10_000  # trades drawn and listed; more are in the trades table file
_NS_PER_MS = 1_000_000


def to_ms(times_ns: np.ndarray) -> np.ndarray:
    """UTC int64 nanoseconds to the milliseconds the browser's dates use."""
    return np.asarray(times_ns, dtype=np.int64) // _NS_PER_MS


def json_numbers(values: np.ndarray) -> str:
    """A JSON array of numbers; NaN and infinities become ``null`` (JSON has no NaN)."""
    values = np.asarray(values)
    if values.dtype.kind == "f" and not np.isfinite(values).all():
        values = values.astype(object)
        values[~np.isfinite(values.astype(np.float64))] = None
    return json.dumps(values.tolist(), allow_nan=False)


def envelope(
    times: np.ndarray, values: np.ndarray, buckets: int = LINE_BUCKETS
) -> tuple[np.ndarray, np.ndarray]:
    """At most ``2 * buckets`` points: each bucket's minimum and maximum, in time order."""
    n = len(values)
    if n <= 2 * buckets:
        return times, values
    starts = np.linspace(0, n, buckets + 1).astype(np.int64)[:-1]
    ends = np.append(starts[1:], n) - 1
    lows = np.minimum.reduceat(values, starts)
    highs = np.maximum.reduceat(values, starts)
    # Each bucket's low and high are drawn at its first and last time, in that order.
    out_times = np.column_stack((times[starts], times[ends])).ravel()
    out_values = np.column_stack((lows, highs)).ravel()
    return out_times, out_values


def candles(bars: BarSeries | None, timeframe_ns: int, limit: int = MAX_CANDLES) -> dict | None:
    """Bid OHLC candles of the primary timeframe, merged ``k`` at a time to at most ``limit``.

    ``time`` is each candle's open (ms) and ``width`` its span (ms) for drawing.
    """
    if bars is None or len(bars.time) == 0:
        return None
    time = np.asarray(bars.time, dtype=np.int64)
    bucket = time // np.int64(timeframe_ns) * np.int64(timeframe_ns)
    first = np.empty(len(bucket), dtype=bool)
    first[0] = True
    np.not_equal(bucket[1:], bucket[:-1], out=first[1:])
    primary_starts = np.flatnonzero(first)
    per_candle = max(1, math.ceil(len(primary_starts) / limit))
    starts = primary_starts[::per_candle]
    ends = np.append(starts[1:], len(time)) - 1
    return {
        "time": to_ms(bucket[starts]),
        "width": per_candle * timeframe_ns // _NS_PER_MS,
        "primary_per_candle": per_candle,
        "open": np.asarray(bars.bid_open)[starts],
        "high": np.maximum.reduceat(np.asarray(bars.bid_high), starts),
        "low": np.minimum.reduceat(np.asarray(bars.bid_low), starts),
        "close": np.asarray(bars.bid_close)[ends],
    }


def drawdown_pct(equity: np.ndarray, initial: float) -> np.ndarray:
    """``(e - peak) / peak * 100`` (zero or negative) against the running peak incl. initial."""
    if len(equity) == 0:
        return equity
    peak = np.maximum.accumulate(np.concatenate(([initial], equity)))[1:]
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(peak > 0, (equity - peak) / peak * 100.0, 0.0)


def chart_data_json(
    *,
    close_ns: np.ndarray,
    equity: np.ndarray,
    initial: float,
    trades: dict[str, np.ndarray],
    bars: BarSeries | None,
    timeframe_ns: int,
) -> str:
    """The JSON object the page's script draws (numbers only, times in UTC milliseconds)."""
    close_ms = to_ms(close_ns)
    eq_t, eq_v = envelope(close_ms, equity)
    # Drawdown is thinned on its own values so each bucket keeps its deepest point.
    dd_t, dd_v = envelope(close_ms, drawdown_pct(equity, initial))
    n_trades = len(trades["entry_time"])
    shown = slice(0, min(n_trades, MAX_TRADES))
    parts: dict[str, str] = {
        "initial": json.dumps(float(initial)),
        "equity": f'{{"t":{json_numbers(eq_t)},"v":{json_numbers(eq_v)}}}',
        "drawdown": f'{{"t":{json_numbers(dd_t)},"v":{json_numbers(dd_v)}}}',
        "n_trades": str(n_trades),
    }
    trade_fields = {
        "entry_time": to_ms(trades["entry_time"][shown]),
        "exit_time": to_ms(trades["exit_time"][shown]),
        "side": np.asarray(trades["side"][shown], dtype=np.int64),
        "size": trades["size"][shown],
        "entry_price": trades["entry_price"][shown],
        "exit_price": trades["exit_price"][shown],
        "sl": trades["sl"][shown],
        "tp": trades["tp"][shown],
        "pnl": trades["pnl"][shown],
        "fees": trades["fees"][shown],
        "bars_held": np.asarray(trades["bars_held"][shown], dtype=np.int64),
    }
    trade_items = [f'"{k}":{json_numbers(v)}' for k, v in trade_fields.items()]
    reasons = np.asarray(trades["exit_reason"][shown], dtype=object).tolist()
    trade_items.append(f'"exit_reason":{json.dumps([str(r) for r in reasons])}')
    parts["trades"] = "{" + ",".join(trade_items) + "}"
    ohlc = candles(bars, timeframe_ns)
    if ohlc is None:
        parts["candles"] = "null"
    else:
        items: list[str] = []
        for key, value in ohlc.items():
            text = json_numbers(value) if isinstance(value, np.ndarray) else json.dumps(value)
            items.append(f'"{key}":{text}')
        parts["candles"] = "{" + ",".join(items) + "}"
    return "{" + ",".join(f'"{k}":{v}' for k, v in parts.items()) + "}"


_SCRIPT_END = re.compile(r"<(/script|!--)", re.IGNORECASE)


def script_safe(text: str) -> str:
    """Text that can sit inside a ``<script>`` element without ending it early.

    Only ``</script`` and ``<!--`` matter to the HTML parser there; a backslash before the
    ``/`` or ``!`` leaves the text's meaning unchanged inside JS strings, regexes and JSON.
    """
    return _SCRIPT_END.sub(lambda m: "<\\" + m.group(1), text)


def plain(value: Any) -> Any:
    """JSON-able form of a config or quality value."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value
