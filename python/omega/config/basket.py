"""A basket config (``instruments:``) as one single-instrument config per member.

Member ``k`` is the basket's config with ``instrument`` taken from entry ``k``, its data
(the entry's file, or the basket's synthetic seed), ``strategy.params`` updated with the
entry's ``params``, and ``account.conversion`` from the entry. Everything else (timeframes,
execution, account) is the basket's: one account, one set of execution rules.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import ValidationError

from omega.config.model import BasketEntry, format_validation_error
from omega.errors import ConfigError

if TYPE_CHECKING:
    from omega.config.backtest import BacktestConfig

INSTRUMENT_FIELDS = (
    "symbol",
    "pip_size",
    "point",
    "contract_size",
    "lot_step",
    "min_lot",
    "base_currency",
    "quote_currency",
    "swap",
    "margin_rate",
)
DATA_FIELDS = ("path", "format", "tz", "spread_pips", "pattern")


def entries(config: BacktestConfig) -> list[BasketEntry]:
    assert config.instruments is not None
    return config.instruments


def member_config(config: BacktestConfig, k: int) -> BacktestConfig:
    """The single-instrument config of basket member ``k``."""
    from omega.config.backtest import BacktestConfig

    entry = entries(config)[k]
    data = config.user_dict()
    data.pop("instruments", None)
    given = entry.model_dump(mode="json", exclude_unset=True)
    data["instrument"] = {name: given[name] for name in INSTRUMENT_FIELDS if name in given}
    data["instrument"]["symbol"] = entry.symbol
    section = {k: v for k, v in data.get("data", {}).items() if k == "strict_quality"}
    if entry.path is not None:
        section.update({name: given[name] for name in DATA_FIELDS if name in given})
    elif "synthetic" in data.get("data", {}):
        section["synthetic"] = data["data"]["synthetic"]
    data["data"] = section
    strategy = dict(data.get("strategy", {}))
    strategy["params"] = {**strategy.get("params", {}), **entry.params}
    data["strategy"] = strategy
    account = dict(data.get("account", {}))
    account.pop("conversion", None)
    if entry.conversion is not None:
        account["conversion"] = entry.conversion.model_dump(mode="json", exclude_none=True)
    data["account"] = account
    where = f"instruments[{k}] ({entry.symbol})"
    try:
        return BacktestConfig.model_validate(data, context={"basket_member": True})
    except ValidationError as exc:
        raise ConfigError(f"{where}: {format_validation_error(exc)}") from None
    except ConfigError as exc:
        raise ConfigError(f"{where}: {exc}") from None


def member_configs(config: BacktestConfig) -> list[BacktestConfig]:
    return [member_config(config, k) for k in range(len(entries(config)))]


def conversion_pair(symbols: list[str], quote: str, account: str) -> str | None:
    """The basket's pair that converts ``quote`` to ``account`` (either way round)."""
    for candidate in (quote + account, account + quote):
        if candidate in symbols:
            return candidate
    return None


def check_basket(config: BacktestConfig) -> None:
    """What a basket needs beyond each member's own checks (ConfigError names the key)."""
    items = entries(config)
    symbols = [entry.to_instrument().symbol for entry in items]
    repeated = sorted({s for s in symbols if symbols.count(s) > 1})
    if repeated:
        raise ConfigError(f"instruments: {', '.join(repeated)} listed more than once")
    with_path = [entry.path is not None for entry in items]
    if any(with_path) and not all(with_path):
        raise ConfigError("instruments: give every instrument a path, or none (a synthetic basket)")
    if config.data.path is not None:
        raise ConfigError(
            "data.path: a basket's files are given per instrument (instruments[k].path)"
        )
    from omega.config.backtest import _is_portfolio

    if config.strategy.plugin is None and config.strategy.module is not None:
        from omega.config.model import import_strategy_module

        # the strategy's kind is asked before any member imports its module
        import_strategy_module(config.strategy.module)
    if config.strategy.plugin is None and _is_portfolio(config.strategy.name):
        for k, entry in enumerate(items):
            if entry.params:
                raise ConfigError(
                    f"instruments[{k}].params: {config.strategy.name} is a portfolio strategy "
                    "(one strategy for the basket): give its parameters in strategy.params"
                )
    if config.strategy.plugin is None and _is_portfolio(config.strategy.name):
        _check_portfolio_init(config)
    currency = config.account.currency
    for k, entry in enumerate(items):
        member = member_config(config, k)
        instrument = member.instrument.to_instrument()
        if currency in (instrument.base_currency, instrument.quote_currency):
            continue
        if entry.conversion is None and not conversion_pair(
            symbols, instrument.quote_currency, currency
        ):
            raise ConfigError(
                f"instruments[{k}] ({instrument.symbol}): {currency} is neither of its "
                f"currencies: add {instrument.quote_currency}{currency} or "
                f"{currency}{instrument.quote_currency} to the basket, or give "
                f"instruments[{k}].conversion"
            )


def _check_portfolio_init(config: BacktestConfig) -> None:
    """What a portfolio strategy checks in ``init`` (its legs, say), as a config error."""
    from omega.errors import StrategyError
    from omega.strategy import get_strategy
    from omega.strategy.portfolio import portfolio_members

    instruments = [entry.to_instrument() for entry in entries(config)]
    strategy = get_strategy(config.strategy.name)(config.strategy_params())
    timeframes = config.timeframes.all()
    try:
        portfolio_members(strategy, instruments, timeframes[0], tuple(timeframes))
    except StrategyError as exc:
        message = str(exc).removeprefix(f"strategy {config.strategy.name}: ")
        raise ConfigError(f"strategy.params: {message}") from None
