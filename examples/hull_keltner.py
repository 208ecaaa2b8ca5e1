"""``hull_keltner``: the Python twin of the plugin examples/plugin_hull_keltner (Rust).

Registered by importing this file. Its two indicators are custom kinds registered with
`omega.indicators.register_indicator` (computed once per run by the indicator cache):

- ``hk_hull`` (input ``field``, bid close): ``WMA(2 * WMA(n // 2) - WMA(n), isqrt(n))``,
  built from this file's `Wma`;
- ``hk_keltner`` (input ``range``, bid side): an SMA-seeded EMA of the close plus
  ``band * k`` times this file's Wilder ATR (``band`` +1 upper, 0 middle, -1 lower).

Rules (bid close ``c``, previous close ``p``, Hull ``h`` now and ``h1`` one bar back): flat,
long when ``p <= h1 and c > h`` and ``c > middle``, short when ``p >= h1 and c < h`` and
``c < middle``, stop ``stop_atr * ATR`` away (built-in ATR). Open: close on the opposite
cross; half off when the close crosses the band beyond it; once the gain reaches
``be_atr * ATR``, `MoveToBreakEven` (``be_pips``, while the stop is short of it) then
`TrailStop` at ``trail_atr`` ATRs: several actions in one bar.

Float-operation rules (shared with the Rust twin, see its lib.rs and
crates/strategy_api/src/indicator.rs): plain Python floats (IEEE doubles) only, no numpy on
the arithmetic path; every operation below is the Rust one, in the same order:

- WMA: the weighted sum is recomputed from the window every bar, oldest first,
  ``acc = acc + x_j * float(j + 1)`` from ``0.0``, then one division by
  ``float(n * (n + 1) // 2)``;
- Hull: ``2.0 * half - full`` from bar ``n - 1``; ``math.isqrt`` (integers);
- EMA: seed ``(sum of the first n - 1 values, left to right) + x_n`` over ``float(n)``, then
  ``prev = (x - prev) * alpha + prev`` with ``alpha = 2.0 / (n + 1)``;
- ATR: ``tr = max(max(h - l, abs(h - pc)), abs(l - pc))`` (no NaN inputs, so ``max`` equals
  Rust's ``f64::max``), seed = sum of TR_1..TR_n / n, then ``atr * float(n - 1)``, ``+ tr``,
  ``/ float(n)`` as three steps;
- band: ``middle + scale * atr`` with ``scale = k * float(band)`` computed once;
- strategy: ``stop_atr * atr``, ``be_atr * atr``, ``entry + be_pips * pip`` as written.
"""

from __future__ import annotations

import math

from pydantic import Field

from omega.indicators import Indicator, IndicatorSpec, register_indicator
from omega.strategy import (
    CancelOrder,
    Close,
    MoveToBreakEven,
    PartialClose,
    PositionAction,
    RunContext,
    Strategy,
    StrategyParams,
    TradeSignal,
    TrailStop,
    register_strategy,
)

NAN = math.nan


class Wma:
    """Weighted moving average, weights ``1..n`` (newest ``n``); first ``n - 1`` NaN."""

    def __init__(self, period: int) -> None:
        self.period = period
        self.divider = float(period * (period + 1) // 2)
        self.window = [0.0] * period
        self.count = 0

    def update(self, x: float) -> float:
        n = self.period
        slot = self.count % n
        self.window[slot] = x
        self.count += 1
        if self.count < n:
            return NAN
        window = self.window
        acc = 0.0
        for j in range(n):
            acc += window[(slot + 1 + j) % n] * float(j + 1)  # oldest first
        return acc / self.divider

    def reset(self) -> None:
        self.count = 0


@register_indicator
class HullMa(Indicator):
    """Hull moving average of period ``n >= 2``; first ``n + isqrt(n) - 2`` outputs NaN."""

    kind = "hk_hull"
    name = "hk_hull"
    param_names = ("period",)
    input = "field"

    def __init__(self, period: int = 20) -> None:
        if isinstance(period, bool) or not isinstance(period, int) or period < 2:
            from omega.indicators.errors import IndicatorParameterError

            raise IndicatorParameterError(f"hk_hull: period must be an int >= 2, got {period!r}")
        self.period = period
        self._half = Wma(period // 2)
        self._full = Wma(period)
        self._smooth = Wma(math.isqrt(period))
        self.reset()

    @property
    def warmup_period(self) -> int:
        return self.period + math.isqrt(self.period) - 2

    def reset(self) -> None:
        self._half.reset()
        self._full.reset()
        self._smooth.reset()
        self._count = 0

    def update(self, value: float) -> float:
        self._count += 1
        half = self._half.update(value)
        full = self._full.update(value)
        if self._count < self.period:
            return NAN
        return self._smooth.update(2.0 * half - full)


class Ema:
    """SMA-seeded exponential moving average; first ``n - 1`` outputs NaN."""

    def __init__(self, period: int) -> None:
        self.period = period
        self.alpha = 2.0 / (period + 1)
        self.reset()

    def reset(self) -> None:
        self.seed = 0.0
        self.count = 0
        self.prev = NAN

    def update(self, x: float) -> float:
        self.count += 1
        if self.count < self.period:
            self.seed += x
            return NAN
        if self.count == self.period:
            self.prev = (self.seed + x) / float(self.period)
        else:
            self.prev = (x - self.prev) * self.alpha + self.prev
        return self.prev


class Atr:
    """Wilder's average true range; first ``n`` outputs NaN."""

    def __init__(self, period: int) -> None:
        self.period = period
        self.reset()

    def reset(self) -> None:
        self.count = 0
        self.prev_close = NAN
        self.seed = 0.0
        self.atr = NAN

    def update(self, high: float, low: float, close: float) -> float:
        self.count += 1
        pc = self.prev_close
        self.prev_close = close
        if self.count == 1:
            return NAN
        tr = max(max(high - low, abs(high - pc)), abs(low - pc))
        n = float(self.period)
        if self.count <= self.period:
            self.seed += tr
            return NAN
        if self.count == self.period + 1:
            self.atr = (self.seed + tr) / n
        else:
            atr = self.atr * float(self.period - 1)
            atr += tr
            self.atr = atr / n
        return self.atr


@register_indicator
class KeltnerBand(Indicator):
    """One Keltner line: EMA(period) of the close + ``band * k`` ATR(atr_period); NaN until
    both exist (``max(period - 1, atr_period)`` bars)."""

    kind = "hk_keltner"
    name = "hk_keltner"
    param_names = ("period", "atr_period", "k", "band")
    input = "range"

    def __init__(
        self, period: int = 20, atr_period: int = 14, k: float = 2.0, band: float = 0.0
    ) -> None:
        from omega.indicators.errors import IndicatorParameterError

        if period < 1 or atr_period < 1 or not k > 0.0 or band not in (-1.0, 0.0, 1.0):
            raise IndicatorParameterError(
                f"hk_keltner: bad parameters {period=} {atr_period=} {k=} {band=}"
            )
        self._ema = Ema(int(period))
        self._atr = Atr(int(atr_period))
        self._scale = float(k) * float(band)
        self._warmup = max(int(period) - 1, int(atr_period))
        self.reset()

    @property
    def warmup_period(self) -> int:
        return self._warmup

    def reset(self) -> None:
        self._ema.reset()
        self._atr.reset()
        self._count = 0

    def update(self, high: float, low: float, close: float) -> float:  # type: ignore[override]
        middle = self._ema.update(close)
        atr = self._atr.update(high, low, close)
        self._count += 1
        if self._count <= self._warmup:
            return NAN
        return middle + self._scale * atr


@register_strategy
class HullKeltner(Strategy):
    """The twin of the plugin ``hull_keltner`` (same parameters, defaults and decisions)."""

    name = "hull_keltner"

    class Params(StrategyParams):
        hull_period: int = Field(20, ge=2, description="Hull MA period (primary, bid close)")
        kc_period: int = Field(20, ge=1, description="Keltner EMA period")
        atr_period: int = Field(14, ge=1, description="ATR period (Keltner and stops)")
        kc_k: float = Field(2.0, gt=0, description="Keltner band width in ATRs")
        stop_atr: float = Field(2.0, gt=0, description="initial stop distance in ATRs")
        be_atr: float = Field(1.0, gt=0, description="gain in ATRs that starts BE and trailing")
        be_pips: float = Field(1.0, ge=0, description="break-even offset in pips")
        trail_atr: float = Field(1.5, gt=0, description="trailing distance in ATRs")
        pullback_atr: float = Field(
            0.0, ge=0, description="0: market entries; else a limit entry this many ATRs back"
        )
        order_bars: int = Field(0, ge=0, description="a limit entry expires after (0: never)")

    def init(self, ctx: RunContext) -> None:
        p = self.params
        # ctx.indicator defaults to the run's primary timeframe, bid side
        self.hull = ctx.indicator(IndicatorSpec.of("hk_hull", period=p.hull_period))
        bands = [
            ctx.indicator(
                IndicatorSpec.of(
                    "hk_keltner",
                    period=p.kc_period,
                    atr_period=p.atr_period,
                    k=p.kc_k,
                    band=float(band),
                )
            )
            for band in (0, 1, -1)
        ]
        self.middle, self.upper, self.lower = bands
        self.atr = ctx.indicator(IndicatorSpec.of("atr", period=p.atr_period))
        self.pip = ctx.instrument.pip_size
        self.prev_close = NAN

    def evaluate(self, data):
        close = data.bar.bid_close
        prev = self.prev_close
        self.prev_close = close
        hull, hull1 = data.value(self.hull), data.value(self.hull, 1)
        middle = data.value(self.middle)
        atr = data.value(self.atr)
        data.record("hull", hull)
        data.record("kc_mid", middle)
        if data.position is not None or any(v != v for v in (prev, hull, hull1, middle, atr)):
            return None
        stop = self.params.stop_atr * atr
        if prev <= hull1 and close > hull and close > middle:
            limit = data.bar.ask_close - self.params.pullback_atr * atr
            return TradeSignal.long(stop_loss_distance=stop, tag="hk_long", **self._entry(limit))
        if prev >= hull1 and close < hull and close < middle:
            limit = close + self.params.pullback_atr * atr
            return TradeSignal.short(stop_loss_distance=stop, tag="hk_short", **self._entry(limit))
        return None

    def _entry(self, limit: float) -> dict:
        """A limit entry at ``limit`` when ``pullback_atr`` > 0 (expiring after
        ``order_bars`` when > 0); else nothing (a market entry)."""
        p = self.params
        if p.pullback_atr == 0.0:
            return {}
        order = {"order": "limit", "price": limit}
        if p.order_bars:
            order["expiry_bars"] = p.order_bars
        return order

    def manage_order(self, order, data):
        """A pending entry works until the Hull turns against it: cancel it then."""
        hull, hull1 = data.value(self.hull), data.value(self.hull, 1)
        against = hull < hull1 if order.direction == 1 else hull > hull1
        return [CancelOrder()] if against else []

    def manage_position(self, position, data) -> list[PositionAction]:
        bar = data.bar
        close, prev = bar.bid_close, self.prev_close  # prev: evaluate runs after
        hull, hull1 = data.value(self.hull), data.value(self.hull, 1)
        atr = data.value(self.atr)
        long = position.is_long
        gain = close - position.entry_price if long else position.entry_price - bar.ask_close
        data.record("gain", gain)
        if (prev >= hull1 and close < hull) if long else (prev <= hull1 and close > hull):
            return [Close()]
        actions: list[PositionAction] = []
        if long:
            band, band1 = data.value(self.upper), data.value(self.upper, 1)
            band_cross = prev <= band1 and close > band
        else:
            band, band1 = data.value(self.lower), data.value(self.lower, 1)
            band_cross = prev >= band1 and close < band
        if band_cross:
            actions.append(PartialClose(0.5))
        p = self.params
        if gain >= p.be_atr * atr:
            stop = position.stop_loss
            if stop is None:
                below_be = True
            elif long:
                below_be = stop < position.entry_price + p.be_pips * self.pip
            else:
                below_be = stop > position.entry_price - p.be_pips * self.pip
            if below_be:
                actions.append(MoveToBreakEven(p.be_pips, unit="pips"))
            actions.append(TrailStop(p.trail_atr, unit="atr", atr=self.atr))
        return actions
