"""Bias detection on baskets (`omega.check_bias` and ``omega check-bias`` on an
``instruments:`` config): a portfolio strategy reading another instrument's future close and
one member's biased strategy are caught by the look-ahead check, which names the instrument;
decisions before the warm-up are flagged per instrument; the built-in strategies (rust,
hybrid, python) and the built-in portfolio strategy pass; the stream check compares every
instrument and the account; the intrabar bounds add up; the CLI runs the example basket.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

import bias_strategies  # noqa: F401 - registers the biased strategies
from omega.basket import load_basket_bars
from omega.bias import CHECKS, BiasReport, check_bias, print_report
from omega.bias.basket import (
    BasketSubject,
    basket_subject,
    check_basket_lookahead,
    check_basket_stream,
    cut_times,
    offset_windows,
)
from omega.bias.check import planned_runs
from omega.config import BacktestConfig
from omega.data import generate_synthetic
from omega.errors import ConfigError
from omega.timeframes import Timeframe

pytest.importorskip("omega._core", reason="the Rust extension omega._core is not built")

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "examples" / "basket.yaml"
N_BARS = 6_000  # M1 bars per instrument: 1,200 M5 bars
# a cross (EURGBP) converts through the basket's GBPUSD: cut and started with it
SYMBOLS = ["EURUSD", "GBPUSD", "EURGBP"]


def basket(
    name: str,
    engine: str = "python",
    primary: str = "M5",
    params: dict | None = None,
    entries: list[dict] | None = None,
) -> BacktestConfig:
    return BacktestConfig.from_dict(
        {
            "data": {"synthetic": {"n_bars": N_BARS, "seed": 5}},
            "strategy": {"module": "bias_strategies", "name": name, "params": params or {}},
            "engine": engine,
            "timeframes": {"primary": primary, "extra": []},
            "instruments": entries or [{"symbol": s} for s in SYMBOLS],
            "execution": {"sizing": {"mode": "fixed", "lots": 1.0}},
        }
    )


@pytest.fixture(scope="module")
def bars():
    return load_basket_bars(basket("bias_clean"))


def check(config: BacktestConfig, bars, **kwargs) -> BiasReport:
    return check_bias(config, bars=bars, cuts=3, offsets=2, **kwargs)


def primary_bars_before(bars, symbol: str, time: int, primary: Timeframe = Timeframe.M5) -> int:
    """The primary bars of ``symbol`` opening before ``time`` (its base bars' buckets)."""
    times = bars[symbol].time
    return len(np.unique(times[times < time] // primary.nanos))


def text_of(report: BiasReport) -> str:
    from rich.console import Console

    console = Console(record=True, width=160)
    print_report(report, console)
    return console.export_text()


# -- biased baskets are caught ------------------------------------------------------------------


@pytest.mark.parametrize("engine", ["python", "hybrid"])
def test_a_portfolio_reading_another_instruments_future_close_is_caught(bars, engine):
    report = check(basket("bias_basket_peek", engine), bars)
    assert not report.ok and report.problems == ["look-ahead"]
    look = report.lookahead
    assert len(look.offences) == len(look.cuts) == 3
    for offence, (_, cut_time) in zip(look.offences, look.cuts, strict=True):
        # EURUSD, the instrument it trades, decided at its last close before the cut on
        # GBPUSD's first close after it; the cut run could not
        assert (offence.symbol, offence.what, offence.name) == ("EURUSD", "decision", "event")
        assert offence.bar == primary_bars_before(bars, "EURUSD", cut_time) - 1
        assert offence.full["event"] != "none" and offence.cut["event"] == "none"
    assert look.first.symbol == "EURUSD"
    text = text_of(report)
    assert "FAIL: first offending instrument EURUSD, bar" in text
    assert "BIAS FOUND: look-ahead" in text


@pytest.mark.parametrize("engine", ["python", "hybrid"])
def test_the_one_member_whose_strategy_peeks_is_named(bars, engine):
    entries = [{"symbol": "EURUSD"}, {"symbol": "GBPUSD", "params": {"peek": True}}]
    entries.append({"symbol": "EURGBP"})
    report = check(basket("bias_peek_when", engine, entries=entries), bars)
    assert report.problems == ["look-ahead"]
    look = report.lookahead
    assert len(look.offences) == 3
    for offence, (_, cut_time) in zip(look.offences, look.cuts, strict=True):
        assert (offence.symbol, offence.what, offence.name) == ("GBPUSD", "decision", "next")
        assert offence.bar == primary_bars_before(bars, "GBPUSD", cut_time) - 1
        assert "next" in offence.full and "next" not in offence.cut
    text = text_of(report)
    assert "decision-trace field next at GBPUSD bar" in text
    assert "FAIL: first offending instrument GBPUSD" in text


def test_the_same_strategy_causal_on_every_member_passes(bars):
    report = check(basket("bias_peek_when"), bars)
    assert report.ok, report.problems
    assert report.lookahead.decisions_compared > 100


@pytest.mark.parametrize("engine", ["python", "hybrid"])
def test_decisions_before_the_warm_up_are_flagged_per_instrument(bars, engine):
    report = check(basket("bias_early", engine), bars)
    assert report.problems == ["warm-up"]
    warm = report.warmup
    assert list(warm.instruments) == SYMBOLS
    assert (warm.declared, warm.needed) == (20, 20)
    flagged = {(f.symbol, f.kind, f.bar, f.start_bar) for f in warm.findings}
    expected = set()
    for symbol, part in warm.instruments.items():
        assert (part.declared, part.needed) == (20, 20)
        assert len(part.runs) == 2
        # the same start times for every instrument
        assert [r.start_time for r in part.runs] == [
            r.start_time for r in warm.instruments["EURUSD"].runs
        ]
        starts = [0] + [r.start_bar for r in part.runs]
        expected |= {(symbol, "early_decision", 18, s) for s in starts}
    assert flagged == expected
    assert all(f.message.startswith(f"{f.symbol}: ") for f in warm.findings)
    assert report.lookahead.ok


def test_a_portfolio_trading_before_its_declared_warm_up_is_flagged(bars):
    report = check(basket("bias_basket_early"), bars)
    assert report.problems == ["warm-up"]
    warm = report.warmup
    eurusd = warm.instruments["EURUSD"]
    assert (eurusd.declared, eurusd.needed, eurusd.needed_by) == (
        20,
        20,
        "sma(period=20) on close M5 bid",
    )
    assert warm.instruments["GBPUSD"].needed is None  # declares nothing on GBPUSD
    assert {(f.symbol, f.bar) for f in warm.findings} == {("EURUSD", 18)}
    assert report.lookahead.indicators == ["EURUSD: sma(period=20) on close M5 bid"]
    assert report.lookahead.ok


# -- the built-in strategies pass ---------------------------------------------------------------


BUILTINS = {
    "sma_cross": {"fast": 5, "slow": 20},
    "zscore_threshold": {},
    "mean_reversion_z_score": {"lookback": 50, "z_entry": 2.0, "trend_filter": False},
}


@pytest.mark.parametrize("engine", ["rust", "hybrid", "python"])
@pytest.mark.parametrize("name", sorted(BUILTINS))
def test_builtin_strategies_pass_on_a_basket(bars, name, engine):
    report = check(basket(name, engine, params=BUILTINS[name]), bars)
    assert report.ok, report.problems
    assert report.subject == f"strategy {name} on 3 instruments ({engine} mode)"
    assert report.symbols == SYMBOLS
    assert report.runs == planned_runs(3, 2, CHECKS)
    assert report.base_bars == 3 * N_BARS and report.primary_bars == 1_200
    look = report.lookahead
    assert len(look.cuts) == 3 and look.decisions_compared > 0
    assert {name.split(": ")[0] for name in look.indicators} == set(SYMBOLS)
    warm = report.warmup
    assert list(warm.instruments) == SYMBOLS
    assert all(len(part.runs) == 2 for part in warm.instruments.values())
    stream = report.stream
    if engine == "rust":
        assert stream.skipped == "" and stream.instruments == 3
        assert stream.bars == 3 * 1_200 and stream.decisions > 0
    else:
        assert stream.skipped.startswith(f"a Python strategy ({engine} mode)")
    intra = report.intrabar
    assert [r.policy for r in intra.runs] == ["pessimistic", "optimistic", "finer"]
    assert list(intra.instruments) == SYMBOLS


@pytest.mark.parametrize("engine", ["hybrid", "python"])
def test_the_builtin_portfolio_strategy_passes(bars, engine):
    params = {"legs": ["EURUSD", "GBPUSD"], "lookback": 50, "entry": 1.5, "exit": 0.3}
    report = check(basket("pairs_zscore", engine, params=params), bars)
    assert report.ok, report.problems
    assert report.subject == f"portfolio strategy pairs_zscore on 3 instruments ({engine} mode)"
    assert report.lookahead.decisions_compared > 0
    assert report.stream.skipped.startswith(f"a portfolio strategy ({engine} mode)")
    assert report.intrabar.runs[0].trades > 0
    assert "skipped: a portfolio strategy" in text_of(report)


# -- the comparisons behind the verdicts --------------------------------------------------------


@pytest.fixture(scope="module")
def rust_basket(bars):
    subject = basket_subject(basket("sma_cross", "rust", params={"fast": 5, "slow": 20}))
    return subject, subject.run(bars, trace=True)


def _moved(bars, symbol: str, start: int):
    """``bars`` with ``symbol``'s closes from base bar ``start`` on 20 pips higher."""
    out = dict(bars)
    series = bars[symbol]
    bid, ask = series.bid_close.copy(), series.ask_close.copy()
    bid[start:] += 0.002
    ask[start:] += 0.002
    out[symbol] = dataclasses.replace(series, bid_close=bid, ask_close=ask, quality=None)
    return out


def test_the_stream_fed_the_same_bars_matches_and_other_bars_are_caught(bars, rust_basket):
    subject, full = rust_basket
    times = cut_times(bars, Timeframe.M5, 3)
    assert check_basket_stream(subject, bars, full, times).ok
    moved = _moved(bars, "GBPUSD", 2_500)

    class Fed(BasketSubject):
        def stream(self, _bars, cuts):
            return BasketSubject.stream(self, moved, cuts)

    fed = Fed(subject.config, subject.mode, subject.env)
    result = check_basket_stream(fed, bars, full, times)
    assert not result.ok
    assert result.difference.startswith("GBPUSD: decision at bar 500:")  # M1 bar 2,500


def test_a_stream_differing_only_on_the_account_is_caught(bars, rust_basket):
    subject, full = rust_basket
    other = dataclasses.replace(full, equity=full.equity.copy())
    other.equity[7] += 1.0

    class Given(BasketSubject):
        def stream(self, _bars, _cuts):
            return other

    given = Given(subject.config, subject.mode, subject.env)
    result = check_basket_stream(given, bars, full, [])
    assert result.difference == "the account's equity curves differ"


def _quiet(label: str) -> None:
    pass


def _edited_cuts(subject: BasketSubject, edit):
    """``subject`` whose runs on cut data (fewer bars) are changed by ``edit``."""

    class Edited(BasketSubject):
        def run(self, bars_, *, trace, policy=None):
            run = BasketSubject.run(self, bars_, trace=trace, policy=policy)
            if len(bars_["EURUSD"]) < N_BARS:
                edit(run)
            return run

    return Edited(subject.config, subject.mode, subject.env)


def test_a_cut_run_changing_an_instruments_trade_is_named(bars, rust_basket):
    subject, full = rust_basket
    edited = _edited_cuts(subject, lambda r: r.members[1].trades["entry_price"].__setitem__(0, 9.0))
    result = check_basket_lookahead(
        edited, bars, full, None, cut_times(bars, Timeframe.M5, 2), _quiet
    )
    assert {(o.symbol, o.what) for o in result.offences} == {("GBPUSD", "trade")}


def test_a_cut_run_changing_the_accounts_equity_is_named(bars, rust_basket):
    subject, full = rust_basket
    edited = _edited_cuts(subject, lambda r: r.equity.__setitem__(3, 1.0))
    result = check_basket_lookahead(
        edited, bars, full, None, cut_times(bars, Timeframe.M5, 2), _quiet
    )
    assert {(o.symbol, o.what, o.bar) for o in result.offences} == {("account", "equity", 3)}
    report = BiasReport("s", "d", 1, 1, lookahead=result, symbols=SYMBOLS)
    assert "first offending point 3 of the account's timeline" in text_of(report)


def test_intrabar_bounds_of_the_account_and_each_instrument(bars):
    report = check(basket("bias_clean", primary="H1"), bars, checks=("intrabar",))
    intra = report.intrabar
    account = {r.policy: r for r in intra.runs}
    assert account["pessimistic"].pnl < account["optimistic"].pnl
    assert account["pessimistic"].ambiguous > 0
    for policy, run in account.items():
        parts = [next(r for r in p.runs if r.policy == policy) for p in intra.instruments.values()]
        assert run.ambiguous == sum(r.ambiguous for r in parts)
        assert run.trades == sum(r.trades for r in parts)
        assert run.ambiguous_pnl == pytest.approx(sum(r.ambiguous_pnl for r in parts))
        # every position is closed at the end: the account's P&L is its trades'
        assert run.pnl == pytest.approx(sum(r.pnl for r in parts))
    assert intra.band == account["optimistic"].pnl - account["pessimistic"].pnl
    text = text_of(report)
    assert "P&L band of the account" in text and "per instrument: EURUSD" in text


# -- the timeline ----------------------------------------------------------------------------


def _late(bars, symbol: str, skip: int):
    """``bars`` with ``symbol`` starting ``skip`` base bars later."""
    out = dict(bars)
    out[symbol] = bars[symbol].slice(skip, len(bars[symbol]))
    return out


def test_cuts_are_primary_opens_after_every_instruments_first_bar(bars):
    times = cut_times(bars, Timeframe.M5, 3)
    assert len(times) == 3 and all(t % Timeframe.M5.nanos == 0 for t in times)
    # a quarter, a half and three quarters of the 1,200 M5 bars of the basket's timeline
    first = int(bars["EURUSD"].time[0])
    assert [(t - first) // Timeframe.M5.nanos for t in times] == [300, 600, 900]
    late = _late(bars, "GBPUSD", 2_000)  # GBPUSD starts at M5 bar 400
    moved = cut_times(late, Timeframe.M5, 3)
    assert moved[0] > int(late["GBPUSD"].time[0]) and moved[1:] == times[1:]


def test_later_starts_leave_out_a_window_an_instrument_has_no_bars_in(bars):
    windows, left_out = offset_windows(bars, Timeframe.H1, 2)
    assert left_out == 0 and len(windows) == 2
    assert all(start % Timeframe.H1.nanos == 0 for start, _ in windows)
    assert windows[0][1] == windows[1][0] and windows[1][1] is None
    short = dict(bars)
    short["EURGBP"] = bars["EURGBP"].slice(0, 3_000)  # ends before the second window
    windows, left_out = offset_windows(short, Timeframe.H1, 2)
    assert left_out == 1 and len(windows) == 1


# -- arguments and the command --------------------------------------------------------------


def test_bars_of_the_wrong_shape_are_config_errors(bars):
    config = basket("bias_clean")
    with pytest.raises(ConfigError, match="bars by symbol"):
        check_bias(config, bars=bars["EURUSD"])
    with pytest.raises(ConfigError, match="no bars for EURGBP"):
        check_bias(config, bars={s: bars[s] for s in SYMBOLS[:2]})
    single = BacktestConfig.from_dict({"strategy": {"name": "sma_cross"}})
    with pytest.raises(ConfigError, match="bars by symbol are for a basket"):
        check_bias(single, bars=bars)
    with pytest.raises(ConfigError, match="bars by symbol are for a basket"):
        check_bias(single, bars={"EURUSD": generate_synthetic(n_bars=100)})


def _invoke(*args: str):
    from omega.cli import app

    return CliRunner().invoke(app, ["check-bias", *map(str, args), "--no-progress"])


def test_the_command_passes_the_example_basket():
    result = _invoke(EXAMPLE, "--set", "data.synthetic.n_bars=20000")
    assert result.exit_code == 0, result.output
    out = result.output
    assert "strategy sma_cross on 7 instruments (rust mode)" in out
    assert "instruments: EURUSD, GBPUSD, USDJPY, USDCHF, AUDUSD, NZDUSD, USDCAD" in out
    assert "over 7 instruments" in out  # the stream session
    assert "OK: no bias found" in out


def test_the_command_exits_1_naming_the_instrument(tmp_path):
    config = basket(
        "bias_peek_when",
        entries=[{"symbol": "EURUSD"}, {"symbol": "GBPUSD", "params": {"peek": True}}],
    )
    path = tmp_path / "peek.json"
    path.write_text(json.dumps(config.user_dict()))
    result = _invoke(path, "--cuts", "2", "--only", "lookahead")
    assert result.exit_code == 1, result.output
    assert "first offending instrument GBPUSD" in result.output
    assert "BIAS FOUND: look-ahead" in result.output


def test_a_basket_naming_its_strategy_module_is_checked(tmp_path, bars):
    """The basket's checks ask the strategy's kind before any member imports its module:
    the config imports it first (a fresh module file, registered nowhere before)."""
    module = tmp_path / "fresh_basket_strategy.py"
    module.write_text(
        "from omega.strategy import Strategy, register_strategy\n\n\n"
        "@register_strategy\n"
        "class Idle(Strategy):\n"
        '    name = "bias_test_fresh_idle"\n\n'
        "    def evaluate(self, data):\n"
        "        return None\n"
    )
    config = basket("bias_clean").user_dict()
    config["strategy"] = {"module": str(module), "name": "bias_test_fresh_idle"}
    report = check(BacktestConfig.from_dict(config), bars, checks=("lookahead",))
    assert report.ok and report.subject.startswith("strategy bias_test_fresh_idle on 3")
