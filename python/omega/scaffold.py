"""``omega new-strategy NAME``: a plugin crate, its Python twin and a parity test.

The scaffold is a working pair, not a stub: a momentum strategy whose indicator is defined in
the crate with the ``Indicator`` trait (declared in ``init`` on the run's primary timeframe)
next to a built-in ATR, exported with ``export_strategy!``, and the Python twin performing the
same float operations in the same order. The generated ``test_NAME_parity.py`` builds the
crate with cargo and runs `omega.plugin_check.check_plugin` on both: it passes as generated,
and keeps passing only while the two stay bit-identical.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from string import Template

from omega.errors import OmegaError

__all__ = ["API_VERSION_REQ", "Scaffold", "ScaffoldError", "new_strategy"]

#: The omega-strategy-api requirement of a crate scaffolded outside an Omega checkout.
API_VERSION_REQ = "0.2"

_NAME = re.compile(r"[a-z][a-z0-9_]*\Z")


class ScaffoldError(OmegaError):
    """``omega new-strategy`` refused: a bad name or an existing directory."""


@dataclass(frozen=True)
class Scaffold:
    """What `new_strategy` wrote."""

    directory: Path
    crate: str  # the Cargo package name
    library: str  # the file cargo builds on Linux (lib<crate with _>.so)
    twin: str  # module:Class of the Python twin (module = the file next to the crate)
    files: tuple[Path, ...]
    api_dependency: str  # the Cargo.toml dependency line


#: Environment variable naming a local omega-strategy-api crate to depend on by path.
API_PATH_ENV = "OMEGA_STRATEGY_API_PATH"


def _api_crate() -> Path | None:
    """omega-strategy-api's directory when omega runs from a source checkout."""
    crate = Path(__file__).resolve().parents[2] / "crates" / "strategy_api"
    return crate if (crate / "Cargo.toml").is_file() else None


def _given_api_crate(api_path: str | Path) -> Path:
    crate = Path(api_path).expanduser().resolve()
    if not (crate / "Cargo.toml").is_file():
        raise ScaffoldError(f"{crate} is not the omega-strategy-api crate (no Cargo.toml)")
    return crate


def new_strategy(
    name: str, directory: str | Path | None = None, *, api_path: str | Path | None = None
) -> Scaffold:
    """Write the crate ``<directory>/<name>`` (default: the current directory).

    ``name`` is a lowercase identifier (the strategy's registry name). The crate depends on
    omega-strategy-api by path: ``api_path``, else the ``OMEGA_STRATEGY_API_PATH``
    environment variable, else the repository's crates/strategy_api when omega runs from a
    source checkout; otherwise on the published version ``API_VERSION_REQ``. An existing
    target directory is never touched (`ScaffoldError`).
    """
    if not _NAME.match(name):
        raise ScaffoldError(
            f"strategy name {name!r}: use a lowercase identifier (letters, digits, _), "
            "e.g. my_breakout"
        )
    parent = Path(directory if directory is not None else Path.cwd()).expanduser().resolve()
    target = parent / name
    if target.exists():
        raise ScaffoldError(f"{target} already exists: refusing to overwrite it")
    given = api_path if api_path is not None else os.environ.get(API_PATH_ENV)
    api = _given_api_crate(given) if given else _api_crate()
    if api is not None:
        repo = api.parents[1]  # the checkout holding crates/strategy_api
        # relative inside the checkout (the tree can move), absolute outside it
        where = os.path.relpath(api, target) if target.is_relative_to(repo) else str(api)
        dependency = f'omega-strategy-api = {{ path = "{Path(where).as_posix()}" }}'
    else:
        dependency = f'omega-strategy-api = "{API_VERSION_REQ}"'
    struct = "".join(part.capitalize() for part in name.split("_") if part) or "Strategy"
    crate = f"omega-plugin-{name.replace('_', '-')}"
    values = {
        "name": name,
        "Struct": struct,
        "crate": crate,
        "dependency": dependency,
        "library": f"lib{crate.replace('-', '_')}",
    }
    files = {
        "Cargo.toml": _CARGO,
        "src/lib.rs": _LIB_RS,
        f"{name}_twin.py": _TWIN,
        f"test_{name}_parity.py": _TEST,
        ".gitignore": "/target\n",
    }
    target.mkdir(parents=True)
    written = []
    for relative, template in files.items():
        path = target / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(Template(template).substitute(values), encoding="utf-8")
        written.append(path)
    return Scaffold(
        directory=target,
        crate=crate,
        library=f"{values['library']}.so",
        twin=f"{name}_twin:{struct}",
        files=tuple(written),
        api_dependency=dependency,
    )


_CARGO = """\
# The Omega strategy plugin `$name` (scaffolded by `omega new-strategy`). Build it with
#   cargo build --release
# and run it with `strategy.plugin: target/release/$library.so` in a config.
[package]
name = "$crate"
version = "0.1.0"
edition = "2021"
publish = false

[lib]
crate-type = ["cdylib"]

[dependencies]
$dependency

# Its own workspace root, also when it sits inside another workspace's tree.
[workspace]

[lints.rust]
unsafe_code = "deny"

# `panic` must stay `unwind`: the plugin ABI turns a panic into an error instead of aborting.
[profile.release]
lto = "thin"
codegen-units = 4
panic = "unwind"
"""

_LIB_RS = """\
//! `$name`: an Omega strategy plugin (scaffolded by `omega new-strategy`).
//!
//! Long when the momentum (the close minus the close `period` bars back: this crate's own
//! indicator, declared on the run's primary timeframe) turns positive, short when it turns
//! negative, with a stop `stop_atr` built-in ATRs away; closed when the momentum turns
//! against the position. The Python twin is `${name}_twin.py`; `test_${name}_parity.py` runs
//! both through `omega.plugin_check.check_plugin` (or: `omega check-plugin LIB --twin
//! ${name}_twin.py:$Struct`).
//!
//! Twin rules (bit-identical results): the twin performs the same IEEE operations in the same
//! order (here one subtraction per bar and `stop_atr * atr`), no fused multiply-add, the same
//! NaN tests; see omega-strategy-api's `indicator` module docs.

use omega_strategy_api::abi::PluginStrategy;
use omega_strategy_api::{
    validate, CustomIndicator, DataSlice, Indicator, IndicatorHandle, IndicatorSpec, Limit,
    ParamSpec, ParamValue, Params, Position, PositionAction, PriceField, PriceSide, RunContext,
    Side, Strategy, StrategyError, TradeSignal,
};

/// The close minus the close `period` bars back; the first `period` outputs are NaN.
pub struct Momentum {
    period: usize,
    window: Vec<f64>,
    count: usize,
}

impl Momentum {
    pub fn new(period: usize) -> Self {
        Momentum {
            period,
            window: vec![0.0; period],
            count: 0,
        }
    }
}

impl Indicator for Momentum {
    type Input = f64;
    fn name(&self) -> &str {
        "${name}_momentum"
    }
    fn warmup_period(&self) -> usize {
        self.period
    }
    fn update(&mut self, x: f64) -> f64 {
        let slot = self.count % self.period;
        let old = self.window[slot];
        self.window[slot] = x;
        self.count += 1;
        if self.count <= self.period {
            f64::NAN
        } else {
            x - old
        }
    }
    fn reset(&mut self) {
        self.count = 0;
    }
}

pub const NAME: &str = "$name";

const PARAMS: &[ParamSpec] = &[
    ParamSpec::int("period", 20).min(Limit::incl(1.0)),
    ParamSpec::int("atr_period", 14).min(Limit::incl(1.0)),
    ParamSpec::float("stop_atr", 2.0).min(Limit::excl(0.0)),
];

pub struct $Struct {
    params: Params,
    momentum: IndicatorHandle,
    atr: IndicatorHandle,
}

impl PluginStrategy for $Struct {
    const NAME: &'static str = NAME;
    fn create(params: &[(String, ParamValue)]) -> Result<Self, String> {
        let params = validate(PARAMS, params).map_err(|e| format!("strategy {NAME}: {e}"))?;
        Ok($Struct {
            params,
            momentum: IndicatorHandle(0),
            atr: IndicatorHandle(0),
        })
    }
}

impl Strategy for $Struct {
    fn name(&self) -> &str {
        NAME
    }
    fn params(&self) -> Option<&Params> {
        Some(&self.params)
    }
    fn init(&mut self, ctx: &mut RunContext<'_>) -> Result<(), StrategyError> {
        let period = self.params.int("period") as usize;
        let atr_period = self.params.int("atr_period") as usize;
        // Both on the run's primary timeframe (whatever it is), bid side.
        self.momentum = ctx.custom(CustomIndicator::on_field(
            "${name}_momentum",
            &[period as f64],
            PriceSide::Bid,
            PriceField::Close,
            move || Momentum::new(period),
        ));
        self.atr = ctx.indicator(IndicatorSpec::Atr { period: atr_period });
        Ok(())
    }
    fn evaluate(&mut self, slice: &DataSlice<'_>) -> Result<Option<TradeSignal>, StrategyError> {
        let (now, before) = (slice.value(self.momentum), slice.value_at(self.momentum, 1));
        let atr = slice.value(self.atr);
        slice.record("momentum", now);
        if slice.position().is_some() || now.is_nan() || before.is_nan() || atr.is_nan() {
            return Ok(None);
        }
        let stop = self.params.float("stop_atr") * atr;
        if before <= 0.0 && now > 0.0 {
            let signal = TradeSignal::long().with_stop_loss_distance(stop);
            return Ok(Some(signal.with_tag("up")));
        }
        if before >= 0.0 && now < 0.0 {
            let signal = TradeSignal::short().with_stop_loss_distance(stop);
            return Ok(Some(signal.with_tag("down")));
        }
        Ok(None)
    }
    fn manage_position(
        &mut self,
        position: &Position,
        slice: &DataSlice<'_>,
    ) -> Result<Vec<PositionAction>, StrategyError> {
        let now = slice.value(self.momentum);
        let against = match position.side {
            Side::Long => now < 0.0,
            Side::Short => now > 0.0,
        };
        Ok(if against {
            vec![PositionAction::Close]
        } else {
            Vec::new()
        })
    }
}

omega_strategy_api::export_strategy!($Struct);
"""

_TWIN = '''\
"""The Python twin of the plugin `$name` (src/lib.rs): the same decisions, bit for bit.

Its indicator is a registered custom kind computed once per run by Omega's cache; every
float operation is the Rust one in the same order (one subtraction per bar, then
``stop_atr * atr``), so `omega check-plugin` finds the two identical.
"""

from __future__ import annotations

import math

from pydantic import Field

from omega.indicators import Indicator, IndicatorSpec, register_indicator
from omega.strategy import Close, RunContext, Strategy, StrategyParams, TradeSignal

NAN = math.nan


@register_indicator
class Momentum(Indicator):
    """The close minus the close ``period`` bars back; the first ``period`` outputs NaN."""

    kind = "${name}_momentum"
    name = "${name}_momentum"
    param_names = ("period",)
    input = "field"

    def __init__(self, period: int = 20) -> None:
        self.period = int(period)
        self.window = [0.0] * self.period
        self.reset()

    @property
    def warmup_period(self) -> int:
        return self.period

    def reset(self) -> None:
        self.count = 0

    def update(self, value: float) -> float:
        slot = self.count % self.period
        old = self.window[slot]
        self.window[slot] = value
        self.count += 1
        return NAN if self.count <= self.period else value - old


class $Struct(Strategy):
    """Twin of the Rust plugin (the same parameters and defaults)."""

    name = "$name"

    class Params(StrategyParams):
        period: int = Field(20, ge=1, description="momentum lookback (primary, bid close)")
        atr_period: int = Field(14, ge=1, description="ATR period of the stop")
        stop_atr: float = Field(2.0, gt=0, description="stop distance in ATRs")

    def init(self, ctx: RunContext) -> None:
        # both on the run's primary timeframe, bid side (the defaults of ctx.indicator)
        momentum = IndicatorSpec.of("${name}_momentum", period=self.params.period)
        self.momentum = ctx.indicator(momentum)
        self.atr = ctx.indicator(IndicatorSpec.of("atr", period=self.params.atr_period))

    def evaluate(self, data):
        now, before = data.value(self.momentum), data.value(self.momentum, 1)
        atr = data.value(self.atr)
        data.record("momentum", now)
        if data.position is not None or math.isnan(now) or math.isnan(before) or math.isnan(atr):
            return None
        stop = self.params.stop_atr * atr
        if before <= 0.0 and now > 0.0:
            return TradeSignal.long(stop_loss_distance=stop, tag="up")
        if before >= 0.0 and now < 0.0:
            return TradeSignal.short(stop_loss_distance=stop, tag="down")
        return None

    def manage_position(self, position, data):
        now = data.value(self.momentum)
        against = now < 0.0 if position.is_long else now > 0.0
        return [Close()] if against else []
'''

_TEST = '''\
"""Parity of the plugin `$name` with its Python twin: `omega.plugin_check.check_plugin` runs
both over M1, M5 and M15 primaries (one with an H1 extra timeframe), every intrabar policy,
fixed and risk-percent sizing, with and without slippage, and compares them exactly."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
LIBRARY = "${library}"
SUFFIX = {"darwin": ".dylib", "win32": ".dll"}.get(sys.platform, ".so")


def build_plugin() -> Path:
    """``cargo build`` (dev profile; CARGO_TARGET_DIR if set, else ./target); the library."""
    cargo = shutil.which("cargo")
    if cargo is None:
        pytest.skip("cargo not found: cannot build the plugin")
    target = Path(os.environ.get("CARGO_TARGET_DIR", HERE / "target"))
    done = subprocess.run(
        [cargo, "build", "--quiet", "--manifest-path", str(HERE / "Cargo.toml")],
        env={**os.environ, "CARGO_TARGET_DIR": str(target)},
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stderr
    stem = LIBRARY.removeprefix("lib") if sys.platform == "win32" else LIBRARY
    library = target / "debug" / f"{stem}{SUFFIX}"
    assert library.is_file(), f"cargo built no {library}"
    return library


def test_the_plugin_matches_its_python_twin() -> None:
    pytest.importorskip("omega._core", reason="the Rust extension omega._core is not built")
    from rich.console import Console

    from omega.plugin_check import check_plugin, print_report

    report = check_plugin(build_plugin(), f"{HERE / '${name}_twin.py'}:$Struct", n_bars=20_000)
    if not report.ok:
        console = Console(record=True, width=200)
        print_report(report, console)
        pytest.fail(console.export_text())
    assert sum(r.trades for r in report.results) > 0, "the strategy never traded"
'''
