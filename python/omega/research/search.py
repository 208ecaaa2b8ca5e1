"""Parameter search: grid, random and TPE (Optuna), with constraints and several objectives.

    optimize(bars, strategy, space, settings, *, method="grid" | "random" | "tpe",
             trials=None, objective="sharpe", constraints=None, seed=None, backend="auto",
             threads=None, batch=None, study=None, progress=None) -> OptimizeResult

``space`` maps each parameter to its values: a list or tuple (the choices), `IntRange` or
`FloatRange` (a range, optionally stepped or log-scaled), or a single value (fixed in every
set). ``constraints`` are expressions over the parameter names (``"fast < slow"``,
``"z_exit < z_entry and lookback >= 2 * atr_period"``) or callables ``f(params) -> bool``; a
set that breaks one is never run. ``objective`` is a metric name (maximised, except the
metrics of `MINIMISED`), a callable ``f(row) -> float`` of a result row (maximised), a
``(metric or callable, "max" | "min")`` pair, or a list of those for a multi-objective search.

Sets are evaluated in batches, each one `omega.research.backends.evaluate` call (one
`run_sweep` for a Rust strategy: the bars are resampled and the indicator series computed
once per batch); TPE asks Optuna for a batch of trials, runs them as one sweep and tells it
the results. With a `omega.research.study.Study`, every evaluated set is stored with its
config and data hashes, and a rerun reads what is already done instead of running it.

A basket: ``strategy`` is `omega.research.backends.Basket(config)` (a config with an
``instruments:`` list), ``bars`` its bars by symbol (`omega.basket.load_basket_bars`) and
``settings`` None; each set is one basket run (`omega.basket.run_basket_sweep`), its metrics
and objective the account's.

The result: ``.table`` (one row per evaluated set in evaluation order: ``trial``, the
parameters, every metric, ``error``, and ``objective`` or ``objective_1``, ``objective_2``
... for several objectives), ``.best`` (the parameters of the best set; several objectives:
the Pareto set best on the first), ``.pareto`` (the rows no other row beats on every
objective).
"""

from __future__ import annotations

import ast
import json
import logging
import math
import operator
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from omega.errors import ConfigError
from omega.research.backends import Basket, Strategy, evaluate

if TYPE_CHECKING:
    import pandas as pd

    from omega.data.bars import BarSeries
    from omega.engine.settings import EngineSettings
    from omega.research.study import Study

log = logging.getLogger(__name__)

METHODS = ("grid", "random", "tpe")
# Metrics where less is better: a bare name among these is minimised.
MINIMISED = frozenset(
    {
        "max_drawdown",
        "max_drawdown_pct",
        "max_drawdown_duration_bars",
        "max_drawdown_duration_seconds",
        "total_fees",
    }
)
Progress = Callable[[int, int], None]


# ------------------------------------------------------------------------------- space


@dataclass(frozen=True)
class IntRange:
    """Integers ``low..high`` (both included), every ``step``-th; ``log``: sampled log-uniformly
    (random, TPE; a grid takes every step)."""

    low: int
    high: int
    step: int = 1
    log: bool = False

    def __post_init__(self) -> None:
        if self.high < self.low or self.step < 1:
            raise ConfigError(f"IntRange({self.low}, {self.high}, step={self.step}): empty")
        if (self.high - self.low) % self.step:
            raise ConfigError(
                f"IntRange({self.low}, {self.high}, step={self.step}): high - low is no "
                "multiple of step"
            )
        if self.log and (self.low < 1 or self.step != 1):
            raise ConfigError("IntRange(log=True) needs low >= 1 and step 1")

    def values(self) -> list[int]:
        return list(range(self.low, self.high + 1, self.step))


@dataclass(frozen=True)
class FloatRange:
    """Floats in ``[low, high]``; with ``step``, the points ``low + k * step`` (decimal steps
    exact: 2.5, 2.75, 3.0); ``log``: sampled log-uniformly. A grid needs a step."""

    low: float
    high: float
    step: float | None = None
    log: bool = False

    def __post_init__(self) -> None:
        if not (self.high >= self.low) or (self.step is not None and not self.step > 0):
            raise ConfigError(f"FloatRange({self.low}, {self.high}, step={self.step}): empty")
        if self.log and (self.low <= 0 or self.step is not None):
            raise ConfigError("FloatRange(log=True) needs low > 0 and no step")
        if self.step is not None:
            low, high, step = (Decimal(str(v)) for v in (self.low, self.high, self.step))
            if (high - low) % step:
                raise ConfigError(
                    f"FloatRange({self.low}, {self.high}, step={self.step}): high - low is no "
                    "multiple of step"
                )

    def values(self) -> list[float]:
        if self.step is None:
            raise ConfigError(f"FloatRange({self.low}, {self.high}) has no step: a grid needs one")
        low, high, step = (Decimal(str(v)) for v in (self.low, self.high, self.step))
        count = int((high - low) / step) + 1
        return [float(low + k * step) for k in range(count)]


Spec = IntRange | FloatRange | Sequence[Any] | Any


def _is_choices(spec: Any) -> bool:
    return isinstance(spec, list | tuple)


def _check_space(space: Mapping[str, Spec]) -> dict[str, Spec]:
    if not space:
        raise ConfigError("the search space is empty: name at least one parameter")
    for name, spec in space.items():
        if _is_choices(spec) and not spec:
            raise ConfigError(f"space: {name!r} has no values")
    return dict(space)


def grid_sets(space: Mapping[str, Spec]) -> list[dict[str, Any]]:
    """Every combination of the space's values (the last name varies fastest)."""
    from omega.sweep import parameter_grid

    grid = {}
    for name, spec in _check_space(space).items():
        if isinstance(spec, IntRange | FloatRange):
            grid[name] = spec.values()
        elif _is_choices(spec):
            grid[name] = list(spec)
        else:
            grid[name] = [spec]
    return parameter_grid(grid)


def _sample(spec: Spec, rng: random.Random) -> Any:
    if isinstance(spec, IntRange):
        if spec.log:
            value = math.exp(rng.uniform(math.log(spec.low), math.log(spec.high + 1)))
            return min(int(value), spec.high)
        return rng.randrange(spec.low, spec.high + 1, spec.step)
    if isinstance(spec, FloatRange):
        if spec.step is not None:
            return rng.choice(spec.values())
        if spec.log:
            return math.exp(rng.uniform(math.log(spec.low), math.log(spec.high)))
        return rng.uniform(spec.low, spec.high)
    if _is_choices(spec):
        return spec[rng.randrange(len(spec))]
    return spec


def random_sets(
    space: Mapping[str, Spec],
    n: int,
    seed: int | None,
    constraints: Sequence[Constraint] = (),
) -> list[dict[str, Any]]:
    """``n`` distinct sets drawn from ``space`` that meet ``constraints`` (fewer when the
    space has fewer: drawing stops after ``100 * n`` tries)."""
    space = _check_space(space)
    rng = random.Random(seed)
    seen: set[str] = set()
    out: list[dict[str, Any]] = []
    for _ in range(100 * max(n, 1)):
        if len(out) >= n:
            break
        params = {name: _sample(spec, rng) for name, spec in space.items()}
        key = repr(sorted(params.items()))
        if key in seen:
            continue
        seen.add(key)
        if all(c(params) for c in constraints):
            out.append(params)
    if len(out) < n:
        log.warning("random search: only %d distinct valid sets found of %d asked", len(out), n)
    return out


# ------------------------------------------------------------------------------- constraints

Constraint = Callable[[Mapping[str, Any]], bool]

_BINARY = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.Mod: operator.mod,
}
_COMPARE = {
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
}


def parse_constraint(text: str) -> Constraint:
    """``"fast < slow"`` as a function of a parameter set: comparisons (chains too), ``and``,
    ``or``, ``not``, + - * / %, numbers, strings and parameter names; nothing else."""
    try:
        tree = ast.parse(text.strip(), mode="eval").body
    except SyntaxError as exc:
        raise ConfigError(f"constraint {text!r}: {exc.msg}") from None
    _check_node(tree, text)

    def constraint(params: Mapping[str, Any]) -> bool:
        return bool(_eval(tree, params, text))

    constraint.__name__ = f"constraint({text})"
    return constraint


def _check_node(node: ast.AST, text: str) -> None:
    allowed = (
        ast.Compare,
        ast.BoolOp,
        ast.BinOp,
        ast.UnaryOp,
        ast.Name,
        ast.Constant,
        ast.And,
        ast.Or,
        ast.Not,
        ast.USub,
        ast.UAdd,
        ast.Load,
        *_BINARY,
        *_COMPARE,
    )
    for child in ast.walk(node):
        if not isinstance(child, allowed):
            raise ConfigError(
                f"constraint {text!r}: {type(child).__name__} is not allowed (use comparisons, "
                "and/or/not, + - * / %, numbers and parameter names)"
            )


def _eval(node: ast.AST, params: Mapping[str, Any], text: str) -> Any:
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Name):
        if node.id not in params:
            raise ConfigError(f"constraint {text!r}: no parameter {node.id!r} in the set")
        return params[node.id]
    if isinstance(node, ast.UnaryOp):
        value = _eval(node.operand, params, text)
        if isinstance(node.op, ast.Not):
            return not value
        return -value if isinstance(node.op, ast.USub) else +value
    if isinstance(node, ast.BinOp):
        op = _BINARY[type(node.op)]
        return op(_eval(node.left, params, text), _eval(node.right, params, text))
    if isinstance(node, ast.BoolOp):
        values = (_eval(v, params, text) for v in node.values)
        return all(values) if isinstance(node.op, ast.And) else any(values)
    assert isinstance(node, ast.Compare)
    left = _eval(node.left, params, text)
    for op, right_node in zip(node.ops, node.comparators, strict=True):
        right = _eval(right_node, params, text)
        if not _COMPARE[type(op)](left, right):
            return False
        left = right
    return True


def _constraints(given: str | Constraint | Sequence[str | Constraint] | None) -> list[Constraint]:
    if given is None:
        return []
    if isinstance(given, str) or callable(given):
        given = [given]
    return [parse_constraint(c) if isinstance(c, str) else c for c in given]


# ------------------------------------------------------------------------------- objectives


@dataclass(frozen=True)
class Objective:
    """One objective: a metric name or a function of a result row, and its direction."""

    name: str
    direction: str  # "max" | "min"
    function: Callable[[Mapping[str, Any]], float] | None = None

    def value(self, row: Mapping[str, Any]) -> float:
        """The objective of a result row; NaN when the set failed or the value is missing."""
        if _failed(row):
            return math.nan
        raw = self.function(row) if self.function is not None else row.get(self.name)
        try:
            value = float(raw)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return math.nan
        return value


def _failed(row: Mapping[str, Any]) -> bool:
    error = row.get("error")
    return isinstance(error, str) and bool(error)


def objectives(given: Any) -> list[Objective]:
    """``objective`` of `optimize` as a list of `Objective` (see the module docs)."""
    if isinstance(given, str) or callable(given) or _is_pair(given):
        given = [given]
    if not isinstance(given, Sequence) or not given:
        raise ConfigError(f"objective {given!r}: expected a metric, a callable or a list")
    out = []
    for item in given:
        target, direction = item if _is_pair(item) else (item, None)
        if isinstance(target, str):
            name, function = target, None
        elif callable(target):
            name, function = getattr(target, "__name__", "objective"), target
        else:
            raise ConfigError(f"objective {target!r}: expected a metric name or a callable")
        if direction is None:
            direction = "min" if function is None and name in MINIMISED else "max"
        if direction not in ("max", "min"):
            raise ConfigError(f"objective {name!r}: direction {direction!r}, expected max or min")
        out.append(Objective(name, direction, function))
    return out


def _is_pair(item: Any) -> bool:
    return (
        isinstance(item, tuple)
        and len(item) == 2
        and isinstance(item[1], str)
        and item[1] in ("max", "min")
    )


def objective_columns(objs: Sequence[Objective]) -> list[str]:
    if len(objs) == 1:
        return ["objective"]
    return [f"objective_{i}" for i in range(1, len(objs) + 1)]


def pareto_front(
    table: pd.DataFrame, columns: Sequence[str], directions: Sequence[str]
) -> pd.DataFrame:
    """The rows of ``table`` that no other row beats on every column (at least as good on
    all, better on one), ignoring rows with a NaN; in the table's order."""
    import numpy as np

    values = table[list(columns)].to_numpy(dtype=np.float64, copy=True)
    for j, direction in enumerate(directions):
        if direction == "min":
            values[:, j] = -values[:, j]  # everything maximised from here
    valid = ~np.isnan(values).any(axis=1)
    keep = np.zeros(len(table), dtype=bool)
    candidates = values[valid]
    for i in np.flatnonzero(valid):
        row = values[i]
        dominated = np.any(np.all(candidates >= row, axis=1) & np.any(candidates > row, axis=1))
        keep[i] = not dominated
    return table[keep]


# ------------------------------------------------------------------------------- result


@dataclass
class OptimizeResult:
    """What `optimize` found: ``table`` (every evaluated set), ``best`` (its parameters),
    ``pareto`` (the non-dominated rows), and the objectives and directions used."""

    table: pd.DataFrame
    objectives: list[Objective]
    params: list[str]
    method: str
    skipped: int = 0  # sets read back from the study instead of run

    @property
    def columns(self) -> list[str]:
        return objective_columns(self.objectives)

    @property
    def directions(self) -> list[str]:
        return [o.direction for o in self.objectives]

    @property
    def pareto(self) -> pd.DataFrame:
        """Rows no other row beats on every objective (one objective: the best rows), each
        parameter set once."""
        front = pareto_front(self.table, self.columns, self.directions)
        return front.drop_duplicates(subset=self.params)

    @property
    def best_row(self) -> pd.Series:
        front = self.pareto
        if front.empty:
            raise ConfigError("no parameter set produced a value of the objective")
        column, direction = self.columns[0], self.directions[0]
        index = front[column].idxmax() if direction == "max" else front[column].idxmin()
        return front.loc[index]

    @property
    def best(self) -> dict[str, Any]:
        """The parameters of the best set (several objectives: the Pareto set best on the
        first)."""
        row = self.best_row
        return {name: _plain(row[name]) for name in self.params}

    def sorted(self) -> pd.DataFrame:
        """The table ranked by the first objective, best first (failed sets last)."""
        column = self.columns[0]
        return self.table.sort_values(
            column, ascending=self.directions[0] == "min", na_position="last", kind="stable"
        )


def _plain(value: Any) -> Any:
    """numpy scalars of a DataFrame row as Python values (what a strategy's params expect)."""
    item = getattr(value, "item", None)
    return item() if callable(item) else value


# ------------------------------------------------------------------------------- optimize


def optimize(
    bars: BarSeries | Mapping[str, BarSeries],
    strategy: Strategy,
    space: Mapping[str, Spec],
    settings: EngineSettings | None = None,
    *,
    method: str = "grid",
    trials: int | None = None,
    objective: Any = "sharpe",
    constraints: str | Constraint | Sequence[str | Constraint] | None = None,
    seed: int | None = None,
    backend: str = "auto",
    threads: int | None = None,
    batch: int | None = None,
    study: Study | None = None,
    progress: Progress | None = None,
) -> OptimizeResult:
    """Search ``space`` for the parameters of ``strategy`` that best meet ``objective``.

    ``method``: ``grid`` (every combination meeting the constraints; ``trials`` caps it),
    ``random`` (``trials`` distinct sets, seeded by ``seed``), ``tpe`` (Optuna's TPE sampler,
    ``trials`` sets, seeded; needs ``pip install omega[research]``). ``batch``: sets per
    evaluation call (default: 4 per thread, at least 16). ``study``: a
    `omega.research.study.Study` that stores every evaluated set; a rerun skips what is done.
    ``progress(done, total)`` counts the sets evaluated (read back from the study included).
    A basket (``strategy`` a `Basket`): ``bars`` by symbol, ``settings`` None.
    """
    from omega.research.backends import strategy_label

    if method not in METHODS:
        raise ConfigError(f"method {method!r}: expected one of {', '.join(METHODS)}")
    if trials is not None and trials < 1:
        raise ConfigError(f"trials must be >= 1, got {trials}")
    settings = _settings(bars, strategy, settings)
    space = _check_space(space)
    objs = objectives(objective)
    checks = _constraints(constraints)
    names = list(space)
    size = batch or max(32, 4 * (threads or _cores()))
    runner = _Runner(
        bars, strategy, settings, objs, backend, threads, study, strategy_label(strategy)
    )
    if study is not None:
        seed = study.begin(
            method=method, seed=seed, space=space, objectives=objs, strategy=runner.label
        )
    if method == "tpe":
        _tpe(runner, space, trials or 100, seed, checks, size, progress)
    else:
        if method == "grid":
            sets = [p for p in grid_sets(space) if all(c(p) for c in checks)]
            if trials is not None:
                sets = sets[:trials]
        else:
            sets = random_sets(space, trials or 100, seed, checks)
        for start in range(0, len(sets), size):
            runner.run(sets[start : start + size])
            if progress is not None:
                progress(runner.count, len(sets))
    return OptimizeResult(runner.table(), objs, names, method, skipped=runner.skipped)


def _cores() -> int:
    import os

    return os.cpu_count() or 1


def _settings(
    bars: Any, strategy: Strategy, settings: EngineSettings | None
) -> EngineSettings | None:
    """The settings `evaluate` is given: ``settings`` (default: ``bars``' instrument), None
    for a basket (its config holds them)."""
    from omega.engine.settings import EngineSettings

    if isinstance(strategy, Basket):
        if settings is not None:
            raise ConfigError("a basket's settings are its config's: give settings=None")
        if not isinstance(bars, Mapping):
            raise ConfigError("a basket's bars go by symbol: {symbol: BarSeries}")
        return None
    return settings if settings is not None else EngineSettings(instrument=bars.instrument)


class _Runner:
    """Evaluates batches of sets (through the study when there is one) and keeps the rows."""

    def __init__(
        self,
        bars: BarSeries | Mapping[str, BarSeries],
        strategy: Strategy,
        settings: EngineSettings | None,
        objs: list[Objective],
        backend: str,
        threads: int | None,
        study: Study | None,
        label: str,
    ) -> None:
        self.bars, self.strategy, self.settings = bars, strategy, settings
        self.objs, self.backend, self.threads, self.study = objs, backend, threads, study
        self.label = label
        # What a study keys the settings on: a basket's config holds its settings.
        self.key: Any = strategy.config if isinstance(strategy, Basket) else settings
        self.rows: list[dict[str, Any]] = []
        self.skipped = 0
        self.checked = False
        self.memo: dict[str, dict[str, Any]] = {}

    @property
    def count(self) -> int:
        return len(self.rows)

    def run(self, sets: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Rows of ``sets`` (run, or read back from the study), with their objective values.

        A set asked again (TPE may suggest a point twice) is not run again: its row repeats.
        """
        keys = [json.dumps(p, sort_keys=True, default=repr) for p in sets]
        fresh = {k: p for k, p in zip(keys, sets, strict=True) if k not in self.memo}
        if fresh:
            todo = list(fresh.values())
            if self.study is None:
                rows = self._evaluate(todo)
            else:
                rows, skipped = self.study.evaluate(
                    self.bars, self.label, self.key, todo, self._evaluate
                )
                self.skipped += skipped
            self._check_metrics(rows)
            self.memo.update(zip(fresh, rows, strict=True))
        return [self.adopt(dict(self.memo[k])) for k in keys]

    def adopt(self, row: dict[str, Any]) -> dict[str, Any]:
        """Append ``row`` to the table with its trial number and objective values."""
        row["trial"] = len(self.rows)
        for column, obj in zip(objective_columns(self.objs), self.objs, strict=True):
            row[column] = obj.value(row)
        self.rows.append(row)
        return row

    def _evaluate(self, sets: list[dict[str, Any]]) -> list[dict[str, Any]]:
        table = evaluate(
            self.bars,
            self.strategy,
            sets,
            self.settings,
            backend=self.backend,
            threads=self.threads,
        )
        return table.to_dict("records")

    def _check_metrics(self, rows: list[dict[str, Any]]) -> None:
        if self.checked:
            return
        done = next((r for r in rows if not _failed(r)), None)
        if done is None:
            return
        for obj in self.objs:
            if obj.function is None and obj.name not in done:
                known = ", ".join(k for k in done if isinstance(done[k], int | float))
                raise ConfigError(f"objective {obj.name!r} is no metric; metrics: {known}")
        self.checked = True

    def table(self) -> pd.DataFrame:
        import pandas as pd

        frame = pd.DataFrame(self.rows)
        if "trial" in frame:
            first = ["trial"]
            frame = frame[first + [c for c in frame.columns if c not in first]]
        return frame


def _optuna() -> Any:
    try:
        import optuna
    except ImportError:
        raise ConfigError(
            "method 'tpe' needs Optuna: pip install 'omega[research]' (or pip install optuna)"
        ) from None
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna


def _distributions(optuna: Any, space: Mapping[str, Spec]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Optuna distributions of the searched parameters, and the fixed ones."""
    dist = optuna.distributions
    searched: dict[str, Any] = {}
    fixed: dict[str, Any] = {}
    for name, spec in space.items():
        if isinstance(spec, IntRange):
            searched[name] = dist.IntDistribution(spec.low, spec.high, step=spec.step, log=spec.log)
        elif isinstance(spec, FloatRange):
            searched[name] = dist.FloatDistribution(
                spec.low, spec.high, step=spec.step, log=spec.log
            )
        elif _is_choices(spec):
            searched[name] = dist.CategoricalDistribution(list(spec))
        else:
            fixed[name] = spec
    return searched, fixed


def _snapped(space: Mapping[str, Spec], params: Mapping[str, Any]) -> dict[str, Any]:
    """Optuna's stepped floats on the range's exact decimal points (3.9, not
    3.9000000000000004), as a grid or a random search gives them."""
    out = dict(params)
    for name, value in params.items():
        spec = space[name]
        if isinstance(spec, FloatRange) and spec.step is not None:
            low, step = Decimal(str(spec.low)), Decimal(str(spec.step))
            k = round((Decimal(str(value)) - low) / step)
            out[name] = float(low + k * step)
    return out


def _in_spec(spec: Spec, value: Any) -> bool:
    """Whether ``value`` is one the searched ``spec`` can produce (a stored set of a study
    may come from another space)."""
    if isinstance(spec, IntRange):
        return (
            isinstance(value, int)
            and spec.low <= value <= spec.high
            and (value - spec.low) % spec.step == 0
        )
    if isinstance(spec, FloatRange):
        return isinstance(value, int | float) and spec.low <= value <= spec.high
    return value in spec


def _tpe(
    runner: _Runner,
    space: Mapping[str, Spec],
    trials: int,
    seed: int | None,
    checks: list[Constraint],
    size: int,
    progress: Progress | None,
) -> None:
    optuna = _optuna()
    searched, fixed = _distributions(optuna, space)
    directions = ["maximize" if o.direction == "max" else "minimize" for o in runner.objs]
    sampler = optuna.samplers.TPESampler(seed=seed, multivariate=True)
    study = optuna.create_study(directions=directions, sampler=sampler)
    columns = objective_columns(runner.objs)
    done = 0
    if runner.study is not None:
        # The sets this study already evaluated count as trials and teach the sampler.
        for row in runner.study.history(runner.label, runner.key, runner.bars):
            params = {k: row.get(k) for k in searched}
            inside = all(_in_spec(space[k], v) for k, v in params.items())
            if not inside or any(row.get(k) != v for k, v in fixed.items()):
                continue  # evaluated for another space: not a trial of this search
            row = runner.adopt(row)
            runner.skipped += 1
            done += 1
            values = [row[c] for c in columns]
            complete = not any(math.isnan(v) for v in values)
            state = optuna.trial.TrialState
            study.add_trial(
                optuna.trial.create_trial(
                    state=state.COMPLETE if complete else state.FAIL,
                    values=values if complete else None,
                    params=params,
                    distributions=searched,
                )
            )
    remaining = max(trials - done, 0)
    tries = 0

    def ask(n: int) -> tuple[list[Any], list[dict[str, Any]]]:
        """``n`` trials that meet the constraints (fewer if 100 tries per trial run out)."""
        nonlocal tries
        asked: list[Any] = []
        sets: list[dict[str, Any]] = []
        while len(sets) < n and tries < 100 * trials:
            tries += 1
            trial = study.ask(searched)
            params = {**fixed, **_snapped(space, trial.params)}
            if all(c(params) for c in checks):
                asked.append(trial)
                sets.append(params)
            else:  # never run; failed trials teach the sampler nothing
                study.tell(trial, state=optuna.trial.TrialState.FAIL)
        return asked, sets

    # The sampler asks for the next batch on a second thread while this one runs the current
    # batch in the core (which releases the GIL): its Python work and the sweep overlap. The
    # study is touched by one thread at a time: the results are told once the asking is done.
    # The next batch does not know the current one's results (Optuna's constant liar sees
    # them as running), as in any batched search.
    from concurrent.futures import ThreadPoolExecutor

    from omega.research.backends import resolve_backend

    # A process pool forks: never while the sampler's thread may hold a lock.
    overlap = resolve_backend(runner.backend, runner.strategy, size, runner.threads) != "process"
    with ThreadPoolExecutor(max_workers=1) as pool:
        asked, sets = ask(min(size, remaining)) if remaining else ([], [])
        while sets:
            remaining -= len(sets)
            upcoming = None
            if remaining and overlap:
                upcoming = pool.submit(ask, min(size, remaining))
            try:
                rows = runner.run(sets)
            finally:
                following = upcoming.result() if upcoming is not None else None
            for trial, row in zip(asked, rows, strict=True):
                values = [row[c] for c in columns]
                if any(math.isnan(v) for v in values):
                    study.tell(trial, state=optuna.trial.TrialState.FAIL)
                else:
                    study.tell(trial, values)
            if progress is not None:
                progress(runner.count, runner.count + remaining)
            if following is None:  # not asked while the batch ran: ask now, knowing it
                following = ask(min(size, remaining)) if remaining else ([], [])
            asked, sets = following
