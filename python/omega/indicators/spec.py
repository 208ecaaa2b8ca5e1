"""``IndicatorSpec``: what to compute, mirroring ``omega_strategy_api::IndicatorSpec``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from omega.indicators.adx import ADX
from omega.indicators.atr import ATR
from omega.indicators.base import Indicator
from omega.indicators.bollinger import MIDDLE, Bollinger
from omega.indicators.cci import CCI
from omega.indicators.custom import custom_defaults, custom_kind, custom_kinds
from omega.indicators.donchian import Donchian
from omega.indicators.ema import EMA
from omega.indicators.errors import IndicatorParameterError
from omega.indicators.hull import Hull
from omega.indicators.kalman import Kalman, KalmanZScore
from omega.indicators.keltner import Keltner
from omega.indicators.macd import MACD
from omega.indicators.rolling_std import RollingStd
from omega.indicators.rsi import RSI
from omega.indicators.sma import SMA
from omega.indicators.stochastic import Stochastic
from omega.indicators.wma import WMA
from omega.indicators.zscore import ZScore

FIELDS = ("open", "high", "low", "close")

# kind -> (indicator class, parameter names in the Rust variant's order, defaults)
_KINDS: dict[str, tuple[type, tuple[str, ...], dict[str, Any]]] = {
    "sma": (SMA, ("period",), {}),
    "ema": (EMA, ("period",), {}),
    "rsi": (RSI, ("period",), {}),
    "atr": (ATR, ("period",), {}),
    "rolling_std": (RollingStd, ("period",), {}),
    "bollinger": (
        Bollinger,
        ("period", "k_up", "k_down", "band"),
        {"k_up": 2.0, "k_down": 2.0, "band": MIDDLE},
    ),
    "zscore": (ZScore, ("period",), {}),
    "kalman": (Kalman, ("q", "r", "x0", "p0"), {"x0": None, "p0": 1.0}),
    "kalman_zscore": (
        KalmanZScore,
        ("q", "r", "x0", "p0", "lookback"),
        {"x0": None, "p0": 1.0},
    ),
    "wma": (WMA, ("period",), {}),
    "hull": (Hull, ("period",), {}),
    "macd": (
        MACD,
        ("fast", "slow", "signal", "line"),
        {"fast": 12, "slow": 26, "signal": 9, "line": 0},
    ),
    "stochastic": (
        Stochastic,
        ("k_period", "k_smooth", "d_period", "line"),
        {"k_period": 14, "k_smooth": 3, "d_period": 3, "line": 0},
    ),
    "adx": (ADX, ("period", "line"), {"line": 0}),
    "cci": (CCI, ("period",), {}),
    "donchian": (Donchian, ("period", "band"), {"band": MIDDLE}),
    "keltner": (
        Keltner,
        ("period", "atr_period", "k", "band"),
        {"atr_period": 10, "k": 2.0, "band": MIDDLE},
    ),
}
KINDS = tuple(_KINDS)
# Kinds that read a bar's high, low and close (no `field`; Rust: no `field` in the variant).
RANGE_KINDS = frozenset({"atr", "stochastic", "adx", "cci", "donchian", "keltner"})
_INT_PARAMS = frozenset(
    {
        "period",
        "lookback",
        "band",
        "fast",
        "slow",
        "signal",
        "line",
        "k_period",
        "k_smooth",
        "d_period",
        "atr_period",
    }
)


def _canonical(name: str, value: Any) -> Any:
    if value is None:
        return None
    return int(value) if name in _INT_PARAMS else float(value)


def _custom_canonical(value: Any) -> Any:
    """A registered kind's parameter as a plain Python value (numpy scalars unwrapped)."""
    item = getattr(value, "item", None)
    return item() if callable(item) and getattr(value, "shape", None) == () else value


def _unknown(kind: str) -> IndicatorParameterError:
    known = ", ".join((*KINDS, *custom_kinds()))
    return IndicatorParameterError(f"unknown indicator kind {kind!r}; expected one of {known}")


@dataclass(frozen=True)
class IndicatorSpec:
    """An indicator kind, its parameters (name, value) in canonical order, and the input field.

    Build it with :meth:`of` (``IndicatorSpec.of("sma", period=20)``), which validates and
    orders the parameters, so equal requests compare and hash equal and share one cached
    series. ``field`` is ``None`` for the kinds that read high, low and close (ATR,
    stochastic, ADX, CCI, Donchian, Keltner).
    """

    kind: str
    params: tuple[tuple[str, Any], ...]
    field: str | None = "close"

    def __post_init__(self) -> None:
        custom = custom_kind(self.kind) if self.kind not in _KINDS else None
        if custom is not None:
            self._check_custom(custom)
            return
        if self.kind not in _KINDS:
            raise _unknown(self.kind)
        _, names, _ = _KINDS[self.kind]
        given = tuple(name for name, _ in self.params)
        if given != names:
            raise IndicatorParameterError(
                f"{self.kind}: parameters must be {names} in that order, got {given}"
            )
        if self.kind in RANGE_KINDS:
            if self.field is not None:
                raise IndicatorParameterError(
                    f"{self.kind}: reads high, low and close; field must be None"
                )
        elif self.field not in FIELDS:
            raise IndicatorParameterError(
                f"{self.kind}: field must be one of {', '.join(FIELDS)}, got {self.field!r}"
            )
        self.build()  # validates the values

    def _check_custom(self, custom: type) -> None:
        names = custom.param_names  # type: ignore[attr-defined]
        given = tuple(name for name, _ in self.params)
        if given != names:
            raise IndicatorParameterError(
                f"{self.kind}: parameters must be {names} in that order, got {given}"
            )
        if custom.input == "field":  # type: ignore[attr-defined]
            if self.field not in FIELDS:
                raise IndicatorParameterError(
                    f"{self.kind}: field must be one of {', '.join(FIELDS)}, got {self.field!r}"
                )
        elif self.field is not None:
            raise IndicatorParameterError(
                f"{self.kind}: reads whole bars ({custom.input} input); field must be None"  # type: ignore[attr-defined]
            )
        try:
            self.build()  # validation = constructing the class
        except IndicatorParameterError:
            raise
        except (TypeError, ValueError) as exc:
            raise IndicatorParameterError(f"{self.kind}: {exc}") from None

    @classmethod
    def of(cls, kind: str, field: str | None = "close", **params: Any) -> IndicatorSpec:
        """Validated spec from keyword parameters; omitted optional ones take their defaults."""
        kind = str(kind).lower()
        custom = custom_kind(kind) if kind not in _KINDS else None
        if custom is not None:
            return cls._of_custom(custom, kind, field, params)
        if kind not in _KINDS:
            raise _unknown(kind)
        _, names, defaults = _KINDS[kind]
        unknown = sorted(set(params) - set(names))
        if unknown:
            raise IndicatorParameterError(f"{kind}: unknown parameter(s) {', '.join(unknown)}")
        values = {**defaults, **params}
        missing = [name for name in names if name not in values]
        if missing:
            raise IndicatorParameterError(f"{kind}: missing parameter(s) {', '.join(missing)}")
        if kind in RANGE_KINDS:
            field = None
        spec = cls(kind, tuple((name, values[name]) for name in names), field)  # validates
        # Canonical Python types (np.int64(5) -> 5, 1 -> 1.0) so equal specs hash alike and
        # the Rust binding receives what it expects.
        canonical = tuple((name, _canonical(name, value)) for name, value in spec.params)
        return cls(kind, canonical, field)

    @classmethod
    def _of_custom(
        cls, custom: type, kind: str, field: str | None, params: dict[str, Any]
    ) -> IndicatorSpec:
        names = custom.param_names  # type: ignore[attr-defined]
        unknown = sorted(set(params) - set(names))
        if unknown:
            raise IndicatorParameterError(f"{kind}: unknown parameter(s) {', '.join(unknown)}")
        values = {**custom_defaults(kind), **params}
        missing = [name for name in names if name not in values]
        if missing:
            raise IndicatorParameterError(f"{kind}: missing parameter(s) {', '.join(missing)}")
        if custom.input != "field":  # type: ignore[attr-defined]
            field = None
        return cls(kind, tuple((name, _custom_canonical(values[name])) for name in names), field)

    @property
    def param_dict(self) -> dict[str, Any]:
        return dict(self.params)

    @property
    def warmup_period(self) -> int:
        return self.build().warmup_period

    def build(self) -> Indicator | ATR:
        """A fresh indicator object for this spec."""
        entry = _KINDS.get(self.kind)
        indicator_class = entry[0] if entry is not None else custom_kind(self.kind)
        return indicator_class(**self.param_dict)  # type: ignore[misc]

    @property
    def custom_input(self) -> str | None:
        """``field``, ``range`` or ``bar`` for a registered custom kind, None for a built-in."""
        if self.kind in _KINDS:
            return None
        return custom_kind(self.kind).input  # type: ignore[union-attr]

    def __str__(self) -> str:
        args = ", ".join(f"{name}={value}" for name, value in self.params)
        on = "" if self.field is None else f" on {self.field}"
        return f"{self.kind}({args}){on}"
