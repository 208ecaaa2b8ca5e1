"""Generated baskets: every mode gives the same trades, member curves and account equity."""

from __future__ import annotations

import io

import pytest

from omega.parity_basket import compare_baskets, generate_basket_cases, run_basket_parity

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


def test_every_mode_identical_on_ci_baskets():
    pytest.importorskip("omega._core", reason="the Rust extension omega._core is not built")
    out = io.StringIO()
    count, trades, mismatches = run_basket_parity(CI_BASKETS, seed=0, n_bars=5000, out=out)
    assert count == CI_BASKETS
    assert not mismatches, out.getvalue()
    assert trades > 20 * CI_BASKETS, f"only {trades} trades compared"
    assert "cross_through_basket" in out.getvalue() and "margin" in out.getvalue()


def test_compare_baskets_names_the_member_and_the_account():
    pytest.importorskip("omega._core", reason="the Rust extension omega._core is not built")
    import dataclasses

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
