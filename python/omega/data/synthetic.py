"""Deterministic, realistic-looking two-sided M1 FX bars (model in docs/data/synthetic.md).

Everything is vectorised numpy driven by one ``numpy.random.default_rng(seed)``: the same
arguments give bit-identical bars. Every bar passes validation by construction (high/low
rounded outward from open/close on the price grid, spread >= 1 point).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from omega.data.bars import BarSeries, Instrument
from omega.data.quality import quality_of
from omega.timeframes import Timeframe

NS_PER_MINUTE = 60_000_000_000
MINUTES_PER_WEEK = 7 * 24 * 60
OPEN_MINUTES_PER_WEEK = 5 * 24 * 60  # Sunday 22:00 UTC .. Friday 22:00 UTC

# Relative M1 volatility by UTC hour: quiet Asia, busy London, busiest London/New York overlap,
# a dead rollover hour at 21:00.
VOLATILITY_BY_HOUR = np.array(
    [0.6, 0.6, 0.6, 0.6, 0.6, 0.7, 0.8, 1.2, 1.5, 1.4, 1.3, 1.3,
     1.5, 1.7, 1.7, 1.5, 1.3, 1.0, 0.8, 0.7, 0.6, 0.4, 0.5, 0.6]
)  # fmt: skip
# Typical spread in points (0.1 pip for 5-digit quotes) by UTC hour: tight in London/New York,
# wider in Asia, widest at the 21:00-22:59 rollover.
SPREAD_POINTS_BY_HOUR = np.array(
    [9, 9, 8, 8, 8, 7, 6, 5, 4, 4, 4, 4,
     4, 4, 4, 4, 5, 6, 7, 8, 10, 20, 15, 11]
)  # fmt: skip

BASE_VOLATILITY = 0.9e-4  # std of a 1-minute log return at relative volatility 1.0
WEEKEND_GAP_VOLATILITY = 3.0e-4
MEAN_REVERSION_RHO = 0.15  # MA(1) coefficient: returns partly undo the previous one
TREND_DRIFT_RANGE = (0.01, 0.04)  # |drift| per bar as a fraction of that bar's volatility
TREND_PROBABILITY = 0.4


def generate_synthetic(
    n_bars: int = 100_000,
    seed: int = 0,
    symbol: str = "EURUSD",
    start: str = "2024-01-01",
    price_decimals: int | None = 5,
    *,
    start_price: float | None = None,
    volatility: float = 1.0,
    spread_scale: float = 1.0,
    regime_mean_bars: int = 2880,
    instrument: Instrument | None = None,
) -> BarSeries:
    """``n_bars`` M1 bars from the first market-open minute at or after ``start`` (UTC).

    ``price_decimals`` sets the price grid (None: the instrument's point); ``volatility`` and
    ``spread_scale`` scale the hourly profiles; regimes last ``regime_mean_bars`` on average.
    """
    if n_bars < 1:
        raise ValueError(f"n_bars must be >= 1, got {n_bars}")
    inst = instrument or Instrument.for_symbol(symbol)
    if price_decimals is not None:
        inst = replace(inst, point=10.0**-price_decimals)
    decimals = price_decimals if price_decimals is not None else round(-np.log10(inst.point))
    rng = np.random.default_rng(seed)

    time = _open_minutes(n_bars, start)
    hour = (time // 3_600_000_000_000) % 24
    sigma = BASE_VOLATILITY * volatility * VOLATILITY_BY_HOUR[hour]
    log_return = _regime_returns(rng, sigma, regime_mean_bars)
    week_start = np.zeros(n_bars, dtype=bool)
    week_start[1:] = np.diff(time) > NS_PER_MINUTE
    log_return[week_start] += rng.normal(0.0, WEEKEND_GAP_VOLATILITY, int(week_start.sum()))

    first_price = start_price or (150.0 if inst.quote_currency == "JPY" else 1.10)
    close = np.round(first_price * np.exp(np.cumsum(log_return)), decimals)
    open_ = np.empty(n_bars)
    open_[0] = np.round(first_price, decimals)
    open_[1:] = close[:-1]
    return _two_sided_bars(
        time,
        open_,
        close,
        sigma,
        hour,
        rng,
        inst,
        decimals,
        spread_scale,
        f"synthetic(seed={seed}, n_bars={n_bars}, symbol={inst.symbol})",
    )


def _two_sided_bars(
    time: np.ndarray,
    open_: np.ndarray,
    close: np.ndarray,
    sigma: np.ndarray,
    hour: np.ndarray,
    rng: np.random.Generator,
    inst: Instrument,
    decimals: int,
    spread_scale: float,
    source: str,
) -> BarSeries:
    """M1 bars around opens and closes: wicks scaled by ``sigma``, a spread by the hour's
    profile (drawn in this order from ``rng``), on the ``decimals`` price grid."""
    n_bars = len(close)
    wick = np.abs(rng.normal(0.0, 1.0, (2, n_bars))) * (0.35 * sigma * close)
    high = np.round(np.maximum(open_, close) + wick[0], decimals)
    low = np.round(np.minimum(open_, close) - wick[1], decimals)
    del wick
    high = np.maximum(high, np.maximum(open_, close))  # already true; kept as a guarantee
    low = np.minimum(low, np.minimum(open_, close))

    noise = rng.lognormal(0.0, 0.3, n_bars)
    spread_points = np.maximum(1.0, np.round(SPREAD_POINTS_BY_HOUR[hour] * spread_scale * noise))
    spread = spread_points * inst.point
    volume = np.maximum(
        1.0, np.round(60.0 * VOLATILITY_BY_HOUR[hour] * rng.lognormal(0, 0.5, n_bars))
    )

    series = BarSeries(
        time,
        open_,
        high,
        low,
        close,
        np.round(open_ + spread, decimals),
        np.round(high + spread, decimals),
        np.round(low + spread, decimals),
        np.round(close + spread, decimals),
        volume,
        timeframe=Timeframe.M1,
        instrument=inst,
        source=source,
    )
    series.quality = quality_of(series, ask_source="synthetic spread")
    return series


def _utc_ns(start: str) -> int:
    """UTC nanoseconds of ``start``: plain ISO 8601 through numpy (pandas costs ~0.3 s to
    import on the CLI's default path), anything else (a zone offset) through pandas."""
    import warnings

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # numpy warns on, and misreads, zone offsets
            return int(np.datetime64(start, "ns").astype(np.int64))
    except (ValueError, UserWarning):
        import pandas as pd

        return int(pd.Timestamp(start, tz="UTC").as_unit("ns").value)


def _open_minutes(n_bars: int, start: str) -> np.ndarray:
    """The first ``n_bars`` market-open minutes (Sun 22:00 - Fri 22:00 UTC) from ``start``."""
    start_ns = _utc_ns(start)
    start_min = -(-start_ns // NS_PER_MINUTE)  # round up to a whole minute
    # 1970-01-04 was a Sunday; weeks are anchored at Sunday 22:00 UTC.
    anchor = (3 * 24 + 22) * 60
    week, offset = divmod(start_min - anchor, MINUTES_PER_WEEK)
    if offset >= OPEN_MINUTES_PER_WEEK:  # inside the weekend: wait for Sunday 22:00
        week, offset = week + 1, 0
    k = np.arange(offset, offset + n_bars, dtype=np.int64)
    weeks, within = np.divmod(k, OPEN_MINUTES_PER_WEEK)
    minutes = anchor + (week + weeks) * MINUTES_PER_WEEK + within
    return minutes * NS_PER_MINUTE


def _regime_returns(rng: np.random.Generator, sigma: np.ndarray, mean_bars: int) -> np.ndarray:
    """Log returns switching between trending (drift) and mean-reverting (MA(1)) regimes."""
    n = len(sigma)
    lengths = np.maximum(60, rng.exponential(mean_bars, n // max(mean_bars, 1) * 2 + 16))
    while lengths.sum() < n:  # rare: draw more regimes until they cover every bar
        lengths = np.append(lengths, np.maximum(60, rng.exponential(mean_bars, len(lengths))))
    bounds = np.cumsum(lengths.astype(np.int64))
    count = int(np.searchsorted(bounds, n, side="left")) + 1
    regime = np.searchsorted(bounds[:count], np.arange(n), side="right")
    trending = rng.random(count) < TREND_PROBABILITY
    drift = rng.uniform(*TREND_DRIFT_RANGE, count) * rng.choice([-1.0, 1.0], count)
    shock = sigma * rng.normal(0.0, 1.0, n)
    returns = shock.copy()
    in_trend = trending[regime]
    returns[in_trend] += (drift[regime] * sigma)[in_trend]
    reverting = ~in_trend
    reverting[0] = False
    previous = np.flatnonzero(reverting) - 1
    returns[reverting] -= MEAN_REVERSION_RHO * shock[previous]
    return returns


# Basket generator: the value of each currency in USD follows a random walk; a pair's mid is
# the ratio of its two currencies' values, so crosses agree with their legs (EURJPY = EURUSD
# x USDJPY, before rounding and spread). Values at the start and their relative volatility:
CURRENCY_START_USD = {
    "USD": 1.0, "EUR": 1.10, "GBP": 1.27, "JPY": 1 / 150.0, "CHF": 1 / 0.88,
    "AUD": 0.66, "NZD": 0.61, "CAD": 1 / 1.36,
}  # fmt: skip
CURRENCY_SHOCK_CORRELATION = 0.5  # between two currencies' moves against the USD


def generate_basket(
    symbols: list[str],
    n_bars: int = 100_000,
    seed: int = 0,
    start: str = "2024-01-01",
    *,
    instruments: dict[str, Instrument] | None = None,
) -> dict[str, BarSeries]:
    """Correlated M1 bars of ``symbols`` (six-letter pairs of the currencies in
    CURRENCY_START_USD) on the same minutes, seeded: each currency's value in USD walks
    with shocks correlated ``CURRENCY_SHOCK_CORRELATION`` across currencies, and each
    pair's mid is the ratio of its currencies' values (model in docs/data/synthetic.md)."""
    if n_bars < 1:
        raise ValueError(f"n_bars must be >= 1, got {n_bars}")
    given = instruments or {}
    pairs = [given.get(symbol.upper()) or Instrument.for_symbol(symbol) for symbol in symbols]
    currencies = sorted(
        {c for inst in pairs for c in (inst.base_currency, inst.quote_currency)} - {"USD"}
    )
    unknown = [c for c in currencies if c not in CURRENCY_START_USD]
    if unknown:
        raise ValueError(f"no synthetic value for currencies {unknown}")
    rng = np.random.default_rng(seed)
    time = _open_minutes(n_bars, start)
    hour = (time // 3_600_000_000_000) % 24
    sigma = BASE_VOLATILITY * VOLATILITY_BY_HOUR[hour]
    rho = CURRENCY_SHOCK_CORRELATION
    common = rng.normal(0.0, 1.0, n_bars)
    log_value = {"USD": np.zeros(n_bars)}
    for currency in currencies:
        own = rng.normal(0.0, 1.0, n_bars)
        shock = sigma * (np.sqrt(rho) * common + np.sqrt(1.0 - rho) * own)
        log_value[currency] = np.log(CURRENCY_START_USD[currency]) + np.cumsum(shock)
    out = {}
    for inst in pairs:
        decimals = round(-np.log10(inst.point))
        mid = np.exp(log_value[inst.base_currency] - log_value[inst.quote_currency])
        close = np.round(mid, decimals)
        first = np.exp(
            np.log(CURRENCY_START_USD[inst.base_currency])
            - np.log(CURRENCY_START_USD[inst.quote_currency])
        )
        open_ = np.empty(n_bars)
        open_[0] = np.round(first, decimals)
        open_[1:] = close[:-1]
        series = _two_sided_bars(
            time.copy(),
            open_,
            close,
            sigma,
            hour,
            rng,
            inst,
            decimals,
            1.0,
            f"synthetic basket(seed={seed}, n_bars={n_bars}, symbol={inst.symbol})",
        )
        out[inst.symbol] = series
    return out
