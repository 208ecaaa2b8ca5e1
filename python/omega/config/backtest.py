"""`BacktestConfig`: the whole run, loaded from YAML/JSON, overridable with ``--set``."""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from pydantic import ConfigDict, Field, ValidationError, ValidationInfo, model_validator

from omega.config.model import (
    FINITE_ONLY,
    MAX_DEPTH,
    AccountConfig,
    BasketEntry,
    DataConfig,
    EngineMode,
    ExecutionConfig,
    InstrumentConfig,
    Section,
    StrategyConfig,
    TimeframesConfig,
    cap_message,
    field_path,
    format_validation_error,
    reject_non_finite,
    validate_strategy_params,
)
from omega.engine.settings import (
    BreakEvenSettings,
    EngineSettings,
    FeeSettings,
    SizingSettings,
    SlippageSettings,
    TrailingSettings,
)
from omega.errors import ConfigError
from omega.timeframes import Timeframe


class BacktestConfig(Section):
    """One backtest. ``BacktestConfig.from_dict({})`` is the default configuration."""

    model_config = ConfigDict(
        extra="forbid", frozen=True, title="Omega backtest configuration", **FINITE_ONLY
    )

    data: DataConfig = Field(
        default_factory=DataConfig,
        description="the bars: a file or folder (path + format), or seeded synthetic bars",
    )
    instrument: InstrumentConfig = Field(
        default_factory=InstrumentConfig, description="the traded instrument"
    )
    timeframes: TimeframesConfig = Field(
        default_factory=TimeframesConfig, description="primary and extra timeframes"
    )
    strategy: StrategyConfig = Field(
        default_factory=StrategyConfig, description="the strategy and its parameters"
    )
    execution: ExecutionConfig = Field(
        default_factory=ExecutionConfig,
        description="fills: intrabar policy, slippage, fees, sizing, stops",
    )
    account: AccountConfig = Field(
        default_factory=AccountConfig, description="initial balance and currency"
    )
    engine: EngineMode = Field(
        default="auto",
        description="auto (rust when the strategy has a Rust implementation, else hybrid), "
        "python, hybrid or rust",
    )
    instruments: list[BasketEntry] | None = Field(
        default=None,
        min_length=1,
        description="a basket: several instruments on one account, each with its bars and "
        "parameter overrides (instrument and data above are then not used; see "
        "docs/user-guide/portfolios.md)",
    )
    trace: bool = Field(default=False, description="record the per-bar decision trace (trace.csv)")
    memory_check: bool = Field(
        default=True,
        description="refuse a run whose estimated memory exceeds the available memory "
        "(false: run anyway)",
    )

    @model_validator(mode="after")
    def _cross_checks(self, info: ValidationInfo) -> BacktestConfig:
        # Raised as ConfigError (not ValueError) so the key path is ours, not pydantic's.
        if self.instruments is not None:
            from omega.config.basket import check_basket

            check_basket(self)
            return self
        # A basket member's cross may convert through a pair of the basket (checked there).
        member = bool(info.context and info.context.get("basket_member"))
        instrument = self.instrument.to_instrument()
        currencies = (instrument.base_currency, instrument.quote_currency)
        if (
            self.account.currency not in currencies
            and self.account.conversion is None
            and not member
        ):
            raise ConfigError(
                f"account.currency: {self.account.currency} is neither the base nor the quote "
                f"currency of {instrument.symbol}: give account.conversion (a pair of "
                f"{instrument.quote_currency} and {self.account.currency}, or a fixed rate)"
            )
        if self.strategy.plugin is None:
            params = validate_strategy_params(
                self.strategy.name, self.strategy.params, self.strategy.module
            )
            if _is_portfolio(self.strategy.name):
                if not member:
                    raise ConfigError(
                        f"strategy.name: {self.strategy.name} is a portfolio strategy: it "
                        "runs on a basket (an instruments: list)"
                    )
            else:
                _check_strategy_init(self.strategy.name, params, self.to_engine_settings)
        else:
            # A plugin validates its params itself; the finite rule is the config's.
            reject_non_finite(self.strategy.params, ("strategy", "params"))
        if self.strategy.plugin is not None and self.engine in ("python", "hybrid"):
            raise ConfigError(
                f"engine: {self.engine} conflicts with strategy.plugin "
                "(a plugin strategy runs in rust mode)"
            )
        return self

    # ---------------------------------------------------------------- construction

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> BacktestConfig:
        if data is None:
            data = {}
        if not isinstance(data, dict):
            raise ConfigError(f"<root>: expected a mapping of sections, got {type(data).__name__}")
        _check_depth(data)
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            raise ConfigError(format_validation_error(exc)) from None

    @classmethod
    def from_file(cls, path: str | Path) -> BacktestConfig:
        """Read a ``.yaml``/``.yml`` or ``.json`` file; errors name the file and the key."""
        path = Path(path)
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise ConfigError(f"{path}: cannot read config: {exc.strerror or exc}") from None
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = raw[: exc.start].count(b"\n") + 1
            raise ConfigError(
                f"{path}: not UTF-8 text: byte 0x{raw[exc.start]:02x} on line {line} "
                "(save the config as UTF-8)"
            ) from None
        kind = "JSON" if path.suffix.lower() == ".json" else "YAML"
        try:
            data = json.loads(text) if kind == "JSON" else yaml.safe_load(text)
        except (json.JSONDecodeError, yaml.YAMLError) as exc:
            raise ConfigError(cap_message(f"{path}: not valid {kind}: {exc}")) from None
        except RecursionError:
            raise ConfigError(
                f"{path}: not a config: nested deeper than {MAX_DEPTH} levels"
            ) from None
        try:
            return cls.from_dict(_paths_relative_to(data, path.parent))
        except ConfigError as exc:
            raise ConfigError(cap_message(f"{path}: {exc}")) from None

    def user_dict(self) -> dict[str, Any]:
        """The keys the user set (defaults left out), JSON-able: the basis for overrides."""
        return self.model_dump(mode="json", exclude_unset=True)

    def effective_dict(self) -> dict[str, Any]:
        """Every value that shapes the run, defaults filled in (synthetic data, all strategy
        parameters): what reports and metrics.json record."""
        data = self.model_dump(mode="json")
        if self.data.path is None:
            data["data"]["synthetic"] = self.data.synthetic_or_default.model_dump(mode="json")
        if self.strategy.plugin is None:
            data["strategy"]["params"] = self.strategy_params().model_dump(mode="json")
        # A plugin fills in its own defaults: its params are recorded as given.
        return data

    def apply_overrides(self, assignments: list[str]) -> BacktestConfig:
        """A new config with ``key.path=value`` assignments applied (values are YAML scalars)."""
        data = self.user_dict()
        for assignment in assignments:
            key, sep, text = assignment.partition("=")
            key = key.strip()
            if not sep or not key:
                raise ConfigError(f"--set {assignment!r}: expected KEY=VALUE, e.g. engine=python")
            try:
                value = yaml.safe_load(text) if text.strip() else None
            except yaml.YAMLError as exc:
                message = f"{key}: cannot parse value {text!r}: {exc}"
                raise ConfigError(cap_message(message)) from None
            except RecursionError:
                raise ConfigError(f"{key}: value nested deeper than {MAX_DEPTH} levels") from None
            _assign(data, key.split("."), value)
        return BacktestConfig.from_dict(data)

    def with_data_file(
        self,
        path: str | list[str],
        format: str | None = None,
        tz: str | None = None,
        spread_pips: float | None = None,
    ) -> BacktestConfig:
        """The same run on a data file, folder, glob or list of files (replaces the data
        source; keeps strict_quality)."""
        data = self.user_dict()
        section = dict(data.get("data", {}))
        if section.get("path") is None:
            # From synthetic to a file: synthetic-only and previous file options do not carry over.
            section = {k: v for k, v in section.items() if k == "strict_quality"}
        section["path"] = path
        if format is not None:
            section["format"] = format
        if tz is not None:
            section["tz"] = tz
        if spread_pips is not None:
            section["spread_pips"] = spread_pips
        data["data"] = section
        return BacktestConfig.from_dict(data)

    # ---------------------------------------------------------------- mapping

    def strategy_params(self) -> Any:
        """The strategy's validated Params model instance."""
        return validate_strategy_params(
            self.strategy.name, self.strategy.params, self.strategy.module
        )

    def build_strategy(self) -> Any:
        """A fresh instance of the configured Python strategy."""
        from omega.strategy import get_strategy

        return get_strategy(self.strategy.name)(self.strategy_params())

    def to_engine_settings(self) -> EngineSettings:
        from omega.config import account

        execution = self.execution
        timeframes = self.timeframes.all()
        return EngineSettings(
            end_of_data=execution.end_of_data,
            swap=account.swap_settings(self),
            margin=account.margin_settings(self),
            cross=account.cross_settings(self),
            session=account.session_settings(self),
            blackouts=account.load_blackouts(execution.blackouts),
            primary_timeframe=timeframes[0],
            timeframes=timeframes,
            intrabar_policy=execution.intrabar_policy,
            slippage=SlippageSettings(**execution.slippage.model_dump()),
            fees=FeeSettings(**execution.fees.model_dump()),
            sizing=SizingSettings(**execution.sizing.model_dump()),
            break_even=(
                BreakEvenSettings(**execution.break_even.model_dump())
                if execution.break_even is not None
                else None
            ),
            trailing=(
                TrailingSettings(**execution.trailing.model_dump())
                if execution.trailing is not None
                else None
            ),
            max_bars_held=execution.max_bars_held,
            stop_atr_period=execution.stop_atr_period,
            initial_balance=self.account.initial_balance,
            account_currency=self.account.currency,
            instrument=self.instrument.to_instrument(),
        )

    @property
    def primary_timeframe(self) -> Timeframe:
        return Timeframe.parse(self.timeframes.primary)


def _check_depth(data: Any) -> None:
    """ConfigError naming the key path where ``data`` nests deeper than MAX_DEPTH (before
    anything recurses over it). Shared values (YAML aliases) are visited once."""
    stack: list[tuple[Any, tuple[str, ...]]] = [(data, ())]
    seen: set[int] = set()
    while stack:
        node, path = stack.pop()
        if not isinstance(node, dict | list) or id(node) in seen:
            continue
        seen.add(id(node))
        if len(path) >= MAX_DEPTH:
            raise ConfigError(
                cap_message(f"{field_path(path)}: nested deeper than {MAX_DEPTH} levels", 300)
            )
        items = node.items() if isinstance(node, dict) else enumerate(node)
        stack.extend((value, (*path, str(key))) for key, value in items)


def _is_portfolio(name: str) -> bool:
    from omega.strategy import get_strategy
    from omega.strategy.portfolio import is_portfolio_strategy

    return is_portfolio_strategy(get_strategy(name))


def _check_strategy_init(name: str, params: Any, settings: Callable[[], EngineSettings]) -> None:
    """What a strategy checks in ``init`` at its start (e.g. a trend timeframe coarser than
    the primary), reported here with the key path instead."""
    from omega.engine.market import declared_indicators
    from omega.errors import StrategyError
    from omega.strategy import get_strategy

    try:
        declared_indicators(get_strategy(name)(params), settings())
    except StrategyError as exc:
        message = str(exc).removeprefix(f"strategy {name}: ")
        key, sep, rest = message.partition(": ")
        if sep and key.startswith("parameter ") and " " not in key.removeprefix("parameter "):
            raise ConfigError(f"strategy.params.{key.removeprefix('parameter ')}: {rest}") from None
        raise ConfigError(f"strategy.params: {message}") from None
    except Exception:
        # A user strategy failing here for another reason fails the same way when the run
        # starts, where the runner reports it with the strategy's context: not a config error.
        return


def _paths_relative_to(data: Any, folder: Path) -> Any:
    """``data`` with the relative file paths of a config file (data.path, a ``.py``
    strategy.module, strategy.plugin, execution.blackouts, account.conversion.path, and
    each basket entry's path and conversion.path) joined to the file's folder, so that a
    config runs the same from any working directory."""
    if not isinstance(data, dict):
        return data  # from_dict reports the wrong shape

    def rebase(value: Any) -> Any:
        if isinstance(value, str) and value and not Path(value).expanduser().is_absolute():
            return os.path.normpath(folder / value)
        return value

    def rebase_paths(value: Any) -> Any:  # a path or a list of paths (data.path)
        return [rebase(p) for p in value] if isinstance(value, list) else rebase(value)

    data = copy.deepcopy(data)
    section = data.get("data")
    if isinstance(section, dict) and "path" in section:
        section["path"] = rebase_paths(section["path"])
    entries = data.get("instruments")
    for entry in entries if isinstance(entries, list) else []:
        if isinstance(entry, dict) and "path" in entry:
            entry["path"] = rebase_paths(entry["path"])
        conversion = entry.get("conversion") if isinstance(entry, dict) else None
        if isinstance(conversion, dict) and isinstance(conversion.get("path"), str):
            conversion["path"] = rebase(conversion["path"])
    execution = data.get("execution")
    if isinstance(execution, dict) and isinstance(execution.get("blackouts"), str):
        execution["blackouts"] = rebase(execution["blackouts"])
    account = data.get("account")
    conversion = account.get("conversion") if isinstance(account, dict) else None
    if isinstance(conversion, dict) and isinstance(conversion.get("path"), str):
        conversion["path"] = rebase(conversion["path"])
    strategy = data.get("strategy")
    if isinstance(strategy, dict):
        module = strategy.get("module")
        if isinstance(module, str) and module.endswith(".py"):
            strategy["module"] = rebase(module)
        if "plugin" in strategy:
            strategy["plugin"] = rebase(strategy["plugin"])
    return data


def _assign(data: dict[str, Any], keys: list[str], value: Any) -> None:
    """Set ``keys`` (a path of section names; a number picks an item of a list, as
    ``instruments.2.params.fast``) to ``value``, creating missing sections."""
    node: Any = data
    for depth, key in enumerate(keys[:-1]):
        child = _child(node, key, keys, depth)
        if child is None:
            child = node[key] = {}
        elif not isinstance(child, dict | list):
            path = ".".join(keys[: depth + 1])
            raise ConfigError(f"{path}: is a value, not a section; cannot set {'.'.join(keys)}")
        node = child
    if isinstance(node, list):
        node[_list_index(node, keys[-1], keys, len(keys) - 1)] = copy.deepcopy(value)
    else:
        node[keys[-1]] = copy.deepcopy(value)


def _child(node: dict[str, Any] | list[Any], key: str, keys: list[str], depth: int) -> Any:
    if isinstance(node, list):
        return node[_list_index(node, key, keys, depth)]
    return node.get(key)


def _list_index(items: list[Any], key: str, keys: list[str], depth: int) -> int:
    """``key`` as an index of ``items`` (the list at ``keys[:depth]``)."""
    path = ".".join(keys[:depth])
    if not key.isdigit():
        raise ConfigError(f"{path}: is a list; name an item by its number ({path}.0)")
    if int(key) >= len(items):
        raise ConfigError(f"{path}.{key}: {path} has {len(items)} items (0 to {len(items) - 1})")
    return int(key)


def default_config() -> BacktestConfig:
    """mean_reversion_z_score on seeded synthetic EURUSD M1 bars, M5 primary, H1 trend."""
    return BacktestConfig.from_dict({})


def config_json_schema() -> dict[str, Any]:
    return BacktestConfig.model_json_schema()
