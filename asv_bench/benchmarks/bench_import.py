"""`import omega` and what a backtest imports, each in a fresh interpreter (asv timeraw)."""

from __future__ import annotations


def timeraw_import_omega():
    return "import omega"


def timeraw_import_runner():
    return "import omega.runner"
