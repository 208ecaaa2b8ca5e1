"""HistData.com generic ASCII M1: ``20170102 020000;1.051550;1.051970;1.051550;1.051900;0``.

No header, bid only, times in fixed EST (UTC-5, no daylight saving) unless ``tz`` is given.
The ask side comes from a fixed ``spread_pips`` (default 0: zero spread, which the quality
report counts).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from omega.data.bars import Instrument
from omega.data.loaders._delimited import first_fault, read_table
from omega.data.loaders._raw import FIELDS, FilePart, RawBars, add_spread, gather
from omega.data.loaders._source import SourceMap, map_files, resolve_files
from omega.data.loaders._times import parse_column
from omega.data.timezones import local_to_utc_ns
from omega.errors import ConfigError

DELIMITER = ";"
DEFAULT_TZ = "UTC-5"
NAMES = ["datetime", "open", "high", "low", "close", "volume"]
LABELS = {name: f"field {i + 1} ({name})" for i, name in enumerate(NAMES)}


def load_histdata(
    path: str,
    *,
    instrument: Instrument,
    tz: str | None = None,
    spread_pips: float = 0.0,
    pattern: str = "*.csv",
) -> RawBars:
    """Parse HistData M1 file(s); ask = bid + spread_pips * instrument.pip_size."""
    if not np.isfinite(spread_pips) or spread_pips < 0:
        raise ConfigError(f"spread_pips must be a finite number >= 0, got {spread_pips!r}")
    paths = resolve_files(path, pattern)
    local, columns, sources, blank = gather(map_files(_read_one, paths))
    time = local_to_utc_ns(local, DEFAULT_TZ if tz is None else tz)
    bid = {f: columns[f] for f in FIELDS}
    prices = add_spread(bid, spread_pips * instrument.pip_size, instrument.point)
    labels = {f"bid_{f}": LABELS[f] for f in FIELDS}
    labels.update({f"ask_{f}": f"{LABELS[f]}+spread_pips" for f in FIELDS})
    labels.update({"time": LABELS["datetime"], "volume": LABELS["volume"]})
    return RawBars(
        time=time,
        prices=prices,
        volume=columns["volume"],
        source_map=SourceMap(sources, path),
        labels=labels,
        ask_source="fixed spread",
        blank_lines=blank,
    )


def _read_one(path: str) -> FilePart:
    types = {name: pa.float64() for name in NAMES[1:]}
    types["datetime"] = pa.string()
    ft = read_table(
        path,
        delimiter=DELIMITER,
        column_names=NAMES,
        column_types=types,
        header_lines=0,
        labels=LABELS,
    )
    table, source = ft.table, ft.source
    (local,) = first_fault(
        ft,
        lambda: parse_column(
            table.column("datetime"), ["%Y%m%d %H%M%S"], source, LABELS["datetime"]
        ),
    )
    columns = {
        name: np.ascontiguousarray(table.column(name).to_numpy(), dtype=np.float64)
        for name in NAMES[1:]
    }
    return FilePart(local, columns, source, ft.blank_lines)
