"""Fuzzing the configuration: malformed config files and ``--set`` values give a ConfigError
(or a valid config), never another exception.

Hypothesis mutates valid configs the ways they go wrong: bytes that are not UTF-8, truncated
text, deep nesting, aliases, non-finite and extreme numbers, wrong types, unknown keys. CI runs
a few examples; ``nox -s fuzz`` runs many (tests/conftest.py, profile ``fuzz``).
"""

from __future__ import annotations

import math
import tempfile
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from omega.config import BacktestConfig
from omega.config.model import MAX_ERROR_CHARS
from omega.errors import ConfigError

CI_EXAMPLES = 60


def fuzz_settings() -> settings:
    """The ``fuzz`` profile under ``--hypothesis-profile=fuzz``, else a small CI budget."""
    if settings.default is settings.get_profile("fuzz"):
        return settings(settings.default)
    return settings(
        max_examples=CI_EXAMPLES,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


# Keys of the config (leaves) with a value that is valid for them.
LEAVES = {
    "engine": "python",
    "trace": False,
    "timeframes.primary": "M5",
    "timeframes.extra": ["H1"],
    "instrument.symbol": "EURUSD",
    "instrument.pip_size": 0.0001,
    "account.initial_balance": 100000.0,
    "account.currency": "USD",
    "execution.intrabar_policy": "pessimistic",
    "execution.slippage.model": "fixed",
    "execution.slippage.pips": 0.5,
    "execution.slippage.seed": 3,
    "execution.fees.commission_per_lot": 3.5,
    "execution.sizing.mode": "fixed",
    "execution.sizing.lots": 1.0,
    "execution.break_even.trigger_pips": 10.0,
    "execution.break_even.offset_pips": 1.0,
    "execution.trailing.distance_pips": 15.0,
    "execution.max_bars_held": 10,
    "strategy.name": "mean_reversion_z_score",
    "strategy.params.z_entry": 2.5,
    "strategy.params.kalman_q": 0.01,
    "strategy.params.trend_timeframe": "H1",
    "strategy.params.lookback": 50,
    "data.synthetic.seed": 1,
    "data.synthetic.n_bars": 1000,
    "data.strict_quality": False,
}
ODD_VALUES = st.sampled_from(
    [
        math.inf, -math.inf, math.nan, 1e308, -1e308, 5e-324, 0, -1, 2**64, -(2**63), "",
        "inf", "nan", "1e999", "M0", "XXX", None, True, [], {}, [[]], {"a": 1}, "é", "\x00",
        0.1, 10**30, "2.5", [1, math.nan],
    ]
)  # fmt: skip


def nest(flat: dict[str, object]) -> dict[str, object]:
    out: dict[str, object] = {}
    for key, value in flat.items():
        node = out
        parts = key.split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})  # type: ignore[assignment]
        node[parts[-1]] = value
    return out


@st.composite
def configs(draw) -> dict[str, object]:
    """A config dict: some valid leaves, some replaced by odd values, maybe an unknown key."""
    keys = draw(st.lists(st.sampled_from(sorted(LEAVES)), max_size=8, unique=True))
    flat = {key: LEAVES[key] for key in keys}
    for key in draw(st.lists(st.sampled_from(keys), max_size=3)) if keys else []:
        flat[key] = draw(ODD_VALUES)
    if draw(st.booleans()) and draw(st.booleans()):
        flat[draw(st.sampled_from(["x", "execution.nope", "strategy.params.nope"]))] = 1
    return nest(flat)


def check_config(load) -> None:
    """The property: a config or a ConfigError of bounded length; nothing else."""
    try:
        config = load()
    except ConfigError as exc:
        assert len(str(exc)) <= MAX_ERROR_CHARS + 200
        return
    # Whatever was accepted is finite everywhere (docs/user-guide/config.md).
    for value in _floats(config.effective_dict()):
        assert math.isfinite(value)


def _floats(value):
    if isinstance(value, float):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _floats(item)
    elif isinstance(value, list):
        for item in value:
            yield from _floats(item)


@fuzz_settings()
@given(data=configs())
def test_fuzz_config_dict_gives_config_error_or_valid_config(data):
    check_config(lambda: BacktestConfig.from_dict(data))


@fuzz_settings()
@given(data=configs(), value=st.text(max_size=40), key=st.sampled_from(sorted(LEAVES)))
def test_fuzz_set_override_gives_config_error_or_valid_config(data, value, key):
    def load():
        return BacktestConfig.from_dict(data).apply_overrides([f"{key}={value}"])

    check_config(load)


def _mutate(draw, text: bytes) -> bytes:
    kind = draw(st.sampled_from(["truncate", "bad_bytes", "deep", "alias", "tabs", "utf16", "nul"]))
    at = draw(st.integers(0, len(text)))
    if kind == "truncate":
        return text[:at]
    if kind == "bad_bytes":
        return text[:at] + draw(st.sampled_from([b"\xe9", b"\xff", b"\x80\x80"])) + text[at:]
    if kind == "deep":
        depth = draw(st.sampled_from([31, 33, 200, 3000]))
        return text + b"\nx: " + b"[" * depth + b"]" * depth + b"\n"
    if kind == "alias":
        return b"a: &a [1, 2]\nb: &b [*a, *a, *a]\n" + text + b"\nzz: [*b, *b]\n"
    if kind == "tabs":
        return text.replace(b"  ", b"\t", 1)
    if kind == "utf16":
        return text.decode("utf-8", errors="replace").encode("utf-16")
    return text[:at] + b"\x00" + text[at:]


@fuzz_settings()
@given(data=configs(), st_data=st.data(), suffix=st.sampled_from([".yaml", ".json"]))
def test_fuzz_config_file_gives_config_error_or_valid_config(data, st_data, suffix):
    if suffix == ".json":
        import json

        text = json.dumps(data).encode()
    else:
        text = yaml.safe_dump(data, allow_unicode=True).encode()
    for _ in range(st_data.draw(st.integers(0, 3))):
        text = _mutate(st_data.draw, text)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"run{suffix}"
        path.write_bytes(text)
        check_config(lambda: BacktestConfig.from_file(path))
