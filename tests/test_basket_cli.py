"""Baskets from the command line and the Python front door: ``omega backtest basket.yaml``
writes the account's files, the example basket gives the same trades in every mode from the
CLI and from Python, ``omega.run_backtest`` returns a BasketResult."""

from __future__ import annotations

import io
import json
import os
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import omega
from omega.basket import BasketResult, load_basket_bars, run_basket
from omega.cli import app
from omega.config import BacktestConfig
from omega.errors import ConfigError
from omega.runner import load_bars, run_backtest

pytest.importorskip("omega._core", reason="hybrid and rust modes need the Rust core")

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "examples" / "basket.yaml"
SHORT = "data.synthetic.n_bars=20000"
MAJORS = ["EURUSD", "GBPUSD", "USDJPY", "USDCHF", "AUDUSD", "NZDUSD", "USDCAD"]
MODES = ["python", "hybrid", "rust"]
BASKET_OUTPUT = {
    "trades.csv",
    "equity.csv",
    "instrument_equity.csv",
    "stats.csv",
    "correlation.csv",
    "metrics.json",
    "report.html",
}
STRICT = {"OMEGA_STRICT": "1"}  # a failing hybrid or rust run raises instead of falling back

cli = CliRunner()


def backtest(*args: object):
    result = cli.invoke(app, ["backtest", *(str(a) for a in args)])
    assert result.exit_code == 0, result.output
    return result


def short_example(*overrides: str) -> BacktestConfig:
    return BacktestConfig.from_file(EXAMPLE).apply_overrides([SHORT, *overrides])


@pytest.fixture(scope="module")
def api_runs() -> dict[str, BasketResult]:
    """The shortened example from Python, once per mode."""
    runs = {}
    for mode in MODES:
        result = omega.run_backtest(short_example(f"engine={mode}"), env=STRICT)
        assert isinstance(result, BasketResult)
        runs[mode] = result
    return runs


@pytest.fixture(scope="module")
def cli_runs(tmp_path_factory) -> dict[str, Path]:
    """The shortened example from the command line, once per mode: the output folders."""
    folders = {}
    for mode in MODES:
        out = tmp_path_factory.mktemp(f"basket-{mode}")
        result = backtest(EXAMPLE, "--engine", mode, "--set", SHORT, "--no-progress", "--out", out)
        assert f"Engine mode: {mode} " in result.stdout
        folders[mode] = out
    return folders


# ------------------------------------------------------------------ the example, every mode


def test_the_example_is_the_seven_majors_on_a_leveraged_account_with_an_override():
    config = BacktestConfig.from_file(EXAMPLE)
    assert [entry.symbol for entry in config.instruments] == MAJORS
    assert all(entry.path is None for entry in config.instruments)  # synthetic
    assert config.strategy.name == "sma_cross"
    assert config.account.leverage == 30
    overridden = [entry.symbol for entry in config.instruments if entry.params]
    assert overridden == ["USDJPY"]
    members = {m.instrument.symbol: m.strategy.params for m in run_basket_members(config)}
    assert members["USDJPY"]["fast"] != members["EURUSD"]["fast"]


def run_basket_members(config: BacktestConfig) -> list[BacktestConfig]:
    from omega.config.basket import member_configs

    return member_configs(config)


def test_python_api_gives_the_same_trades_in_every_mode(api_runs):
    reference = api_runs["python"]
    # Every instrument trades, so equal trades are not equal empty tables.
    assert all(r.raw.n_trades > 0 for r in reference.instruments.values())
    for mode in ("hybrid", "rust"):
        assert api_runs[mode].mode == mode
        assert reference.trades_equal(api_runs[mode]), mode
        assert api_runs[mode].final_balance == reference.final_balance


def test_cli_gives_the_same_files_in_every_mode(cli_runs):
    for name in ("trades.csv", "equity.csv", "instrument_equity.csv", "correlation.csv"):
        files = {mode: (folder / name).read_bytes() for mode, folder in cli_runs.items()}
        assert files["python"] == files["hybrid"] == files["rust"], name
    hashes = {
        mode: json.loads((folder / "metrics.json").read_text())["trades_sha256"]
        for mode, folder in cli_runs.items()
    }
    assert len(set(hashes.values())) == 1


def test_cli_trades_are_the_python_api_trades(cli_runs, api_runs):
    written = pd.read_csv(cli_runs["rust"] / "trades.csv")
    expected = api_runs["python"].trades
    assert list(written.columns) == list(expected.columns)
    assert written["symbol"].tolist() == expected["symbol"].tolist()
    assert written["side"].tolist() == expected["side"].tolist()
    assert written["pnl"].tolist() == expected["pnl"].tolist()  # exact floats in the CSV
    assert written["exit_price"].tolist() == expected["exit_price"].tolist()
    exits = pd.to_datetime(written["exit_time"], utc=True)
    assert (exits.to_numpy() == expected["exit_time"].to_numpy()).all()


# ------------------------------------------------------------------ the output folder


@pytest.fixture(scope="module")
def folder(cli_runs) -> Path:
    return cli_runs["rust"]


def test_the_output_folder_holds_the_basket_files(folder):
    assert set(os.listdir(folder)) == BASKET_OUTPUT


def test_trades_carry_their_symbol_and_each_instruments_count(folder):
    trades = pd.read_csv(folder / "trades.csv")
    summary = json.loads((folder / "metrics.json").read_text())
    assert trades.columns[0] == "symbol"
    assert len(trades) == summary["metrics"]["n_trades"] > 0
    counts = trades["symbol"].value_counts().to_dict()
    for symbol in MAJORS:
        assert counts[symbol] == summary["instruments"][symbol]["metrics"]["n_trades"]
    # In exit-time order (the account's order).
    exits = pd.to_datetime(trades["exit_time"], utc=True)
    assert exits.is_monotonic_increasing


def test_account_equity_is_the_initial_balance_plus_every_trade(folder):
    equity = pd.read_csv(folder / "equity.csv")
    trades = pd.read_csv(folder / "trades.csv")
    summary = json.loads((folder / "metrics.json").read_text())
    initial = summary["metrics"]["initial_balance"]
    # end_of_data closes every position at the last close: equity = balance.
    assert equity["equity"].iloc[-1] == pytest.approx(initial + trades["pnl"].sum(), abs=1e-6)
    assert equity["equity"].iloc[-1] == summary["metrics"]["final_balance"]


def test_instrument_curves_add_up_to_the_account(folder):
    """Each instrument's curve counts a trade's fees at its exit; the account pays the entry
    commission (3.5 per lot, 1 lot) when the position opens. So the curves' P&L summed is
    the account's plus 3.5 per position open at that close, and equal once all are closed."""
    curves = pd.read_csv(folder / "instrument_equity.csv")
    equity = pd.read_csv(folder / "equity.csv")
    assert list(curves.columns) == ["time", *MAJORS]
    assert curves["time"].tolist() == equity["time"].tolist()
    initial = 100_000.0
    summed = (curves[MAJORS] - initial).sum(axis=1) + initial
    gap = (summed - equity["equity"]).to_numpy()
    open_positions = np.round(gap / 3.5)
    assert np.allclose(gap, open_positions * 3.5, atol=1e-6)
    assert open_positions.min() == 0 and open_positions.max() <= len(MAJORS)
    assert open_positions.max() > 0  # positions were open at some closes
    assert gap[-1] == pytest.approx(0.0, abs=1e-6)


def test_stats_table_has_the_account_and_each_instrument(folder):
    stats = pd.read_csv(folder / "stats.csv", index_col="statistic")
    assert list(stats.columns) == ["account", *MAJORS]
    trades = stats.loc["# Trades"].astype(int)
    assert trades["account"] == trades[MAJORS].sum()
    fees = stats.loc["Total Fees [$]"].astype(float)
    assert fees["account"] == pytest.approx(fees[MAJORS].sum())


def test_correlation_matrix_is_symmetric_with_a_unit_diagonal(folder):
    matrix = pd.read_csv(folder / "correlation.csv", index_col="symbol")
    assert list(matrix.index) == MAJORS and list(matrix.columns) == MAJORS
    values = matrix.to_numpy()
    assert np.allclose(values, values.T, equal_nan=True)
    assert np.allclose(np.diag(values), 1.0)
    off = values[~np.eye(len(MAJORS), dtype=bool)]
    assert np.all((off >= -1) & (off <= 1))
    summary = json.loads((folder / "metrics.json").read_text())
    assert summary["correlation"]["rule"] == "1D"
    assert summary["correlation"]["matrix"]["EURUSD"]["GBPUSD"] == matrix.loc["EURUSD", "GBPUSD"]


def test_metrics_json_holds_the_account_and_each_instrument(folder):
    summary = json.loads((folder / "metrics.json").read_text())
    assert summary["mode"] == "rust"
    assert summary["symbols"] == MAJORS
    assert set(summary["instruments"]) == set(MAJORS)
    for symbol in MAJORS:
        one = summary["instruments"][symbol]
        assert len(one["trades_sha256"]) == 64
        assert "synthetic basket" in one["data_quality"]
    net = sum(summary["instruments"][s]["metrics"]["net_profit"] for s in MAJORS)
    assert summary["metrics"]["net_profit"] == pytest.approx(net, abs=1e-6)
    assert len(summary["config"]["instruments"]) == len(MAJORS)
    assert summary["config"]["data"]["synthetic"]["n_bars"] == 20000


def test_report_is_the_basket_report(folder):
    page = (folder / "report.html").read_text()
    assert "<h1>Omega basket: sma_cross on 7 instruments M15</h1>" in page
    assert "id='omega-basket-stats'" in page and "id='omega-correlation'" in page


# ------------------------------------------------------------------ the console


def test_console_has_one_line_per_instrument_and_the_account(tmp_path, api_runs):
    result = backtest(EXAMPLE, "--set", SHORT, "--no-progress", "--out", tmp_path / "o")
    lines = result.stdout.splitlines()
    rows = {
        line.split()[0]: line
        for line in lines
        if line.split() and line.split()[0] in [*MAJORS, "account"]
    }
    assert list(rows) == [*MAJORS, "account"]
    reference = api_runs["python"]
    for symbol in MAJORS:
        cells = rows[symbol].replace("│", " ").split()
        assert int(cells[1]) == reference.instruments[symbol].raw.n_trades
    account_cells = rows["account"].replace("│", " ").split()
    assert int(account_cells[1].replace(",", "")) == reference.account.raw.n_trades
    assert "Basket: sma_cross on 7 instruments M15, one USD account of 100,000.00" in result.stdout
    assert f"to {tmp_path / 'o'}/" in result.stdout.replace("\n", "")  # the Wrote line


# ------------------------------------------------------------------ options


def test_set_overrides_reach_the_basket_and_one_instrument(tmp_path):
    out = tmp_path / "o"
    backtest(
        EXAMPLE,
        "--set",
        SHORT,
        "--set",
        "strategy.params.fast=15",
        "--set",
        "instruments.3.params.slow=60",
        "--engine",
        "python",
        "--no-progress",
        "--no-report",
        "--out",
        out,
    )
    summary = json.loads((out / "metrics.json").read_text())
    assert summary["mode"] == "python"
    assert summary["config"]["strategy"]["params"]["fast"] == 15
    assert summary["config"]["instruments"][3]["params"] == {"slow": 60}
    assert "report.html" not in os.listdir(out)
    # The same overrides through the API give the same trades.
    config = short_example(
        "strategy.params.fast=15", "instruments.3.params.slow=60", "engine=python"
    )
    expected = run_basket(config)
    written = pd.read_csv(out / "trades.csv")
    assert written["symbol"].tolist() == expected.trades["symbol"].tolist()
    assert written["pnl"].tolist() == expected.trades["pnl"].tolist()


def test_parquet_tables(tmp_path):
    out = tmp_path / "o"
    backtest(EXAMPLE, "--set", SHORT, "--no-progress", "--output-format", "parquet", "--out", out)
    trades = pd.read_parquet(out / "trades.parquet")
    curves = pd.read_parquet(out / "instrument_equity.parquet")
    assert trades.columns[0] == "symbol" and set(trades["symbol"]) == set(MAJORS)
    assert list(curves.columns) == ["time", *MAJORS]
    assert len(pd.read_parquet(out / "equity.parquet")) == len(curves)


def test_trace_rows_carry_their_symbol(tmp_path):
    out = tmp_path / "o"
    backtest(EXAMPLE, "--set", SHORT, "--no-progress", "--no-report", "--trace", "--out", out)
    trace = pd.read_csv(out / "trace.csv")
    summary = json.loads((out / "metrics.json").read_text())
    assert trace.columns[0] == "symbol"
    counts = trace["symbol"].value_counts()
    for symbol in MAJORS:
        assert counts[symbol] == summary["instruments"][symbol]["metrics"]["bars_processed"]
    assert trace["time"].is_monotonic_increasing


def test_a_single_run_after_a_basket_replaces_the_basket_files(tmp_path):
    out = tmp_path / "o"
    backtest(EXAMPLE, "--set", SHORT, "--no-progress", "--no-report", "--out", out)
    assert "stats.csv" in os.listdir(out)
    backtest("--set", SHORT, "--no-progress", "--no-report", "--out", out)
    assert sorted(os.listdir(out)) == ["equity.csv", "metrics.json", "trades.csv"]


def test_data_option_on_a_basket_is_a_one_line_error(tmp_path):
    data = tmp_path / "bars.csv"
    data.write_text("time,open,high,low,close\n")
    result = cli.invoke(app, ["backtest", str(EXAMPLE), "--data", str(data), "--format", "csv"])
    assert result.exit_code == 2
    assert "data.path: a basket's files are given per instrument" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_basket_of_files(tmp_path):
    """Each instrument's own CSV file: the CLI loads each and runs them on one account."""
    bars = load_basket_bars(short_example())
    entries = []
    for symbol in ("EURUSD", "USDJPY"):
        frame = bars[symbol].to_frame()
        path = tmp_path / f"{symbol}.csv"
        frame.to_csv(path, index_label="time")
        entries.append(f"  - {{symbol: {symbol}, path: {path.name}, format: csv}}")
    config = tmp_path / "files.yaml"
    config.write_text(
        "strategy: {name: sma_cross, params: {fast: 30, slow: 120}}\n"
        "timeframes: {primary: M15, extra: []}\n"
        "execution: {sizing: {mode: fixed, lots: 1.0}}\n"
        "instruments:\n" + "\n".join(entries) + "\n"
    )
    out = tmp_path / "o"
    backtest(config, "--no-progress", "--no-report", "--out", out)
    trades = pd.read_csv(out / "trades.csv")
    assert set(trades["symbol"]) == {"EURUSD", "USDJPY"}
    # The files hold the synthetic bars: the same run on them in memory.
    expected = run_basket(
        BacktestConfig.from_file(config), bars={s: bars[s] for s in ("EURUSD", "USDJPY")}
    )
    assert trades["pnl"].tolist() == expected.trades["pnl"].tolist()


def test_a_cross_whose_data_starts_inside_a_primary_bar(tmp_path):
    """Real files rarely start on a primary bar's open: EURJPY converting through USDJPY,
    both from the 7th minute, M15 primary (the first bar opens 7 minutes before the first
    rate). The basket runs, the same in every mode."""
    config = BacktestConfig.model_validate(
        {
            "data": {"synthetic": {"n_bars": 6_000, "seed": 3}},
            "strategy": {"name": "sma_cross", "params": {"fast": 5, "slow": 20}},
            "timeframes": {"primary": "M15", "extra": []},
            "execution": {"sizing": {"mode": "fixed", "lots": 1.0}},
            "instruments": [{"symbol": "EURJPY"}, {"symbol": "USDJPY"}],
        }
    )
    cut = {s: one.slice(7, len(one)) for s, one in load_basket_bars(config).items()}
    assert cut["USDJPY"].time[0] % (15 * 60 * 10**9) != 0
    runs = {
        mode: run_basket(config.model_copy(update={"engine": mode}), bars=cut, env=STRICT)
        for mode in MODES
    }
    assert len(runs["python"].instruments["EURJPY"].trades) > 0
    assert runs["hybrid"].trades_equal(runs["python"])
    assert runs["rust"].trades_equal(runs["python"])


# ------------------------------------------------------------------ the Python front door


def test_omega_exports_the_basket_names():
    assert omega.run_basket is run_basket
    assert omega.BasketResult is BasketResult
    assert {"run_basket", "BasketResult"} <= set(omega.__all__)
    assert "instruments:" in (omega.run_backtest.__doc__ or "")


def test_run_backtest_on_bars_by_symbol(api_runs):
    config = short_example("engine=rust")
    bars = load_basket_bars(config)
    result = run_backtest(config, bars=bars)
    assert isinstance(result, BasketResult)
    assert result.trades_equal(api_runs["python"])


def test_bars_of_the_wrong_shape_are_config_errors():
    basket = short_example()
    bars = load_basket_bars(basket)
    with pytest.raises(ConfigError, match="bars by symbol"):
        run_backtest(basket, bars=bars["EURUSD"])
    with pytest.raises(ConfigError, match="for a basket"):
        run_backtest(BacktestConfig.from_dict({}), bars=bars)
    partial = {s: b for s, b in bars.items() if s not in ("GBPUSD", "USDCAD")}
    with pytest.raises(ConfigError, match="bars has no series for GBPUSD, USDCAD"):
        run_backtest(basket, bars=partial)
    # load_bars would read the basket's unused instrument: section; it refuses.
    with pytest.raises(ConfigError, match="instruments: a basket runs with omega backtest"):
        load_bars(basket)


@pytest.mark.parametrize(
    "command",
    [
        ["walk-forward", "--train", "1W", "--test", "1W", "--grid", "fast=10,20", "--no-report"],
        ["optimize", "--param", "fast=10,20"],
    ],
)
def test_research_commands_run_the_basket_rather_than_its_unused_instrument(command, tmp_path):
    """(They refused a basket before the research tools ran baskets:
    tests/test_research_basket.py.)"""
    args = [*command, str(EXAMPLE), "--set", SHORT, "--no-progress"]
    args += ["--out", str(tmp_path / "o")]
    result = cli.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "on 7 instruments" in result.stdout


def test_check_bias_runs_the_basket_rather_than_its_unused_instrument():
    """(It refused a basket before check-bias ran baskets: tests/test_bias_basket.py.)"""
    result = cli.invoke(app, ["check-bias", str(EXAMPLE), "--set", SHORT, "--no-progress"])
    assert result.exit_code == 0, result.output
    assert "on 7 instruments" in result.stdout and "OK: no bias found" in result.stdout


def test_basket_result_save_and_plot(api_runs, tmp_path, monkeypatch):
    import webbrowser

    result = api_runs["rust"]
    written = result.save(tmp_path / "o", report=False)
    assert set(written) == BASKET_OUTPUT - {"report.html"}
    opened = []
    monkeypatch.setattr(webbrowser, "open", lambda url, *a, **k: opened.append(url))
    page = result.plot(tmp_path / "r.html")
    assert page.read_text().startswith("<!DOCTYPE html>")
    assert opened == [page.resolve().as_uri()]


def test_instrument_equity_frame(api_runs):
    result = api_runs["python"]
    frame = result.instrument_equity
    assert list(frame.columns) == MAJORS
    assert frame.index.equals(result.equity.index)
    for symbol in MAJORS:
        assert frame[symbol].iloc[-1] == result.instruments[symbol].equity.iloc[-1]


# ------------------------------------------------------------------ a terminal


def test_progress_in_a_terminal(tmp_path):
    pexpect = pytest.importorskip("pexpect", reason="pexpect runs the command in a pty")
    env = {k: v for k, v in os.environ.items() if not k.startswith("OMEGA_")}
    env.update(TERM="xterm-256color", COLUMNS="100")
    env.pop("NO_COLOR", None)
    args = ["-m", "omega.cli", "backtest", str(EXAMPLE), "--set", SHORT, "--engine", "python"]
    child = pexpect.spawn(
        sys.executable,
        [*args, "--out", str(tmp_path / "o")],
        cwd=str(tmp_path),
        env=env,
        encoding="utf-8",
        timeout=300,
        dimensions=(40, 100),
    )
    output = io.StringIO()
    child.logfile_read = output
    child.expect(pexpect.EOF)
    child.close()
    text = output.getvalue()
    assert child.exitstatus == 0, text
    # The stages a new progress display draws when it starts (a short backtest stage may end
    # before the next refresh, as in tests/test_cli_terminal.py).
    assert "generating a synthetic basket of 7 instruments" in text
    assert f"writing {tmp_path / 'o'}/" in text
    assert "Traceback" not in text
    assert "Wrote " in text


def test_set_names_a_list_item_by_its_number():
    config = BacktestConfig.from_file(EXAMPLE)
    changed = config.apply_overrides(["instruments.2.params.fast=5"])
    assert changed.instruments[2].params == {"fast": 5, "slow": 240}  # the rest kept
    assert changed.instruments[0].params == {}
    with pytest.raises(ConfigError, match=r"instruments\.9: instruments has 7 items \(0 to 6\)"):
        config.apply_overrides(["instruments.9.params.fast=5"])
    with pytest.raises(ConfigError, match=r"instruments: is a list; name an item by its number"):
        config.apply_overrides(["instruments.EURUSD.params.fast=5"])
