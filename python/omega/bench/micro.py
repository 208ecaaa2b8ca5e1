"""Import time and data loading against the libraries doing the same work alone.

`python -m omega.bench.micro CACHE_DIR` prints JSON; the parent runs it in a fresh process.
Each figure is the best of ``REPEAT`` runs.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

REPEAT = 3
IMPORT_REPEAT = 7
GENERATED_MT5_ROWS = 1_000_000
MT5_HEADER = "<DATE>\t<TIME>\t<OPEN>\t<HIGH>\t<LOW>\t<CLOSE>\t<TICKVOL>\t<VOL>\t<SPREAD>"
POINT = 1e-5


def best_of(fn: Callable[[], Any], repeat: int = REPEAT) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - started)
    return best


def import_seconds(module: str, repeat: int = IMPORT_REPEAT) -> float:
    """Best time of ``import module`` in a fresh interpreter (the import alone)."""
    code = f"import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
    runs = [
        float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             check=True).stdout)
        for _ in range(repeat)
    ]  # fmt: skip
    return min(runs)


def pandas_mt5(paths: list[Path], tz: str) -> pd.DataFrame:
    """What Omega's MT5 loader parses, done with pandas.read_csv: server time to UTC, bid
    prices, ask = bid + spread points rounded to the price grid, tick volume."""
    frames = []
    for path in paths:
        raw = pd.read_csv(path, sep="\t")
        local = pd.to_datetime(raw["<DATE>"] + " " + raw["<TIME>"], format="%Y.%m.%d %H:%M:%S")
        utc = local.dt.tz_localize(tz, ambiguous="NaT", nonexistent="NaT").dt.tz_convert("UTC")
        frame = pd.DataFrame({"time": utc.dt.as_unit("ns").astype("int64")})
        spread = raw["<SPREAD>"].to_numpy(dtype=np.float64) * POINT
        for field in ("OPEN", "HIGH", "LOW", "CLOSE"):
            bid = raw[f"<{field}>"].to_numpy(dtype=np.float64)
            frame[f"bid_{field.lower()}"] = bid
            frame[f"ask_{field.lower()}"] = np.round(bid + spread, 5)
        frame["volume"] = raw["<TICKVOL>"].to_numpy(dtype=np.float64)
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def generated_mt5_file(cache: Path, rows: int = GENERATED_MT5_ROWS) -> Path:
    """A synthetic MT5 export (EET server time) of ``rows`` bars, written once."""
    path = cache / f"mt5-generated-{rows}" / "EURUSD_M1.csv"
    if path.exists():
        return path
    from omega.data import generate_synthetic

    bars = generate_synthetic(n_bars=rows, seed=7)
    server = pd.to_datetime(bars.time, utc=True).tz_convert("EET")
    spread = np.round((bars.ask_close - bars.bid_close) / POINT).astype(np.int64)
    frame = pd.DataFrame(
        {
            "<DATE>": server.strftime("%Y.%m.%d"),
            "<TIME>": server.strftime("%H:%M:%S"),
            "<OPEN>": bars.bid_open,
            "<HIGH>": bars.bid_high,
            "<LOW>": bars.bid_low,
            "<CLOSE>": bars.bid_close,
            "<TICKVOL>": bars.volume.astype(np.int64),
            "<VOL>": 0,
            "<SPREAD>": spread,
        }
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".tmp")
    frame.to_csv(partial, sep="\t", index=False, float_format="%.5f")
    partial.rename(path)
    return path


def mt5_case(paths: list[Path], label: str) -> dict[str, Any]:
    from omega.data import load

    target = str(paths[0].parent) if len(paths) > 1 else str(paths[0])
    rows = len(load(target, "mt5", tz="EET"))
    return {
        "label": label,
        "rows": rows,
        "omega_s": best_of(lambda: load(target, "mt5", tz="EET")),
        "pandas_s": best_of(lambda: pandas_mt5(paths, "EET")),
    }


def parquet_case(cache: Path, n_bars: int) -> dict[str, Any]:
    import pyarrow.parquet as pq

    from omega.bench.inputs import ensure_input, load_bars
    from omega.data import load, write_parquet

    path = cache / f"parquet-{n_bars}.parquet"
    if not path.exists():
        write_parquet(load_bars(ensure_input(cache, n_bars, peer=False)), path)
    return {
        "rows": n_bars,
        "omega_s": best_of(lambda: load(path, "parquet")),
        "pyarrow_s": best_of(lambda: pq.read_table(path)),
    }


def real_mt5_dir() -> Path | None:
    import os

    root = os.environ.get("OMEGA_REAL_DATA")
    base = Path(root) if root else Path(__file__).resolve().parents[3].parent / "shared" / "data"
    folder = base / "mt5_eurusd_2024"
    return folder if folder.is_dir() else None


def run(cache: Path, mt5_rows: int, parquet_bars: int) -> dict[str, Any]:
    result: dict[str, Any] = {
        "import_omega_s": import_seconds("omega"),
        "import_runner_s": import_seconds("omega.runner"),
        "mt5": [],
    }
    real = real_mt5_dir()
    if real is not None:
        result["mt5"].append(mt5_case(sorted(real.glob("*.csv")), f"real MT5 ({real.name})"))
    generated = generated_mt5_file(cache, mt5_rows)
    result["mt5"].append(mt5_case([generated], "generated MT5 file"))
    result["parquet"] = parquet_case(cache, parquet_bars)
    return result


if __name__ == "__main__":
    cache_dir, rows, n_bars = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    print(json.dumps(run(cache_dir, rows, n_bars)))
