"""Generated baskets: every mode gives the same trades, member curves and account equity."""

from __future__ import annotations

import dataclasses
import io
import re

import pytest

from omega.parity_basket import (
    PORTFOLIO,
    compare_baskets,
    generate_basket_cases,
    run_basket_parity,
)

CI_BASKETS = 40


def test_basket_generation_is_seeded_and_covers_crosses():
    first = [case.describe() for case in generate_basket_cases(10, seed=3)]
    again = [case.describe() for case in generate_basket_cases(10, seed=3)]
    assert first == again
    cases = list(generate_basket_cases(30, seed=0))
    sizes = {len(case.symbols) for case in cases}
    assert min(sizes) >= 2 and max(sizes) >= 4
    crosses = {"EURGBP", "EURJPY"}
    assert any(crosses & set(case.symbols) for case in cases)
    assert any(case.settings[0].margin is not None for case in cases)


def test_portfolio_baskets_draw_pairs_zscore_params_over_their_ranges():
    cases = list(generate_basket_cases(200, seed=1))
    portfolio = [case for case in cases if case.portfolio is not None]
    assert 25 <= len(portfolio) <= 75  # one in four
    for case in portfolio:
        params = case.portfolio
        assert 10 <= params["lookback"] <= 200
        assert 0.8 <= params["entry"] <= 3.0
        assert 0.0 <= params["exit"] < params["entry"]
        assert 5.0 <= params["stop_pips"] <= 80.0
        assert 0.1 <= params["size"] <= 3.0
        legs = params.get("legs", case.symbols[:2])
        assert len(set(legs)) == 2 and set(legs) <= set(case.symbols)
    chosen = [case for case in portfolio if "legs" in case.portfolio]
    assert 0 < len(chosen) < len(portfolio)
    crosses = {"EURGBP", "EURJPY"}
    assert any(crosses & set(case.portfolio["legs"]) for case in chosen)
    assert any(case.settings[0].margin is not None for case in portfolio)


def test_the_portfolio_share_leaves_the_other_baskets_as_they_were():
    none = list(generate_basket_cases(30, seed=2, portfolio_share=0.0))
    some = list(generate_basket_cases(30, seed=2))
    assert all(case.portfolio is None for case in none)
    kept = [b for b in some if b.portfolio is None]
    assert 0 < len(kept) < 30
    assert [b.describe() for b in kept] == [none[b.case_id].describe() for b in kept]
    assert all(case.portfolio is not None for case in generate_basket_cases(5, 2, 1000, 1.0))


def test_a_portfolio_basket_config_gives_its_members_the_drawn_settings(tmp_path):
    # the config (what run_basket and the stream session read) expresses the drawn case:
    # its members' engine settings are the case's, conversions through the basket included
    from omega.basket import member_settings
    from omega.parity_basket import _with_conversions, basket_bars, portfolio_config

    cases = [c for c in generate_basket_cases(60, seed=0, n_bars=500) if c.portfolio]
    assert any(c.settings[0].blackouts for c in cases)
    assert any(c.settings[0].swap is not None for c in cases)
    for case in cases:
        bars = basket_bars(case)
        config = portfolio_config(case, tmp_path)
        assert config.strategy.name == PORTFOLIO
        assert all(not entry.params for entry in config.instruments)
        assert member_settings(config, bars) == _with_conversions(case, bars), case.describe()


def test_every_mode_identical_on_ci_baskets():
    pytest.importorskip("omega._core", reason="the Rust extension omega._core is not built")
    out = io.StringIO()
    count, trades, mismatches = run_basket_parity(CI_BASKETS, seed=0, n_bars=5000, out=out)
    assert count == CI_BASKETS
    assert not mismatches, out.getvalue()
    assert trades > 20 * CI_BASKETS, f"only {trades} trades compared"
    assert "cross_through_basket" in out.getvalue() and "margin" in out.getvalue()
    tally = re.search(r"portfolio baskets \(pairs_zscore\): (\d+) .*, (\d+) trades", out.getvalue())
    assert tally is not None, out.getvalue()
    baskets, portfolio_trades = int(tally[1]), int(tally[2])
    assert baskets >= 3 and portfolio_trades > 10 * baskets, out.getvalue()
    assert f"{CI_BASKETS} baskets ({baskets} portfolio pairs_zscore)" in out.getvalue()


def test_compare_baskets_names_the_member_and_the_account():
    pytest.importorskip("omega._core", reason="the Rust extension omega._core is not built")
    import numpy as np

    from omega.parity_basket import basket_bars, run_basket_case

    case = next(generate_basket_cases(1, seed=5, n_bars=3000))
    bars = basket_bars(case)
    a = run_basket_case(case, bars, "python")
    assert compare_baskets(a, a, case.symbols) is None
    shifted = dataclasses.replace(a, equity=np.asarray(a.equity) + 1.0)
    assert "account equity" in compare_baskets(a, shifted, case.symbols)
    member = a.members[1]
    if member.n_trades:
        trades = dict(member.trades)
        trades["exit_price"] = np.asarray(trades["exit_price"]) + 1e-9
        other = dataclasses.replace(
            a, members=[a.members[0], dataclasses.replace(member, trades=trades), *a.members[2:]]
        )
        assert compare_baskets(a, other, case.symbols).startswith(case.symbols[1])


def test_a_portfolio_mismatch_or_error_is_reported_with_its_seeds_and_config(monkeypatch):
    pytest.importorskip("omega._core", reason="the Rust extension omega._core is not built")
    import numpy as np

    import omega.parity_basket as harness

    real = harness.run_basket_case

    def broken(case, bars, mode, trace=False):
        raw = real(case, bars, mode, trace)
        if mode == "rust":  # a rust-mode account drifting by a cent
            return dataclasses.replace(raw, equity=np.asarray(raw.equity) + 0.01)
        if mode == "stream":
            raise RuntimeError("the stream failed")
        return raw

    monkeypatch.setattr(harness, "run_basket_case", broken)
    out = io.StringIO()
    _, _, mismatches = run_basket_parity(
        1, seed=4, n_bars=1500, modes=("python", "rust", "stream"), out=out, portfolio_share=1.0
    )
    case = next(generate_basket_cases(1, seed=4, n_bars=1500, portfolio_share=1.0))
    assert len(mismatches) == 2, out.getvalue()
    raised, differs = mismatches
    assert raised.startswith("MISMATCH stream raised RuntimeError: the stream failed")
    assert differs.startswith("MISMATCH python vs rust: account equity at 0")
    for message in mismatches:
        assert f"of --seed 4 (data seed {case.data_seed}, 1500 bars)" in message
        assert f'"name": "{PORTFOLIO}"' in message and "config: " in message
    assert "1 baskets (1 portfolio pairs_zscore)" in out.getvalue()
    assert "2 mismatches" in out.getvalue()
