"""Walk-forward: windows, in-sample choice, out-of-sample runs, stitching and efficiency."""

from __future__ import annotations

import math
import threading
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from omega.errors import ConfigError
from omega.research.walkforward import (
    Span,
    efficiency_ratio,
    parse_span,
    scores,
    stitch_equity,
    summary,
    walk_forward_windows,
)

MINUTE = 60 * 10**9


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("6M", Span(6, "m")),
        ("1y", Span(1, "y")),
        ("2W", Span(2, "w")),
        ("10D", Span(10, "d")),
        ("12H", Span(12, "h")),
        ("30min", Span(30, "min")),
        ("5000bars", Span(5000, "bars")),
        ("1 bar", Span(1, "bars")),
        (250, Span(250, "bars")),
    ],
)
def test_parse_span(text, expected):
    assert parse_span(text) == expected
    assert parse_span(expected) is expected


@pytest.mark.parametrize("bad", ["6", "M", "3 parsecs", "0M", 0, True, 1.5])
def test_parse_span_rejects(bad):
    with pytest.raises(ConfigError):
        parse_span(bad, "train")


def test_span_offsets():
    base = pd.Timestamp("2024-01-31")
    assert base + Span(1, "m").offset(1) == pd.Timestamp("2024-02-29")  # calendar months
    assert base + Span(1, "y").offset(2) == pd.Timestamp("2026-01-31")
    assert Span(3, "h").offset(2) == pd.Timedelta(hours=6)
    assert Span(1, "w").offset(1) == pd.Timedelta(days=7)
    assert Span(15, "min").offset(4) == pd.Timedelta(hours=1)
    assert Span(2, "d").offset(1) == pd.Timedelta(days=2)


def test_bar_windows_rolling_and_anchored():
    times = np.arange(100, dtype=np.int64) * MINUTE
    rolling = walk_forward_windows(times, 40, 20)
    assert [(w.train_start, w.train_stop, w.test_stop) for w in rolling] == [
        (0, 40, 60),
        (20, 60, 80),
        (40, 80, 100),
    ]
    anchored = walk_forward_windows(times, 40, 20, anchored=True)
    assert [(w.train_start, w.train_stop, w.test_stop) for w in anchored] == [
        (0, 40, 60),
        (0, 60, 80),
        (0, 80, 100),
    ]
    stepped = walk_forward_windows(times, "40bars", 20, step=30)
    assert [(w.train_start, w.test_start, w.test_stop) for w in stepped] == [
        (0, 40, 60),
        (30, 70, 90),
    ]
    assert walk_forward_windows(times[:0], 40, 20) == []
    assert walk_forward_windows(times, 90, 20) == []  # no room for one fold
    with pytest.raises(ConfigError, match="all be bar counts or all be times"):
        walk_forward_windows(times, 40, "1D")


def test_time_windows_follow_the_calendar_and_skip_empty_folds():
    # hourly bars from 2024-01-01, but nothing between Jan 10 and Jan 20
    hours = pd.date_range("2024-01-01", "2024-02-01", freq="h", inclusive="left")
    hours = hours[(hours < "2024-01-10") | (hours >= "2024-01-20")]
    times = hours.as_unit("ns").asi8
    windows = walk_forward_windows(times, "5D", "5D", bar_ns=3600 * 10**9)
    starts = [pd.Timestamp(times[w.test_start]) for w in windows]
    # test windows Jan 6, 11 (no test bars: skipped), 16 (training Jan 11-16 has no bars:
    # skipped), 21 and 26
    assert starts == [pd.Timestamp(d) for d in ("2024-01-06", "2024-01-21", "2024-01-26")]
    last = windows[-1]
    # the last test window ends Jan 31 00:00; Jan 31 - Feb 5 is not complete
    assert pd.Timestamp(times[last.test_stop]) == pd.Timestamp("2024-01-31")
    ends_with_data = walk_forward_windows(times[: last.test_stop], "5D", "5D", bar_ns=3600 * 10**9)
    assert ends_with_data[-1].test_stop == last.test_stop
    assert all(w.train_stop == w.test_start for w in windows)
    months = walk_forward_windows(times, "1M", "1D", anchored=True, bar_ns=3600 * 10**9)
    assert len(months) == 0  # a month of training leaves no complete test day in January


def test_month_windows_add_months_on_the_calendar_from_the_first_split():
    # daily bars from Jan 31 to Jun 30 2024. The first split is Jan 31 + 1 month = Feb 29
    # (clamped to the month's end); fold i splits at Feb 29 + i months and starts training at
    # Jan 31 + i months; its test window is a month from the split.
    days = pd.date_range("2024-01-31", "2024-06-30", freq="D")
    windows = walk_forward_windows(days.as_unit("ns").asi8, "1M", "1M", bar_ns=86_400 * 10**9)

    def dates(position):
        return [str(days[getattr(w, position)].date()) for w in windows]

    assert dates("test_start") == ["2024-02-29", "2024-03-29", "2024-04-29", "2024-05-29"]
    assert dates("train_start") == ["2024-01-31", "2024-02-29", "2024-03-31", "2024-04-30"]
    # the last test window ends Jun 29; the next (Jun 29 to Jul 29) is past the data
    assert dates("test_stop") == ["2024-03-29", "2024-04-29", "2024-05-29", "2024-06-29"]


def test_summary_and_efficiency_edges():
    index = pd.DatetimeIndex(["2024-01-01", "2024-07-01", "2025-01-01"], tz="UTC")
    curve = pd.Series([110.0, 99.0, 121.0], index=index)
    s = summary(curve, 100.0)
    assert s["return_pct"] == pytest.approx(21.0)
    assert s["max_drawdown_pct"] == pytest.approx(10.0)
    returns = np.array([0.1, -0.1, 121 / 99 - 1])
    years = (index[-1] - index[0]).total_seconds() / (365.25 * 86400)
    assert s["sharpe"] == pytest.approx(returns.mean() / returns.std(ddof=1) * math.sqrt(3 / years))
    empty = summary(pd.Series([], dtype=float, index=pd.DatetimeIndex([], tz="UTC")), 100.0)
    assert empty["n_bars"] == 0 and math.isnan(empty["sharpe"])
    flat = summary(pd.Series([100.0, 100.0], index=index[:2]), 100.0)
    assert math.isnan(flat["sharpe"]) and flat["max_drawdown_pct"] == 0.0
    assert efficiency_ratio(5.0, 10.0) == 0.5
    assert math.isnan(efficiency_ratio(5.0, -10.0))
    assert math.isnan(efficiency_ratio(math.nan, 10.0))
    assert stitch_equity([], 100.0).empty
    one = summary(pd.Series([105.0], index=index[:1]), 100.0)
    assert one["return_pct"] == pytest.approx(5.0) and math.isnan(one["sharpe"])
    no_bars = SimpleNamespace(
        equity_values=np.array([]), equity_close_ns=np.array([], dtype=np.int64)
    )
    full = SimpleNamespace(
        equity_values=np.array([120.0]), equity_close_ns=np.array([index[0].value])
    )
    # a run without marks leaves the level unchanged for the next one
    assert stitch_equity([no_bars, full, full], 100.0).tolist() == [120.0, 144.0]


def test_scores():
    table = pd.DataFrame({"sharpe": [1.0, np.nan], "max_drawdown_pct": [3.0, 1.0], "error": None})
    assert scores(table, "sharpe")[0] == 1.0 and np.isnan(scores(table, "sharpe")[1])
    assert scores(table, "-max_drawdown_pct").tolist() == [-3.0, -1.0]
    assert scores(table, lambda t: t["max_drawdown_pct"] * 2).tolist() == [6.0, 2.0]
    with pytest.raises(ConfigError, match="one number per row"):
        scores(table, lambda t: [1.0])
    with pytest.raises(ConfigError, match="not a metric"):
        scores(table, "nope")
    failed = pd.DataFrame({"lookback": [1, 2], "error": ["bad", "bad"]})
    assert np.isnan(scores(failed, "sharpe")).all()


# ----------------------------------------------------------------------------- backtests

core = pytest.importorskip("omega._core", reason="walk_forward runs the Rust sweep")

from omega.data import generate_synthetic  # noqa: E402
from omega.engine.settings import EngineSettings  # noqa: E402
from omega.research.walkforward import run_single, walk_forward  # noqa: E402
from omega.runner import Backend  # noqa: E402
from omega.sweep import parameter_grid, run_sweep  # noqa: E402
from omega.timeframes import Timeframe  # noqa: E402

STRATEGY = "mean_reversion_z_score"
GRID = parameter_grid({"lookback": [40, 80], "z_entry": [2.0, 2.5]})


@pytest.fixture(scope="module")
def bars():
    return generate_synthetic(n_bars=60_000, seed=9)  # ~ 8 weeks of weekday minutes


@pytest.fixture(scope="module")
def settings(bars):
    return EngineSettings(
        instrument=bars.instrument,
        primary_timeframe=Timeframe.M5,
        timeframes=(Timeframe.M5, Timeframe.H1),
    )


@pytest.fixture(scope="module")
def wf(bars, settings):
    calls = []
    result = walk_forward(
        bars,
        STRATEGY,
        GRID,
        settings,
        train="3W",
        test="1W",
        progress=lambda done, total: calls.append((done, total)),
    )
    result.calls = calls
    return result


def test_each_fold_chooses_the_in_sample_best_and_runs_it_out_of_sample(bars, settings, wf):
    windows = walk_forward_windows(bars.time, "3W", "1W")
    assert len(wf.folds) == len(windows) >= 4
    assert wf.calls[-1] == (len(windows), len(windows))
    for fold, window in enumerate(windows):
        table = run_sweep(
            bars.slice(window.train_start, window.train_stop), STRATEGY, GRID, settings
        )
        best = GRID[int(np.nanargmax(table["sharpe"].to_numpy()))]
        row = wf.folds.iloc[fold]
        assert (row["param_lookback"], row["param_z_entry"]) == (best["lookback"], best["z_entry"])
        assert row["is_sharpe"] == np.nanmax(table["sharpe"])
        oos = run_single(bars.slice(window.test_start, window.test_stop), STRATEGY, best, settings)
        assert row["oos_return_pct"] == oos.metrics["return_pct"]
        assert row["oos_n_trades"] == oos.metrics["n_trades"]
        assert row["test_start"] == pd.Timestamp(int(bars.time[window.test_start]), tz="UTC")
        if fold == 0:
            first = oos
    n0 = len(first.equity_values)
    assert np.array_equal(wf.equity.to_numpy()[:n0], first.equity_values)
    pd.testing.assert_frame_equal(
        wf.trades[wf.trades["fold"] == 0].drop(columns="fold").reset_index(drop=True),
        first.trades,
    )
    assert len(wf.sweeps) == len(GRID) * len(windows)


def test_stitching_compounds_and_efficiency_follows_its_definition(wf, settings):
    total = np.prod(1 + wf.folds["oos_return_pct"].to_numpy() / 100)
    assert wf.oos["return_pct"] == pytest.approx((total - 1) * 100, rel=1e-9)
    assert wf.equity.index.is_monotonic_increasing
    assert wf.oos["n_trades"] == wf.folds["oos_n_trades"].sum() == len(wf.trades)
    f = wf.folds
    is_rate = f["is_return_pct"].sum() / f["is_span_days"].sum()
    oos_rate = f["oos_return_pct"].sum() / f["oos_span_days"].sum()
    expected = oos_rate / is_rate if is_rate > 0 else math.nan
    assert wf.efficiency == pytest.approx(expected, nan_ok=True)
    for _, row in f.iterrows():
        per_fold = (row["oos_return_pct"] / row["oos_span_days"]) / (
            row["is_return_pct"] / row["is_span_days"]
        )
        if row["is_return_pct"] > 0:
            assert row["efficiency"] == pytest.approx(per_fold)
        else:
            assert math.isnan(row["efficiency"])
    assert wf.timing["sweeps_s"] <= wf.timing["total_s"]


def test_anchored_bar_windows_and_objectives(bars, settings):
    wf = walk_forward(
        bars,
        STRATEGY,
        GRID[:2],
        settings,
        train=20_000,
        test=10_000,
        anchored=True,
        objective="-max_drawdown_pct",
    )
    assert wf.folds["train_bars"].tolist() == [20_000, 30_000, 40_000, 50_000]
    assert (wf.folds["train_start"] == wf.folds["train_start"].iloc[0]).all()
    assert wf.objective == "-max_drawdown_pct"

    def net(table):
        return table["net_profit"].to_numpy()

    custom = walk_forward(
        bars, STRATEGY, GRID[:2], settings, train=30_000, test=30_000, objective=net
    )
    assert custom.objective == "net"
    assert len(custom.folds) == 1


def test_python_engine_gives_the_same_walk_forward(bars, settings, monkeypatch):
    small = bars.slice(0, 20_000)
    rust = walk_forward(
        small, STRATEGY, GRID[:2], settings, train=10_000, test=5_000, backend="local"
    )
    monkeypatch.setattr(
        "omega.runner.probe_backend",
        lambda: Backend(core_available=True, rust_strategies=frozenset()),
    )
    python = walk_forward(
        small, STRATEGY, GRID[:2], settings, train=10_000, test=5_000, backend="local"
    )
    pd.testing.assert_series_equal(rust.equity, python.equity)
    pd.testing.assert_frame_equal(rust.folds, python.folds)


def test_process_backend_gives_the_same_rows(bars, settings):
    small = bars.slice(0, 15_000)
    local = walk_forward(small, STRATEGY, GRID[:2], settings, train=10_000, test=5_000)
    pooled = walk_forward(
        small, STRATEGY, GRID[:2], settings, train=10_000, test=5_000, backend="process", threads=1
    )
    pd.testing.assert_frame_equal(local.sweeps, pooled.sweeps)
    pd.testing.assert_series_equal(local.equity, pooled.equity)


def test_walk_forward_errors(bars, settings):
    with pytest.raises(ConfigError, match="at least one parameter set"):
        walk_forward(bars, STRATEGY, [], settings)
    with pytest.raises(ConfigError, match="no complete walk-forward fold"):
        walk_forward(bars, STRATEGY, GRID, settings, train="1Y", test="1M")
    with pytest.raises(ConfigError, match="no parameter set has a finite"):
        walk_forward(
            bars,
            STRATEGY,
            GRID[:1],
            settings,
            train=20_000,
            test=20_000,
            objective=lambda t: np.full(len(t), np.nan),
        )


def test_out_of_sample_runs_start_while_the_next_sweep_runs(bars, settings, monkeypatch):
    # A Rust fold's out-of-sample run starts as soon as its set is chosen, not after every
    # sweep: here the second fold's sweep waits until the first fold's run has started.
    import omega.research.walkforward as module

    started = threading.Event()
    real_run, real_evaluate = module.run_single, module.evaluate_sets
    waited = []

    def run_single(*args, **kwargs):
        started.set()
        return real_run(*args, **kwargs)

    def evaluate_sets(*args, **kwargs):
        waited.append(started.wait(timeout=20) if waited else True)
        return real_evaluate(*args, **kwargs)

    monkeypatch.setattr(module, "run_single", run_single)
    monkeypatch.setattr(module, "evaluate_sets", evaluate_sets)
    wf = walk_forward(
        bars.slice(0, 20_000), STRATEGY, GRID[:2], settings, train=10_000, test=5_000, threads=2
    )
    assert len(waited) == len(wf.folds) == 2 and all(waited)


@pytest.mark.parametrize("engine, threads", [("python", None), ("rust", 1)])
def test_out_of_sample_runs_after_the_sweeps(bars, settings, monkeypatch, engine, threads):
    # A Python-engine run holds the GIL, and one thread was asked for: the runs wait until
    # every sweep is done.
    import omega.research.walkforward as module

    events = []
    real_run, real_evaluate = module.run_single, module.evaluate_sets
    if engine == "python":
        monkeypatch.setattr(
            "omega.runner.probe_backend",
            lambda: Backend(core_available=True, rust_strategies=frozenset()),
        )
    monkeypatch.setattr(
        module, "run_single", lambda *a, **k: events.append("run") or real_run(*a, **k)
    )
    monkeypatch.setattr(
        module, "evaluate_sets", lambda *a, **k: events.append("sweep") or real_evaluate(*a, **k)
    )
    walk_forward(
        bars.slice(0, 20_000),
        STRATEGY,
        GRID[:2],
        settings,
        train=10_000,
        test=5_000,
        backend="local",
        threads=threads,
    )
    assert events == ["sweep", "sweep", "run", "run"]


def test_a_failing_fold_stops_the_runs_under_way(bars, settings):
    # fold 0 chooses a set (its run starts), fold 1 has no finite objective: the error is
    # raised once the started run is done, and no run is left behind.
    calls = []

    def nan_after_first_fold(table):
        calls.append(1)
        return table["sharpe"].to_numpy() if len(calls) == 1 else np.full(len(table), np.nan)

    before = threading.active_count()
    with pytest.raises(ConfigError, match="fold 1: no parameter set has a finite"):
        walk_forward(
            bars.slice(0, 20_000),
            STRATEGY,
            GRID[:2],
            settings,
            train=10_000,
            test=5_000,
            objective=nan_after_first_fold,
            threads=2,
        )
    assert threading.active_count() == before


def test_default_settings(bars):
    wf = walk_forward(bars.slice(0, 12_000), STRATEGY, GRID[:1], train=8_000, test=4_000)
    assert len(wf.folds) == 1 and wf.param_names == ["lookback", "z_entry"]


@pytest.mark.real_data
def test_real_data_walk_forward(real_data_dir):
    from omega.data import load

    bars = load(str(real_data_dir / "mt5_eurusd_2024"), "mt5", tz="EET")
    settings = EngineSettings(
        instrument=bars.instrument,
        primary_timeframe=Timeframe.M5,
        timeframes=(Timeframe.M5, Timeframe.H1),
    )
    wf = walk_forward(bars, STRATEGY, GRID, settings, train="1M", test="2W")
    assert len(wf.folds) >= 3
    assert wf.folds["test_bars"].gt(0).all()
    # test windows follow each other: each starts where the previous ended
    assert (
        wf.folds["test_start"].iloc[1:].to_numpy() >= wf.folds["test_end"].iloc[:-1].to_numpy()
    ).all()
    assert math.isfinite(wf.oos["return_pct"])


def test_walk_forward_bench_runs(capsys):
    from omega.bench.walk_forward import main

    assert main(["--rounds", "1", "--bars", "60000", "--train", "3W", "--test", "1W"]) == 0
    printed = capsys.readouterr().out
    assert "60,000 bars" in printed and "median: walk_forward" in printed
    assert "median cpu: walk_forward" in printed


def test_ray_backend_gives_the_same_walk_forward(bars, settings):
    ray = pytest.importorskip("ray", reason="ray is not installed (pip install omega[ray])")
    small = bars.slice(0, 30_000)
    local = walk_forward(small, STRATEGY, GRID, settings, train=10_000, test=10_000)
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        remote = walk_forward(
            small, STRATEGY, GRID, settings, train=10_000, test=10_000, backend="ray"
        )
    finally:
        ray.shutdown()
    pd.testing.assert_frame_equal(local.sweeps, remote.sweeps)
    pd.testing.assert_frame_equal(local.folds, remote.folds)
    pd.testing.assert_series_equal(local.equity, remote.equity)


def test_the_package_exports_the_function_whatever_was_imported_before() -> None:
    # The function and its module once shared a name: importing the module (as
    # cross_validate does) replaced the package's function by the module.
    import importlib

    import omega.research

    for module in ("walkforward", "cv", "robustness", "search", "backends", "cli_validate"):
        importlib.import_module(f"omega.research.{module}")
    from omega.research import walk_forward as exported
    from omega.research.walkforward import walk_forward as defined

    assert exported is defined
    assert omega.research.walk_forward is defined
