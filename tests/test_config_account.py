"""The FX-account config keys (swap, margin, conversion, sessions, blackouts, end of data)
as engine settings, their errors, and a config file with all of them run from the CLI path."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from omega.config import BacktestConfig
from omega.engine.settings import MarginSettings, SessionSettings, SwapSettings
from omega.errors import ConfigError, DataError


def test_account_keys_map_to_engine_settings(tmp_path: Path) -> None:
    blackouts = tmp_path / "news.csv"
    blackouts.write_text("start,end\n2024-01-02T13:25:00,2024-01-02T13:45:00\n")
    config = BacktestConfig.from_dict(
        {
            "instrument": {
                "symbol": "EURUSD",
                "swap": {"long": -6.5, "short": 1.2, "triple_day": "friday"},
            },
            "account": {"leverage": 30, "stop_out_level": 40},
            "execution": {
                "end_of_data": "mark",
                "session": {"timezone": "Europe/London", "start": "08:00", "end": "17:00"},
                "blackouts": str(blackouts),
            },
        }
    )
    settings = config.to_engine_settings()
    assert settings.swap == SwapSettings(long=-6.5, short=1.2, triple_weekday=4)
    assert settings.margin == MarginSettings(
        margin_rate=1.0 / 30, margin_call_level=100.0, stop_out_level=40.0
    )
    assert settings.session == SessionSettings(
        timezone="Europe/London", start="08:00", end="17:00", weekdays=(0, 1, 2, 3, 4)
    )
    start = np.datetime64("2024-01-02T13:25:00", "ns").astype(np.int64)
    assert settings.blackouts == ((int(start), int(start) + 20 * 60 * 10**9),)
    assert settings.end_of_data == "mark"
    # the instrument's margin rate wins over the account's leverage
    config = BacktestConfig.from_dict({"instrument": {"margin_rate": 0.05}, "account": {}})
    assert config.to_engine_settings().margin.margin_rate == 0.05  # type: ignore[union-attr]
    assert BacktestConfig.from_dict({}).to_engine_settings().margin is None


def test_a_cross_converts_through_the_named_pair() -> None:
    config = BacktestConfig.from_dict(
        {
            "instrument": {"symbol": "EURGBP"},
            "account": {"currency": "USD", "conversion": {"symbol": "GBPUSD", "rate": 1.27}},
        }
    )
    cross = config.to_engine_settings().cross
    assert cross is not None and (cross.multiply, cross.fixed_rate) == (True, 1.27)
    config = BacktestConfig.from_dict(
        {
            "instrument": {"symbol": "EURJPY"},
            "account": {"currency": "USD", "conversion": {"symbol": "USDJPY", "rate": 150.0}},
        }
    )
    assert config.to_engine_settings().cross.multiply is False  # type: ignore[union-attr]
    with pytest.raises(ConfigError, match="does not convert GBP to USD"):
        BacktestConfig.from_dict(
            {
                "instrument": {"symbol": "EURGBP"},
                "account": {"conversion": {"symbol": "EURUSD", "rate": 1.1}},
            }
        ).to_engine_settings()


def test_a_conversion_series_is_read_with_the_data_loaders(tmp_path: Path) -> None:
    from omega.data import generate_synthetic
    from omega.data.loaders.parquet import write_parquet

    gbpusd = generate_synthetic(n_bars=500, seed=3, symbol="GBPUSD")
    path = tmp_path / "gbpusd.parquet"
    write_parquet(gbpusd, path)
    config = BacktestConfig.from_dict(
        {
            "data": {"synthetic": {"n_bars": 500, "seed": 1}},
            "instrument": {"symbol": "EURGBP"},
            "account": {"conversion": {"symbol": "GBPUSD", "path": str(path), "format": "parquet"}},
        }
    )
    cross = config.to_engine_settings().cross
    assert cross is not None
    assert np.array_equal(cross.times, gbpusd.time)
    assert np.array_equal(cross.closes, gbpusd.bid_close)


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ({"account": {"conversion": {"symbol": "GBPUSD"}}}, "give either rate or path"),
        ({"account": {"conversion": {"symbol": "GBPUSD", "path": "x.csv"}}}, "needs a format"),
        ({"execution": {"end_of_data": "never"}}, "execution.end_of_data"),
        ({"execution": {"session": {"start": "25:00"}}}, "execution.session.start"),
        ({"instrument": {"swap": {"triple_day": "someday"}}}, "instrument.swap.triple_day"),
        ({"account": {"leverage": 0}}, "account.leverage"),
    ],
)
def test_account_config_errors_name_the_key(section: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        BacktestConfig.from_dict(section)


def test_blackout_file_errors_name_the_file_row_and_field(tmp_path: Path) -> None:
    bad = tmp_path / "news.csv"
    bad.write_text("start,end\n2024-01-02T13:25:00,2024-01-02T13:45:00\n2024-01-03,soon\n")
    config = BacktestConfig.from_dict({"execution": {"blackouts": str(bad)}})
    with pytest.raises(DataError) as caught:
        config.to_engine_settings()
    assert (caught.value.file, caught.value.row, caught.value.column) == (str(bad), 2, "end")
    backwards = tmp_path / "backwards.csv"
    backwards.write_text("start,end\n2024-01-02T14:00:00+01:00,2024-01-02T12:30:00Z\n")
    config = BacktestConfig.from_dict({"execution": {"blackouts": str(backwards)}})
    with pytest.raises(DataError, match="must end after it starts"):
        config.to_engine_settings()
    columns = tmp_path / "columns.csv"
    columns.write_text("from,to\n1,2\n")
    config = BacktestConfig.from_dict({"execution": {"blackouts": str(columns)}})
    with pytest.raises(DataError, match="columns start and end"):
        config.to_engine_settings()
    missing = BacktestConfig.from_dict({"execution": {"blackouts": str(tmp_path / "no.csv")}})
    with pytest.raises(ConfigError, match="no such file"):
        missing.to_engine_settings()


def test_relative_account_paths_in_a_config_file_are_relative_to_it(tmp_path: Path) -> None:
    (tmp_path / "news.csv").write_text("start,end\n2024-01-02T13:25:00,2024-01-02T13:45:00\n")
    config_file = tmp_path / "fx.yaml"
    config_file.write_text(
        "execution:\n  blackouts: news.csv\n"
        "account:\n  conversion: {symbol: GBPUSD, path: gbp.csv, format: csv}\n"
    )
    config = BacktestConfig.from_file(config_file)
    assert config.execution.blackouts == str(tmp_path / "news.csv")
    assert config.account.conversion.path == str(tmp_path / "gbp.csv")  # type: ignore[union-attr]


def test_the_fx_account_example_runs_in_every_mode() -> None:
    import omega

    root = Path(__file__).resolve().parents[1]
    config = BacktestConfig.from_file(root / "examples" / "fx_account.yaml")
    config = config.apply_overrides(["data.synthetic.n_bars=60000"])
    results = {
        mode: omega.run_backtest(config.apply_overrides([f"engine={mode}"]))
        for mode in ("python", "hybrid", "rust")
    }
    python = results["python"].trades
    assert len(python) > 0
    for mode in ("hybrid", "rust"):
        assert results[mode].trades.equals(python), mode
    assert "swap" in python.columns
