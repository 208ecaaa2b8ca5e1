"""Wall-clock schedules of a run: swap rollovers and trading sessions in a time zone
(docs/engine/execution.md, "Swap" and "Sessions"), mirroring crates/engine/src/calendar.rs.
Both read the IANA rules (zoneinfo here, chrono-tz there), so daylight saving moves the UTC
instants the same way."""

from __future__ import annotations

import bisect
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from omega.engine.settings import SessionSettings, SwapSettings
from omega.errors import ConfigError

NANOS = 1_000_000_000


def zone(name: str, key: str) -> ZoneInfo:
    """The time zone ``name`` (a ConfigError naming ``key`` otherwise)."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"{key}: unknown time zone {name!r}") from None


def _local(ns: int, tz: ZoneInfo) -> datetime:
    return datetime.fromtimestamp(ns // NANOS, UTC).astimezone(tz)


def _local_instant(tz: ZoneInfo, day: date, hour: int, minute: int) -> int:
    """UTC ns of ``hour:minute`` local time on ``day``: the earlier of two in a fall-back
    overlap, the first valid minute after a spring-forward gap (as chrono's resolution)."""
    naive = datetime(day.year, day.month, day.day, hour, minute)
    while True:
        candidate = naive.replace(tzinfo=tz, fold=0)
        # a local time in a gap does not survive the round trip through UTC
        back = candidate.astimezone(UTC).astimezone(tz).replace(tzinfo=None)
        if back == naive:
            return int(candidate.timestamp()) * NANOS
        naive = naive + timedelta(minutes=1)


def rollover_after(swap: SwapSettings, tz: ZoneInfo, after: int) -> tuple[int, int] | None:
    """The first rollover strictly after ``after`` (UTC ns): ``(instant, nights)``, one per
    local Monday to Friday at the rollover time, three nights on the triple weekday."""
    hour, minute = divmod(swap.rollover_minute, 60)
    day = _local(after, tz).date() - timedelta(days=1)
    for _ in range(10):
        weekday = day.weekday()
        if weekday < 5:
            instant = _local_instant(tz, day, hour, minute)
            if instant > after:
                return instant, 3 if weekday == swap.triple_weekday else 1
        day = day + timedelta(days=1)
    return None


class SwapClock:
    """The next rollover after the last bar stepped, found lazily."""

    __slots__ = ("next", "swap", "tz")

    def __init__(self, swap: SwapSettings) -> None:
        self.swap = swap
        self.tz = zone(swap.timezone, "swap.timezone")
        self.next: tuple[int, int] | None = None

    def nights_until(self, open_ns: int, first: bool) -> int:
        """Nights of the rollovers after the previous bar's open and at or before
        ``open_ns`` (the ``first`` bar only finds the first rollover after it)."""
        if first:
            self.next = rollover_after(self.swap, self.tz, open_ns)
            return 0
        nxt = self.next
        nights = 0
        while nxt is not None and nxt[0] <= open_ns:
            nights += nxt[1]
            nxt = rollover_after(self.swap, self.tz, nxt[0])
        self.next = nxt
        return nights


def in_session(session: SessionSettings, tz: ZoneInfo, t: int) -> bool:
    """Whether ``t`` (UTC ns) falls in ``session``: a trading weekday and a local time of day
    in ``[start, end)``; ``end <= start`` runs over midnight and belongs to its start day."""
    local = _local(t, tz)
    minute = local.hour * 60 + local.minute
    weekday = local.weekday()
    start, end = session.start_minute, session.end_minute
    days = session.weekdays
    if start < end:
        return weekday in days and start <= minute < end
    if minute >= start:
        return weekday in days
    return minute < end and (weekday + 6) % 7 in days


def merged(windows: tuple[tuple[int, int], ...]) -> list[tuple[int, int]]:
    """``windows`` sorted by start with overlapping or touching ones merged."""
    out: list[list[int]] = []
    for start, end in sorted(windows):
        if out and start <= out[-1][1]:
            out[-1][1] = max(out[-1][1], end)
        else:
            out.append([start, end])
    return [(s, e) for s, e in out]


class Sessions:
    """Trading hours and blackouts: why an entry may not fill at a bar opening at ``t``."""

    __slots__ = ("blackouts", "session", "starts", "tz")

    def __init__(
        self, session: SessionSettings | None, blackouts: tuple[tuple[int, int], ...]
    ) -> None:
        self.session = session
        self.tz = zone(session.timezone, "session.timezone") if session is not None else None
        self.blackouts = merged(blackouts)
        self.starts = [start for start, _ in self.blackouts]

    def refusal(self, t: int) -> str | None:
        if self.session is not None and not in_session(self.session, self.tz, t):  # type: ignore[arg-type]
            return "outside_session"
        k = bisect.bisect_right(self.starts, t)
        if k > 0 and t < self.blackouts[k - 1][1]:
            return "blackout"
        return None
