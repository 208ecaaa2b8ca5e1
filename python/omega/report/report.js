// Omega backtest report: draws the charts with BokehJS (embedded above this script) from the
// JSON in #omega-data, and the sortable trade list (trades.js). No network access.
(function () {
  "use strict";
  const data = JSON.parse(document.getElementById("omega-data").textContent);
  const P = Bokeh.Plotting;
  const T = data.trades;
  const nShown = T.entry_time.length;
  const UP = "#26a69a", DOWN = "#ef5350", LINE = "#1f77b4", GREY = "#888888";

  // One shared time range and one vertical crosshair line across every panel.
  const xRange = new Bokeh.DataRange1d({range_padding: 0.01});
  const vline = new Bokeh.Span({dimension: "height", line_dash: "dashed", line_color: GREY});
  function panel(name, title, height, yLabel) {
    const fig = P.figure({
      name: name, title: title, height: height, sizing_mode: "stretch_width",
      x_axis_type: "datetime", x_range: xRange, y_axis_label: yLabel,
      tools: "xpan,xwheel_zoom,box_zoom,reset", min_border_left: 70,
    });
    fig.yaxis.formatter = new Bokeh.NumeralTickFormatter({format: name === "price" ? "0.0000[0]" : "0,0.[00]"});
    const hline = new Bokeh.Span({dimension: "width", line_dash: "dotted", line_color: GREY});
    fig.add_tools(new Bokeh.CrosshairTool({overlay: [vline, hline]}));
    return fig;
  }
  function source(name, columns) {
    return new Bokeh.ColumnDataSource({name: name, data: columns});
  }
  function pick(values, mask) { return values.filter((_, i) => mask[i]); }

  // --- Price: candles of the primary timeframe, trades, SL/TP levels -----------------------
  const price = panel("price", data.candles
    ? "Price (bid, " + data.candles_label + ")" : "Trades (no price data in this result)",
    380, "price");
  if (data.candles) {
    const c = data.candles;
    const up = c.close.map((v, i) => v >= c.open[i]);
    const mid = c.time.map((t) => t + c.width / 2);
    const candles = source("candles", {
      time: mid, open: c.open, high: c.high, low: c.low, close: c.close,
      color: up.map((u) => (u ? UP : DOWN)),
    });
    price.segment({x0: {field: "time"}, y0: {field: "high"}, x1: {field: "time"},
      y1: {field: "low"}, line_color: {field: "color"}, source: candles});
    price.vbar({x: {field: "time"}, width: c.width * 0.8, top: {field: "open"},
      bottom: {field: "close"}, fill_color: {field: "color"}, line_color: {field: "color"},
      source: candles, name: "candles"});
  }
  const win = T.pnl.map((v) => v > 0);
  const tradeColor = win.map((w) => (w ? UP : DOWN));
  const trades = source("trades", {
    entry_time: T.entry_time, exit_time: T.exit_time, entry_price: T.entry_price,
    exit_price: T.exit_price, pnl: T.pnl, color: tradeColor,
    side: T.side.map((s) => (s > 0 ? "long" : "short")),
  });
  price.segment({x0: {field: "entry_time"}, y0: {field: "entry_price"},
    x1: {field: "exit_time"}, y1: {field: "exit_price"}, line_color: {field: "color"},
    line_width: 2, line_dash: "dashed", source: trades});
  // Stop-loss and take-profit levels (as at exit) drawn over the life of the trade.
  for (const [key, color] of [["sl", DOWN], ["tp", UP]]) {
    const has = T[key].map((v) => v !== null);
    price.segment({x0: {field: "t0"}, x1: {field: "t1"}, y0: {field: "y"}, y1: {field: "y"},
      line_color: color, line_width: 1.5, line_alpha: 0.8,
      source: source(key, {t0: pick(T.entry_time, has), t1: pick(T.exit_time, has),
        y: pick(T[key], has)}), name: key});
  }
  const entries = source("entries", {
    time: T.entry_time, price: T.entry_price,
    marker: T.side.map((s) => (s > 0 ? "triangle" : "inverted_triangle")),
    side: T.side.map((s) => (s > 0 ? "long" : "short")), pnl: T.pnl,
  });
  const exits = source("exits", {
    time: T.exit_time, price: T.exit_price, color: tradeColor, pnl: T.pnl,
    reason: T.exit_reason,
  });
  const entryMarks = price.scatter({x: {field: "time"}, y: {field: "price"},
    marker: {field: "marker"}, size: 11, fill_color: LINE, line_color: "#0b3d66",
    source: entries, name: "entries"});
  const exitMarks = price.scatter({x: {field: "time"}, y: {field: "price"}, marker: "x",
    size: 11, line_color: {field: "color"}, line_width: 2.5, source: exits, name: "exits"});
  price.add_tools(new Bokeh.HoverTool({renderers: [entryMarks],
    tooltips: [["entry", "@time{%F %T}"], ["side", "@side"], ["price", "@price{0.00000}"],
      ["P/L", "@pnl{0,0.00}"]], formatters: {"@time": "datetime"}}));
  price.add_tools(new Bokeh.HoverTool({renderers: [exitMarks],
    tooltips: [["exit", "@time{%F %T}"], ["reason", "@reason"], ["price", "@price{0.00000}"],
      ["P/L", "@pnl{0,0.00}"]], formatters: {"@time": "datetime"}}));

  // --- Equity, drawdown, trade P/L --------------------------------------------------------
  const equity = panel("equity", "Equity (at each primary bar close)", 200, data.currency);
  equity.line({x: {field: "t"}, y: {field: "v"}, line_color: LINE,
    source: source("equity", data.equity)});
  equity.add_layout(new Bokeh.Span({location: data.initial, dimension: "width",
    line_color: GREY, line_dash: "dashed"}));
  const drawdown = panel("drawdown", "Drawdown", 140, "%");
  drawdown.varea({x: {field: "t"}, y1: {field: "v"}, y2: 0, fill_color: DOWN, fill_alpha: 0.5,
    source: source("drawdown", data.drawdown)});
  const pnl = panel("pnl", "Trade P/L (at exit)", 160, data.currency);
  pnl.segment({x0: {field: "exit_time"}, x1: {field: "exit_time"}, y0: 0, y1: {field: "pnl"},
    line_color: {field: "color"}, line_width: 2, source: trades});
  pnl.scatter({x: {field: "exit_time"}, y: {field: "pnl"}, size: 6, fill_color: {field: "color"},
    line_color: {field: "color"}, source: trades, name: "pnl_marks"});
  pnl.add_layout(new Bokeh.Span({location: 0, dimension: "width", line_color: GREY}));

  const figures = [price, equity, drawdown, pnl];
  const layout = P.gridplot(figures.map((f) => [f]), {
    merge_tools: true, toolbar_location: "right", sizing_mode: "stretch_width"});
  // Wheel zoom on by default (the merged toolbar holds one proxy per tool kind).
  for (const proxy of layout.toolbar.tools) {
    const tool = proxy.tools ? proxy.tools[0] : proxy;
    if (tool instanceof Bokeh.WheelZoomTool) layout.toolbar.active_scroll = proxy;
  }

  // Fit the price and equity panels' vertical range to what is in view after a zoom or pan.
  function autoscale(fig, t, lo, hi) {
    if (!t.length) return;
    const range = new Bokeh.Range1d({start: Math.min(...lo), end: Math.max(...hi)});
    fig.y_range = range;
    function fit() {
      let a = Infinity, b = -Infinity;
      for (let i = 0; i < t.length; i++) {
        if (t[i] >= xRange.start && t[i] <= xRange.end) {
          if (lo[i] < a) a = lo[i];
          if (hi[i] > b) b = hi[i];
        }
      }
      if (a <= b) {
        const pad = (b - a) * 0.05 || Math.abs(b) * 0.001 || 1;
        range.setv({start: a - pad, end: b + pad});
      }
    }
    xRange.connect(xRange.properties.start.change, fit);
    xRange.connect(xRange.properties.end.change, fit);
  }
  if (data.candles) {
    const c = data.candles;
    autoscale(price, c.time.map((t) => t + c.width / 2), c.low, c.high);
  }
  autoscale(equity, data.equity.t, data.equity.v, data.equity.v);

  window.omegaReport = {
    figures: Object.fromEntries(figures.map((f) => [f.name, f])),
    sources: {entries: entries, exits: exits, trades: trades},
    nShown: nShown,
    ready: P.show(layout, "#omega-charts"),
  };

  // --- Sortable trade list (omegaTrades: trades.js) -------------------------------------
  const table = document.getElementById("omega-trades");
  if (!table) return;
  const F = omegaTrades;
  F.table(table, nShown, T.pnl, [
    ["#", (i) => i + 1, String],
    ["side", (i) => (T.side[i] > 0 ? "long" : "short"), String],
    ["entry time", (i) => T.entry_time[i], F.time],
    ["exit time", (i) => T.exit_time[i], F.time],
    ["size", (i) => T.size[i], F.fixed(2)],
    ["entry", (i) => T.entry_price[i], F.fixed(5)],
    ["exit", (i) => T.exit_price[i], F.fixed(5)],
    ["SL", (i) => T.sl[i], F.fixed(5)],
    ["TP", (i) => T.tp[i], F.fixed(5)],
    ["reason", (i) => T.exit_reason[i], F.esc],
    ["bars", (i) => T.bars_held[i], String],
    ["fees", (i) => T.fees[i], F.fixed(2)],
    ["P/L", (i) => T.pnl[i], F.fixed(2)],
  ]);
})();
