"""Result tables: the core's CSV writer against the Python reference, sizes, Parquet."""

from __future__ import annotations

import io

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from omega.results.tables import (
    csv_bytes,
    equity_table_columns,
    lot_decimals,
    parquet_bytes,
    python_csv_bytes,
    trade_table_columns,
)

core = pytest.importorskip("omega._core", reason="the Rust core is not built")

# Nanoseconds from year 1678 to 2261: the span datetime64[ns] (the reference) can write.
TIMES = st.integers(min_value=-(2**63) + 1, max_value=2**63 - 1)
ANY_DOUBLE = st.integers(min_value=0, max_value=2**64 - 1).map(
    lambda bits: float(np.array([bits], dtype=np.uint64).view(np.float64)[0])
)
TEXT = st.text(alphabet=st.sampled_from(list("ab ,\"\n\r'é")), max_size=6)


@settings(max_examples=200, deadline=None)
@given(
    times=st.lists(TIMES, min_size=0, max_size=30),
    data=st.data(),
)
def test_core_csv_equals_the_python_reference(times, data):
    n = len(times)
    floats = data.draw(st.lists(st.one_of(ANY_DOUBLE, st.floats()), min_size=n, max_size=n))
    ints = data.draw(st.lists(st.integers(-(2**63), 2**63 - 1), min_size=n, max_size=n))
    texts = data.draw(st.lists(TEXT, min_size=n, max_size=n))
    columns = [
        ("time", "time", np.array(times, dtype=np.int64)),
        ("value", "float", np.array(floats, dtype=np.float64)),
        ("count", "int", np.array(ints, dtype=np.int64)),
        ("tag, quoted", "text", texts),
    ]
    assert csv_bytes(columns) == python_csv_bytes(columns)


def test_floats_are_written_as_python_repr_and_read_back_exactly():
    values = np.array([0.1 + 0.2, 1e16, 1e-5, -0.0, 5e-324, 1.7976931348623157e308])
    text = csv_bytes(equity_table_columns(np.zeros(len(values), dtype=np.int64), values))
    lines = text.decode().splitlines()[1:]
    assert [line.split(",")[1] for line in lines] == [repr(v) for v in values.tolist()]
    back = np.array([float(line.split(",")[1]) for line in lines])
    assert np.array_equal(back, values)


def test_times_are_iso_utc_whole_seconds_or_with_nanoseconds():
    # 2024-02-29 12:34:56 UTC is 1709210096 s after the epoch.
    times = np.array([1_709_210_096 * 10**9, 1_709_210_096 * 10**9 + 5], dtype=np.int64)
    text = csv_bytes(equity_table_columns(times, np.array([1.0, 2.0]))).decode()
    assert text.splitlines()[1:] == [
        "2024-02-29T12:34:56Z,1.0",
        "2024-02-29T12:34:56.000000005Z,2.0",
    ]


def test_regression_trade_sizes_are_rounded_to_the_lot_step():
    # A risk-sized 635 lots of 0.01 is stored as 635 * 0.01 = 6.3500000000000005.
    assert 635 * 0.01 == 6.3500000000000005
    trades = {name: np.zeros(1, dtype=dtype) for name, dtype in _trade_dtypes().items()}
    trades["size"] = np.array([635 * 0.01])
    trades["side"] = np.array([1], dtype=np.int8)
    trades["exit_reason"] = np.array(["strategy"], dtype=object)
    trades["tag"] = np.array([None], dtype=object)
    text = csv_bytes(trade_table_columns(trades, lot_step=0.01)).decode()
    header, row = text.splitlines()
    fields = dict(zip(header.split(","), row.split(","), strict=True))
    assert fields["size"] == "6.35"
    assert fields["side"] == "long"
    assert fields["tag"] == ""
    assert fields["entry_time"] == "1970-01-01T00:00:00Z"


@pytest.mark.parametrize(("step", "decimals"), [(0.01, 2), (1.0, 0), (0.05, 2), (0.1, 1), (10, 0)])
def test_lot_decimals(step, decimals):
    assert lot_decimals(step) == decimals


def test_parquet_keeps_utc_times_and_exact_values():
    import pyarrow.parquet as pq

    times = np.array([0, 300 * 10**9], dtype=np.int64)
    values = np.array([100_000.0, 0.1 + 0.2])
    table = pq.read_table(io.BytesIO(parquet_bytes(equity_table_columns(times, values))))
    assert str(table.schema.field("time").type) == "timestamp[ns, tz=UTC]"
    assert table.column("time").cast("int64").to_pylist() == times.tolist()
    assert np.array_equal(table.column("equity").to_numpy(), values)


def test_columns_of_different_lengths_are_a_named_error():
    from omega.errors import EngineError

    columns = [("a", "int", np.arange(2)), ("b", "float", np.ones(1))]
    with pytest.raises(EngineError, match="column b has 1 rows, expected 2"):
        csv_bytes(columns)


def _trade_dtypes() -> dict[str, str]:
    from omega.engine.raw import TRADE_COLUMNS

    return TRADE_COLUMNS
