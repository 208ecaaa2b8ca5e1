"""Atomic writes: a failure leaves neither a partial file nor a temp file behind."""

from __future__ import annotations

import os

import pytest

from omega.results import atomic
from omega.results.atomic import replace_folder, write_atomic


def test_writes_the_whole_content(tmp_path):
    target = write_atomic(tmp_path / "metrics.json", "{}\n")
    assert target.read_text() == "{}\n"
    assert os.listdir(tmp_path) == ["metrics.json"]


def test_failed_replace_keeps_the_old_file_and_no_temp(tmp_path, monkeypatch):
    target = tmp_path / "trades.csv"
    target.write_text("old complete content\n")

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(atomic.os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        write_atomic(target, "new content that must never appear half-written\n")
    assert target.read_text() == "old complete content\n"
    assert os.listdir(tmp_path) == ["trades.csv"]


def test_failure_in_the_middle_of_writing_leaves_no_file(tmp_path, monkeypatch):
    def broken_fsync(fd):
        raise OSError("I/O error")

    monkeypatch.setattr(atomic.os, "fsync", broken_fsync)
    with pytest.raises(OSError, match="I/O error"):
        write_atomic(tmp_path / "equity.csv", "x" * 1_000_000)
    assert os.listdir(tmp_path) == []


# ------------------------------------------------------------------ a run's files as one set
def _dead_pid() -> int:
    import subprocess
    import sys

    child = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                           capture_output=True, text=True, check=True)  # fmt: skip
    return int(child.stdout)


def _write(names: dict[str, str]):
    def build(folder):
        for name, text in names.items():
            (folder / name).write_text(text)
        return sorted(names)

    return build


def test_a_new_set_replaces_the_old_one_and_keeps_other_files(tmp_path):
    out = tmp_path / "out"
    owned = {"trades.csv", "metrics.json", "trace.csv"}
    replace_folder(out, _write({"trades.csv": "1", "metrics.json": "1", "trace.csv": "1"}), owned)
    (out / "notes.txt").write_text("mine")
    replace_folder(out, _write({"trades.csv": "2", "metrics.json": "2"}), owned)
    assert sorted(os.listdir(out)) == ["metrics.json", "notes.txt", "trades.csv"]
    assert (out / "trades.csv").read_text() == "2" and (out / "notes.txt").read_text() == "mine"
    assert os.listdir(tmp_path) == ["out"]


def test_regression_kill_leaves_debris_and_mixed_folders(tmp_path):
    """A run killed mid-way left hidden temp files that later runs never cleaned, and a
    folder mixing the old run's files with the new one's."""
    import signal
    import subprocess
    import sys

    out = tmp_path / "out"
    replace_folder(out, _write({"trades.csv": "old", "metrics.json": "old"}))
    (out / ".trades.csv.0123456789ab.tmp").write_text("debris of an older kill")
    script = (
        "import sys, time, pathlib\n"
        "from omega.results.atomic import replace_folder\n"
        "def build(folder):\n"
        "    (folder / 'trades.csv').write_text('new')\n"
        "    print('written', flush=True)\n"
        "    time.sleep(60)\n"
        f"replace_folder(pathlib.Path({str(out)!r}), build)\n"
    )
    with subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, text=True
    ) as child:
        assert child.stdout.readline().strip() == "written"
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=10)
    # Killed mid-build: the old set, whole; the new half-set only in a hidden sibling.
    assert (out / "trades.csv").read_text() == "old" and (out / "metrics.json").read_text() == "old"
    assert len([p for p in os.listdir(tmp_path) if ".omega-new-" in p]) == 1
    replace_folder(out, _write({"trades.csv": "next", "metrics.json": "next"}))
    assert os.listdir(tmp_path) == ["out"]  # the killed run's folder is gone
    assert sorted(os.listdir(out)) == ["metrics.json", "trades.csv"]  # and the old debris


def test_only_folders_of_dead_processes_are_removed(tmp_path):
    out = tmp_path / "out"
    dead = tmp_path / f".out.omega-new-{_dead_pid()}-abcd"
    alive = tmp_path / f".out.omega-new-{os.getpid()}-abcd"
    dead.mkdir()
    alive.mkdir()
    assert atomic.remove_stale_siblings(out) == [dead]
    assert alive.is_dir() and not dead.exists()


def test_a_folder_that_is_not_omegas_is_refused(tmp_path, monkeypatch):
    from omega.errors import ConfigError

    (tmp_path / "sub").mkdir()
    with pytest.raises(ConfigError, match="holds folders"):
        replace_folder(tmp_path, _write({"a": "1"}))
    monkeypatch.chdir(tmp_path / "sub")
    with pytest.raises(ConfigError, match="as a whole"):
        replace_folder(".", _write({"a": "1"}))
    assert os.listdir(tmp_path / "sub") == []


def test_a_failing_build_leaves_nothing(tmp_path):
    def broken(folder):
        (folder / "half.csv").write_text("x")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        replace_folder(tmp_path / "out", broken)
    assert os.listdir(tmp_path) == []
