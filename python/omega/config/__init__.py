"""Backtest configuration (pydantic v2): YAML/JSON in, `EngineSettings` out."""

from omega.config.backtest import BacktestConfig, config_json_schema, default_config
from omega.config.model import DEFAULT_SYNTHETIC_BARS, DEFAULT_SYNTHETIC_SEED

__all__ = [
    "DEFAULT_SYNTHETIC_BARS",
    "DEFAULT_SYNTHETIC_SEED",
    "BacktestConfig",
    "config_json_schema",
    "default_config",
]
