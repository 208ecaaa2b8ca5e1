"""Kalman filter for a local-level model, and the z-score of its residual."""

from __future__ import annotations

import math

from omega.indicators.base import NAN, Indicator, check_float, check_period
from omega.indicators.errors import IndicatorParameterError
from omega.indicators.zscore import ZScore


def _check_x0(indicator: str, x0: float | None) -> float | None:
    if x0 is None:
        return None
    if isinstance(x0, bool) or not isinstance(x0, int | float) or not math.isfinite(x0):
        raise IndicatorParameterError(
            f"{indicator}: x0 must be a finite number or None, got {x0!r}"
        )
    return float(x0)


class Kalman(Indicator):
    """Local level ``level_t = level_{t-1} + w (var q)``, ``y_t = level_t + v (var r)``.

    Before the first update the level is ``x0``, or the first observation when ``x0`` is None,
    and its variance is ``p0``. Each ``update(y)``::

        p_prior = P + q
        k = p_prior / (p_prior + r)
        x = x + k * (y - x)
        P = (1.0 - k) * p_prior

    and returns the posterior level ``x`` (no warm-up). The gain sequence depends only on the
    ratios of ``q``, ``r`` and ``p0``. The last gain is kept in :attr:`gain`.
    """

    name = "kalman"

    def __init__(self, q: float, r: float, x0: float | None = None, p0: float = 1.0) -> None:
        self.q = check_float("kalman", "q", q, minimum=0.0)
        self.r = check_float("kalman", "r", r, minimum=0.0, strict=True)
        self.p0 = check_float("kalman", "p0", p0, minimum=0.0)
        self.x0 = _check_x0("kalman", x0)
        self.reset()

    @property
    def warmup_period(self) -> int:
        return 0

    def reset(self) -> None:
        self.level = NAN if self.x0 is None else self.x0
        self.variance = self.p0
        self.gain = NAN
        self._started = self.x0 is not None

    def update(self, value: float) -> float:
        if not self._started:
            self.level = value
            self._started = True
        p_prior = self.variance + self.q
        k = p_prior / (p_prior + self.r)
        self.level = self.level + k * (value - self.level)
        self.variance = (1.0 - k) * p_prior
        self.gain = k
        return self.level


class KalmanZScore(Indicator):
    """``ZScore(lookback)`` of the posterior residual ``e_t = y_t - x_t`` of :class:`Kalman`.

    NaN for the first ``lookback - 1`` values and where the residual window is flat.
    """

    name = "kalman_zscore"

    def __init__(
        self,
        q: float,
        r: float,
        x0: float | None = None,
        p0: float = 1.0,
        lookback: int = 50,
    ) -> None:
        self.lookback = check_period("kalman_zscore", lookback, 2, name="lookback")
        self._kalman = Kalman(q, r, x0, p0)
        self._zscore = ZScore(self.lookback)
        self.residual = NAN

    @property
    def warmup_period(self) -> int:
        return self.lookback - 1

    def reset(self) -> None:
        self._kalman.reset()
        self._zscore.reset()
        self.residual = NAN

    def update(self, value: float) -> float:
        self.residual = value - self._kalman.update(value)
        return self._zscore.update(self.residual)
