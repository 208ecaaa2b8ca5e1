"""Bias detection (`omega.check_bias`, ``omega check-bias``): the deliberately biased
strategies of tests/bias_strategies.py are caught, each by the check meant for it, in the
python and hybrid modes; the built-in strategies pass in every mode (rust with the stream
check); the comparisons behind each verdict catch what they claim to (a stream fed other
bars, a trade or an equity point changed before a cut); the intrabar bounds order the
policies; the command's exit codes are 0, 1 and 2.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from typer.testing import CliRunner

import bias_strategies
from omega.bias import CHECKS, BiasReport, check_bias, print_report
from omega.bias.check import planned_runs
from omega.bias.compare import close_values, equal_values, same, trace_values
from omega.bias.cuts import check_lookahead, cut_points
from omega.bias.intrabar import both_in_range
from omega.bias.stream import check_stream
from omega.bias.subject import StrategySubject, isolated, subject_for
from omega.bias.warmup import converged, first_value, offset_points
from omega.config import BacktestConfig
from omega.data import generate_synthetic
from omega.data.bars import BarSeries
from omega.errors import ConfigError, EmptyDataError, StrategyError
from omega.timeframes import Timeframe

pytest.importorskip("omega._core", reason="the Rust extension omega._core is not built")

N_BARS = 6_000  # M1: 1,200 M5 bars, ~4 days


@pytest.fixture(scope="module")
def bars() -> BarSeries:
    return generate_synthetic(n_bars=N_BARS, seed=5, symbol="EURUSD")


def config(name: str, engine: str = "python", primary: str = "M5", **params) -> BacktestConfig:
    return BacktestConfig.from_dict(
        {
            "strategy": {"name": name, "params": params},
            "engine": engine,
            "timeframes": {"primary": primary, "extra": []},
            "execution": {"sizing": {"mode": "fixed", "lots": 1.0}},
        }
    )


def check(cfg: BacktestConfig, bars: BarSeries, **kwargs) -> BiasReport:
    return check_bias(cfg, bars=bars, cuts=3, offsets=2, **kwargs)


# -- the biased strategies are caught ----------------------------------------------------------


@pytest.mark.parametrize("engine", ["python", "hybrid"])
@pytest.mark.parametrize("primary", ["M1", "M5"])
def test_peeking_at_the_captured_close_array_is_caught(bars, engine, primary):
    report = check(config("bias_peek", engine, primary), bars)
    assert not report.ok and report.problems == ["look-ahead"]
    look = report.lookahead
    assert look is not None and len(look.offences) == len(look.cuts) == 3
    for offence, (kept, cut_time) in zip(look.offences, look.cuts, strict=True):
        # the last bar before each cut read the first close after it
        assert (offence.what, offence.name, offence.bar) == ("decision", "next", kept - 1)
        assert offence.cut_time == cut_time
        assert "next" in offence.full and "next" not in offence.cut
    assert look.first is look.offences[0]


@pytest.mark.parametrize("engine", ["python", "hybrid"])
def test_an_indicator_normalised_over_the_whole_series_is_caught(bars, engine):
    report = check(config("bias_whole_series", engine), bars)
    assert report.problems == ["look-ahead"]
    first = report.lookahead.first
    assert first is not None
    assert (first.what, first.name, first.bar) == (
        "indicator",
        "whole_series_z() on close M5 bid",
        0,
    )
    assert first.full != first.cut


@pytest.mark.parametrize("engine", ["python", "hybrid"])
def test_a_decision_a_bar_before_the_warm_up_is_caught(bars, engine):
    report = check(config("bias_early", engine), bars)
    assert report.problems == ["warm-up"]
    warm = report.warmup
    assert (warm.declared, warm.needed) == (20, 20)
    kinds = {(f.kind, f.bar, f.start_bar) for f in warm.findings}
    starts = [0] + [run.start_bar for run in warm.runs]
    assert kinds == {("early_decision", 18, s) for s in starts}
    assert report.lookahead.ok


def test_a_warm_up_declaration_shorter_than_the_indicators_need_is_flagged(bars):
    report = check(config("bias_short_warmup"), bars)
    warm = report.warmup
    assert (warm.declared, warm.needed) == (5, 30)
    assert warm.needed_by == "sma(period=30) on close M5 bid"
    assert warm.findings[0].kind == "short_declaration"
    assert "needs 30 (its first value at bar 29)" in warm.findings[0].message
    assert {f.bar for f in warm.findings[1:]} == {19}


def test_the_same_strategy_respecting_its_warm_up_passes(bars):
    report = check(config("bias_clean"), bars)
    assert report.ok, report.problems
    assert report.lookahead.decisions_compared > 100
    assert report.stream.skipped.startswith("a Python strategy (python mode)")


def test_a_bad_warm_up_declaration_is_a_named_error(bars, monkeypatch):
    monkeypatch.setattr(bias_strategies.Clean, "warmup_bars", -1)
    with pytest.raises(StrategyError, match="warmup_bars must be an int >= 0, got -1"):
        check(config("bias_clean"), bars)


# -- the built-in strategies pass ----------------------------------------------------------


BUILTINS = {
    "sma_cross": {"fast": 5, "slow": 20},
    "zscore_threshold": {},
    "mean_reversion_z_score": {"lookback": 50, "z_entry": 2.0, "trend_filter": False},
}


@pytest.mark.parametrize("engine", ["rust", "hybrid", "python"])
@pytest.mark.parametrize("name", sorted(BUILTINS))
def test_builtin_strategies_pass_in_every_mode(bars, name, engine):
    report = check(config(name, engine, **BUILTINS[name]), bars)
    assert report.ok, report.problems
    assert report.subject == f"strategy {name} ({engine} mode)"
    assert report.runs == planned_runs(3, 2, CHECKS)
    look = report.lookahead
    assert len(look.cuts) == 3 and look.indicators  # the declarations are known (twin)
    assert look.decisions_compared > 0
    assert report.warmup.needed is not None and len(report.warmup.runs) == 2
    if engine == "rust":
        assert report.stream.skipped == "" and report.stream.bars == report.primary_bars
        assert report.stream.decisions > 0
    else:
        assert report.stream.skipped
    assert [r.policy for r in report.intrabar.runs] == ["pessimistic", "optimistic", "finer"]


def test_the_default_config_passes_on_small_data():
    cfg = BacktestConfig.from_dict({"data": {"synthetic": {"n_bars": 12_000, "seed": 3}}})
    report = check_bias(cfg, cuts=2, offsets=2)
    assert report.ok and report.subject.endswith("(rust mode)")
    assert report.base_bars == 12_000
    warm = report.warmup
    assert warm.needed_by == "ema(period=50) on close H1 bid"
    names = [c.name for c in warm.runs[0].series]
    assert "recorded z" in names and "atr(period=14) M5 bid" in names
    # an H1 EMA(50) needs far more than the ~67 hours of each window to agree to 1e-12
    ema = next(c for c in warm.runs[0].series if c.name == warm.needed_by)
    assert ema.bars is None and ema.compared == warm.runs[0].bars
    from rich.console import Console

    console = Console(record=True, width=160)
    print_report(report, console)
    assert "(never: still differs at the run's last bar)" in console.export_text()


# -- the comparisons behind the verdicts -------------------------------------------------------


class _Given(StrategySubject):
    """A real subject whose stream or cut runs are replaced by the test."""

    stream_run = None
    cut_edit = None

    def stream(self, bars, chunks):
        return self.stream_run

    def run(self, bars, settings, *, trace):
        run = super().run(bars, settings, trace=trace)
        if self.cut_edit is not None and len(bars) < N_BARS:
            self.cut_edit(run)
        return run


@pytest.fixture(scope="module")
def rust_subject(bars):
    subject = subject_for(config("sma_cross", "rust", fast=5, slow=20))
    given = _Given(subject.config, subject.mode, subject.settings)
    full = given.run(bars, given.settings, trace=True)
    return given, full


def _copy(run):
    out = dataclasses.replace(run, trades={k: v.copy() for k, v in run.trades.items()})
    out.equity = run.equity.copy()
    out.trace = [dict(row) for row in run.trace]
    return out


def test_stream_fed_the_same_bars_matches_and_other_bars_are_caught(bars, rust_subject):
    subject, full = rust_subject
    # the real session, fed in chunks and the last bars one by one
    real = StrategySubject.stream(subject, bars, [1000, 3000])
    subject.stream_run = real
    assert check_stream(subject, bars, full, [1000, 3000]).ok
    # a session fed bars with one close moved decides differently
    moved = isolated(bars, 0, len(bars))
    moved.bid_close[2500:] += 0.002
    moved.ask_close[2500:] += 0.002
    subject.stream_run = StrategySubject.stream(subject, moved, [1000])
    result = check_stream(subject, bars, full, [1000])
    assert not result.ok and result.difference.startswith("decision at bar 500:")  # M1 bar 2,500


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda r: r.trace.pop(), "batch decided 1,200 bars, stream 1,199"),
        (lambda r: r.trades["exit_price"].__setitem__(0, 1.5), "trade #0: exit_price differ"),
        (
            lambda r: r.trades.update({k: v[:-1] for k, v in r.trades.items()}),
            "trades, stream",
        ),
        (lambda r: r.equity.__setitem__(5, 0.0), "equity curves differ"),
        (lambda r: setattr(r, "ignored_signals", 99), "ignored_signals: batch"),
    ],
)
def test_stream_differences_are_named(bars, rust_subject, edit, message):
    subject, full = rust_subject
    other = _copy(full)
    edit(other)
    subject.stream_run = other
    result = check_stream(subject, bars, full, [])
    assert message in result.difference


def test_stream_of_a_python_strategy_is_skipped_with_the_reason(bars):
    subject = subject_for(config("bias_clean", "hybrid"))
    assert subject.stream(bars, []) is None
    result = check_stream(subject, bars, None, [])
    assert result.ok and "hybrid mode" in result.skipped


@pytest.mark.parametrize(
    ("edit", "what"),
    [
        (lambda r: r.trades["entry_price"].__setitem__(0, 9.0), "trade"),
        (lambda r: r.equity.__setitem__(3, 1.0), "equity"),
        (lambda r: r.trace.pop(), "decision"),
        (lambda r: r.trades.update({k: v[:0] for k, v in r.trades.items()}), "trade"),
    ],
)
def test_a_cut_run_that_changes_a_trade_equity_or_its_length_is_an_offence(
    bars, rust_subject, edit, what
):
    subject, full = rust_subject
    subject.cut_edit = edit
    try:
        result = check_lookahead(subject, bars, full, None, 2, lambda label: None)
    finally:
        subject.cut_edit = None
    assert {o.what for o in result.offences} == {what}


def test_print_report_renders_every_verdict(bars, rust_subject):
    from rich.console import Console

    failing = check(config("bias_early"), bars)
    failing.lookahead = check(config("bias_peek"), bars).lookahead
    subject, full = rust_subject
    subject.stream_run = _copy(full)
    subject.stream_run.equity[0] = -1.0
    failing.stream = check_stream(subject, bars, full, [])
    console = Console(record=True, width=140)
    print_report(failing, console)
    text = console.export_text()
    for expected in (
        "1. look-ahead",
        "DIFFERS cut at bar 300",
        "FAIL: first offending bar 299",
        "declared warm-up: 20 bars; indicators need: 20 bars",
        "FLAG: signal_long at bar 18",
        "FAIL: equity curves differ",
        "P&L band",
        "BIAS FOUND: look-ahead, warm-up, stream vs batch",
    ):
        assert expected in text, expected
    console = Console(record=True, width=140)
    print_report(check(config("sma_cross", "rust", fast=5, slow=20), bars), console)
    text = console.export_text()
    assert "PASS: 1,200 bars" in text and "OK: no bias found" in text
    console = Console(record=True, width=140)
    print_report(check(config("bias_clean", primary="M1"), bars), console)
    text = console.export_text()
    assert "skipped: a Python strategy (python mode)" in text
    assert "finer equals pessimistic" in text


# -- intrabar bounds --------------------------------------------------------------------------


def test_intrabar_bounds_order_the_policies(bars):
    report = check(config("bias_clean", primary="H1"), bars, checks=("intrabar",))
    runs = {r.policy: r for r in report.intrabar.runs}
    assert runs["pessimistic"].ambiguous > 0  # 10-pip stop and target inside hourly ranges
    assert runs["pessimistic"].ambiguous == runs["optimistic"].ambiguous
    assert runs["pessimistic"].pnl < runs["optimistic"].pnl
    assert runs["pessimistic"].pnl <= runs["finer"].pnl <= runs["optimistic"].pnl
    assert report.intrabar.band == runs["optimistic"].pnl - runs["pessimistic"].pnl
    assert runs["pessimistic"].ambiguous_pnl < 0 < runs["optimistic"].ambiguous_pnl
    assert 0 < runs["optimistic"].ambiguous_share <= 1
    assert report.lookahead is None and report.warmup is None and report.stream is None
    same_tf = check(config("bias_clean", primary="M1"), bars, checks=("intrabar",))
    assert "finer equals pessimistic" in same_tf.intrabar.note


def test_both_in_range_needs_both_levels_touched_and_neither_gapped():
    one = np.array([0], dtype=np.int64)
    primary = BarSeries(
        np.array([0], dtype=np.int64),
        *(np.array([v]) for v in (1.1000, 1.1020, 1.0980, 1.1000)),
        *(np.array([v]) for v in (1.1001, 1.1021, 1.0981, 1.1001)),
        np.array([1.0]),
        timeframe=Timeframe.M5,
    )

    def run(side, sl, tp, reason="stop_loss"):
        trades = {
            "exit_index": one,
            "sl": np.array([sl]),
            "tp": np.array([tp]),
            "side": np.array([side], dtype=np.int8),
            "exit_reason": np.array([reason], dtype=object),
        }
        return type("Run", (), {"trades": trades})()

    assert both_in_range(primary, run(1, 1.0990, 1.1010)).tolist() == [True]
    assert both_in_range(primary, run(1, 1.1005, 1.1015)).tolist() == [False]  # SL gapped
    assert both_in_range(primary, run(1, 1.0990, 1.1030)).tolist() == [False]  # TP not reached
    assert both_in_range(primary, run(1, 1.0990, np.nan)).tolist() == [False]
    assert both_in_range(primary, run(-1, 1.1015, 1.0985, "take_profit")).tolist() == [True]
    assert both_in_range(primary, run(-1, 1.1015, 1.0985, "strategy")).tolist() == [False]
    empty = type("Run", (), {"trades": {"exit_index": one[:0]}})()
    assert both_in_range(primary, empty).tolist() == []


# -- helpers, arguments and errors --------------------------------------------------------------


def test_exact_and_tolerant_comparisons():
    assert same(float("nan"), float("nan")) and not same(0.0, -0.0) and same(1, 1)
    assert not same(1, 1.0)
    a = np.array([1.0, np.nan, 0.0, 2.0])
    b = np.array([1.0, np.nan, -0.0, 2.0 + 1e-13])
    assert equal_values(a, b).tolist() == [True, True, False, False]
    assert close_values(a, b, 1e-12).tolist() == [True, True, True, True]
    assert close_values(a, np.array([1.0, 1.0, 0.0, 2.1]), 1e-12).tolist() == [
        True,
        False,
        True,
        False,
    ]
    rows = [
        {"index": 0, "time": 0, "event": "none", "z": 1.0},
        {"index": 1, "time": 1, "event": "none"},
    ]
    values = trace_values(rows)
    assert values["z?"].tolist() == [True, False] and np.isnan(values["z"][1])
    assert trace_values([]) == {}


def test_convergence_counts_bars_until_agreement_for_good():
    full = np.array([np.nan, 1.0, 2.0, 3.0, 4.0])
    assert converged(full, full.copy(), 1e-12) == (0, 5)
    assert converged(full, np.array([np.nan, 1.5, 2.5, 3.0, 4.0]), 1e-12) == (3, 5)
    assert converged(full, np.array([np.nan, 1.0, 2.0, 3.0, 5.0]), 1e-12) == (None, 5)
    mask = np.array([True, True, True, False, False])
    # the disagreement at the last bar is not compared; the last compared bar disagrees
    assert converged(full, np.array([np.nan, 1.0, 9.0, 3.0, 5.0]), 1e-12, mask) == (None, 3)
    assert converged(full, np.array([np.nan, 9.0, 2.0, 3.0, 5.0]), 1e-12, mask) == (2, 3)
    assert first_value({"a": np.array([np.nan, 1.0]), "b": np.array([np.nan, np.nan])}) == (3, "b")


def test_cut_and_offset_points_sit_on_whole_bars(bars):
    cuts = cut_points(bars, Timeframe.M5.nanos, 3)
    assert [kept for _, kept in cuts] == [300, 600, 900]
    assert all(bars.time[i] % Timeframe.M5.nanos == 0 for i, _ in cuts)
    points = offset_points(bars, Timeframe.M5, Timeframe.H1, 2)
    assert all(bars.time[start] % Timeframe.H1.nanos == 0 for start, _, _ in points)
    assert points[0][1] == points[1][0] and points[1][1] == len(bars)
    # starts at 2,000 and 4,000 M1 bars move to the next hour: 2,040 and 4,020 (no gaps in
    # the first days of the synthetic data), i.e. 408 and 804 M5 bars
    assert [start for start, _, _ in points] == [2040, 4020]
    assert [skipped for _, _, skipped in points] == [408, 804]
    # more cuts than primary bars: each distinct point once
    assert len(cut_points(bars.slice(0, 12), Timeframe.M5.nanos, 10)) == 2


def test_isolated_bars_share_no_memory(bars):
    part = isolated(bars, 10, 20)
    assert len(part) == 10 and part.bid_close.base is None
    assert not np.shares_memory(part.bid_close, bars.bid_close)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"checks": ("lookahead", "nope")}, "unknown check"),
        ({"cuts": 0}, "cuts must be an int >= 1"),
        ({"offsets": True}, "offsets must be an int >= 1"),
        ({"tolerance": -1.0}, "tolerance must be >= 0"),
    ],
)
def test_bad_arguments_are_config_errors(bars, kwargs, message):
    with pytest.raises(ConfigError, match=message):
        check_bias(config("sma_cross"), bars=bars, **kwargs)


def test_no_bars_is_an_empty_data_error(bars):
    with pytest.raises(EmptyDataError, match="no bars to check"):
        check_bias(config("sma_cross"), bars=bars.slice(0, 0))


def test_progress_reports_every_run_then_done(bars):
    calls = []
    report = check_bias(
        config("sma_cross", "rust"),
        bars=bars,
        cuts=2,
        offsets=1,
        progress=lambda *a: calls.append(a),
    )
    total = planned_runs(2, 1, CHECKS)
    assert report.runs == total
    assert [c[1] for c in calls] == [*range(total), total]
    assert calls[0] == ("full run", 0, total) and calls[-1] == ("done", total, total)


def test_a_plugin_less_rust_only_view_has_no_declarations(bars, monkeypatch):
    """A Rust strategy with no Python twin: only its decision trace is compared."""
    subject = subject_for(config("sma_cross", "rust"))

    def missing():
        raise StrategyError("no twin")

    monkeypatch.setattr(subject, "_python_strategy", missing)
    assert subject.series(bars, subject.settings) is None
    assert subject.declared_warmup is None
    assert subject.coarsest_timeframe(subject.settings) == Timeframe.M5
    hybrid = subject_for(config("sma_cross", "hybrid"))
    monkeypatch.setattr(hybrid, "_python_strategy", missing)
    with pytest.raises(StrategyError, match="no twin"):
        hybrid.series(bars, hybrid.settings)


# -- the command ------------------------------------------------------------------------------


SMALL = ["--set", f"data.synthetic.n_bars={N_BARS}", "--cuts", "2", "--offsets", "2"]


def _invoke(args):
    from omega.cli import app

    return CliRunner().invoke(app, ["check-bias", *args, "--no-progress"])


def test_command_exit_0_when_no_bias():
    args = [
        "--set",
        "strategy.name=sma_cross",
        "--set",
        "strategy.params={}",
        "--tolerance",
        "1e-9",
    ]
    result = _invoke([*SMALL, *args])
    assert result.exit_code == 0, result.output
    assert "OK: no bias found" in result.output
    assert "(tolerance 1e-09)" in " ".join(result.output.split())  # a wrapped title


def test_command_exit_1_on_a_bias():
    result = _invoke(
        [
            *SMALL,
            "--engine",
            "python",
            "--set",
            "strategy.module=bias_strategies",
            "--set",
            "strategy.name=bias_whole_series",
            "--set",
            "strategy.params={}",
            "--only",
            "lookahead",
        ]
    )
    assert result.exit_code == 1, result.output
    assert "FAIL: first offending bar 0" in result.output
    assert "BIAS FOUND: look-ahead" in result.output


def test_command_draws_progress_on_a_terminal(monkeypatch):
    import io

    from rich.console import Console

    import omega.cli

    out = io.StringIO()
    monkeypatch.setattr(
        omega.cli, "console", Console(file=out, force_terminal=True, color_system=None, width=120)
    )
    from omega.cli import app

    args = [*SMALL, "--set", "strategy.name=sma_cross", "--set", "strategy.params={}"]
    result = CliRunner().invoke(app, ["check-bias", *args])
    assert result.exit_code == 0, result.output
    text = out.getvalue()
    assert "bias check ━" in text  # the bar (its labels change faster than it refreshes)
    assert "OK: no bias found" in text


@pytest.mark.parametrize(
    "args",
    [
        ["--cuts", "0"],
        ["--only", "everything"],
        ["--tolerance", "-1"],
        ["--set", "strategy.name=no_such_strategy"],
    ],
)
def test_command_exit_2_on_usage_or_config_errors(args):
    result = _invoke(args)
    assert result.exit_code == 2, result.output
    assert "error" in result.output
