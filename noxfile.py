"""Developer and CI sessions: `nox -s tests parity lint docs bench demo`.

Every session shares one cargo target directory (`target/`) and the release profile, so the
extension, `cargo test` and criterion builds reuse each other's artefacts and nothing compiles
twice. Python sessions install Omega with maturin into their own virtualenv.
"""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path

import nox

ROOT = Path(__file__).parent
TARGET_DIR = ROOT / "target"
CARGO_ENV = {"CARGO_TARGET_DIR": str(TARGET_DIR)}
# Crates tested with plain `cargo test` (the bindings crate needs a Python to link against and
# is exercised from pytest instead).
RUST_TEST_ARGS = ["--workspace", "--exclude", "omega-py-bindings", "--release"]

# uv where it is installed (install_omega puts pip into the venv, so both backends work),
# else virtualenv.
nox.options.default_venv_backend = "uv|virtualenv"
nox.options.reuse_existing_virtualenvs = True
nox.options.sessions = ["tests", "lint", "docs"]


class _NoUvProbeNotice(logging.Filter):
    """nox probes for uv at every session, whatever the backend, and logs "uv binary not
    found." where it is absent: expected with the fallback above, so that line is dropped."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != "uv binary not found."


logging.getLogger("nox").addFilter(_NoUvProbeNotice())


def install_omega(session: nox.Session, *extras: str) -> None:
    """Build the extension (release, shared target dir) and install Omega with extras."""
    session.install("maturin>=1.7,<2", "pip")
    spec = f".[{','.join(extras)}]" if extras else "."
    session.run("python", "-m", "pip", "install", "--no-build-isolation", "-q", spec, env=CARGO_ENV)


@nox.session(python="3.11")
def tests(session: nox.Session) -> None:
    """cargo test for the workspace + the pytest suite."""
    session.run("cargo", "test", *RUST_TEST_ARGS, "-q", external=True, env=CARGO_ENV)
    install_omega(session, "test")
    session.run("pytest", *(session.posargs or ["-q"]), env={"OMEGA_STRICT": "1"})


@nox.session(python="3.11")
def parity(session: nox.Session) -> None:
    """Python vs hybrid vs rust on many seeded configurations: `nox -s parity -- --count 1000`."""
    install_omega(session, "test")
    session.run("python", "-m", "omega.parity", *session.posargs)


@nox.session(python="3.11")
def fuzz(session: nox.Session) -> None:
    """The fuzz properties (malformed data files and configs) at length: hypothesis profile
    ``fuzz`` (tests/conftest.py), OMEGA_FUZZ_EXAMPLES examples per property (default 2000;
    CI's tests session runs a few dozen). Extra arguments go to pytest."""
    install_omega(session, "test")
    examples = os.environ.get("OMEGA_FUZZ_EXAMPLES", "2000")
    session.run(
        "pytest",
        "tests/test_fuzz_loaders.py",
        "tests/test_fuzz_config.py",
        "--hypothesis-profile=fuzz",
        "--hypothesis-show-statistics",
        "-q",
        *session.posargs,
        env={"OMEGA_STRICT": "1", "OMEGA_FUZZ_EXAMPLES": examples},
    )


@nox.session(python="3.11")
def lint(session: nox.Session) -> None:
    """ruff, rustfmt, clippy (workspace lints as errors) and stubtest for _core.pyi."""
    session.run("cargo", "fmt", "--all", "--check", external=True)
    session.run(
        "cargo",
        "clippy",
        "--workspace",
        "--all-targets",
        "--release",
        "--",
        "-D",
        "warnings",
        external=True,
        env=CARGO_ENV,
    )
    install_omega(session, "lint")
    session.run("ruff", "check", "python", "tests", "asv_bench", "noxfile.py")
    session.run("ruff", "format", "--check", "python", "tests", "asv_bench", "noxfile.py")
    session.run("python", "-m", "mypy.stubtest", "omega._core")


@nox.session(python="3.11")
def docs(session: nox.Session) -> None:
    """The documentation site (strict), with the Rust API docs from cargo doc inside it."""
    install_omega(session, "docs")
    session.run(
        "cargo",
        "doc",
        "--no-deps",
        "--release",
        "-p",
        "omega-strategy-api",
        "-p",
        "omega-indicators",
        "-p",
        "omega-engine",
        "-p",
        "omega-strategies",
        external=True,
        env=CARGO_ENV,
    )
    # mkdocs copies non-Markdown files as they are; staging rustdoc's output under docs/
    # (git-ignored) lets the strict link check see the pages the Rust API page links to.
    rust_api = ROOT / "docs" / "rust-api"
    shutil.rmtree(rust_api, ignore_errors=True)
    shutil.copytree(TARGET_DIR / "doc", rust_api)
    # rustdoc ships a font licence as Markdown, which mkdocs would render as a stray page:
    # keep it as a plain text file beside the fonts.
    for licence in (rust_api / "static.files").glob("*.md"):
        licence.rename(licence.with_name(licence.name + ".txt"))
    session.run(
        "mkdocs", "build", "--strict", "--site-dir", "site", env={"NO_MKDOCS_2_WARNING": "1"}
    )
    asv_html = ROOT / "asv_bench" / "html"
    if asv_html.is_dir():  # the performance history, when `nox -s bench` has published it
        shutil.copytree(asv_html, ROOT / "site" / "asv", dirs_exist_ok=True)
    session.log(f"site written to {ROOT / 'site'}")


@nox.session(python="3.11")
def demo(session: nox.Session) -> None:
    """Runs the default backtest once and writes its report to omega-out/."""
    install_omega(session)
    session.run("omega", "backtest", *session.posargs)


@nox.session(python="3.11")
def bench(session: nox.Session) -> None:
    """Criterion (short), asv against the installed build (+ `asv publish` into
    asv_bench/html), then the side-by-side tables of `python -m omega.bench`: run_backtest per
    mode, the CLI next to `import pandas`, the sweep, the verdict per goal.

    `nox -s bench -- --peers` also installs the peers (backtesting.py, vectorbt with its Rust
    engine, raptorbt; TA-Lib comes with the test extra), runs them on the peer workloads and
    vectorbt on the sweep's grid; other arguments go to `omega.bench` (e.g. `--quick`).
    OMEGA_BENCH_CRITERION=0 / OMEGA_BENCH_ASV=0 skip those parts.
    """
    install_omega(session, "test", "bench")
    if "--peers" in session.posargs:
        session.install("backtesting", "vectorbt", "vectorbt-rust", "raptorbt")
    if os.environ.get("OMEGA_BENCH_CRITERION", "1") == "1":
        session.run(
            "cargo",
            "bench",
            "--workspace",
            "--exclude",
            "omega-py-bindings",
            "--",
            "--warm-up-time",
            "0.5",
            "--measurement-time",
            "1",
            external=True,
            env=CARGO_ENV,
        )
    if os.environ.get("OMEGA_BENCH_ASV", "1") == "1":
        conf = str(ROOT / "asv_bench" / "asv.conf.json")
        commit = session.run("git", "rev-parse", "HEAD", silent=True, external=True).strip()
        session.run("asv", "machine", "--yes", "--config", conf)
        # --python=same: the build installed above, no asv-managed environments; the commit
        # hash makes the results part of the history that `asv publish` renders.
        session.run("asv", "run", "--python=same", "--quick", "--show-stderr",
                    f"--set-commit-hash={commit}", "--config", conf)  # fmt: skip
        session.run("asv", "publish", "--config", conf)
        session.log(f"asv history: {ROOT / 'asv_bench' / 'html' / 'index.html'}")
    session.run("python", "-m", "omega.bench", *session.posargs, env={"OMEGA_STRICT": "1"})
