"""`omega backtest` as a user runs it: a fresh process, the default config, every output written,
timed side by side with `python -c "import pandas"` on the same machine in the same run.

`python -m omega.bench.process RUNS` prints JSON. The two commands alternate (CLI, pandas,
CLI, pandas, ...) so that both see the same machine load; each figure is the median of RUNS
wall times, measured from the parent around `subprocess.run` (interpreter start-up included,
as the user waits for it).
"""

from __future__ import annotations

import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any


def cli_command() -> list[str]:
    """The `omega` console script next to this interpreter (what `pip install` puts on the
    PATH), else the same entry point through `python -m omega.cli`."""
    script = Path(sys.executable).parent / "omega"
    if script.exists():
        return [str(script)]
    found = shutil.which("omega")
    return [found] if found else [sys.executable, "-m", "omega.cli"]


def _wall(command: list[str], cwd: Path) -> float:
    started = time.perf_counter()
    proc = subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        tail = proc.stderr.strip().splitlines() or proc.stdout.strip().splitlines() or ["?"]
        raise RuntimeError(f"{' '.join(command)} exited {proc.returncode}: {tail[-1]}")
    return seconds


def run(runs: int) -> dict[str, Any]:
    pandas = [sys.executable, "-c", "import pandas"]
    with tempfile.TemporaryDirectory(prefix="omega-bench-cli-") as tmp:
        cwd = Path(tmp)
        out = cwd / "omega-out"
        cli = [*cli_command(), "backtest", "--out", str(out), "--no-progress"]
        _wall(pandas, cwd)  # first start-ups fill the page cache for both
        _wall(cli, cwd)
        cli_times, pandas_times = [], []
        files: list[str] = []
        for _ in range(runs):
            shutil.rmtree(out, ignore_errors=True)
            cli_times.append(_wall(cli, cwd))
            files = sorted(p.name for p in out.iterdir() if p.stat().st_size > 0)
            pandas_times.append(_wall(pandas, cwd))
    if "metrics.json" not in files:
        raise RuntimeError(f"omega backtest wrote {files}, no metrics.json")
    return {
        "cli_command": "omega backtest --out DIR --no-progress (default config)",
        "runs": runs,
        "cli_seconds": cli_times,
        "pandas_seconds": pandas_times,
        "cli_median": statistics.median(cli_times),
        "pandas_median": statistics.median(pandas_times),
        "files": files,
    }


if __name__ == "__main__":
    print(json.dumps(run(int(sys.argv[1]))))
