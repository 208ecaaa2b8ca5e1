"""The Python reference engine (`run_python`) and the frozen engine interface
(`EngineSettings`, `RawRun`). Rules: docs/engine/execution.md."""

from __future__ import annotations

from typing import Any

__all__ = ["run_python"]


def __getattr__(name: str) -> Any:  # keep `import omega.engine.settings` light
    if name == "run_python":
        from omega.engine.loop import run_python

        return run_python
    raise AttributeError(f"module 'omega.engine' has no attribute {name!r}")
