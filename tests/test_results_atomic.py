"""Atomic writes: a failure leaves neither a partial file nor a temp file behind."""

from __future__ import annotations

import os

import pytest

from omega.results import atomic
from omega.results.atomic import write_atomic


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
