#!/usr/bin/env python
"""Regenerate the golden files under tests/golden/ (the only way to write them).

    python scripts/regen_golden.py            # dry run: which cases would change, and how
    python scripts/regen_golden.py --write    # write them (after reviewing the dry run)
    python scripts/regen_golden.py --write --case default --case managed

Every case of tests/golden/cases.yaml runs in `python` mode (the reference engine); cases on
real data are skipped when the real-data directory (../shared/data or OMEGA_REAL_DATA) is
absent. See docs/dev/golden.md.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "python"))

from omega.results.golden import (  # noqa: E402
    compare_golden,
    load_cases,
    real_data_dir,
    write_golden,
)
from omega.runner import Backend, run_backtest  # noqa: E402

GOLDEN = REPO / "tests" / "golden"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--write", action="store_true", help="write the files (default: dry run)")
    parser.add_argument("--case", action="append", default=[], help="only these cases")
    args = parser.parse_args(argv)
    cases = load_cases(GOLDEN / "cases.yaml")
    unknown = set(args.case) - {c.name for c in cases}
    if unknown:
        parser.error(f"unknown case(s): {', '.join(sorted(unknown))}")
    data_dir = real_data_dir(REPO)
    changed = 0
    for case in cases:
        if args.case and case.name not in args.case:
            continue
        if case.real_data and data_dir is None:
            print(f"{case.name}: skipped (no real data directory)")
            continue
        config = case.config(REPO, data_dir).apply_overrides(["engine=python"])
        started = time.perf_counter()
        result = run_backtest(config, env={}, backend=Backend(core_available=False))
        elapsed = time.perf_counter() - started
        exists = (GOLDEN / f"{case.name}.json").is_file()
        problems = compare_golden(GOLDEN, case, result) if exists else ["new case"]
        status = "unchanged" if not problems else "CHANGED"
        print(f"{case.name}: {result.raw.n_trades} trades, {elapsed:.1f} s, {status}")
        for problem in problems:
            print(f"    {problem}")
        if problems:
            changed += 1
            if args.write:
                write_golden(GOLDEN, case, result)
    verb = "written" if args.write else "would change (rerun with --write after review)"
    print(f"{changed} case(s) {verb}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
