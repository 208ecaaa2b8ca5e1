"""`omega.research.search`: spaces, constraints, objectives, Pareto fronts, grid/random/TPE
searches and the `omega optimize` command.

Expected values come from independent computations: `run_sweep` over the same sets, a
brute-force double loop for the Pareto front, hand-written lists for grids.
"""

from __future__ import annotations

import json
import logging
import math
import random
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

pytest.importorskip("omega._core")

from omega.cli import app
from omega.data import generate_synthetic
from omega.engine.settings import EngineSettings
from omega.errors import ConfigError
from omega.research import search
from omega.research.cli_optimize import parse_objective, parse_param
from omega.research.search import (
    FloatRange,
    IntRange,
    Objective,
    grid_sets,
    objectives,
    optimize,
    pareto_front,
    parse_constraint,
    random_sets,
)
from omega.sweep import run_sweep
from omega.timeframes import Timeframe

REPO = Path(__file__).resolve().parent.parent
STRATEGY = "mean_reversion_z_score"
SPACE = {"lookback": IntRange(20, 80, 20), "z_entry": FloatRange(1.5, 2.5, 0.5), "z_exit": 0.5}


@pytest.fixture(scope="module")
def bars():
    return generate_synthetic(n_bars=10_000, seed=11)


@pytest.fixture(scope="module")
def settings(bars):
    return EngineSettings(
        instrument=bars.instrument,
        primary_timeframe=Timeframe.M5,
        timeframes=(Timeframe.M5, Timeframe.H1),
    )


# ------------------------------------------------------------------------------- space


def test_ranges_list_their_points_exactly():
    assert IntRange(5, 20, 5).values() == [5, 10, 15, 20]
    assert FloatRange(2.5, 3.5, 0.25).values() == [2.5, 2.75, 3.0, 3.25, 3.5]
    assert FloatRange(0.1, 0.3, 0.1).values() == [0.1, 0.2, 0.3]  # not 0.30000000000000004


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: IntRange(5, 4), "empty"),
        (lambda: IntRange(1, 5, 0), "empty"),
        (lambda: IntRange(0, 10, 3), "no multiple of step"),
        (lambda: IntRange(0, 10, log=True), "low >= 1"),
        (lambda: IntRange(1, 9, 2, log=True), "step 1"),
        (lambda: FloatRange(2.0, 1.0), "empty"),
        (lambda: FloatRange(1.0, 2.0, 0.0), "empty"),
        (lambda: FloatRange(1.0, 2.0, 0.3), "no multiple of step"),
        (lambda: FloatRange(0.0, 1.0, log=True), "low > 0"),
        (lambda: FloatRange(1.0, 2.0, 0.5, log=True), "no step"),
        (lambda: FloatRange(1.0, 2.0).values(), "a grid needs one"),
    ],
)
def test_bad_ranges_are_config_errors(make, message):
    with pytest.raises(ConfigError, match=message):
        make()


def test_grid_combines_ranges_choices_and_fixed_values():
    sets = grid_sets({"a": IntRange(1, 2), "b": ["x", "y"], "c": FloatRange(0.5, 1.0, 0.5), "d": 7})
    assert sets == [
        {"a": a, "b": b, "c": c, "d": 7} for a in (1, 2) for b in ("x", "y") for c in (0.5, 1.0)
    ]


def test_empty_spaces_are_config_errors():
    with pytest.raises(ConfigError, match="search space is empty"):
        grid_sets({})
    with pytest.raises(ConfigError, match="'a' has no values"):
        grid_sets({"a": []})


def test_random_sets_are_seeded_distinct_and_in_range():
    space = {
        "n": IntRange(2, 40, 2),
        "logn": IntRange(1, 1000, log=True),
        "x": FloatRange(0.5, 2.0),
        "logx": FloatRange(0.001, 10.0, log=True),
        "q": FloatRange(0.0, 1.0, 0.25),
        "c": ["a", "b", "c"],
        "fixed": 3,
    }
    first = random_sets(space, 200, 4)
    assert first == random_sets(space, 200, 4)
    assert first != random_sets(space, 200, 5)
    assert len({json.dumps(s, sort_keys=True) for s in first}) == 200
    for s in first:
        assert 2 <= s["n"] <= 40 and s["n"] % 2 == 0
        assert 1 <= s["logn"] <= 1000 and isinstance(s["logn"], int)
        assert 0.5 <= s["x"] <= 2.0 and 0.001 <= s["logx"] <= 10.0
        assert s["q"] in (0.0, 0.25, 0.5, 0.75, 1.0)
        assert s["c"] in ("a", "b", "c") and s["fixed"] == 3
    # log-uniform: as many draws below 31.6 (the geometric middle) as above, roughly
    below = sum(s["logn"] < 32 for s in first)
    assert 60 < below < 140


def test_random_sets_meet_constraints_and_stop_when_the_space_runs_out(caplog):
    fast_slow = [parse_constraint("fast < slow")]
    space = {"fast": IntRange(1, 4), "slow": IntRange(1, 4)}
    with caplog.at_level(logging.WARNING, logger="omega.research.search"):
        sets = random_sets(space, 50, 1, fast_slow)
    assert sorted((s["fast"], s["slow"]) for s in sets) == [
        (f, s) for f in range(1, 5) for s in range(1, 5) if f < s
    ]
    assert "only 6 distinct valid sets found of 50 asked" in caplog.text


# ------------------------------------------------------------------------------- constraints


@pytest.mark.parametrize(
    ("text", "params", "expected"),
    [
        ("fast < slow", {"fast": 5, "slow": 20}, True),
        ("fast < slow", {"fast": 20, "slow": 20}, False),
        ("5 <= fast < slow <= 100", {"fast": 5, "slow": 100}, True),
        ("5 <= fast < slow <= 100", {"fast": 5, "slow": 101}, False),
        (
            "z_exit < z_entry and lookback >= 2 * atr",
            {"z_exit": 1, "z_entry": 2, "lookback": 28, "atr": 14},
            True,
        ),
        (
            "z_exit < z_entry and lookback >= 2 * atr",
            {"z_exit": 1, "z_entry": 2, "lookback": 27, "atr": 14},
            False,
        ),
        ("a == 1 or b != 'H1'", {"a": 2, "b": "H4"}, True),
        ("not (a > 1)", {"a": 2}, False),
        ("-a + b - c * 2 / d % 3 > 0", {"a": 1, "b": 5, "c": 3, "d": 2}, True),
        ("+a >= 0", {"a": 0}, True),
    ],
)
def test_constraints_evaluate_like_python(text, params, expected):
    assert parse_constraint(text)(params) is expected
    assert eval(text, {}, dict(params)) is expected  # the reference


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("fast <", "constraint 'fast <'"),
        ("__import__('os')", "Call is not allowed"),
        ("a.b > 1", "Attribute is not allowed"),
        ("[a][0] > 1", "is not allowed"),
    ],
)
def test_bad_constraints_are_config_errors(text, message):
    with pytest.raises(ConfigError, match=message):
        parse_constraint(text)


def test_a_constraint_naming_no_parameter_is_a_config_error():
    with pytest.raises(ConfigError, match="no parameter 'slow'"):
        parse_constraint("fast < slow")({"fast": 1})


def test_constraints_accept_text_callables_and_lists():
    assert search._constraints(None) == []
    (one,) = search._constraints("a > 1")
    assert one({"a": 2}) and not one({"a": 1})
    assert search._constraints(callable)[0] is callable
    assert [c({"a": 2}) for c in search._constraints(["a > 1", lambda p: p["a"] > 5])] == [
        True,
        False,
    ]


# ------------------------------------------------------------------------------- objectives


def test_objective_directions():
    def score(row):
        return row["sharpe"]

    assert objectives("sharpe") == [Objective("sharpe", "max")]
    assert objectives("max_drawdown_pct") == [Objective("max_drawdown_pct", "min")]
    assert objectives(("max_drawdown_pct", "max")) == [Objective("max_drawdown_pct", "max")]
    assert objectives(score) == [Objective("score", "max", score)]
    assert objectives([("sharpe", "max"), (score, "min"), "n_trades"]) == [
        Objective("sharpe", "max"),
        Objective("score", "min", score),
        Objective("n_trades", "max"),
    ]


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ([], "expected a metric, a callable or a list"),
        (3, "expected a metric, a callable or a list"),
        ([3], "expected a metric name or a callable"),
        ([("sharpe", "up", 1)], "expected a metric name or a callable"),
    ],
)
def test_bad_objectives_are_config_errors(given, message):
    with pytest.raises(ConfigError, match=message):
        objectives(given)


def test_a_bad_direction_is_a_config_error(monkeypatch):
    monkeypatch.setattr(search, "_is_pair", lambda item: isinstance(item, tuple))
    with pytest.raises(ConfigError, match="direction 'up'"):
        objectives([("sharpe", "up")])


def test_objective_values_of_failed_and_odd_rows_are_nan():
    sharpe = Objective("sharpe", "max")
    assert sharpe.value({"sharpe": 1.5, "error": None}) == 1.5
    assert math.isnan(sharpe.value({"sharpe": 1.5, "error": "ConfigError: bad"}))
    assert math.isnan(sharpe.value({"sharpe": None, "error": None}))
    assert math.isnan(sharpe.value({"sharpe": "n/a", "error": None}))
    assert Objective("f", "max", lambda r: r["a"] * 2).value({"a": 2, "error": None}) == 4.0


def _brute_force_front(values: np.ndarray) -> list[int]:
    front = []
    for i, a in enumerate(values):
        if np.isnan(a).any():
            continue
        beaten = False
        for j, b in enumerate(values):
            if j != i and not np.isnan(b).any() and all(b >= a) and any(b > a):
                beaten = True
        if not beaten:
            front.append(i)
    return front


def test_pareto_front_equals_a_brute_force_one():
    rng = np.random.default_rng(3)
    values = rng.integers(0, 8, size=(80, 3)).astype(float)  # ties on purpose
    values[rng.integers(0, 80, size=6), 1] = np.nan
    table = pd.DataFrame(values, columns=["a", "b", "c"])
    got = pareto_front(table, ["a", "b", "c"], ["max", "min", "max"])
    flipped = values * np.array([1.0, -1.0, 1.0])
    assert list(got.index) == _brute_force_front(flipped)


# ------------------------------------------------------------------------------- optimize


def test_grid_search_rows_are_run_sweeps_and_best_is_the_top_sharpe(bars, settings):
    result = optimize(bars, STRATEGY, SPACE, settings, constraints="lookback > 10 * z_entry")
    sets = [s for s in grid_sets(SPACE) if s["lookback"] > 10 * s["z_entry"]]
    want = run_sweep(bars, STRATEGY, sets, settings)
    got = result.table
    assert list(got["trial"]) == list(range(len(sets)))
    pd.testing.assert_frame_equal(
        got[list(want.columns)].reset_index(drop=True), want, check_exact=True
    )
    assert got["objective"].equals(want["sharpe"].astype(float))
    top = want.loc[want["sharpe"].idxmax()]
    assert result.best == {
        "lookback": int(top["lookback"]),
        "z_entry": top["z_entry"],
        "z_exit": 0.5,
    }
    assert type(result.best["lookback"]) is int
    assert list(result.sorted()["sharpe"]) == sorted(want["sharpe"], reverse=True)
    assert result.method == "grid" and result.skipped == 0


def test_trials_cap_a_grid_and_batches_report_progress(bars, settings):
    calls = []
    result = optimize(
        bars,
        STRATEGY,
        SPACE,
        settings,
        trials=5,
        batch=2,
        progress=lambda d, t: calls.append((d, t)),
    )
    assert len(result.table) == 5
    assert calls == [(2, 5), (4, 5), (5, 5)]


def test_random_search_is_seeded(bars, settings):
    space = {"lookback": IntRange(20, 100), "z_entry": FloatRange(1.0, 3.0)}
    a = optimize(bars, STRATEGY, space, settings, method="random", trials=6, seed=3)
    b = optimize(bars, STRATEGY, space, settings, method="random", trials=6, seed=3)
    assert a.table.equals(b.table)
    assert a.table[["lookback", "z_entry"]].to_dict("records") == random_sets(space, 6, 3)


def test_minimised_objective_and_callable_objective(bars, settings):
    dd = optimize(bars, STRATEGY, SPACE, settings, objective="max_drawdown_pct")
    assert dd.best_row["max_drawdown_pct"] == dd.table["max_drawdown_pct"].min()

    def return_per_drawdown(row):
        return row["return_pct"] / (1.0 + row["max_drawdown_pct"])

    fn = optimize(bars, STRATEGY, SPACE, settings, objective=return_per_drawdown)
    expected = fn.table["return_pct"] / (1.0 + fn.table["max_drawdown_pct"])
    assert fn.table["objective"].tolist() == expected.tolist()
    assert fn.best_row["objective"] == expected.max()


def test_multi_objective_pareto_front(bars, settings):
    result = optimize(
        bars, STRATEGY, SPACE, settings, objective=[("sharpe", "max"), "max_drawdown_pct"]
    )
    table = result.table
    assert result.columns == ["objective_1", "objective_2"]
    assert result.directions == ["max", "min"]
    values = np.column_stack([table["sharpe"], -table["max_drawdown_pct"]])
    assert list(result.pareto.index) == _brute_force_front(values)
    front = result.pareto
    assert result.best_row["sharpe"] == front["sharpe"].max()


def test_failed_sets_have_no_objective_and_no_best(bars, settings):
    result = optimize(bars, STRATEGY, {"lookback": [2, 3]}, settings)
    assert result.table["objective"].isna().all()
    assert result.table["error"].str.contains("lookback").all()
    with pytest.raises(ConfigError, match="no parameter set produced a value"):
        result.best  # noqa: B018


def test_an_unknown_metric_is_a_config_error(bars, settings):
    with pytest.raises(ConfigError, match=r"'sharp' is no metric; metrics: .*sharpe"):
        optimize(bars, STRATEGY, SPACE, settings, objective="sharp")


@pytest.mark.parametrize(
    ("options", "message"),
    [({"method": "bayes"}, "method 'bayes'"), ({"trials": 0}, "trials must be >= 1")],
)
def test_bad_options_are_config_errors(bars, settings, options, message):
    with pytest.raises(ConfigError, match=message):
        optimize(bars, STRATEGY, SPACE, settings, **options)


def test_default_settings_and_the_process_backend(bars):
    local = optimize(bars, STRATEGY, SPACE, trials=4)
    pooled = optimize(bars, STRATEGY, SPACE, trials=4, backend="process", threads=2)
    assert local.table.equals(pooled.table)


def test_in_spec_checks_stored_values():
    assert search._in_spec(IntRange(10, 30, 10), 20)
    assert not search._in_spec(IntRange(10, 30, 10), 25)
    assert not search._in_spec(IntRange(10, 30, 10), 20.0)
    assert search._in_spec(FloatRange(1.0, 2.0), 1)
    assert not search._in_spec(FloatRange(1.0, 2.0), "1")
    assert search._in_spec(["H1", "H4"], "H4") and not search._in_spec(["H1"], "D1")


# ------------------------------------------------------------------------------- TPE


@pytest.fixture(scope="module")
def optuna():
    return pytest.importorskip(
        "optuna", reason="Optuna not installed (pip install omega[research])"
    )


TPE_SPACE = {
    "lookback": IntRange(20, 120, 10),
    "z_entry": FloatRange(1.0, 3.0),
    "trend_timeframe": ["H1", "H4"],
    "z_exit": 0.25,
}


def test_tpe_is_seeded_and_meets_constraints(bars, settings, optuna):
    options = {"method": "tpe", "trials": 24, "seed": 5, "batch": 8}
    checks = "lookback >= 20 * z_entry"
    a = optimize(bars, STRATEGY, TPE_SPACE, settings, constraints=checks, **options)
    b = optimize(bars, STRATEGY, TPE_SPACE, settings, constraints=checks, **options)
    assert a.table.equals(b.table)
    assert len(a.table) == 24
    assert (a.table["lookback"] >= 20 * a.table["z_entry"]).all()
    assert (a.table["z_exit"] == 0.25).all()
    assert set(a.table["trend_timeframe"]) <= {"H1", "H4"}
    # Every row is a single sweep's row for its set.
    sets = a.table[list(TPE_SPACE)].to_dict("records")
    want = run_sweep(bars, STRATEGY, sets, settings)
    assert a.table["sharpe"].equals(want["sharpe"])


def test_tpe_learns_more_than_random_on_a_smooth_objective(bars, settings, optuna):
    # A known optimum: TPE's last trials come closer to it than random draws do.
    def peak(row):
        return -((row["lookback"] - 90) ** 2) - 100 * (row["z_entry"] - 2.2) ** 2

    kw = {"trials": 48, "seed": 2, "objective": peak, "batch": 8}
    tpe = optimize(bars, STRATEGY, TPE_SPACE, settings, method="tpe", **kw)
    rnd = optimize(bars, STRATEGY, TPE_SPACE, settings, method="random", **kw)
    assert tpe.table["objective"].iloc[-16:].mean() > rnd.table["objective"].iloc[-16:].mean()


def test_tpe_stepped_floats_are_the_ranges_exact_points(bars, settings, optuna):
    space = {"lookback": IntRange(20, 120, 10), "z_entry": FloatRange(1.5, 4.0, 0.1)}
    result = optimize(bars, STRATEGY, space, settings, method="tpe", trials=30, seed=2, batch=10)
    points = set(space["z_entry"].values())
    assert set(result.table["z_entry"]) <= points
    assert set(result.table["lookback"]) <= set(space["lookback"].values())


def test_tpe_on_a_process_pool_asks_after_each_batch(bars, settings, optuna):
    # A Python strategy goes to a process pool, which forks: the sampler does not ask on
    # its thread meanwhile, and the next batch is asked knowing the last one's results.
    from omega.config.model import import_strategy_module

    import_strategy_module(str(REPO / "examples" / "custom_strategy.py"))
    space = {"rsi_period": IntRange(5, 30), "oversold": FloatRange(20.0, 35.0, 5.0)}
    calls = []
    result = optimize(
        bars.slice(0, 4_000),
        "example_rsi_reversal",
        space,
        settings,
        method="tpe",
        trials=6,
        seed=1,
        batch=3,
        threads=2,
        progress=lambda d, t: calls.append((d, t)),
    )
    assert calls == [(3, 6), (6, 6)]
    sets = result.table[list(space)].to_dict("records")
    want = run_sweep(bars.slice(0, 4_000), "example_rsi_reversal", sets, settings)
    assert result.table["sharpe"].equals(want["sharpe"])


def test_tpe_reports_progress_per_batch(bars, settings, optuna):
    calls = []
    optimize(
        bars,
        STRATEGY,
        TPE_SPACE,
        settings,
        method="tpe",
        trials=10,
        batch=4,
        seed=1,
        progress=lambda d, t: calls.append((d, t)),
    )
    assert calls == [(4, 10), (8, 10), (10, 10)]


def test_the_package_loads_names_lazily():
    import omega.research as research

    assert "optimize" in dir(research) and research.optimize is optimize
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        research.nothing  # noqa: B018


def test_tpe_multi_objective_and_failed_trials(bars, settings, optuna):
    space = {"lookback": IntRange(2, 60), "z_entry": FloatRange(1.0, 3.0)}
    result = optimize(
        bars,
        STRATEGY,
        space,
        settings,
        method="tpe",
        trials=20,
        seed=1,
        batch=5,
        objective=["sharpe", "max_drawdown_pct"],
    )
    assert len(result.table) == 20
    assert result.table["error"].notna().any()  # lookback < 5 fails and is told as failed
    assert not result.pareto.empty


def test_tpe_with_an_impossible_constraint_runs_nothing(bars, settings, optuna):
    result = optimize(
        bars, STRATEGY, TPE_SPACE, settings, method="tpe", trials=2, constraints="lookback < 0"
    )
    assert result.table.empty


def test_tpe_without_optuna_names_the_extra(bars, settings, monkeypatch):
    monkeypatch.setitem(sys.modules, "optuna", None)
    with pytest.raises(ConfigError, match=r"omega\[research\]"):
        optimize(bars, STRATEGY, TPE_SPACE, settings, method="tpe", trials=2)


def test_tpe_interrupted_while_a_batch_runs_waits_for_the_asking(
    bars, settings, optuna, monkeypatch
):
    calls = []

    def interrupted(self, sets):
        calls.append(len(sets))
        raise KeyboardInterrupt

    monkeypatch.setattr(search._Runner, "_evaluate", interrupted)
    with pytest.raises(KeyboardInterrupt):
        optimize(bars, STRATEGY, TPE_SPACE, settings, method="tpe", trials=10, batch=4)
    assert calls == [4]


# ------------------------------------------------------------------------------- CLI


def test_parse_param_forms():
    assert parse_param("lookback=50:200:50") == ("lookback", IntRange(50, 200, 50))
    assert parse_param("lookback=50:200") == ("lookback", IntRange(50, 200))
    assert parse_param("q=0.01:1:log") == ("q", FloatRange(0.01, 1.0, log=True))
    assert parse_param("n=1:100:log") == ("n", IntRange(1, 100, log=True))
    assert parse_param("z=2:3:0.5") == ("z", FloatRange(2.0, 3.0, 0.5))
    assert parse_param(" tf = H1,H4 ") == ("tf", ["H1", "H4"])
    assert parse_param("trend_filter=false") == ("trend_filter", False)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("lookback", "expected NAME="),
        ("=3", "expected NAME="),
        ("a=1:2:3:4", "a range is LOW:HIGH"),
        ("a=x:y", "must be numbers"),
        ("a=[:2", "must be numbers"),
    ],
)
def test_bad_params_are_usage_errors(spec, message):
    with pytest.raises(ConfigError, match=message):
        parse_param(spec)


def test_parse_objective():
    assert parse_objective("sharpe") == "sharpe"
    assert parse_objective("max_drawdown_pct:min") == ("max_drawdown_pct", "min")
    with pytest.raises(ConfigError, match="expected METRIC"):
        parse_objective(":max")
    with pytest.raises(ConfigError, match="max or min"):
        parse_objective("sharpe:up")


SMALL = ["--set", "data.synthetic.n_bars=10000", "--no-progress"]


def test_cli_grid_writes_every_set_and_the_best(tmp_path):
    out = tmp_path / "out"
    args = ["optimize", "--param", "lookback=20:80:20", "--param", "z_entry=1.5,2.5"]
    args += ["--constraint", "lookback > 10 * z_entry", "--out", str(out), *SMALL]
    run = CliRunner().invoke(app, args)
    assert run.exit_code == 0, run.output
    table = pd.read_csv(out / "optimize.csv")
    assert len(table) == 7  # 8 sets, lookback=20 with z_entry=2.5 breaks the constraint
    best = json.loads((out / "best.json").read_text())
    assert best["lookback"] == int(table.loc[table["sharpe"].idxmax(), "lookback"])
    assert "Best:" in run.output and not (out / "pareto.csv").exists()


def test_cli_multi_objective_tpe_with_a_study(tmp_path, optuna):
    out, db = tmp_path / "out", tmp_path / "s.db"
    args = ["optimize", "--method", "tpe", "--trials", "12", "--seed", "3"]
    args += ["--param", "lookback=20:100", "--param", "z_entry=1:3"]
    args += ["--objective", "sharpe", "--objective", "max_drawdown_pct:min"]
    args += ["--study", str(db), "--out", str(out), *SMALL]
    first = CliRunner().invoke(app, args)
    assert first.exit_code == 0, first.output
    assert (out / "pareto.csv").exists() and "Pareto front:" in first.output
    again = CliRunner().invoke(app, args)
    assert again.exit_code == 0, again.output
    assert "12 read from the study" in " ".join(again.output.split())


def test_cli_callable_free_output_and_failures(tmp_path):
    out = tmp_path / "out"
    run = CliRunner().invoke(
        app, ["optimize", "--param", "lookback=3,40", "--out", str(out), *SMALL]
    )
    assert run.exit_code == 0, run.output
    assert "(1 failed)" in run.output


def test_cli_every_set_failing_exits_2(tmp_path):
    out = tmp_path / "out"
    run = CliRunner().invoke(
        app, ["optimize", "--param", "lookback=2,3", "--out", str(out), *SMALL]
    )
    assert run.exit_code == 2
    assert "all 2 parameter sets failed" in run.output
    assert len(pd.read_csv(out / "optimize.csv")) == 2


def test_cli_usage_errors_exit_2(tmp_path):
    runner = CliRunner()
    none = runner.invoke(app, ["optimize", *SMALL])
    assert none.exit_code == 2 and "at least one --param" in none.output
    nothing = runner.invoke(
        app,
        ["optimize", "--param", "lookback=20,40", "--constraint", "lookback > 100", *SMALL],
    )
    assert nothing.exit_code == 2 and "no parameter set meets the constraints" in nothing.output


def test_cli_unwritable_output_is_one_line(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    run = CliRunner().invoke(
        app, ["optimize", "--param", "lookback=40", "--out", str(blocker / "out"), *SMALL]
    )
    assert run.exit_code == 2 and "cannot write to" in run.output


def test_cli_objective_with_no_value_warns(tmp_path, monkeypatch):
    # Every set runs but none has a value: the table is written, no best.json.
    monkeypatch.setattr(Objective, "value", lambda self, row: math.nan)
    out = tmp_path / "out"
    run = CliRunner().invoke(
        app, ["optimize", "--param", "lookback=40,60", "--out", str(out), *SMALL]
    )
    assert run.exit_code == 0, run.output
    assert "no best set" in run.output and not (out / "best.json").exists()


def test_seeded_python_random_is_untouched():
    # The search draws from its own generator, never the global one.
    random.seed(9)
    expected = random.random()
    random.seed(9)
    random_sets({"a": IntRange(1, 100)}, 5, 1)
    assert random.random() == expected
