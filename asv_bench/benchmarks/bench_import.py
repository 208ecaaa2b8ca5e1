"""Fresh interpreters: `import omega`, what a backtest imports (asv timeraw), and the
`omega backtest` command with the default config against `python -c "import pandas"`."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path


def timeraw_import_omega():
    return "import omega"


def timeraw_import_runner():
    return "import omega.runner"


def _omega_command() -> list[str]:
    script = Path(sys.executable).parent / "omega"
    return [str(script)] if script.exists() else [sys.executable, "-m", "omega.cli"]


class FreshProcess:
    """Wall time of a whole process, as the user waits for it (start-up included)."""

    timeout = 300
    repeat = 5
    number = 1

    def setup(self):
        self.tmp = tempfile.mkdtemp(prefix="omega-asv-cli-")

    def teardown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def time_cli_backtest_default(self):
        out = str(Path(self.tmp) / "omega-out")
        subprocess.run([*_omega_command(), "backtest", "--out", out, "--no-progress"],
                       check=True, capture_output=True, cwd=self.tmp)  # fmt: skip

    def time_python_import_pandas(self):
        subprocess.run([sys.executable, "-c", "import pandas"], check=True, capture_output=True)
