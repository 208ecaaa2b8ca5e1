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
    install_omega(session, "test", "research", "ray")
    session.run("pytest", *(session.posargs or ["-q"]), env={"OMEGA_STRICT": "1"})


@nox.session(python="3.11")
def parity(session: nox.Session) -> None:
    """Python vs hybrid vs rust on many seeded configurations: `nox -s parity -- --count 1000`;
    then generated baskets (several instruments, one account) in the same modes."""
    install_omega(session, "test")
    session.run("python", "-m", "omega.parity", *session.posargs)
    session.run("python", "-m", "omega.parity_basket", "--count", "200")


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


# ------------------------------------------------------------------------------- coverage

COVERAGE_DIR = TARGET_DIR / "coverage"  # its own target dir: instrumented code never mixes in
PYTHON_COVERAGE_MIN = float(os.environ.get("OMEGA_PYTHON_COVERAGE_MIN", "95"))
RUST_COVERAGE_MIN = float(os.environ.get("OMEGA_RUST_COVERAGE_MIN", "90"))
# Instrumented builds are for counting lines, not speed: no LTO and more codegen units build
# about twice as fast (the cargo profile overrides reach maturin's build too).
COVERAGE_PROFILE_ENV = {
    "CARGO_PROFILE_RELEASE_LTO": "false",
    "CARGO_PROFILE_RELEASE_CODEGEN_UNITS": "16",
    "CARGO_PROFILE_RELEASE_OPT_LEVEL": "1",
}


def _llvm_tool(session: nox.Session, name: str) -> str:
    """`name` (llvm-profdata, llvm-cov) of rustc's LLVM major version: the profiles the
    instrumented code writes are read only by the LLVM that wrote them. Looked for in
    $LLVM_PROFDATA / $LLVM_COV, rustup's llvm-tools component, then Debian's llvm-N."""
    override = os.environ.get(name.upper().replace("-", "_"))
    if override:
        return override
    info = session.run("rustc", "-vV", silent=True, external=True) or ""
    fields = dict(line.split(": ", 1) for line in info.splitlines() if ": " in line)
    major = fields.get("LLVM version", "").split(".")[0]
    sysroot = (session.run("rustc", "--print", "sysroot", silent=True, external=True) or "").strip()
    candidates = [
        Path(sysroot) / "lib" / "rustlib" / fields.get("host", "") / "bin" / name,
        Path(f"/usr/lib/llvm-{major}/bin/{name}"),
    ]
    for candidate in candidates:
        if candidate.is_file():
            return str(candidate)
    found = shutil.which(f"{name}-{major}")
    if found:
        return found
    session.error(
        f"no {name} for LLVM {major} (rustc's): `rustup component add llvm-tools` or "
        f"`apt-get install llvm-{major}`, or set {name.upper().replace('-', '_')}"
    )
    raise AssertionError("unreachable")


def _rust_test_binaries(session: nox.Session, env: dict[str, str]) -> list[str]:
    import json

    out = session.run(
        "cargo",
        "test",
        *RUST_TEST_ARGS,
        "--no-run",
        "--message-format=json",
        silent=True,
        external=True,
        env=env,
    )
    found = []
    for line in (out or "").splitlines():
        if not line.startswith("{"):
            continue
        message = json.loads(line)
        if message.get("profile", {}).get("test") and message.get("executable"):
            found.append(message["executable"])
    return found


def _rust_line_coverage(
    session: nox.Session, objects: list[str], profiles: Path
) -> tuple[float, dict[str, tuple[int, int]]]:
    """Merged line coverage of crates/*/src over every instrumented object (test binaries,
    the extension, the plugins pytest built): total percent and (covered, lines) per crate."""
    import json

    merged = COVERAGE_DIR / "omega.profdata"
    raw = sorted(str(p) for p in profiles.glob("*.profraw"))
    if not raw:
        session.error(f"no profiles written in {profiles}")
    session.run(
        _llvm_tool(session, "llvm-profdata"),
        "merge",
        "-sparse",
        "-o",
        str(merged),
        *raw,
        external=True,
        silent=True,
    )
    args = [
        _llvm_tool(session, "llvm-cov"),
        "export",
        "-summary-only",
        "-instr-profile",
        str(merged),
        objects[0],
    ]
    for extra in objects[1:]:
        args += ["-object", extra]
    crates = str(ROOT / "crates")
    out = session.run(*args, external=True, silent=True) or ""
    # stderr comes along (warnings such as "functions have mismatched data", from generic
    # code instantiated differently in different objects): the JSON is the last line.
    summary = json.loads(out.strip().splitlines()[-1])
    per_crate: dict[str, list[int]] = {}
    for entry in summary["data"][0]["files"]:
        name = entry["filename"]
        if not name.startswith(crates) or "/src/" not in name:
            continue  # dependencies, the standard library, test files
        crate = Path(name).relative_to(crates).parts[0]
        lines = entry["summary"]["lines"]
        total = per_crate.setdefault(crate, [0, 0])
        total[0] += lines["covered"]
        total[1] += lines["count"]
    covered = sum(c for c, _ in per_crate.values())
    count = sum(n for _, n in per_crate.values())
    return 100.0 * covered / max(count, 1), {k: (v[0], v[1]) for k, v in per_crate.items()}


@nox.session(python="3.11")
def coverage(session: nox.Session) -> None:
    """Line coverage: Python (`omega`, pytest with coverage.py, subprocesses included) and
    Rust (crates/*/src, from `cargo test` and from pytest through an instrumented build of
    the extension and of the example plugin). Fails below OMEGA_PYTHON_COVERAGE_MIN (95) or
    OMEGA_RUST_COVERAGE_MIN (90) percent. Needs llvm-profdata/llvm-cov of rustc's LLVM
    version (rustup's llvm-tools or Debian's llvm-N)."""
    for name in ("llvm-profdata", "llvm-cov"):
        _llvm_tool(session, name)  # fail before building, not after
    profiles = COVERAGE_DIR / "profiles"
    shutil.rmtree(profiles, ignore_errors=True)
    profiles.mkdir(parents=True)
    env = {
        "CARGO_TARGET_DIR": str(COVERAGE_DIR),
        "RUSTFLAGS": "-C instrument-coverage",
        "LLVM_PROFILE_FILE": str(profiles / "omega-%p-%m.profraw"),
        **COVERAGE_PROFILE_ENV,
    }
    session.run("cargo", "test", *RUST_TEST_ARGS, "-q", external=True, env=env)
    objects = _rust_test_binaries(session, env)
    session.install("maturin>=1.7,<2", "pip", "coverage>=7.10", "pytest-cov>=6")
    # The peers: tests/test_peers.py runs them at tiny sizes (omega.peers is counted).
    session.install("backtesting", "vectorbt", "vectorbt-rust", "raptorbt")
    session.run(
        "python",
        "-m",
        "pip",
        "install",
        "--no-build-isolation",
        "-q",
        ".[test,research,ray]",
        env=env,
    )
    extension = session.run(
        "python", "-c", "import omega._core as m; print(m.__file__)", silent=True, env=env
    )
    objects.append((extension or "").strip().splitlines()[-1])
    basetemp = COVERAGE_DIR / "pytest"  # kept: the plugin copies tests load are objects too
    data = COVERAGE_DIR / "python"
    shutil.rmtree(data, ignore_errors=True)
    data.mkdir(parents=True)
    session.run(
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        f"--basetemp={basetemp}",
        "--cov=omega",
        "--cov-report=",
        *session.posargs,
        env={**env, "OMEGA_STRICT": "1", "COVERAGE_FILE": str(data / ".coverage")},
    )
    objects += sorted(str(p) for p in basetemp.rglob("libplugin_*.so"))
    # Processes that tests start with a reduced environment write their profile under the
    # default name in the working directory: they count too, and are not left in the tree.
    for stray in ROOT.glob("default_*.profraw"):
        stray.replace(profiles / stray.name)
    rust_total, per_crate = _rust_line_coverage(session, objects, profiles)
    session.log("Rust line coverage (crates/*/src):")
    for crate, (covered, count) in sorted(per_crate.items()):
        session.log(f"  {crate:16s} {covered:6d} / {count:6d}  {100.0 * covered / count:5.1f}%")
    session.log(f"  {'total':16s} {rust_total:.1f}%")
    python_report = session.run(
        "coverage",
        "report",
        "--precision=1",
        silent=True,
        env={"COVERAGE_FILE": str(data / ".coverage")},
        success_codes=[0, 2],
    )
    print(python_report)
    total_line = next(x for x in (python_report or "").splitlines() if x.startswith("TOTAL"))
    python_total = float(total_line.split()[-1].rstrip("%"))
    failures = []
    if python_total < PYTHON_COVERAGE_MIN:
        failures.append(f"Python {python_total:.1f}% < {PYTHON_COVERAGE_MIN}%")
    if rust_total < RUST_COVERAGE_MIN:
        failures.append(f"Rust {rust_total:.1f}% < {RUST_COVERAGE_MIN}%")
    if failures:
        session.error("coverage below the gate: " + "; ".join(failures))
    session.log(f"coverage: Python {python_total:.1f}%, Rust {rust_total:.1f}%")


@nox.session(python="3.11")
def research(session: nox.Session) -> None:
    """The research tests (search, studies, backends incl. Ray; walk-forward, CV, robustness)
    with Optuna and Ray installed: `nox -s research`. Extra arguments go to pytest."""
    install_omega(session, "test", "research", "ray")
    tests = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "tests").glob("test_research_*.py"))
    session.run("pytest", *tests, *(session.posargs or ["-q"]), env={"OMEGA_STRICT": "1"})
