"""Shared pytest fixtures. Add yours below; keep each fixture small and documented."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

# `pytest --hypothesis-profile=fuzz` (nox -s fuzz): the fuzz tests (tests/test_fuzz_*.py) run
# OMEGA_FUZZ_EXAMPLES examples per property instead of CI's few. Other tests set their own.
settings.register_profile(
    "fuzz",
    max_examples=int(os.environ.get("OMEGA_FUZZ_EXAMPLES", "2000")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

REPO_ROOT = Path(__file__).resolve().parent.parent


def real_data_path() -> Path:
    """Where the real FX data is expected: env OMEGA_REAL_DATA, else <repo>/../shared/data."""
    env = os.environ.get("OMEGA_REAL_DATA")
    return Path(env) if env else REPO_ROOT.parent / "shared" / "data"


@pytest.fixture(scope="session")
def real_data_dir() -> Path:
    """The folder of real FX data (see its README.md); skips the test where it is absent."""
    path = real_data_path()
    if not path.is_dir():
        pytest.skip(f"real FX data not found at {path}; set OMEGA_REAL_DATA")
    return path


@pytest.fixture(scope="session")
def synthetic_bars():
    """A small seeded two-sided M1 series (5,000 bars, crosses a weekend); do not mutate it."""
    from omega.data import generate_synthetic

    return generate_synthetic(n_bars=5_000, seed=7)
