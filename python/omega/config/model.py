"""The backtest configuration: pydantic models, one per YAML/JSON section.

Every key is optional: an omitted key takes the value of the default configuration
(`default_config()`), so ``{}`` *is* the default config. Unknown keys are errors. Semantics of
the execution settings: docs/engine/execution.md; the reference: docs/user-guide/config.md.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from omega.data.bars import Instrument
from omega.errors import ConfigError
from omega.timeframes import Timeframe

DataFormat = Literal["mt5", "histdata", "lean", "csv", "parquet"]
EngineMode = Literal["auto", "python", "hybrid", "rust"]

# The default synthetic size: 1,000,000 M1 bars (~2.7 years, 200,000 M5 bars)
# runs through the Python reference engine in about a second; see docs/user-guide/config.md.
DEFAULT_SYNTHETIC_BARS = 1_000_000
DEFAULT_SYNTHETIC_SEED = 42


# Every float of a config must be finite (docs/user-guide/config.md): inf or nan would run
# (fees of inf, a final balance of nan) instead of failing with the key path.
FINITE_ONLY = {"allow_inf_nan": False}
# The longest error message a config error carries (an alias bomb gave a 52 KB line).
MAX_ERROR_CHARS = 2000
MAX_ERRORS_LISTED = 10
# Deeper nesting than any config needs; YAML parsers and pydantic recurse per level.
MAX_DEPTH = 32


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, **FINITE_ONLY)


def _timeframe_name(value: Any) -> str:
    try:
        return Timeframe.parse(value).name
    except ValueError as exc:
        raise ValueError(str(exc)) from None


class SyntheticData(Section):
    """Seeded synthetic EURUSD-like M1 bars (the default data)."""

    seed: int = Field(
        default=DEFAULT_SYNTHETIC_SEED,
        ge=0,
        description="seed of the generator: the same seed gives the same bars",
    )
    n_bars: int = Field(
        default=DEFAULT_SYNTHETIC_BARS,
        ge=1,
        description="number of M1 bars to generate (1,000,000 is about 2.7 years)",
    )


class DataConfig(Section):
    """Either a file (``path`` + ``format``) or seeded synthetic bars (the default)."""

    path: str | list[str] | None = Field(
        default=None,
        description="a data file, a folder of files (those matching pattern), a glob, or a "
        "list of these read as one series; relative paths in a config file are relative to "
        "the config file's folder",
    )
    format: DataFormat | None = Field(
        default=None,
        description="file format: mt5, histdata, lean, csv or parquet (required with path; "
        "the CLI infers it from the file when --format is left out)",
    )
    tz: str | None = Field(
        default=None,
        description="zone of the file's timestamps (IANA name such as EET, or UTC+-H), "
        "converted to UTC; default: the format's (UTC; HistData UTC-5). MT5 files are in "
        "broker server time: set it",
    )
    spread_pips: float | None = Field(
        default=None,
        ge=0,
        description="fixed spread in pips for one-sided (bid-only) files without a spread "
        "column: ask = bid + spread; without it such files trade on zero spread (warned)",
    )
    pattern: str | None = Field(
        default=None, description="file glob inside a folder path (default *.csv)"
    )
    synthetic: SyntheticData | None = Field(
        default=None,
        description="seeded synthetic bars instead of a file (the default when path is unset)",
    )
    strict_quality: bool = Field(
        default=False,
        description="soft data anomalies (gaps, zero spreads...) raise DataQualityError "
        "instead of being counted in the quality report",
    )

    @model_validator(mode="after")
    def _one_source(self) -> DataConfig:
        if self.path is not None and self.synthetic is not None:
            raise ValueError("give either path (+ format) or synthetic, not both")
        if self.path is not None and self.format is None:
            raise ValueError("format is required with path (mt5, histdata, lean, csv, parquet)")
        if self.path is None:
            for name in ("format", "tz", "spread_pips", "pattern"):
                if getattr(self, name) is not None:
                    raise ValueError(f"{name} needs a path (synthetic data has no file)")
        return self

    @property
    def source(self) -> Literal["file", "synthetic"]:
        return "file" if self.path is not None else "synthetic"

    @property
    def synthetic_or_default(self) -> SyntheticData:
        return self.synthetic if self.synthetic is not None else SyntheticData()


Weekday = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
WEEKDAYS: tuple[str, ...] = (
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
)
CLOCK = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"


class SwapConfig(Section):
    """Swap (rollover interest) of the instrument; positive is a credit to the trader."""

    long: float = Field(default=0.0, description="swap of a long position per night")
    short: float = Field(default=0.0, description="swap of a short position per night")
    unit: Literal["points", "annual_percent"] = Field(
        default="points",
        description="points: points (instrument.point) per lot per night, quote currency, as "
        "MetaTrader's SYMBOL_SWAP_LONG/SHORT; annual_percent: percent of the notional per year "
        "(365 nights)",
    )
    rollover_time: str = Field(
        default="17:00", pattern=CLOCK, description="local rollover time HH:MM"
    )
    timezone: str = Field(
        default="America/New_York",
        description="IANA zone of the rollover time (daylight saving followed)",
    )
    triple_day: Weekday = Field(
        default="wednesday",
        description="the rollover that counts three nights (the weekend's settlement)",
    )


class InstrumentConfig(Section):
    """The symbol; any field left out comes from ``Instrument.for_symbol(symbol)``."""

    symbol: str = Field(
        default="EURUSD",
        description="the traded symbol; a six-letter FX pair gives every field below a default",
    )
    pip_size: float | None = Field(
        default=None, gt=0, description="price of one pip (EURUSD 0.0001, USDJPY 0.01)"
    )
    point: float | None = Field(
        default=None,
        gt=0,
        description="smallest price increment (EURUSD 0.00001); MT5 spreads are in points",
    )
    contract_size: float | None = Field(
        default=None, gt=0, description="units of the base currency in one lot (100,000)"
    )
    lot_step: float | None = Field(
        default=None, gt=0, description="order sizes are rounded down to this step (0.01)"
    )
    min_lot: float | None = Field(
        default=None, gt=0, description="smallest order size; smaller orders are dropped (0.01)"
    )
    base_currency: str | None = Field(
        default=None, min_length=3, max_length=3, description="first currency of the pair"
    )
    quote_currency: str | None = Field(
        default=None,
        min_length=3,
        max_length=3,
        description="second currency of the pair, in which prices are quoted",
    )
    swap: SwapConfig | None = Field(default=None, description="swap at rollover; null: none")
    margin_rate: float | None = Field(
        default=None,
        gt=0,
        le=1,
        description="margin per unit of notional (0.0333 = 30:1); overrides account.leverage",
    )

    @model_validator(mode="after")
    def _resolvable(self) -> InstrumentConfig:
        self.to_instrument()
        return self

    def to_instrument(self) -> Instrument:
        overrides = {
            name: getattr(self, name)
            for name in (
                "pip_size",
                "point",
                "contract_size",
                "lot_step",
                "min_lot",
                "base_currency",
                "quote_currency",
            )
            if getattr(self, name) is not None
        }
        try:
            base = Instrument.for_symbol(self.symbol)
        except ValueError:
            missing = {"pip_size", "point", "base_currency", "quote_currency"} - overrides.keys()
            if missing:
                raise ValueError(
                    f"symbol {self.symbol!r} is not a six-letter FX pair; "
                    f"give {', '.join(sorted(missing))} explicitly"
                ) from None
            base = Instrument(symbol=self.symbol)
        for currency in ("base_currency", "quote_currency"):
            if currency in overrides:
                overrides[currency] = overrides[currency].upper()
        return Instrument(**{**base.__dict__, **overrides, "symbol": self.symbol.upper()})


class TimeframesConfig(Section):
    """The timeframes of the run (M1, M5, M15, M30, H1, H4, D1)."""

    primary: str = Field(
        default="M5",
        description="the timeframe the strategy loop walks; a multiple of the data's timeframe",
    )
    extra: list[str] = Field(
        default_factory=lambda: ["H1"],
        description="further timeframes the strategy may read; none finer than primary",
    )

    _names = field_validator("primary", mode="before")(_timeframe_name)

    @field_validator("extra", mode="before")
    @classmethod
    def _extra_names(cls, value: Any) -> Any:
        if isinstance(value, list | tuple):
            return [_timeframe_name(v) for v in value]
        return value

    @model_validator(mode="after")
    def _coarser(self) -> TimeframesConfig:
        primary = Timeframe.parse(self.primary)
        for name in self.extra:
            if Timeframe.parse(name).seconds < primary.seconds:
                raise ValueError(f"extra timeframe {name} is finer than the primary {primary}")
        return self

    def all(self) -> tuple[Timeframe, ...]:
        """Primary first, then the extra ones, coarser last, without duplicates."""
        primary = Timeframe.parse(self.primary)
        extra = sorted({Timeframe.parse(n) for n in self.extra} - {primary}, key=lambda t: t.value)
        return (primary, *extra)


class StrategyConfig(Section):
    """Which strategy runs, and its parameters."""

    name: str = Field(
        default="mean_reversion_z_score",
        description="a registered strategy (omega strategies lists them)",
    )
    params: dict[str, Any] = Field(
        default_factory=dict,
        description="the strategy's parameters, validated by its Params model; omitted ones "
        "take the strategy's defaults",
    )
    module: str | None = Field(
        default=None,
        description="Python module (dotted name) or .py file imported first, so that a custom "
        "strategy it registers with @register_strategy can be named (a relative .py path in a "
        "config file is relative to the config file's folder)",
    )
    plugin: str | None = Field(
        default=None,
        description="Path of a strategy plugin library (a cdylib exporting its strategy with "
        "omega-strategy-api's export_strategy!; a relative path in a config file is relative "
        "to the config file's folder). The backtest then runs in rust mode through the "
        "plugin, which validates params itself; name is not used",
    )


class SlippageConfig(Section):
    """Price slippage against the trader on market fills and stops."""

    model: Literal["none", "fixed", "random", "atr"] = Field(
        default="none",
        description="none; fixed (pips); random (uniform up to pips, seeded); atr "
        "(atr_fraction x ATR)",
    )
    pips: float = Field(
        default=0.0, ge=0, description="fixed: the slip in pips; random: the largest slip"
    )
    atr_fraction: float = Field(
        default=0.0, ge=0, description="atr: slip = this fraction of ATR(atr_period)"
    )
    atr_period: int = Field(
        default=14, ge=1, description="atr: bars of the ATR (of the last closed bar)"
    )
    seed: int = Field(
        default=0, ge=0, lt=2**64, description="random: seed of the SplitMix64 generator"
    )


class FeesConfig(Section):
    """Costs charged on every fill."""

    commission_per_lot: float = Field(
        default=3.5, ge=0, description="account currency per lot per side"
    )
    percent_of_notional: float = Field(
        default=0.0, ge=0, description="percent of each fill's notional value"
    )


class SizingConfig(Section):
    """How many lots each entry trades."""

    mode: Literal["fixed", "risk_percent"] = Field(
        default="risk_percent",
        description="fixed: always lots; risk_percent: the size that loses risk_percent of "
        "the balance at the stop",
    )
    lots: float = Field(default=1.0, gt=0, description="fixed: lots per trade")
    risk_percent: float = Field(
        default=1.0, gt=0, le=100, description="risk_percent: percent of the balance at risk"
    )


def _pips_aliases_mean_pips(data: Any, aliases: tuple[str, ...]) -> Any:
    """The old ``*_pips`` keys are aliases meaning unit pips: refused with another unit."""
    if isinstance(data, dict) and any(key in data for key in aliases):
        unit = data.get("unit", "pips")
        if unit != "pips":
            used = ", ".join(key for key in aliases if key in data)
            raise ValueError(f"{used} mean(s) unit pips, not {unit!r}: use the keys without _pips")
    return data


StopUnit = Literal["pips", "atr"]


class BreakEvenConfig(Section):
    """Move the stop to the entry once the trade is far enough in profit."""

    trigger: float = Field(
        gt=0,
        validation_alias=AliasChoices("trigger", "trigger_pips"),
        description="profit (in units) that moves the stop; alias trigger_pips",
    )
    offset: float = Field(
        default=0.0,
        validation_alias=AliasChoices("offset", "offset_pips"),
        description="the stop goes to entry + this many units (in profit); alias offset_pips",
    )
    unit: StopUnit = Field(
        default="pips",
        description="pips, or atr: multiples of ATR(execution.stop_atr_period) at the close",
    )

    @model_validator(mode="before")
    @classmethod
    def _aliases(cls, data: Any) -> Any:
        return _pips_aliases_mean_pips(data, ("trigger_pips", "offset_pips"))


class TrailingConfig(Section):
    """A stop that follows the price."""

    distance: float = Field(
        gt=0,
        validation_alias=AliasChoices("distance", "distance_pips"),
        description="the stop trails the close by this many units; alias distance_pips",
    )
    unit: StopUnit = Field(
        default="pips",
        description="pips, or atr: multiples of ATR(execution.stop_atr_period) at the close",
    )

    @model_validator(mode="before")
    @classmethod
    def _aliases(cls, data: Any) -> Any:
        return _pips_aliases_mean_pips(data, ("distance_pips",))


class SessionConfig(Section):
    """Trading hours in a time zone."""

    timezone: str = Field(default="UTC", description="IANA zone of start and end")
    start: str = Field(default="00:00", pattern=CLOCK, description="local opening time HH:MM")
    end: str = Field(
        default="24:00",
        pattern=r"^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$",
        description="local closing time HH:MM (exclusive); before start: over midnight",
    )
    days: list[Weekday] = Field(
        default_factory=lambda: ["monday", "tuesday", "wednesday", "thursday", "friday"],
        min_length=1,
        description="local weekdays the session opens on",
    )


class ExecutionConfig(Section):
    """How orders fill (docs/engine/execution.md)."""

    intrabar_policy: Literal["pessimistic", "optimistic", "finer"] = Field(
        default="pessimistic",
        description="SL and TP both inside one bar: pessimistic (SL first), optimistic (TP "
        "first), finer (walk the base bars)",
    )
    slippage: SlippageConfig = Field(
        default_factory=SlippageConfig, description="slippage model (default: none)"
    )
    fees: FeesConfig = Field(default_factory=FeesConfig, description="commission and fees")
    sizing: SizingConfig = Field(default_factory=SizingConfig, description="position sizing")
    break_even: BreakEvenConfig | None = Field(
        default=None, description="break-even stop; null: off"
    )
    trailing: TrailingConfig | None = Field(default=None, description="trailing stop; null: off")
    stop_atr_period: int = Field(
        default=14,
        ge=1,
        le=100_000,
        description="ATR period (primary timeframe, bid) of break-even and trailing in unit atr",
    )
    max_bars_held: int | None = Field(
        default=None,
        ge=0,
        description="force an exit after this many primary bars; 0 or null: no limit",
    )
    end_of_data: Literal["last_close", "last_open", "mark"] = Field(
        default="last_close",
        description="a position open after the last bar: closed at the last close, at the "
        "last open (backtesting.py's finalize_trades), or left open and marked to market",
    )
    session: SessionConfig | None = Field(
        default=None, description="trading hours; entries outside are refused; null: always"
    )
    blackouts: str | None = Field(
        default=None,
        description="CSV file of news blackouts (columns start, end: ISO times, UTC unless "
        "they carry an offset); entries inside are refused",
    )


class ConversionConfig(Section):
    """Conversion to the account currency for a cross (the account currency is neither
    currency of the pair): a conversion pair's bars or a fixed rate."""

    symbol: str = Field(
        min_length=6,
        max_length=6,
        description="the pair of the instrument's quote currency and the account currency "
        "(GBPUSD for EURGBP in a USD account; USDJPY for EURJPY)",
    )
    rate: float | None = Field(default=None, gt=0, description="a fixed rate instead of bars")
    path: str | None = Field(default=None, description="the conversion pair's data file")
    format: DataFormat | None = Field(default=None, description="its format (with path)")
    tz: str | None = Field(default=None, description="its timestamps' zone (as data.tz)")

    @model_validator(mode="after")
    def _one_source(self) -> ConversionConfig:
        if (self.rate is None) == (self.path is None):
            raise ValueError("give either rate or path (with format)")
        if self.path is not None and self.format is None:
            raise ValueError("path needs a format")
        return self


class BasketEntry(InstrumentConfig):
    """One instrument of a basket (``instruments:``): the instrument's fields, where its
    bars are, and overrides of the strategy's parameters for it."""

    path: str | list[str] | None = Field(
        default=None,
        description="its data file, folder, glob or list (as data.path); none: the basket "
        "is synthetic (every entry without a path, bars from data.synthetic's seed)",
    )
    format: DataFormat | None = Field(default=None, description="its file format (with path)")
    tz: str | None = Field(default=None, description="its timestamps' zone (as data.tz)")
    spread_pips: float | None = Field(
        default=None, ge=0, description="fixed spread for a bid-only file (as data.spread_pips)"
    )
    pattern: str | None = Field(default=None, description="file glob in a folder path")
    params: dict[str, Any] = Field(
        default_factory=dict,
        description="strategy parameters for this instrument, over strategy.params",
    )
    conversion: ConversionConfig | None = Field(
        default=None,
        description="for a cross: its conversion to the account currency; none: through the "
        "basket's own pair of its quote currency and the account currency",
    )

    @model_validator(mode="after")
    def _file_needs_format(self) -> BasketEntry:
        if self.path is not None and self.format is None:
            raise ValueError("format is required with path (mt5, histdata, lean, csv, parquet)")
        if self.path is None:
            for name in ("format", "tz", "spread_pips", "pattern"):
                if getattr(self, name) is not None:
                    raise ValueError(f"{name} needs a path")
        return self


class AccountConfig(Section):
    """The trading account."""

    initial_balance: float = Field(
        default=100_000.0, gt=0, description="starting balance in the account currency"
    )
    currency: str = Field(
        default="USD",
        min_length=3,
        max_length=3,
        description="account currency: the base or the quote currency of the instrument",
    )

    leverage: float | None = Field(
        default=None,
        gt=0,
        description="account leverage (100 = 1:100): turns margin on; null: no margin model",
    )
    margin_call_level: float = Field(
        default=100.0, gt=0, description="margin level [%] below which margin_call is traced"
    )
    stop_out_level: float = Field(
        default=50.0, gt=0, description="margin level [%] below which the position is closed"
    )
    conversion: ConversionConfig | None = Field(
        default=None,
        description="for a cross: the conversion to the account currency (bars or a rate)",
    )

    @field_validator("currency")
    @classmethod
    def _upper(cls, value: str) -> str:
        return value.upper()


def field_path(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in loc) or "<root>"


def import_strategy_module(module: str) -> None:
    """Import a dotted module or a ``.py`` file once (re-importing would re-register classes)."""
    import hashlib
    import importlib
    import importlib.util
    import sys
    from pathlib import Path

    if not module.endswith(".py"):
        try:
            importlib.import_module(module)
        except ImportError as exc:
            raise ConfigError(f"strategy.module: cannot import {module!r}: {exc}") from None
        return
    path = Path(module).resolve()
    key = "omega_user_strategy_" + hashlib.sha1(str(path).encode()).hexdigest()[:12]
    if key in sys.modules:
        return
    if not path.is_file():
        raise ConfigError(f"strategy.module: no such file {module!r}")
    spec = importlib.util.spec_from_file_location(key, path)
    assert spec is not None and spec.loader is not None
    loaded = importlib.util.module_from_spec(spec)
    sys.modules[key] = loaded
    try:
        spec.loader.exec_module(loaded)
    except Exception as exc:
        del sys.modules[key]
        raise ConfigError(f"strategy.module: importing {module!r} failed: {exc!r}") from exc


def validate_strategy_params(name: str, params: dict[str, Any], module: str | None = None) -> Any:
    """The strategy's validated Params model; ConfigError naming ``strategy.params.<key>``."""
    from pydantic import ValidationError

    from omega.errors import StrategyError
    from omega.strategy import get_strategy, list_strategies

    if module is not None:
        import_strategy_module(module)
    try:
        strategy_class = get_strategy(name)
    except (KeyError, StrategyError) as exc:
        known = ", ".join(list_strategies())
        raise ConfigError(f"strategy.name: unknown strategy {name!r} (known: {known})") from exc
    params_model = strategy_class.Params
    try:
        validated = params_model.model_validate(params)
    except ValidationError as exc:
        raise ConfigError(format_validation_error(exc, prefix=("strategy", "params"))) from None
    # Params models are the strategy author's; the finite rule is the config's, so it is
    # checked on the validated values (a string "inf" has become a float by now).
    reject_non_finite(validated.model_dump(), ("strategy", "params"))
    return validated


def reject_non_finite(value: Any, path: tuple[str, ...]) -> None:
    """ConfigError naming the key path of the first float in ``value`` that is inf or nan."""
    import math

    if isinstance(value, float) and not math.isfinite(value):
        raise ConfigError(f"{field_path(path)}: must be a finite number, got {value}")
    if isinstance(value, dict):
        for key, item in value.items():
            reject_non_finite(item, (*path, str(key)))
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            reject_non_finite(item, (*path, str(index)))


def cap_message(text: str, limit: int = MAX_ERROR_CHARS) -> str:
    """``text`` cut to ``limit`` characters, saying how much was left out."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}... ({len(text) - limit} more characters)"


def format_validation_error(exc: Any, prefix: tuple[str, ...] = ()) -> str:
    """One line per pydantic error: ``key.path: message``."""
    lines = []
    errors = exc.errors(include_url=False)
    for error in errors[:MAX_ERRORS_LISTED]:
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            message = "unknown key"
        lines.append(cap_message(f"{field_path((*prefix, *error['loc']))}: {message}", 300))
    if len(errors) > MAX_ERRORS_LISTED:
        lines.append(f"and {len(errors) - MAX_ERRORS_LISTED} more errors")
    return cap_message("; ".join(lines))
