"""The peers (optional installs) trade like Omega where they can express the same rules, at tiny
sizes; each is skipped with a reason where it is not installed. No timing is asserted."""

from __future__ import annotations

import numpy as np
import pytest

from omega.bench.inputs import ensure_input
from omega.bench.worker import run as run_worker
from omega.peers.compare import compare_trades
from omega.peers.data import default_params, load_columns


def _core_available() -> bool:
    try:
        import omega._core  # noqa: F401
    except ImportError:
        return False
    return True


pytestmark = pytest.mark.skipif(not _core_available(), reason="omega._core is not built")

N_BARS = 3_000


@pytest.fixture(scope="module")
def peer_input(tmp_path_factory):
    return ensure_input(tmp_path_factory.mktemp("peer-input"), N_BARS, peer=True)


def _omega_trades(folder, workload, tmp_path) -> np.ndarray:
    out = tmp_path / f"omega-{workload}.npy"
    run_worker({"workload": workload, "mode": "rust", "input": str(folder),
                "trades_out": str(out)})  # fmt: skip
    return np.load(out)


def _assert_same_trades(folder, workload, peer_trades, tmp_path) -> None:
    cols = load_columns(folder)
    result = compare_trades(_omega_trades(folder, workload, tmp_path), peer_trades,
                            int(cols.time[-1]))  # fmt: skip
    assert result.identical, result.summary()
    assert result.omega_trades > 10  # the input is long enough to trade


# backtesting.py itself still uses pandas APIs that pandas 3 deprecates.
@pytest.mark.filterwarnings("ignore:DatetimeIndex.dayofweek is deprecated")
@pytest.mark.parametrize("workload", ["sma_cross", "zscore_threshold"])
def test_backtesting_py_trades_like_omega(peer_input, tmp_path, workload, monkeypatch):
    pytest.importorskip("backtesting", reason="backtesting.py is not installed")
    monkeypatch.setenv("TQDM_DISABLE", "1")
    from omega.peers.backtesting_peer import run

    trades = run(load_columns(peer_input), workload, default_params(workload))
    _assert_same_trades(peer_input, workload, trades, tmp_path)


# vectorbt's numba kernels take reflected lists, which numba warns about when it compiles them
# (a fresh environment; a warm numba cache compiles nothing and stays silent).
@pytest.mark.filterwarnings("ignore:\\s*Encountered the use of a type that is scheduled")
@pytest.mark.parametrize("engine", ["rust", "numba"])
def test_vectorbt_sma_cross_trades_like_omega(peer_input, tmp_path, engine):
    pytest.importorskip("vectorbt", reason="vectorbt is not installed")
    if engine == "rust":
        pytest.importorskip("vectorbt_rust", reason="vectorbt-rust is not installed")
    from omega.peers import vectorbt_peer

    vectorbt_peer.setup(engine)
    trades = vectorbt_peer.run(load_columns(peer_input), "sma_cross", default_params("sma_cross"))
    _assert_same_trades(peer_input, "sma_cross", trades, tmp_path)


# raptorbt's indicator module imports numpy.core, which numpy 2 deprecates.
@pytest.mark.filterwarnings("ignore:numpy.core.multiarray is deprecated")
def test_raptorbt_long_and_short_runs_trade_like_omega(peer_input, tmp_path, monkeypatch):
    monkeypatch.setenv("RAPTORBT_NO_VERSION_CHECK", "1")
    pytest.importorskip("raptorbt", reason="raptorbt is not installed")
    from omega.peers import raptorbt_peer

    trades = raptorbt_peer.run(load_columns(peer_input), "sma_cross", default_params("sma_cross"))
    _assert_same_trades(peer_input, "sma_cross", trades, tmp_path)
    assert set(np.unique(trades[:, 2])) == {-1, 1}  # both runs contributed


@pytest.mark.filterwarnings("ignore:numpy.core.multiarray is deprecated")
def test_raptorbt_zscore_runs_but_is_reported_approximate(peer_input, monkeypatch):
    monkeypatch.setenv("RAPTORBT_NO_VERSION_CHECK", "1")
    pytest.importorskip("raptorbt", reason="raptorbt is not installed")
    from omega.peers import raptorbt_peer
    from omega.peers.__main__ import load_peer

    params = default_params("zscore_threshold")
    trades = raptorbt_peer.run(load_columns(peer_input), "zscore_threshold", params)
    assert trades.shape[1] == 3 and len(trades) > 0
    assert "zscore_threshold" not in load_peer("raptorbt").exact


def test_vectorbt_broadcast_sweep_counts_the_trades_of_omegas_sweep(peer_input):
    pytest.importorskip("vectorbt_rust", reason="vectorbt-rust is not installed")
    from omega.bench.sweeps import run

    windows = [5, 10, 20, 40]
    omega = run({"engine": "omega", "input": str(peer_input), "windows": windows})
    vbt = run({"engine": "vectorbt", "input": str(peer_input), "windows": windows})
    assert omega["sets"] == vbt["sets"] == 6
    assert omega["trades"] == vbt["trades"]
    assert 0 < vbt["simulation_seconds"] <= vbt["seconds"]
