"""Atomic writes: a reader sees the old file (or folder of files) or the whole new one, never a
partial one or a mix of two runs."""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
from collections.abc import Callable, Collection
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")


def write_atomic(path: str | os.PathLike[str], data: str | bytes) -> Path:
    """Write ``data`` to ``path`` via a temp file in the same folder, fsync, then ``os.replace``.

    On any failure the temp file is removed and an existing ``path`` is left untouched.
    """
    target = Path(path)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    # Not tempfile.mkstemp: its 0600 mode would survive the rename; 0666 & ~umask is what a
    # plain open() gives, so the result looks like any other written file.
    temp_name = str(target.parent / f".{target.name}.{secrets.token_hex(6)}.tmp")
    fd = os.open(
        temp_name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666
    )
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp_name, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp_name)
        raise
    _fsync_directory(target.parent)
    return target


def _fsync_directory(folder: Path) -> None:
    """Make the rename durable (POSIX); directories cannot be opened this way on Windows."""
    if os.name != "posix":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# ------------------------------------------------------------------ a folder as one unit
_NEW, _OLD = "omega-new", "omega-old"


def _sibling(target: Path, kind: str) -> Path:
    return target.parent / f".{target.name}.{kind}-{os.getpid()}-{secrets.token_hex(4)}"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


def remove_stale_siblings(target: Path) -> list[Path]:
    """Remove the temporary folders that killed runs left beside ``target`` (their process is
    gone); returns what was removed."""
    removed = []
    if not target.parent.is_dir():
        return removed
    prefix = f".{target.name}."
    for entry in target.parent.iterdir():
        name = entry.name
        if not name.startswith(prefix) or not entry.is_dir():
            continue
        parts = name[len(prefix) :].rsplit("-", 2)  # kind, pid, random hex
        if len(parts) != 3:
            continue
        kind, pid_text, _ = parts
        if kind in (_NEW, _OLD) and pid_text.isdigit() and not _pid_alive(int(pid_text)):
            shutil.rmtree(entry, ignore_errors=True)
            removed.append(entry)
    return removed


def _check_replaceable(target: Path) -> None:
    from omega.errors import ConfigError

    if target.resolve() in {Path.cwd().resolve(), Path.home().resolve()}:
        raise ConfigError(
            f"output folder {target}: Omega replaces its output folder as a whole; "
            "name a folder of its own (e.g. --out omega-out)"
        )
    if target.exists() and not target.is_dir():
        raise ConfigError(f"output folder {target}: exists and is not a folder")
    if target.is_dir():
        folders = [p.name for p in target.iterdir() if p.is_dir() and not p.is_symlink()]
        if folders:
            raise ConfigError(
                f"output folder {target} holds folders ({', '.join(sorted(folders)[:3])}); "
                "Omega replaces its output folder as a whole: name a folder of its own"
            )


def replace_folder(
    target: str | os.PathLike[str],
    build: Callable[[Path], T],
    owned: Collection[str] = (),
) -> T:
    """Fill a fresh folder beside ``target`` with ``build(folder)``, then swap it in.

    Readers see the previous set of files or the new one, never a mix. ``owned`` names the
    files a build may write: earlier ones of those go with the old set even where this build
    does not write them again (a ``trace.csv`` of a traced run). Other files of ``target`` (a
    ``sweep.csv``, a user's notes) are carried over as hard links (copies where links fail). On any
    failure ``target`` is left as it was and the temporary folder is removed. Folders left by
    killed runs (``.NAME.omega-new-PID-…``) are removed first.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    _check_replaceable(target)
    remove_stale_siblings(target)
    fresh = _sibling(target, _NEW)
    fresh.mkdir()
    try:
        result = build(fresh)
        if target.is_dir():
            for entry in target.iterdir():
                kept = fresh / entry.name
                if kept.exists() or entry.name in owned or entry.name.endswith(".tmp"):
                    continue  # the new set's, or debris of an interrupted write
                try:
                    os.link(entry, kept, follow_symlinks=False)
                except OSError:
                    shutil.copy2(entry, kept, follow_symlinks=False)
        _fsync_directory(fresh)
        if target.is_dir():
            old = _sibling(target, _OLD)
            os.rename(target, old)
            os.rename(fresh, target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.rename(fresh, target)
    except BaseException:
        shutil.rmtree(fresh, ignore_errors=True)
        raise
    _fsync_directory(target.parent)
    return result
