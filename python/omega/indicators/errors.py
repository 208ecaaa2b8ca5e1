"""Errors raised for bad indicator parameters or inputs (Python and Rust paths alike)."""

from __future__ import annotations

from omega.errors import ConfigError


class IndicatorParameterError(ConfigError, ValueError):
    """An indicator parameter is out of range (e.g. ``period=0``) or unknown.

    It is a ``ConfigError`` because parameters come from the configuration, and a
    ``ValueError`` so plain-Python callers can catch it the usual way.
    """


class IndicatorInputError(ValueError):
    """Input columns of one indicator call do not fit together (e.g. unequal lengths)."""
