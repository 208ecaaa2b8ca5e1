"""Resumable studies: every evaluated parameter set stored in SQLite, keyed by its hashes.

    study = Study("search.db", name="mr-tpe")
    optimize(bars, "mean_reversion_z_score", space, settings, method="tpe", trials=500,
             study=study)            # interrupted (Ctrl-C) after 300: rerun the same call
    study.table()                    # every set of the study as a DataFrame

A set's row (its parameters, metrics and ``error``) is stored under two hashes:
``config_hash`` (strategy, engine settings, parameters and the omega version) and
``data_hash`` (the bars' values, timeframe and instrument; a basket's: every instrument's
bars with its symbol, and its config in place of the engine settings). Before running a
batch, the study looks each set up; what is already stored is read back (bit for bit: floats
are stored by their shortest exact text) and only the rest runs. The rows of a batch are
written in one SQLite transaction after it ran, so an interrupted run (Ctrl-C, a crash)
leaves every batch either wholly stored or absent, never half. A file may hold several
studies (``name``); the stored rows are shared by all of them (one set on one data set runs
once). A study also remembers its seed: a rerun without one continues with the same draws.
"""

from __future__ import annotations

import hashlib
import json
import random
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from omega.errors import ConfigError

if TYPE_CHECKING:
    import pandas as pd

    from omega.config import BacktestConfig
    from omega.data.bars import BarSeries
    from omega.engine.settings import EngineSettings

    # One instrument's bars or a basket's by symbol; its engine settings or the basket's
    # config (which holds every instrument's settings).
    Data = BarSeries | Mapping[str, BarSeries]
    Settings = EngineSettings | BacktestConfig

SCHEMA = """
CREATE TABLE IF NOT EXISTS results (
    config_hash TEXT NOT NULL,
    data_hash TEXT NOT NULL,
    strategy TEXT NOT NULL,
    settings_hash TEXT NOT NULL,
    params TEXT NOT NULL,
    row TEXT NOT NULL,
    PRIMARY KEY (config_hash, data_hash)
);
CREATE TABLE IF NOT EXISTS trials (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    study TEXT NOT NULL,
    config_hash TEXT NOT NULL,
    data_hash TEXT NOT NULL,
    UNIQUE (study, config_hash, data_hash)
);
CREATE TABLE IF NOT EXISTS studies (
    name TEXT PRIMARY KEY,
    meta TEXT NOT NULL
);
"""

Evaluator = Callable[[list[dict[str, Any]]], list[dict[str, Any]]]


def data_hash(bars: BarSeries | Mapping[str, BarSeries]) -> str:
    """A hash of the bars' values (every column), timeframe and instrument; of a basket's
    bars by symbol: of each symbol and its bars' hash, in symbol order."""
    from omega.data.bars import COLUMNS

    digest = hashlib.blake2b(digest_size=16)
    if isinstance(bars, Mapping):
        for symbol in sorted(bars):
            digest.update(f"{symbol}|{data_hash(bars[symbol])}|".encode())
        return digest.hexdigest()
    digest.update(f"{bars.timeframe.name}|{bars.instrument!r}|{len(bars.time)}".encode())
    for name in COLUMNS:
        digest.update(memoryview(getattr(bars, name)).cast("B"))
    return digest.hexdigest()


def settings_hash(settings: EngineSettings | BacktestConfig) -> str:
    """A hash of the engine settings (their dataclass repr: every field, floats exactly), or
    of a basket's config (every value of its effective dict: instruments, their params and
    the base ``strategy.params`` included)."""
    from omega.config import BacktestConfig

    if isinstance(settings, BacktestConfig):
        text = "config|" + json.dumps(settings.effective_dict(), sort_keys=True, default=str)
    else:
        text = repr(settings)
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def _canonical(params: Mapping[str, Any]) -> str:
    return json.dumps(dict(params), sort_keys=True, default=repr)


def config_hash(strategy: str, settings_key: str, params: Mapping[str, Any]) -> str:
    """A hash of what decides a run besides the data: strategy, settings, parameters and the
    omega version (another version may trade differently)."""
    from omega import __version__

    text = json.dumps([__version__, strategy, settings_key, _canonical(params)])
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def _dump_row(row: Mapping[str, Any]) -> str:
    return json.dumps(dict(row), default=_plain)  # NaN stays NaN (allow_nan)


def _plain(value: Any) -> Any:
    item = getattr(value, "item", None)
    if callable(item):
        return item()
    raise TypeError(f"cannot store {value!r} ({type(value).__name__}) in a study")


class Study:
    """A named study in the SQLite file ``path`` (created when missing)."""

    def __init__(self, path: str | Path, name: str = "default") -> None:
        if not name:
            raise ConfigError("a study needs a name")
        self.path = Path(path)
        self.name = name
        try:
            self._db = sqlite3.connect(self.path)
            with self._db:
                self._db.executescript(SCHEMA)
        except sqlite3.DatabaseError as exc:
            raise ConfigError(f"study {self.path}: not a study database ({exc})") from None
        self._data: tuple[Data, str] | None = None

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Study:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -------------------------------------------------------------------------- meta

    def meta(self) -> dict[str, Any] | None:
        """What the study was started with (method, seed, space, objectives, strategy)."""
        found = self._db.execute("SELECT meta FROM studies WHERE name = ?", (self.name,)).fetchone()
        return None if found is None else json.loads(found[0])

    def begin(
        self,
        *,
        method: str,
        seed: int | None,
        space: Mapping[str, Any],
        objectives: Sequence[Any],
        strategy: str,
    ) -> int:
        """Record the study's setup on its first run; the seed to use (given, else the one
        stored, else a new one stored)."""
        meta = self.meta()
        if seed is None:
            seed = meta["seed"] if meta is not None else random.SystemRandom().randrange(2**31)
        record = {
            "method": method,
            "seed": seed,
            "strategy": strategy,
            "space": {k: repr(v) for k, v in space.items()},
            "objectives": [f"{o.name}:{o.direction}" for o in objectives],
        }
        with self._db:
            self._db.execute(
                "INSERT OR REPLACE INTO studies (name, meta) VALUES (?, ?)",
                (self.name, json.dumps(record)),
            )
        return int(seed)

    # -------------------------------------------------------------------------- rows

    def _data_hash(self, bars: Data) -> str:
        if self._data is None or self._data[0] is not bars:
            self._data = (bars, data_hash(bars))
        return self._data[1]

    def evaluate(
        self,
        bars: Data,
        strategy: str,
        settings: Settings,
        sets: list[dict[str, Any]],
        run: Evaluator,
    ) -> tuple[list[dict[str, Any]], int]:
        """Rows of ``sets``: read back where stored, else from ``run(missing sets)`` and
        stored in one transaction. Returns the rows in order and how many were read back."""
        data = self._data_hash(bars)
        skey = settings_hash(settings)
        keys = [config_hash(strategy, skey, p) for p in sets]
        stored = self._lookup(keys, data)
        missing = [i for i, k in enumerate(keys) if k not in stored]
        rows: list[dict[str, Any] | None] = [stored.get(k) for k in keys]
        if missing:
            fresh = run([sets[i] for i in missing])
            for i, row in zip(missing, fresh, strict=True):
                rows[i] = row
        with self._db:  # one transaction: the whole batch or nothing
            self._db.executemany(
                "INSERT OR IGNORE INTO results VALUES (?, ?, ?, ?, ?, ?)",
                [
                    (keys[i], data, strategy, skey, _canonical(sets[i]), _dump_row(rows[i] or {}))
                    for i in missing
                ],
            )
            self._db.executemany(
                "INSERT OR IGNORE INTO trials (study, config_hash, data_hash) VALUES (?, ?, ?)",
                [(self.name, k, data) for k in keys],
            )
        done = [r for r in rows if r is not None]
        return done, len(sets) - len(missing)

    def _lookup(self, keys: list[str], data: str) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = {}
        unique = list(dict.fromkeys(keys))
        for start in range(0, len(unique), 500):  # SQLite's bound-parameter limit
            chunk = unique[start : start + 500]
            marks = ",".join("?" * len(chunk))
            query = (
                f"SELECT config_hash, row FROM results WHERE data_hash = ? "
                f"AND config_hash IN ({marks})"
            )
            for key, row in self._db.execute(query, (data, *chunk)):
                found[key] = json.loads(row)
        return found

    def history(self, strategy: str, settings: Settings, bars: Data) -> list[dict[str, Any]]:
        """The rows this study evaluated for ``strategy`` with these settings on these bars,
        in the order they were first evaluated."""
        query = (
            "SELECT r.row FROM trials t JOIN results r "
            "ON r.config_hash = t.config_hash AND r.data_hash = t.data_hash "
            "WHERE t.study = ? AND t.data_hash = ? AND r.strategy = ? AND r.settings_hash = ? "
            "ORDER BY t.seq"
        )
        args = (self.name, self._data_hash(bars), strategy, settings_hash(settings))
        return [json.loads(row) for (row,) in self._db.execute(query, args)]

    def table(self) -> pd.DataFrame:
        """Every set of this study in evaluation order: ``trial``, the parameters, metrics,
        ``error``, then ``strategy``, ``config_hash`` and ``data_hash``."""
        import pandas as pd

        query = (
            "SELECT r.row, r.strategy, t.config_hash, t.data_hash FROM trials t JOIN results r "
            "ON r.config_hash = t.config_hash AND r.data_hash = t.data_hash "
            "WHERE t.study = ? ORDER BY t.seq"
        )
        rows = []
        for n, (row, strategy, chash, dhash) in enumerate(self._db.execute(query, (self.name,))):
            values = json.loads(row)
            rows.append(
                {
                    "trial": n,
                    **values,
                    "strategy": strategy,
                    "config_hash": chash,
                    "data_hash": dhash,
                }
            )
        return pd.DataFrame(rows)

    def studies(self) -> list[str]:
        """The names of the studies in this file."""
        return [n for (n,) in self._db.execute("SELECT name FROM studies ORDER BY name")]


def load_study(path: str | Path, name: str = "default") -> pd.DataFrame:
    """The rows of study ``name`` in the file ``path`` as a DataFrame (`Study.table`)."""
    if not Path(path).is_file():
        raise ConfigError(f"study {path}: no such file")
    with Study(path, name) as study:
        return study.table()
