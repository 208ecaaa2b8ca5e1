"""Resumable studies: stored sets are read back bit for bit, a rerun runs only what is
missing, an interrupted run leaves whole batches, and the study loads as a DataFrame."""

from __future__ import annotations

import sqlite3
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("omega._core")

from omega.data import generate_synthetic
from omega.engine.settings import EngineSettings
from omega.errors import ConfigError
from omega.research import search, study
from omega.research.search import FloatRange, IntRange, optimize
from omega.research.study import Study, config_hash, data_hash, load_study, settings_hash
from omega.sweep import run_sweep
from omega.timeframes import Timeframe

STRATEGY = "mean_reversion_z_score"
SPACE = {"lookback": IntRange(20, 80, 20), "z_entry": FloatRange(1.5, 2.5, 0.5)}


@pytest.fixture(scope="module")
def bars():
    return generate_synthetic(n_bars=8_000, seed=13)


@pytest.fixture(scope="module")
def settings(bars):
    return EngineSettings(
        instrument=bars.instrument,
        primary_timeframe=Timeframe.M5,
        timeframes=(Timeframe.M5, Timeframe.H1),
    )


@pytest.fixture
def counted(monkeypatch):
    """The sets each evaluation call really runs."""
    runs: list[list[dict]] = []
    real = search.evaluate

    def evaluate(bars, strategy, sets, settings, **options):
        runs.append([dict(s) for s in sets])
        return real(bars, strategy, sets, settings, **options)

    monkeypatch.setattr(search, "evaluate", evaluate)
    return runs


def test_a_rerun_reads_every_set_back_bit_for_bit(tmp_path, bars, settings, counted):
    db = tmp_path / "s.db"
    with Study(db, "grid") as first:
        a = optimize(bars, STRATEGY, SPACE, settings, study=first, batch=4)
    assert sum(len(r) for r in counted) == 12 and a.skipped == 0
    counted.clear()
    with Study(db, "grid") as again:
        b = optimize(bars, STRATEGY, SPACE, settings, study=again, batch=4)
    assert counted == [] and b.skipped == 12
    assert b.table.equals(a.table)
    assert b.best == a.best


def test_the_study_loads_as_a_dataframe(tmp_path, bars, settings):
    db = tmp_path / "s.db"
    with Study(db, "grid") as store:
        result = optimize(bars, STRATEGY, SPACE, settings, study=store, constraints="lookback > 20")
    loaded = load_study(db, "grid")
    assert list(loaded["trial"]) == list(range(len(result.table)))
    want = run_sweep(bars, STRATEGY, result.table[list(SPACE)].to_dict("records"), settings)
    pd.testing.assert_frame_equal(loaded[list(want.columns)], want, check_exact=True)
    assert set(loaded["data_hash"]) == {data_hash(bars)}
    assert set(loaded["strategy"]) == {STRATEGY}
    assert loaded["config_hash"].is_unique


def test_other_settings_or_data_run_again(tmp_path, bars, settings, counted):
    db = tmp_path / "s.db"
    with Study(db) as store:
        optimize(bars, STRATEGY, SPACE, settings, study=store, trials=3)
        counted.clear()
        optimize(
            bars, STRATEGY, SPACE, replace(settings, initial_balance=5e4), study=store, trials=3
        )
        assert sum(len(r) for r in counted) == 3
        counted.clear()
        other = generate_synthetic(n_bars=8_000, seed=14)
        optimize(other, STRATEGY, SPACE, settings, study=store, trials=3)
        assert sum(len(r) for r in counted) == 3
        counted.clear()
        optimize(bars, STRATEGY, SPACE, settings, study=store, trials=3)
        assert counted == []
        assert len(store.table()) == 9


def test_studies_in_one_file_share_the_stored_sets(tmp_path, bars, settings, counted):
    db = tmp_path / "s.db"
    with Study(db, "a") as a:
        optimize(bars, STRATEGY, SPACE, settings, study=a, trials=4)
    counted.clear()
    with Study(db, "b") as b:
        result = optimize(bars, STRATEGY, SPACE, settings, study=b, trials=6)
        assert sum(len(r) for r in counted) == 2 and result.skipped == 4
        assert b.studies() == ["a", "b"]
        assert len(b.table()) == 6
    assert len(load_study(db, "a")) == 4


def test_an_interrupted_run_keeps_whole_batches_and_resumes(tmp_path, bars, settings, monkeypatch):
    db = tmp_path / "s.db"
    real = search.evaluate
    calls = []

    def interrupted(*args, **options):
        calls.append(len(args[2]))
        if len(calls) == 2:
            raise KeyboardInterrupt  # Ctrl-C while the second batch runs
        return real(*args, **options)

    monkeypatch.setattr(search, "evaluate", interrupted)
    with Study(db, "grid") as store, pytest.raises(KeyboardInterrupt):
        optimize(bars, STRATEGY, SPACE, settings, study=store, batch=5)
    # The file is a consistent database holding exactly the first batch.
    with sqlite3.connect(db) as con:
        assert con.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert con.execute("SELECT COUNT(*) FROM results").fetchone() == (5,)
        assert con.execute("SELECT COUNT(*) FROM trials").fetchone() == (5,)
    monkeypatch.setattr(search, "evaluate", real)
    with Study(db, "grid") as store:
        resumed = optimize(bars, STRATEGY, SPACE, settings, study=store, batch=5)
    assert resumed.skipped == 5 and len(resumed.table) == 12
    fresh = optimize(bars, STRATEGY, SPACE, settings, batch=5)
    assert resumed.table.equals(fresh.table)


def test_random_search_remembers_its_seed(tmp_path, bars, settings, counted):
    db = tmp_path / "s.db"
    space = {"lookback": IntRange(20, 200), "z_entry": FloatRange(1.0, 3.0)}
    with Study(db, "r") as store:
        a = optimize(bars, STRATEGY, space, settings, method="random", trials=4, study=store)
        seed = store.meta()["seed"]
        assert store.meta()["method"] == "random"
        assert store.meta()["objectives"] == ["sharpe:max"]
    counted.clear()
    with Study(db, "r") as store:
        b = optimize(bars, STRATEGY, space, settings, method="random", trials=6, study=store)
        assert store.meta()["seed"] == seed
    assert b.table.iloc[:4].equals(a.table) and sum(len(r) for r in counted) == 2


def test_tpe_resumes_from_the_study(tmp_path, bars, settings, counted):
    pytest.importorskip("optuna", reason="Optuna not installed (pip install omega[research])")
    db = tmp_path / "s.db"
    space = {"lookback": IntRange(20, 120, 10), "z_entry": FloatRange(1.0, 3.0), "z_exit": 0.5}
    options = {"method": "tpe", "seed": 4, "batch": 5}
    with Study(db, "t") as store:
        first = optimize(bars, STRATEGY, space, settings, trials=10, study=store, **options)
    counted.clear()
    with Study(db, "t") as store:
        more = optimize(bars, STRATEGY, space, settings, trials=15, study=store, **options)
    assert len(more.table) == 15
    assert more.table.iloc[:10].equals(first.table)
    assert sum(len(r) for r in counted) <= 5 and more.skipped >= 10
    with Study(db, "t") as store:
        # A space that excludes part of the history (another fixed z_exit, a narrower range)
        # counts only the stored sets it could have produced.
        narrow = {**space, "lookback": IntRange(20, 60, 10), "z_exit": 0.5}
        counted.clear()
        again = optimize(bars, STRATEGY, narrow, settings, trials=1, study=store, **options)
        inside = more.table[more.table["lookback"] <= 60]
        assert len(again.table) == max(len(inside), 1)
        other = {**space, "z_exit": 0.75}
        moved = optimize(bars, STRATEGY, other, settings, trials=2, study=store, **options)
        assert (moved.table["z_exit"] == 0.75).all() and len(moved.table) == 2


def test_hashes_follow_values(bars, settings):
    changed = bars.bid_close.copy()
    changed[100] += 1e-9
    assert data_hash(bars) == data_hash(replace(bars))
    assert data_hash(bars) != data_hash(replace(bars, bid_close=changed))
    assert settings_hash(settings) != settings_hash(replace(settings, initial_balance=1.0))
    key = settings_hash(settings)
    assert config_hash(STRATEGY, key, {"a": 1, "b": 2}) == config_hash(
        STRATEGY, key, {"b": 2, "a": 1}
    )
    assert config_hash(STRATEGY, key, {"a": 1}) != config_hash(STRATEGY, key, {"a": 1.5})
    assert config_hash(STRATEGY, key, {"a": 1}) != config_hash("sma_cross", key, {"a": 1})


def test_rows_store_numpy_scalars_and_refuse_objects():
    text = study._dump_row({"a": np.float64(1.5), "b": np.int64(3), "c": float("nan")})
    assert text == '{"a": 1.5, "b": 3, "c": NaN}'
    with pytest.raises(TypeError, match="cannot store"):
        study._dump_row({"a": object()})


def test_bad_files_and_names_are_config_errors(tmp_path):
    with pytest.raises(ConfigError, match="no such file"):
        load_study(tmp_path / "missing.db")
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not a database file at all, padded " * 40)
    with pytest.raises(ConfigError, match="not a study database"):
        Study(junk)
    with pytest.raises(ConfigError, match="needs a name"):
        Study(tmp_path / "s.db", "")


def test_a_new_study_has_no_meta_and_no_rows(tmp_path):
    with Study(tmp_path / "s.db", "empty") as store:
        assert store.meta() is None
        assert store.table().empty
        assert store.studies() == []
