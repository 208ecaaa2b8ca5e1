"""Side-by-side speed and memory of the engine modes and of peer libraries.

`python -m omega.bench` (or `nox -s bench`) prints one table per workload: mode, time, bars/s,
speed-up against `python` mode, and the peak RSS of a fresh process per run, then the peer
comparison (`--peers`), import and loader timings, cost linearity and the issue's targets.

Every timed run happens in a fresh interpreter (`omega.bench.worker`) that loads its input
from .npy files written once (`omega.bench.inputs`), so data generation's transient memory
never inflates the run's peak RSS. Figures are ratios measured side by side in one run;
absolute times depend on the machine. Nothing here is asserted as a wall-clock limit.
"""

from __future__ import annotations

from omega.bench.workloads import MODES, WORKLOADS, Workload

__all__ = ["MODES", "WORKLOADS", "Workload"]
