"""The report in a real browser: headless Chromium, network off, no console errors, every panel
drawn and one entry/exit marker pair per trade. Skips where Chromium or selenium is missing."""

from __future__ import annotations

import shutil

import pytest

from omega.config import default_config
from omega.report import write_report
from omega.runner import Backend, run_backtest

webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed")

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None or DRIVER is None,
    reason="headless Chromium not found (Debian: apt-get install chromium chromium-driver)",
)

# Resolves once BokehJS has drawn the layout; returns what the test checks.
PROBE = """
const done = arguments[arguments.length - 1];
function canvases(root) {  // BokehJS draws inside shadow roots
  let n = 0;
  for (const el of root.querySelectorAll("*")) {
    if (el.tagName === "CANVAS" && el.width > 0 && el.height > 0) n += 1;
    if (el.shadowRoot) n += canvases(el.shadowRoot);
  }
  return n;
}
window.omegaReport.ready.then(() => {
  const r = window.omegaReport;
  const figures = Object.values(r.figures);
  const rendered = (name) => r.figures.price.renderers.filter((g) => g.name === name).length;
  done({
    figures: Object.keys(r.figures),
    titles: figures.map((f) => f.title.text),
    shared_x: figures.every((f) => f.x_range === figures[0].x_range),
    canvases: canvases(document.getElementById("omega-charts")),
    entries: rendered("entries") ? r.sources.entries.data : null,
    exits: r.sources.exits.data,
    exit_renderers: rendered("exits"),
    rows: document.querySelectorAll("#omega-trades tbody tr").length,
    stats: document.querySelectorAll("#omega-stats table").length,
    resources: performance.getEntriesByType("resource").map((e) => e.name),
  });
}).catch((error) => done({error: String(error)}));
"""

ZOOM = """
const done = arguments[arguments.length - 1];
const r = window.omegaReport, price = r.figures.price, x = price.x_range;
const before = [price.y_range.start, price.y_range.end];
x.setv({start: arguments[0], end: arguments[1]});
done({before: before, after: [price.y_range.start, price.y_range.end],
      equity_x: [r.figures.equity.x_range.start, r.figures.equity.x_range.end]});
"""


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    config = default_config().apply_overrides(["data.synthetic.n_bars=20000"])
    result = run_backtest(config, env={}, backend=Backend(core_available=False))
    path = write_report(result, tmp_path_factory.mktemp("report") / "report.html")
    return result, path


def _chromium():
    """Headless Chromium with the network off."""
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"):
        options.add_argument(argument)
    options.add_argument("--window-size=1400,1800")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    driver.set_script_timeout(60)
    # Network off: any request the page made would fail and show in the console.
    driver.execute_cdp_cmd("Network.enable", {})
    driver.execute_cdp_cmd(
        "Network.emulateNetworkConditions",
        {"offline": True, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1},
    )
    return driver


@pytest.fixture(scope="module")
def browser():
    driver = _chromium()
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def opened(report, browser):
    _, path = report
    browser.get(path.resolve().as_uri())
    probe = browser.execute_async_script(PROBE)
    logs = browser.get_log("browser")
    return probe, logs


def test_no_console_errors_and_nothing_fetched(opened):
    probe, logs = opened
    assert "error" not in probe, probe
    problems = [entry for entry in logs if entry["level"] in ("SEVERE", "WARNING")]
    assert problems == []
    assert probe["resources"] == []


def test_the_panels_are_drawn_on_one_time_axis(opened):
    probe, _ = opened
    assert probe["figures"] == ["price", "equity", "drawdown", "pnl"]
    assert probe["titles"][0] == "Price (bid, M5)"
    assert probe["shared_x"]
    assert probe["canvases"] >= 1  # BokehJS composes the grid's panels on its canvases
    assert probe["stats"] == 5


def test_one_marker_pair_per_trade(opened, report):
    probe, _ = opened
    result, _ = report
    trades = result.raw.trades
    n = result.raw.n_trades
    assert n > 0
    assert probe["entries"] is not None and probe["exit_renderers"] == 1
    assert probe["entries"]["time"] == (trades["entry_time"] // 1_000_000).tolist()
    assert probe["entries"]["price"] == trades["entry_price"].tolist()
    assert probe["exits"]["time"] == (trades["exit_time"] // 1_000_000).tolist()
    assert probe["exits"]["price"] == trades["exit_price"].tolist()
    assert probe["rows"] == n


def test_zoom_follows_on_every_panel_and_fits_the_price_axis(opened, report, browser):
    result, _ = report
    trades = result.raw.trades
    start, end = int(trades["entry_time"][0] // 1_000_000), int(trades["exit_time"][0] // 1e6)
    zoom = browser.execute_async_script(ZOOM, start - 3_600_000, end + 3_600_000)
    assert zoom["equity_x"] == [start - 3_600_000, end + 3_600_000]
    before, after = zoom["before"], zoom["after"]
    assert after[1] - after[0] < (before[1] - before[0]) / 2  # the price axis zoomed in too


def test_trade_list_sorts_by_a_clicked_column(opened, report, browser):
    from selenium.webdriver.common.by import By

    result, _ = report
    headers = browser.find_elements(By.CSS_SELECTOR, "#omega-trades thead th")
    pnl_header = next(h for h in headers if h.text == "P/L")
    pnl_header.click()
    first = browser.find_element(By.CSS_SELECTOR, "#omega-trades tbody tr td:last-child").text
    assert float(first.replace(",", "")) == pytest.approx(result.raw.trades["pnl"].min(), abs=0.01)


# ------------------------------------------------------------------ a basket's report

BASKET_PROBE = """
const done = arguments[arguments.length - 1];
window.omegaReport.ready.then(() => {
  const r = window.omegaReport;
  const timePanels = ["equity", "drawdown", "instruments", "pnl"].map((n) => r.figures[n]);
  const lines = r.figures.instruments.renderers.filter((g) => g.name && g.name.startsWith("pnl_"));
  done({
    figures: Object.keys(r.figures),
    shared_x: timePanels.every((f) => f.x_range === timePanels[0].x_range),
    legend: r.figures.instruments.legend.items.map((item) => item.label.value),
    click_policy: r.figures.instruments.legend.click_policy,
    lines: lines.map((g) => g.name),
    curve_points: Object.values(r.sources.curves).map((s) => s.data.v.length),
    trade_points: Object.values(r.sources.trades).reduce((n, s) => n + s.data.pnl.length, 0),
    cells: r.sources.correlation.data.x.length,
    rows: document.querySelectorAll("#omega-trades tbody tr").length,
    resources: performance.getEntriesByType("resource").map((e) => e.name),
  });
}).catch((error) => done({error: String(error)}));
"""


@pytest.fixture(scope="module")
def basket_page(tmp_path_factory):
    """The shortened example basket's report in its own browser."""
    from pathlib import Path

    from omega.basket import run_basket
    from omega.config import BacktestConfig
    from omega.report.basket import write_basket_report

    example = Path(__file__).resolve().parent.parent / "examples" / "basket.yaml"
    config = BacktestConfig.from_file(example).apply_overrides(
        ["data.synthetic.n_bars=20000", "engine=python"]
    )
    basket = run_basket(config, env={}, backend=Backend(core_available=False))
    path = write_basket_report(basket, tmp_path_factory.mktemp("basket") / "report.html")
    driver = _chromium()
    driver.get(path.resolve().as_uri())
    probe = driver.execute_async_script(BASKET_PROBE)
    logs = driver.get_log("browser")
    yield basket, driver, probe, logs
    driver.quit()


def test_basket_report_draws_without_errors_or_requests(basket_page):
    _, _, probe, logs = basket_page
    assert "error" not in probe, probe
    assert [entry for entry in logs if entry["level"] in ("SEVERE", "WARNING")] == []
    assert probe["resources"] == []


def test_basket_report_panels(basket_page):
    basket, _, probe, _ = basket_page
    assert probe["figures"] == ["equity", "drawdown", "instruments", "pnl", "correlation"]
    assert probe["shared_x"]
    assert probe["legend"] == basket.symbols  # one P&L line per instrument, named in a legend
    assert probe["click_policy"] == "hide"
    assert probe["lines"] == [f"pnl_{s}" for s in basket.symbols]
    assert all(n > 0 for n in probe["curve_points"])
    n = basket.account.raw.n_trades
    assert probe["trade_points"] == n > 0  # every trade's P/L marker, in its instrument's colour
    assert probe["rows"] == n
    assert probe["cells"] == len(basket.symbols) ** 2


def test_basket_trade_list_sorts_by_symbol(basket_page):
    from selenium.webdriver.common.by import By

    basket, driver, _, _ = basket_page
    headers = driver.find_elements(By.CSS_SELECTOR, "#omega-trades thead th")
    next(h for h in headers if h.text == "symbol").click()
    first = driver.find_element(By.CSS_SELECTOR, "#omega-trades tbody tr td:nth-child(2)").text
    assert first == min(basket.symbols)
