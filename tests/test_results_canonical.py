"""Canonical trade text and its hash, against text written out by hand."""

from __future__ import annotations

import hashlib

import numpy as np

from omega.engine.raw import TRADE_COLUMNS, RawRun, empty_trades
from omega.results import canonical_trades_text, format_float, trades_sha256


def two_trades() -> RawRun:
    trades = {
        "entry_time": np.array([1_704_067_200_000_000_000, 1_704_070_800_000_000_000]),
        "exit_time": np.array([1_704_067_500_000_000_000, 1_704_074_400_000_000_000]),
        "entry_index": np.array([0, 12]),
        "exit_index": np.array([1, 24]),
        "side": np.array([1, -1], dtype=np.int8),
        "size": np.array([0.5, 1.25]),
        "entry_price": np.array([1.1, 1.10005]),
        "exit_price": np.array([0.1 + 0.2, 1.0999]),
        "sl": np.array([1.09, np.nan]),
        "tp": np.array([np.nan, 1e-05]),
        "exit_reason": np.array(["stop_loss", "end_of_data"], dtype=object),
        "gross_pnl": np.array([-400.0, 187.5]),
        "fees": np.array([3.5, 0.0]),
        "swap": np.array([0.0, -1.25]),
        "pnl": np.array([-403.5, 186.25]),
        "bars_held": np.array([1, 12]),
        "mfe": np.array([0.0, 0.00025]),
        "tag": np.array(["mr_long", 'a,"b"'], dtype=object),
    }
    return RawRun(
        trades=trades,
        equity_time=np.zeros(0, dtype=np.int64),
        equity=np.zeros(0),
        final_balance=0.0,
        bars_processed=0,
        base_bars=0,
    )


EXPECTED = (
    "entry_time,exit_time,entry_index,exit_index,side,size,entry_price,exit_price,sl,tp,"
    "exit_reason,gross_pnl,fees,swap,pnl,bars_held,mfe,tag\n"
    "1704067200000000000,1704067500000000000,0,1,1,0.5,1.1,0.30000000000000004,1.09,nan,"
    "stop_loss,-400.0,3.5,0.0,-403.5,1,0.0,mr_long\n"
    "1704070800000000000,1704074400000000000,12,24,-1,1.25,1.10005,1.0999,nan,1e-05,"
    'end_of_data,187.5,0.0,-1.25,186.25,12,0.00025,"a,""b"""\n'
)


def test_canonical_text_matches_the_hand_written_text():
    assert canonical_trades_text(two_trades()) == EXPECTED


def test_floats_read_back_exactly():
    raw = two_trades()
    lines = canonical_trades_text(raw).splitlines()
    header = lines[0].split(",")
    row = lines[1].split(",")
    for name in ("size", "entry_price", "exit_price", "gross_pnl", "pnl", "mfe"):
        assert float(row[header.index(name)]) == raw.trades[name][0]


def test_header_follows_trade_columns_and_empty_runs_have_only_the_header():
    raw = two_trades()
    raw.trades = empty_trades()
    assert canonical_trades_text(raw) == ",".join(TRADE_COLUMNS) + "\n"


def test_sha256_is_of_the_utf8_text():
    assert trades_sha256(two_trades()) == hashlib.sha256(EXPECTED.encode()).hexdigest()


def test_one_ulp_changes_the_hash():
    raw = two_trades()
    before = trades_sha256(raw)
    raw.trades["exit_price"][1] = np.nextafter(raw.trades["exit_price"][1], 2.0)
    assert trades_sha256(raw) != before


def test_none_tag_is_an_empty_field_and_non_finite_floats_are_spelled():
    raw = two_trades()
    raw.trades["tag"] = np.array([None, "x"], dtype=object)
    assert canonical_trades_text(raw).splitlines()[1].endswith(",0.0,")
    assert [format_float(v) for v in (float("nan"), float("inf"), -float("inf"))] == [
        "nan",
        "inf",
        "-inf",
    ]
