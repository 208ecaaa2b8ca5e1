"""The research report in headless Chromium, network off: every chart drawn, no console error.
Skips where Chromium or selenium is missing."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed")
pytest.importorskip("omega._core", reason="the walk-forward runs the Rust sweep")

from omega.data import generate_synthetic  # noqa: E402
from omega.engine.settings import EngineSettings  # noqa: E402
from omega.report.data import LINE_BUCKETS  # noqa: E402
from omega.report.research import ResearchReport, write_research_report  # noqa: E402
from omega.research.robustness import (  # noqa: E402
    deflated_sharpe_ratio,
    monte_carlo,
    neighbourhood_stability,
    probability_of_backtest_overfitting,
)
from omega.research.walkforward import walk_forward  # noqa: E402
from omega.sweep import parameter_grid  # noqa: E402
from omega.timeframes import Timeframe  # noqa: E402

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None or DRIVER is None,
    reason="headless Chromium not found (Debian: apt-get install chromium chromium-driver)",
)

PROBE = """
const done = arguments[arguments.length - 1];
function canvases(root) {
  let n = 0;
  for (const el of root.querySelectorAll("*")) {
    if (el.tagName === "CANVAS" && el.width > 0 && el.height > 0) n += 1;
    if (el.shadowRoot) n += canvases(el.shadowRoot);
  }
  return n;
}
window.omegaResearch.ready.then(() => {
  const f = window.omegaResearch.figures;
  const count = (name) => canvases(document.getElementById(name));
  done({
    figures: Object.keys(f).sort(),
    canvases: ["omega-equity", "omega-fan", "omega-heatmap", "omega-logits"].map(count),
    cells: f.heatmap.renderers[0].data_source.data.x.length,
    equity_points: f.oos_equity.renderers[0].data_source.data.t.length,
    resources: performance.getEntriesByType("resource").map((e) => e.name),
  });
}).catch((error) => done({error: String(error)}));
"""


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    bars = generate_synthetic(n_bars=60_000, seed=3)
    settings = EngineSettings(
        instrument=bars.instrument,
        primary_timeframe=Timeframe.M5,
        timeframes=(Timeframe.M5, Timeframe.H1),
    )
    grid = parameter_grid({"lookback": [40, 80, 120], "z_entry": [2.0, 2.5]})
    wf = walk_forward(bars, "mean_reversion_z_score", grid, settings, train="3W", test="1W")
    table = wf.sweeps.groupby(["lookback", "z_entry"])["sharpe"].mean().reset_index()
    rng = np.random.default_rng(0)
    report = ResearchReport(
        title="test",
        walk_forward=wf,
        monte_carlo=monte_carlo(wf.trades, settings.initial_balance, n=100),
        actual_equity=np.concatenate(([1e5], 1e5 + wf.trades["pnl"].cumsum())),
        neighbourhood=neighbourhood_stability(table, "lookback", "z_entry"),
        dsr=deflated_sharpe_ratio(0.1, 1000, 6, 0.001),
        pbo=probability_of_backtest_overfitting(rng.normal(size=(40, 6)), 4),
        notes=["a note"],
    )
    return write_research_report(report, tmp_path_factory.mktemp("research") / "r.html"), wf


def test_every_chart_is_drawn_offline(page):
    from selenium.webdriver.chrome.service import Service

    path, wf = page
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    try:
        driver.set_script_timeout(60)
        driver.execute_cdp_cmd("Network.enable", {})
        driver.execute_cdp_cmd(
            "Network.emulateNetworkConditions",
            {"offline": True, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1},
        )
        driver.get(path.resolve().as_uri())
        probe = driver.execute_async_script(PROBE)
        logs = driver.get_log("browser")
        rows = len(driver.find_elements("css selector", "#omega-folds tr"))
    finally:
        driver.quit()
    assert "error" not in probe, probe
    assert probe["figures"] == ["heatmap", "logits", "mc_fan", "oos_equity"]
    assert all(n >= 1 for n in probe["canvases"]), probe["canvases"]
    assert probe["cells"] == 6
    # thinned to each bucket's low and high, as the backtest report's lines
    assert len(wf.equity) > 2 * LINE_BUCKETS and probe["equity_points"] == 2 * LINE_BUCKETS
    assert [r for r in probe["resources"] if not r.startswith("file:")] == []
    assert [e for e in logs if e["level"] == "SEVERE"] == []
    assert rows == len(wf.folds) + 1  # header row and one per fold
