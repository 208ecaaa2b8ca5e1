"""Soft anomalies: data that loads and validates but that a user should know about.

The report travels with the data (``series.quality``); ``raise_if_any`` (or
``load(..., strict_quality=True)``) promotes anomalies to DataQualityError. The kinds are
listed in docs/data/validation.md.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from omega.data import _fast
from omega.data.bars import PRICE_COLUMNS
from omega.data.loaders._raw import FIELDS
from omega.data.loaders._source import SourceMap
from omega.data.timezones import format_ns
from omega.errors import DataQualityError
from omega.timeframes import Timeframe

NS_PER_DAY = 86_400 * 1_000_000_000
SATURDAY = 5  # weekday with Monday = 0
MAX_EXAMPLES = 5

# Missing-bar buckets for gaps that are not weekends: (key, lowest, highest) bars missing.
GAP_BUCKETS = (("gaps_1_5", 1, 5), ("gaps_6_60", 6, 60), ("gaps_over_60", 61, None))

# Counts that raise_if_any treats as anomalies, with the column an error should name.
ANOMALY_COLUMNS = {
    "gaps_1_5": "time",
    "gaps_6_60": "time",
    "gaps_over_60": "time",
    "irregular_intervals": "time",
    "off_grid_bars": "time",
    "zero_spread_bars": "ask_close",
    "crossed_bars": "ask_close",
    "negative_volume_bars": "volume",
    "blank_lines_skipped": None,
}


@dataclass
class DataQualityReport:
    """Counts of soft anomalies plus a few located examples of each (file, row, UTC time)."""

    source: str
    timeframe: str
    n_bars: int
    first_time: str | None = None
    last_time: str | None = None
    ask_source: str = "file"
    weekend_gaps: int = 0
    gaps_1_5: int = 0
    gaps_6_60: int = 0
    gaps_over_60: int = 0
    missing_bars: int = 0  # bars absent inside non-weekend gaps
    irregular_intervals: int = 0  # steps that are not a whole number of timeframes
    off_grid_bars: int = 0  # open time not a multiple of the timeframe
    zero_spread_bars: int = 0  # ask == bid on all four fields
    crossed_bars: int = 0  # ask < bid on at least one field
    crossed_by_field: dict[str, int] = field(default_factory=dict)
    zero_volume_bars: int = 0
    negative_volume_bars: int = 0
    blank_lines_skipped: int = 0
    spread_close_pips: dict[str, float] = field(default_factory=dict)  # min/median/max
    examples: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def anomalies(self) -> dict[str, int]:
        """Non-zero anomaly counts (weekend gaps and zero volume are information, not faults)."""
        counts = {key: getattr(self, key) for key in ANOMALY_COLUMNS}
        return {key: value for key, value in counts.items() if value}

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def summary(self) -> str:
        """A short human-readable text (the CLI prints it after loading)."""
        lines = [
            f"{self.source}: {self.n_bars:,} {self.timeframe} bars, "
            f"{self.first_time} .. {self.last_time}, ask from {self.ask_source}",
            f"  weekend gaps: {self.weekend_gaps:,}; other gaps by missing bars: "
            f"1-5: {self.gaps_1_5:,}, 6-60: {self.gaps_6_60:,}, >60: {self.gaps_over_60:,} "
            f"({self.missing_bars:,} bars missing)",
        ]
        pct = 100.0 / self.n_bars if self.n_bars else 0.0
        lines.append(
            f"  zero-spread bars: {self.zero_spread_bars:,} ({self.zero_spread_bars * pct:.1f}%); "
            f"ask < bid: {self.crossed_bars:,}; zero volume: {self.zero_volume_bars:,} "
            f"({self.zero_volume_bars * pct:.1f}%)"
        )
        if self.spread_close_pips:
            s = self.spread_close_pips
            lines.append(
                f"  close spread (pips): min {s['min']:.2f}, median {s['median']:.2f}, "
                f"max {s['max']:.2f}"
            )
        other = {
            k: v
            for k, v in self.anomalies().items()
            if k not in ("gaps_1_5", "gaps_6_60", "gaps_over_60", "zero_spread_bars")
            and k != "crossed_bars"
        }
        if other:
            lines.append("  other: " + ", ".join(f"{k}: {v:,}" for k, v in other.items()))
        for key, examples in self.examples.items():
            if examples:
                first = examples[0]
                lines.append(
                    f"  e.g. {key}: {first['time']} (file {first['file']}, row {first['row']})"
                )
        return "\n".join(lines)

    def raise_if_any(self, ignore: tuple[str, ...] | list[str] = ()) -> None:
        """DataQualityError for the first anomaly kind present (in ANOMALY_COLUMNS order)."""
        found = {k: v for k, v in self.anomalies().items() if k not in ignore}
        if not found:
            return
        key = next(iter(found))
        example = (self.examples.get(key) or [{}])[0]
        counts = ", ".join(f"{k}: {v}" for k, v in found.items())
        raise DataQualityError(
            f"data quality anomalies ({counts}); first {key} at {example.get('time', '?')}",
            file=example.get("file", self.source),
            row=example.get("row"),
            column=ANOMALY_COLUMNS[key],
        )


def measure_quality(
    time: np.ndarray,
    prices: dict[str, np.ndarray],
    volume: np.ndarray,
    timeframe: Timeframe,
    pip_size: float,
    where: SourceMap,
    *,
    ask_source: str = "file",
    blank_lines: int = 0,
) -> DataQualityReport:
    """Count every soft anomaly of validated bars (vectorised; a few examples located)."""
    n = len(time)
    report = DataQualityReport(
        source=where.label,
        timeframe=timeframe.name,
        n_bars=n,
        ask_source=ask_source,
        blank_lines_skipped=blank_lines,
    )
    if n == 0:
        return report
    report.first_time, report.last_time = format_ns(time[0]), format_ns(time[-1])

    def examples(key: str, mask_or_index: np.ndarray) -> None:
        index = mask_or_index if mask_or_index.dtype != bool else np.flatnonzero(mask_or_index)
        found = []
        for i in index[:MAX_EXAMPLES]:
            file, row = where.locate(int(i))
            found.append({"index": int(i), "time": format_ns(time[i]), "file": file, "row": row})
        if found:
            report.examples[key] = found

    tf = timeframe.nanos
    floats = [prices[c] for c in PRICE_COLUMNS] + [volume]
    core = _fast.core()
    if core is not None and _fast.scannable(time, floats):
        counts = core.data_quality_counts(time, floats[:-1], volume, tf, pip_size)
        _fill_from_core(report, counts, examples)
        if counts["spread_close_pips"] is None:  # a non-finite spread: numpy's rules
            report.spread_close_pips = _spread_percentiles(prices, pip_size)
        return report
    off_grid = time % tf != 0
    report.off_grid_bars = int(off_grid.sum())
    examples("off_grid_bars", off_grid)
    _measure_gaps(report, time, tf, examples)

    crossed_any = np.zeros(n, dtype=bool)
    zero_all = np.ones(n, dtype=bool)
    for f in FIELDS:
        bid, ask = prices[f"bid_{f}"], prices[f"ask_{f}"]
        crossed = ask < bid
        report.crossed_by_field[f] = int(crossed.sum())
        crossed_any |= crossed
        zero_all &= ask == bid
    report.crossed_bars = int(crossed_any.sum())
    report.zero_spread_bars = int(zero_all.sum())
    examples("crossed_bars", crossed_any)
    examples("zero_spread_bars", zero_all)
    report.zero_volume_bars = int((volume == 0).sum())
    negative = volume < 0
    report.negative_volume_bars = int(negative.sum())
    examples("negative_volume_bars", negative)
    report.spread_close_pips = _spread_percentiles(prices, pip_size)
    return report


def _spread_percentiles(prices: dict[str, np.ndarray], pip_size: float) -> dict[str, float]:
    # Valid extreme prices (1e308, docs/data/validation.md) can make a spread in pips overflow:
    # it is then +-inf in the report (information only), never a numpy warning.
    with np.errstate(over="ignore", invalid="ignore"):
        spread = (prices["ask_close"] - prices["bid_close"]) / pip_size
        if np.isfinite(spread).all():
            low, mid, high = np.percentile(spread, [0, 50, 100])
        else:  # percentile's interpolation would turn +-inf into nan
            low, mid, high = spread.min(), np.median(spread), spread.max()
    return {"min": float(low), "median": float(mid), "max": float(high)}


# Located kinds in the order the numpy path records their examples.
_LOCATED = (
    "off_grid_bars",
    "irregular_intervals",
    "gaps_1_5",
    "gaps_6_60",
    "gaps_over_60",
    "crossed_bars",
    "zero_spread_bars",
    "negative_volume_bars",
)


def _fill_from_core(report: DataQualityReport, counts: dict[str, Any], examples) -> None:
    """Copy the Rust pass's counts into ``report`` (examples located as the numpy path does)."""
    for key in _LOCATED:
        count, indices = counts[key]
        setattr(report, key, int(count))
        examples(key, np.asarray(indices, dtype=np.int64))
    report.weekend_gaps = int(counts["weekend_gaps"])
    report.missing_bars = int(counts["missing_bars"])
    report.crossed_by_field = dict(zip(FIELDS, map(int, counts["crossed_by_field"]), strict=True))
    report.zero_volume_bars = int(counts["zero_volume_bars"])
    spread = counts["spread_close_pips"]
    if spread is not None:
        report.spread_close_pips = dict(zip(("min", "median", "max"), spread, strict=True))


def _measure_gaps(report: DataQualityReport, time: np.ndarray, tf: int, examples) -> None:
    """Classify each step between consecutive bars longer than one timeframe."""
    if len(time) < 2:
        return
    step = np.diff(time)
    report.irregular_intervals = int((step % tf != 0).sum())
    examples("irregular_intervals", np.flatnonzero(step % tf != 0) + 1)
    gap_at = np.flatnonzero(step > tf)
    if not len(gap_at):
        return
    start = time[gap_at] + tf  # first instant with no bar
    end = time[gap_at + 1]  # open of the next bar
    weekend = _overlaps_saturday(start, end)
    report.weekend_gaps = int(weekend.sum())
    missing = (end - start) // tf
    other = ~weekend
    report.missing_bars = int(missing[other].sum())
    for key, lowest, highest in GAP_BUCKETS:
        in_bucket = other & (missing >= lowest)
        if highest is not None:
            in_bucket &= missing <= highest
        setattr(report, key, int(in_bucket.sum()))
        examples(key, gap_at[in_bucket] + 1)  # the bar after the gap


def _overlaps_saturday(start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """Whether [start, end) (UTC ns) overlaps any Saturday (UTC)."""
    day = np.floor_divide(start, NS_PER_DAY)
    weekday = (day + 3) % 7  # 1970-01-01 was a Thursday
    saturday = day + (SATURDAY - weekday) % 7
    return saturday * NS_PER_DAY < end


def quality_of(series, ask_source: str = "file") -> DataQualityReport:
    """Measure a BarSeries built in memory (rows in examples are 0-based bar indices)."""
    return measure_quality(
        series.time,
        {f"{s}_{f}": getattr(series, f"{s}_{f}") for s in ("bid", "ask") for f in FIELDS},
        series.volume,
        series.timeframe,
        series.instrument.pip_size,
        SourceMap.in_memory(series.source),
        ask_source=ask_source,
    )
