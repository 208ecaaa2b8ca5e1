"""Timeframes. A bar is labelled by its open time and closes at open + timeframe (contract)."""

from __future__ import annotations

import enum

NS_PER_SECOND = 1_000_000_000


class Timeframe(enum.Enum):
    M1 = 60
    M5 = 300
    M15 = 900
    M30 = 1800
    H1 = 3600
    H4 = 14400
    D1 = 86400

    @property
    def seconds(self) -> int:
        return self.value

    @property
    def nanos(self) -> int:
        return self.value * NS_PER_SECOND

    @classmethod
    def parse(cls, name: str | Timeframe) -> Timeframe:
        if isinstance(name, Timeframe):
            return name
        try:
            return cls[str(name).upper()]
        except KeyError:
            known = ", ".join(t.name for t in cls)
            raise ValueError(f"unknown timeframe {name!r}; expected one of {known}") from None

    def __str__(self) -> str:
        return self.name
