"""Omega: FX backtesting with a Rust core and a Python front end."""

from __future__ import annotations

__version__ = "0.1.0"
