"""Walk-forward, cross-validation and overfitting statistics of the default strategy, on the
default data (the default config's seeded synthetic EURUSD minutes): reproducible anywhere.

    python examples/walk_forward.py                       # 1M bars, train 6M / test 1M
    python examples/walk_forward.py --bars 200000 --train 2M --test 2W
    python examples/walk_forward.py --figure docs/user-guide/img/walk-forward.png

Prints the folds, the out-of-sample summary and the walk-forward efficiency, the Monte Carlo
percentiles of the out-of-sample trades, the neighbourhood stability of the grid, the deflated
Sharpe ratio, the PBO (CSCV over blocks) and the CPCV paths; writes the research report page
(and, with --figure, the PNG of the documentation page: matplotlib needed).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from omega.config import default_config
from omega.report.research import ResearchReport, write_research_report
from omega.research import walk_forward
from omega.research.cv import cross_validate
from omega.research.robustness import (
    block_performance,
    deflated_sharpe_of_search,
    monte_carlo,
    neighbourhood_stability,
    probability_of_backtest_overfitting,
)
from omega.runner import load_bars
from omega.sweep import parameter_grid

GRID = {"lookback": [100, 150, 200, 250], "z_entry": [2.5, 3.0, 3.5, 4.0]}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bars", type=int, default=None, help="synthetic bars (default 1M)")
    parser.add_argument("--train", default="6M")
    parser.add_argument("--test", default="1M")
    parser.add_argument("--out", type=Path, default=Path("omega-out/walk-forward-example"))
    parser.add_argument("--figure", type=Path, default=None, help="write the docs figure (PNG)")
    args = parser.parse_args(argv)

    config = default_config()
    if args.bars is not None:
        config = config.apply_overrides([f"data.synthetic.n_bars={args.bars}"])
    bars = load_bars(config)
    settings = config.to_engine_settings()
    strategy = config.strategy.name
    sets = parameter_grid(GRID)

    # 1. Walk-forward: best Sharpe in each training window, traded on the next test window.
    wf = walk_forward(bars, strategy, sets, settings, train=args.train, test=args.test)
    shown = ["test_start", "param_lookback", "param_z_entry", "is_sharpe", "oos_return_pct"]
    print(wf.folds[shown].to_string(index=False))
    print(f"OOS: {wf.oos}; walk-forward efficiency {wf.efficiency:.3f}")

    # 2. Monte Carlo over the out-of-sample trades.
    initial = settings.initial_balance
    mc = monte_carlo(wf.trades, initial, n=1000, seed=1)
    print(mc.percentiles.round(2).to_string())

    # 3. Neighbourhood of the grid: the in-sample Sharpe of each set averaged over the folds.
    means = wf.sweeps.groupby(["lookback", "z_entry"])["sharpe"].mean().reset_index()
    nb = neighbourhood_stability(means, "lookback", "z_entry")
    print("best cell and its neighbourhood:", nb.best)

    # 4. Deflated Sharpe ratio of the stitched out-of-sample equity after 16 trials per fold.
    marks = np.concatenate(([initial], wf.equity.to_numpy()))
    first_fold = wf.sweeps[wf.sweeps["fold"] == 0]
    dsr = deflated_sharpe_of_search(
        marks[1:] / marks[:-1] - 1, first_fold["sharpe"], first_fold["periods_per_year"]
    )
    print(f"DSR {dsr.dsr:.4f} (SR0 {dsr.sr0:.5f} per bar, Sharpe {dsr.sharpe:.5f} per bar)")

    # 5. PBO: every set on 8 blocks of the data, CSCV over the blocks' mean return.
    matrix = block_performance(bars, strategy, sets, settings, n_blocks=8)
    pbo = probability_of_backtest_overfitting(matrix, 8, metric="mean")
    print(f"PBO {pbo.pbo:.3f} over {pbo.n_combinations} combinations")

    # 6. Combinatorial purged CV: 6 groups, 2 tested, a day of purge and embargo (M1 bars).
    cv = cross_validate(
        bars, strategy, sets, settings, n_groups=6, n_test_groups=2, horizon=1440, embargo=1440
    )
    print(cv.paths[["path", "return_pct", "max_drawdown_pct", "sharpe"]].round(3).to_string())

    report = ResearchReport(
        title=f"Walk-forward example: {strategy}",
        walk_forward=wf,
        monte_carlo=mc,
        actual_equity=np.concatenate(([initial], initial + wf.trades["pnl"].cumsum())),
        neighbourhood=nb,
        dsr=dsr,
        pbo=pbo,
        currency=str(config.account.currency),
    )
    args.out.mkdir(parents=True, exist_ok=True)
    page = write_research_report(report, args.out / "report.html")
    print(f"Wrote {page}")
    if args.figure is not None:
        figure(wf, mc, nb, args.figure)
        print(f"Wrote {args.figure}")
    return {"wf": wf, "mc": mc, "nb": nb, "dsr": dsr, "pbo": pbo, "cv": cv, "page": page}


def figure(wf, mc, nb, path: Path) -> None:
    """The documentation figure: OOS equity, Monte Carlo fan, neighbourhood heatmap."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(15, 4.2), gridspec_kw={"width_ratios": [2, 2, 1.3]})
    ax = axes[0]
    ax.plot(wf.equity.index, wf.equity.to_numpy(), lw=1)
    for start in wf.folds["test_start"]:
        ax.axvline(start, color="grey", lw=0.5, ls=":")
    ax.set_title("Out-of-sample equity (folds stitched)")
    ax.tick_params(axis="x", labelrotation=30)
    ax = axes[1]
    x = mc.fan.index.to_numpy()
    ax.fill_between(x, mc.fan["p5"], mc.fan["p95"], color="C0", alpha=0.15, label="5-95 %")
    ax.fill_between(x, mc.fan["p25"], mc.fan["p75"], color="C0", alpha=0.3, label="25-75 %")
    ax.plot(x, mc.fan["p50"], color="C0", lw=1.5, label="median")
    ax.set_title(f"Monte Carlo fan ({mc.method}, {len(mc.runs)} runs)")
    ax.set_xlabel("trade")
    ax.legend(loc="lower left", fontsize=8)
    ax = axes[2]
    grid = nb.heatmap.to_numpy()
    image = ax.imshow(grid, origin="lower", cmap="RdYlGn", aspect="auto")
    ax.set_xticks(range(grid.shape[1]), [f"{v:g}" for v in nb.heatmap.columns])
    ax.set_yticks(range(grid.shape[0]), [f"{v:g}" for v in nb.heatmap.index])
    ax.set_xlabel(nb.x)
    ax.set_ylabel(nb.y)
    ax.set_title(f"Mean in-sample {nb.metric}")
    fig.colorbar(image, ax=ax)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90)
    plt.close(fig)


if __name__ == "__main__":
    main()
