"""Local -> UTC conversion, around daylight-saving shifts (rules in docs/data/formats.md)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from omega.data import load
from omega.data.timezones import local_to_utc_ns, parse_zone
from omega.errors import ConfigError


def naive(*texts: str) -> np.ndarray:
    return np.array([pd.Timestamp(t).value for t in texts], dtype=np.int64)


def utc(*texts: str) -> list[int]:
    return [pd.Timestamp(t, tz="UTC").value for t in texts]


def test_eet_fall_back_with_the_hour_repeated_stays_sorted():
    # 2024-10-27 04:00 EEST -> 03:00 EET: 03:00-03:59 happens twice.
    local = naive("2024-10-27 02:59", "2024-10-27 03:00", "2024-10-27 03:59", "2024-10-27 03:00",
                  "2024-10-27 03:59", "2024-10-27 04:00")  # fmt: skip
    assert local_to_utc_ns(local, "EET").tolist() == utc(
        "2024-10-26 23:59", "2024-10-27 00:00", "2024-10-27 00:59", "2024-10-27 01:00",
        "2024-10-27 01:59", "2024-10-27 02:00")  # fmt: skip


def test_eet_fall_back_hour_seen_once_is_the_first_occurrence():
    local = naive("2024-10-27 03:30", "2024-10-27 04:30")
    assert local_to_utc_ns(local, "Europe/Athens").tolist() == utc(
        "2024-10-27 00:30", "2024-10-27 02:30"
    )


def test_eet_spring_forward_gap_uses_the_offset_before_the_jump():
    # 2024-03-31 03:00 EET -> 04:00 EEST: 03:30 does not exist; read with UTC+2.
    local = naive("2024-03-31 02:59", "2024-03-31 03:30", "2024-03-31 04:00")
    assert local_to_utc_ns(local, "EET").tolist() == utc(
        "2024-03-31 00:59", "2024-03-31 01:30", "2024-03-31 01:00"
    )


def test_new_york_shifts():
    local = naive("2024-03-10 01:59", "2024-03-10 03:00", "2024-11-03 01:30", "2024-11-03 02:00")
    assert local_to_utc_ns(local, "America/New_York").tolist() == utc(
        "2024-03-10 06:59", "2024-03-10 07:00", "2024-11-03 05:30", "2024-11-03 07:00"
    )


@pytest.mark.parametrize(
    ("zone", "offset_minutes"),
    [(None, 0), ("UTC", 0), ("UTC-5", -300), ("+02:00", 120), ("UTC+05:30", 330), ("GMT", 0)],
)
def test_fixed_offsets(zone, offset_minutes):
    local = naive("2017-07-02 17:00")
    expected = local[0] - offset_minutes * 60 * 1_000_000_000
    assert local_to_utc_ns(local, zone).tolist() == [expected]


def test_bad_zone_is_config_error():
    with pytest.raises(ConfigError):
        parse_zone("Europe/Atlantis")
    with pytest.raises(ConfigError):
        parse_zone("UTC+15")


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2035, 12, 31)),
        min_size=1,
        max_size=20,
    ),
    # Chatham shifts at 02:45 and Lord Howe by 30 minutes: transitions inside an hour.
    st.sampled_from(
        [
            "EET",
            "Europe/London",
            "America/New_York",
            "Australia/Sydney",
            "Pacific/Chatham",
            "Australia/Lord_Howe",
        ]
    ),
)
def test_matches_zoneinfo_fold0_away_from_repeats(times, zone):
    """Independent check: Python's zoneinfo with fold=0, one value at a time."""
    times = [t.replace(microsecond=0) for t in times]
    tz = ZoneInfo(zone)
    # Only times that are not repeated within the list: the repeat rule is tested above.
    ambiguous = [
        t
        for t in times
        if t.replace(tzinfo=tz, fold=0).utcoffset() != t.replace(tzinfo=tz, fold=1).utcoffset()
    ]
    if len(ambiguous) > 1:
        times = [t for t in times if t not in ambiguous] or times[:1]
    local = naive(*(t.isoformat() for t in times))
    expected = [
        int((t.replace(tzinfo=tz, fold=0).astimezone(UTC) - datetime(1970, 1, 1, tzinfo=UTC))
            / timedelta(microseconds=1)) * 1000
        for t in times
    ]  # fmt: skip
    assert local_to_utc_ns(local, zone).tolist() == expected


def test_mt5_week_across_eu_dst_change(tmp_path):
    # Server time EET: Friday 29 March 23:55 (UTC+2), then Monday 1 April 00:05 (UTC+3).
    path = tmp_path / "EURUSD.csv"
    path.write_text(
        "<DATE>\t<TIME>\t<OPEN>\t<HIGH>\t<LOW>\t<CLOSE>\t<TICKVOL>\t<VOL>\t<SPREAD>\n"
        "2024.03.29\t23:55:00\t1.1\t1.1\t1.1\t1.1\t1\t0\t0\n"
        "2024.04.01\t00:05:00\t1.1\t1.1\t1.1\t1.1\t1\t0\t0\n"
    )
    series = load(path, "mt5", tz="EET", timeframe="M1")  # two bars: too few to infer M1
    assert series.time.tolist() == utc("2024-03-29 21:55", "2024-03-31 21:05")
    assert series.quality.weekend_gaps == 1
