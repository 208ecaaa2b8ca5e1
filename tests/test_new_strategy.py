"""``omega new-strategy``: the scaffolded plugin crate builds, and its generated parity test
(`omega.plugin_check.check_plugin` against the generated Python twin) passes as generated."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from omega.scaffold import API_VERSION_REQ, ScaffoldError, new_strategy

REPO_ROOT = Path(__file__).resolve().parent.parent


def depended_crate(made) -> Path:
    """The crate the scaffold's path dependency names (relative paths are used when the
    scaffold lies inside the checkout, as under the coverage session's basetemp)."""
    match = re.fullmatch(r'omega-strategy-api = \{ path = "(.+)" \}', made.api_dependency)
    assert match, made.api_dependency
    return (made.directory / match.group(1)).resolve()


def test_the_scaffold_builds_and_its_parity_test_passes(tmp_path):
    # The repository's API crate by path (omega may be installed, not run from the checkout).
    made = new_strategy("scaffold_probe", tmp_path, api_path=REPO_ROOT / "crates" / "strategy_api")
    assert made.directory == tmp_path / "scaffold_probe"
    names = {p.relative_to(made.directory).as_posix() for p in made.files}
    assert {
        "Cargo.toml",
        "src/lib.rs",
        "scaffold_probe_twin.py",
        "test_scaffold_probe_parity.py",
    } <= names
    api = (REPO_ROOT / "crates" / "strategy_api").resolve()
    assert depended_crate(made) == api
    lib_rs = (made.directory / "src" / "lib.rs").read_text()
    for needle in ("fn init(", "ctx.custom(", "impl Indicator for", "export_strategy!"):
        assert needle in lib_rs
    if shutil.which("cargo") is None:
        pytest.skip("cargo not found: cannot build the scaffolded plugin")
    pytest.importorskip("omega._core", reason="the Rust extension omega._core is not built")
    # the generated test, as its author runs it (own process: it registers the twin's kinds)
    target = Path(os.environ.get("CARGO_TARGET_DIR", REPO_ROOT / "target"))
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(made.directory)],
        cwd=made.directory,
        env={**os.environ, "CARGO_TARGET_DIR": str(target)},
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 passed" in done.stdout, done.stdout


def test_a_scaffold_outside_a_checkout_depends_on_the_published_version(tmp_path, monkeypatch):
    import omega.scaffold as scaffold

    monkeypatch.setattr(scaffold, "_api_crate", lambda: None)
    monkeypatch.delenv(scaffold.API_PATH_ENV, raising=False)
    made = new_strategy("outside", tmp_path)
    assert made.api_dependency == f'omega-strategy-api = "{API_VERSION_REQ}"'
    assert made.api_dependency in (made.directory / "Cargo.toml").read_text()


def test_the_api_crate_can_be_named_by_the_environment(tmp_path, monkeypatch):
    import omega.scaffold as scaffold

    monkeypatch.setattr(scaffold, "_api_crate", lambda: None)
    monkeypatch.setenv(scaffold.API_PATH_ENV, str(REPO_ROOT / "crates" / "strategy_api"))
    made = new_strategy("from_env", tmp_path)
    assert depended_crate(made) == (REPO_ROOT / "crates" / "strategy_api").resolve()
    with pytest.raises(ScaffoldError, match="not the omega-strategy-api crate"):
        new_strategy("wrong", tmp_path, api_path=tmp_path)


def test_an_existing_directory_is_never_overwritten(tmp_path):
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "keep.txt").write_text("mine")
    with pytest.raises(ScaffoldError, match="already exists"):
        new_strategy("taken", tmp_path)
    assert [p.name for p in (tmp_path / "taken").iterdir()] == ["keep.txt"]
    with pytest.raises(ScaffoldError, match="lowercase identifier"):
        new_strategy("Bad-Name", tmp_path)


def test_the_command(tmp_path):
    from omega.cli import app

    runner = CliRunner()
    done = runner.invoke(app, ["new-strategy", "cli_probe", "--dir", str(tmp_path)])
    assert done.exit_code == 0, done.output
    assert (tmp_path / "cli_probe" / "src" / "lib.rs").is_file()
    again = runner.invoke(app, ["new-strategy", "cli_probe", "--dir", str(tmp_path)])
    assert again.exit_code == 2 and "ScaffoldError" in again.output, again.output
