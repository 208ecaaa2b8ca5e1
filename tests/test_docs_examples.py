"""The Python examples of the user pages run as written, so the pages cannot drift from the code.

Each page's ```python blocks run top to bottom in one namespace (a page reads as one script),
in a temporary working directory. A block preceded by ``<!-- docs-test: backtesting.py -->``
is backtesting.py code shown for comparison: a second test runs every block, those included,
where the ``backtesting`` package is installed, and is skipped (with a reason) where it is not.
"""

from __future__ import annotations

import importlib.util
import re
import sys
import types
import warnings
import webbrowser
from pathlib import Path

import pytest

from omega.strategy.registry import _REGISTRY

DOCS = Path(__file__).resolve().parent.parent / "docs"
PAGES = [
    "user-guide/python-api.md",
    "user-guide/coming-from-backtesting-py.md",
    "user-guide/portfolios.md",
]
BLOCK = re.compile(
    r"(?:<!-- docs-test: (?P<marker>[^>]*?) -->\n)?```python\n(?P<code>.*?)```", re.S
)
BACKTESTING = "backtesting.py"


def blocks(page: str) -> list[tuple[str | None, str, int]]:
    """(marker, code, first line) of every python block of ``page``."""
    text = (DOCS / page).read_text(encoding="utf-8")
    found = []
    for match in BLOCK.finditer(text):
        line = text.count("\n", 0, match.start("code")) + 1
        found.append((match.group("marker"), match.group("code"), line))
    return found


def run_block(code: str, page: str, line: int, namespace: dict) -> None:
    # Blank lines in front keep the line numbers of tracebacks those of the page.
    exec(compile("\n" * (line - 1) + code, str(DOCS / page), "exec"), namespace)


@pytest.fixture
def docs_run(tmp_path, monkeypatch):
    """The namespace of a page's script, in a scratch working directory, with no browser;
    strategies the page registers are unregistered after."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(webbrowser, "open", lambda url, *a, **k: True)
    # A real module, so classes defined by the page pickle by reference (backtesting.py's
    # optimize sends the strategy class to worker processes, as it would from __main__).
    module = types.ModuleType("omega_docs_example")
    monkeypatch.setitem(sys.modules, module.__name__, module)
    yield module.__dict__
    for name, cls in list(_REGISTRY.items()):  # the page's strategies, not the built-ins
        if cls.__module__ == module.__name__:
            del _REGISTRY[name]


def test_the_pages_have_examples() -> None:
    for page in PAGES:
        assert len(blocks(page)) >= 3, page
        assert all(marker in (None, BACKTESTING) for marker, _, _ in blocks(page)), page


@pytest.mark.parametrize("page", PAGES)
def test_page_examples_run(page: str, docs_run: dict) -> None:
    namespace = docs_run
    for marker, code, line in blocks(page):
        if marker is None:
            run_block(code, page, line, namespace)


def test_backtesting_py_page_runs_with_backtesting_py(docs_run: dict) -> None:
    """All blocks in page order, the backtesting.py ones included (they use the data the
    Omega blocks before them built)."""
    page = "user-guide/coming-from-backtesting-py.md"
    assert any(marker == BACKTESTING for marker, _, _ in blocks(page))
    if importlib.util.find_spec("backtesting") is None:
        pytest.skip("backtesting.py is not installed (pip install backtesting)")
    namespace = docs_run
    for marker, code, line in blocks(page):
        if marker is None:
            run_block(code, page, line, namespace)
            continue
        with warnings.catch_warnings():
            # backtesting.py's own warnings (about its data, bokeh, ...) are not ours to fix.
            warnings.simplefilter("ignore")
            run_block(code, page, line, namespace)
