"""Local wall-clock time -> UTC nanoseconds, DST-correct and deterministic.

Rule for the two awkward cases of a zone with daylight saving (documented in
docs/data/formats.md, "Time zones"):

* a local time that occurs twice (clocks go back) maps to its first occurrence, still on
  summer time (PEP 495 ``fold=0``) -- unless the data itself repeats that hour: once the local
  clock steps back inside the repeated hour, the rest of that hour is the second occurrence
  (``fold=1``), so a sorted file stays sorted;
* a local time that does not exist (clocks go forward) is read with the offset in force before
  the jump (PEP 495 ``fold=0``), e.g. 03:30 on the EET spring-forward night -> 01:30 UTC.

The bulk of the work is one vectorised pandas ``tz_localize``; only the rare flagged times go
through ``zoneinfo`` one by one.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np

from omega.errors import ConfigError

_UTC_NAMES = {"utc", "z", "gmt", "etc/utc", "etc/gmt", "utc+0", "utc-0", "+00:00"}
_FIXED_OFFSET = re.compile(r"^(?:utc|gmt)?\s*([+-])(\d{1,2})(?::?(\d{2}))?$", re.IGNORECASE)
_NS_PER_SECOND = 1_000_000_000
_ONE_DAY_NS = 86_400 * _NS_PER_SECOND
_HOUR_NS = 3_600 * _NS_PER_SECOND
_INVALID = np.iinfo(np.int64).min
_EPOCH = datetime(1970, 1, 1)

Zone = ZoneInfo | timedelta


def parse_zone(tz: str | None) -> Zone:
    """``None``/``"UTC"`` -> zero offset; ``"UTC-5"``, ``"+02:00"`` -> fixed offset; else IANA."""
    if tz is None or tz.strip().lower() in _UTC_NAMES:
        return timedelta(0)
    match = _FIXED_OFFSET.match(tz.strip())
    if match:
        sign = -1 if match.group(1) == "-" else 1
        hours, minutes = int(match.group(2)), int(match.group(3) or 0)
        if hours > 14 or minutes >= 60:
            raise ConfigError(f"time zone offset {tz!r} is out of range")
        return sign * timedelta(hours=hours, minutes=minutes)
    try:
        return ZoneInfo(tz.strip())
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(
            f"unknown time zone {tz!r}: use an IANA name (e.g. 'EET', 'Europe/Athens') "
            "or a fixed offset such as 'UTC-5'"
        ) from exc


def local_to_utc_ns(local_ns: np.ndarray, tz: str | Zone | None) -> np.ndarray:
    """Convert naive local int64 ns timestamps (in file order) to UTC int64 ns."""
    zone = tz if isinstance(tz, ZoneInfo | timedelta) else parse_zone(tz)
    local_ns = np.asarray(local_ns, dtype=np.int64)
    if isinstance(zone, timedelta):
        offset_ns = int(zone.total_seconds()) * _NS_PER_SECOND
        return local_ns - offset_ns if offset_ns else local_ns.copy()
    utc, unresolved = _by_whole_hours(local_ns, zone)
    if len(unresolved):
        import pandas as pd  # only for the few hours around a DST change

        sub = local_ns[unresolved]
        localized = pd.DatetimeIndex(sub.view("datetime64[ns]")).tz_localize(
            zone, ambiguous="NaT", nonexistent="NaT"
        )
        utc[unresolved] = np.asarray(localized.as_unit("ns").asi8, dtype=np.int64)
        flagged = unresolved[np.asarray(localized.isna())]
        if len(flagged):
            _resolve_flagged(local_ns, utc, flagged, zone)
    return utc


def _offsets(local_ns: np.ndarray, zone: ZoneInfo) -> np.ndarray:
    """UTC offset (ns) of each local time; the int64 minimum where ambiguous or nonexistent."""
    import pandas as pd  # imported here: the synthetic and UTC paths never need it

    index = pd.DatetimeIndex(local_ns.view("datetime64[ns]"))
    localized = index.tz_localize(zone, ambiguous="NaT", nonexistent="NaT")
    utc = np.asarray(localized.as_unit("ns").asi8, dtype=np.int64)
    return np.where(np.asarray(localized.isna()), _INVALID, local_ns - utc)


def _by_whole_hours(local_ns: np.ndarray, zone: ZoneInfo) -> tuple[np.ndarray, np.ndarray]:
    """Fast path: look the offset up once per run of bars in the same local hour.

    Bars come in time order, so a run of equal hours is one lookup and no sort is needed
    (unsorted input only makes more runs). An hour whose first and last nanosecond have the
    same valid offset has no transition in it, so that offset holds for every time inside.
    Returns UTC (garbage where unresolved) and the indices left for the per-element path.
    """
    if not len(local_ns):
        return local_ns.copy(), np.empty(0, dtype=np.intp)
    hours = np.floor_divide(local_ns, _HOUR_NS)
    hours *= _HOUR_NS
    starts = np.flatnonzero(hours[1:] != hours[:-1]) + 1
    lengths = np.diff(starts, prepend=0, append=len(hours))
    run_hours = hours[np.concatenate(([0], starts))]
    start = _offsets(run_hours, zone)
    end = _offsets(run_hours + (_HOUR_NS - 1), zone)
    safe = (start != _INVALID) & (start == end)
    utc = local_ns - np.repeat(np.where(safe, start, 0), lengths)
    if safe.all():
        return utc, np.empty(0, dtype=np.intp)
    return utc, np.flatnonzero(np.repeat(~safe, lengths))


def _resolve_flagged(
    local_ns: np.ndarray, utc: np.ndarray, flagged: np.ndarray, zone: ZoneInfo
) -> None:
    """Fill ambiguous/nonexistent times in place with the rule in the module docstring."""
    window_start: int | None = None  # local ns of the first ambiguous time of the current window
    previous: int | None = None
    fold = 0
    for i in flagged:
        local = int(local_ns[i])
        naive = _EPOCH + timedelta(microseconds=local // 1000)
        sub_us_ns = local % 1000
        first = naive.replace(tzinfo=zone, fold=0)
        second = naive.replace(tzinfo=zone, fold=1)
        ambiguous = first.utcoffset() != second.utcoffset() and _is_real(first, naive, zone)
        if not ambiguous:  # nonexistent: offset before the jump is the fold=0 offset
            fold_to_use = 0
        else:
            if window_start is None or local - window_start >= _ONE_DAY_NS:
                window_start, previous, fold = local, None, 0
            if previous is not None and local <= previous:
                fold = 1  # the data repeats the hour: from here on it is the second pass
            previous = local
            fold_to_use = fold
        aware = naive.replace(tzinfo=zone, fold=fold_to_use)
        utc_dt = aware.astimezone(UTC).replace(tzinfo=None)
        utc[i] = (utc_dt - _EPOCH) // timedelta(microseconds=1) * 1000 + sub_us_ns


def _is_real(aware: datetime, naive: datetime, zone: ZoneInfo) -> bool:
    """True when the wall time exists (round-trips through UTC), i.e. it is not in a gap."""
    back = aware.astimezone(UTC).astimezone(zone).replace(tzinfo=None)
    return back == naive


def format_ns(ns: int) -> str:
    """UTC ISO text of an int64 ns timestamp, for messages and reports."""
    return str(np.datetime64(int(ns), "ns")).replace("T", " ").removesuffix(".000000000") + " UTC"
