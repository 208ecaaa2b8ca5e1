"""Soft anomalies: counted by hand-built series, reported, promotable to DataQualityError."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from omega.data import BarSeries, infer_timeframe, load, quality_of, quality_report_text
from omega.errors import DataError, DataQualityError
from omega.timeframes import Timeframe

MINUTE = 60_000_000_000


def series_at(times_ns, *, bid=1.1, spread=0.0001, volume=1.0, tf=Timeframe.M1) -> BarSeries:
    n = len(times_ns)
    bids = [np.full(n, bid) for _ in range(4)]  # separate arrays: tests edit single fields
    asks = [np.full(n, bid) + spread for _ in range(4)]
    return BarSeries(np.array(times_ns, dtype=np.int64), *bids, *asks, np.full(n, volume),
                     timeframe=tf)  # fmt: skip


def minutes_from(start: str, *minutes: int) -> list[int]:
    base = pd.Timestamp(start, tz="UTC").value
    return [base + m * MINUTE for m in minutes]


def test_gap_buckets_by_missing_bars():
    # Wednesday: 0,1 then 3 (1 missing), 10 (6 missing: 4..9), 100 (89 missing: 11..99).
    report = quality_of(series_at(minutes_from("2024-01-03 10:00", 0, 1, 3, 10, 100)))
    assert (report.gaps_1_5, report.gaps_6_60, report.gaps_over_60) == (1, 1, 1)
    assert report.missing_bars == 96
    assert report.weekend_gaps == 0
    assert [e["index"] for e in report.examples["gaps_1_5"]] == [2]  # the bar after the gap
    assert report.examples["gaps_over_60"][0]["time"] == "2024-01-03 11:40:00 UTC"


def test_bucket_edges():
    # 5 missing -> 1-5; 6 -> 6-60; 60 -> 6-60; 61 -> >60.
    report = quality_of(series_at(minutes_from("2024-01-03 00:00", 0, 6, 13, 74, 136)))
    assert (report.gaps_1_5, report.gaps_6_60, report.gaps_over_60) == (1, 2, 1)


def test_weekend_gap_is_information_not_an_anomaly():
    times = minutes_from("2024-01-05 21:58", 0, 1) + minutes_from("2024-01-07 22:00", 0, 1)
    report = quality_of(series_at(times))
    assert report.weekend_gaps == 1
    assert report.gaps_over_60 == 0 and report.missing_bars == 0
    assert "weekend_gaps" not in report.anomalies()


def test_long_weekday_outage_is_not_a_weekend():
    times = minutes_from("2024-01-08 10:00", 0) + minutes_from("2024-01-11 10:00", 0)  # Mon->Thu
    report = quality_of(series_at(times))
    assert report.weekend_gaps == 0
    assert report.gaps_over_60 == 1


def test_zero_spread_crossed_and_volume():
    s = series_at(minutes_from("2024-01-03 10:00", 0, 1, 2, 3), volume=5.0)
    s.ask_open[0] = s.ask_high[0] = s.ask_low[0] = s.ask_close[0] = 1.1  # zero spread
    s.ask_low[2] = 1.0999  # ask low below bid low: crossed on one field
    s.volume[3] = 0.0
    s.volume[1] = -1.0
    report = quality_of(s)
    assert report.zero_spread_bars == 1
    assert report.crossed_bars == 1
    assert report.crossed_by_field == {"open": 0, "high": 0, "low": 1, "close": 0}
    assert report.zero_volume_bars == 1
    assert report.negative_volume_bars == 1
    assert report.anomalies() == {
        "zero_spread_bars": 1,
        "crossed_bars": 1,
        "negative_volume_bars": 1,
    }


def test_off_grid_and_irregular_steps():
    base = minutes_from("2024-01-03 10:00", 0)[0]
    report = quality_of(series_at([base, base + MINUTE, base + MINUTE + 30_000_000_000]))
    assert report.off_grid_bars == 1
    assert report.irregular_intervals == 1


def test_spread_statistics_in_pips():
    report = quality_of(series_at(minutes_from("2024-01-03 10:00", 0, 1, 2), spread=0.00012))
    assert report.spread_close_pips["median"] == pytest.approx(1.2)


def test_raise_if_any_names_first_example_and_ignore_list():
    s = series_at(minutes_from("2024-01-03 10:00", 0, 1, 5))
    report = quality_of(s)
    with pytest.raises(DataQualityError) as err:
        report.raise_if_any()
    assert err.value.row == 2 and err.value.column == "time"
    assert "gaps_1_5: 1" in str(err.value)
    report.raise_if_any(ignore=["gaps_1_5"])  # nothing else is wrong


def test_clean_report_does_not_raise():
    quality_of(series_at(minutes_from("2024-01-03 10:00", 0, 1, 2))).raise_if_any()


def test_to_dict_is_json_and_summary_is_text():
    report = quality_of(series_at(minutes_from("2024-01-03 10:00", 0, 1, 3)))
    data = json.loads(json.dumps(report.to_dict()))
    assert data["gaps_1_5"] == 1 and data["n_bars"] == 3
    text = report.summary()
    assert "3 M1 bars" in text and "1-5: 1" in text


def test_strict_quality_promotes_to_error_with_location(tmp_path):
    path = tmp_path / "EURUSD.csv"
    path.write_text(
        "<DATE>\t<TIME>\t<OPEN>\t<HIGH>\t<LOW>\t<CLOSE>\t<TICKVOL>\t<VOL>\t<SPREAD>\n"
        "2024.02.01\t00:00:00\t1.1\t1.1\t1.1\t1.1\t1\t0\t3\n"
        "2024.02.01\t00:01:00\t1.1\t1.1\t1.1\t1.1\t1\t0\t0\n"
    )
    assert load(path, "mt5").quality.zero_spread_bars == 1
    with pytest.raises(DataQualityError) as err:
        load(path, "mt5", strict_quality=True)
    assert (err.value.file, err.value.row, err.value.column) == (str(path), 3, "ask_close")


def test_quality_report_text_measures_when_missing(synthetic_bars):
    text = quality_report_text(synthetic_bars.slice(0, 100))
    assert "100 M1 bars" in text


def test_infer_timeframe():
    assert infer_timeframe(np.array(minutes_from("2024-01-03", 0, 5, 10, 20))) is Timeframe.M5
    assert infer_timeframe(np.array(minutes_from("2024-01-03", 0))) is Timeframe.M1
    with pytest.raises(DataError, match="cannot infer the timeframe"):
        infer_timeframe(np.array(minutes_from("2024-01-03", 0, 7, 14)))
