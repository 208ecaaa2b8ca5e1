"""Parameter types shared by the built-in strategies."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BeforeValidator

from omega.timeframes import Timeframe


def _timeframe_name(value: object) -> object:
    if isinstance(value, Timeframe):
        return value.name
    if isinstance(value, str):
        return value.upper()
    return value


TimeframeName = Annotated[
    Literal["M1", "M5", "M15", "M30", "H1", "H4", "D1"], BeforeValidator(_timeframe_name)
]
