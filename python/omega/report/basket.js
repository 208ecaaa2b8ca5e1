// Omega basket report: the account's equity and drawdown, each instrument's P&L curve, every
// trade's P&L, the correlation heatmap (BokehJS, embedded above this script) from the JSON in
// #omega-data, and the sortable trade list with the symbols (trades.js). No network access.
(function () {
  "use strict";
  const data = JSON.parse(document.getElementById("omega-data").textContent);
  const P = Bokeh.Plotting;
  const T = data.trades;
  const nShown = T.exit_time.length;
  const DOWN = "#ef5350", LINE = "#1f77b4", GREY = "#888888";
  // Category10: one colour per instrument, in basket order (repeating past ten).
  const PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b",
    "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];
  const colorOf = Object.fromEntries(data.symbols.map((s, i) => [s, PALETTE[i % PALETTE.length]]));

  // One shared time range and one vertical crosshair line across the time panels.
  const xRange = new Bokeh.DataRange1d({range_padding: 0.01});
  const vline = new Bokeh.Span({dimension: "height", line_dash: "dashed", line_color: GREY});
  function panel(name, title, height, yLabel) {
    const fig = P.figure({
      name: name, title: title, height: height, sizing_mode: "stretch_width",
      x_axis_type: "datetime", x_range: xRange, y_axis_label: yLabel,
      tools: "xpan,xwheel_zoom,box_zoom,reset", min_border_left: 70,
    });
    fig.yaxis.formatter = new Bokeh.NumeralTickFormatter({format: "0,0.[00]"});
    const hline = new Bokeh.Span({dimension: "width", line_dash: "dotted", line_color: GREY});
    fig.add_tools(new Bokeh.CrosshairTool({overlay: [vline, hline]}));
    return fig;
  }
  function source(name, columns) {
    return new Bokeh.ColumnDataSource({name: name, data: columns});
  }
  function legendAt(fig, orientation) {
    fig.legend.setv({click_policy: "hide", location: "top_left", orientation: orientation,
      background_fill_alpha: 0.7});
  }

  // --- Account: equity and drawdown -------------------------------------------------------
  const equity = panel("equity", "Account equity (at each close)", 240, data.currency);
  equity.line({x: {field: "t"}, y: {field: "v"}, line_color: LINE, line_width: 1.5,
    source: source("equity", data.equity)});
  equity.add_layout(new Bokeh.Span({location: data.initial, dimension: "width",
    line_color: GREY, line_dash: "dashed"}));
  const drawdown = panel("drawdown", "Account drawdown", 140, "%");
  drawdown.varea({x: {field: "t"}, y1: {field: "v"}, y2: 0, fill_color: DOWN, fill_alpha: 0.5,
    source: source("drawdown", data.drawdown)});

  // --- Each instrument: its P&L curve, its trades' P&L at exit -----------------------------
  const curves = panel("instruments", "P&L by instrument (closed trades plus the open position)",
    300, data.currency);
  const curveSources = {};
  for (const c of data.instruments) {
    curveSources[c.symbol] = source("pnl_" + c.symbol, {t: c.t, v: c.v});
    curves.line({x: {field: "t"}, y: {field: "v"}, line_color: colorOf[c.symbol],
      line_width: 1.5, source: curveSources[c.symbol], legend_label: c.symbol,
      name: "pnl_" + c.symbol});
  }
  curves.add_layout(new Bokeh.Span({location: 0, dimension: "width", line_color: GREY}));
  legendAt(curves, "vertical");

  const tradePnl = panel("pnl", "Trade P/L (at exit)", 200, data.currency);
  const tradeSources = {};
  for (const symbol of data.symbols) {
    const rows = [];
    for (let i = 0; i < nShown; i++) if (T.symbol[i] === symbol) rows.push(i);
    if (!rows.length) continue;
    tradeSources[symbol] = source("trades_" + symbol, {
      exit_time: rows.map((i) => T.exit_time[i]), pnl: rows.map((i) => T.pnl[i]),
      reason: rows.map((i) => T.exit_reason[i]), symbol: rows.map(() => symbol),
    });
    tradePnl.scatter({x: {field: "exit_time"}, y: {field: "pnl"}, size: 6,
      fill_color: colorOf[symbol], line_color: colorOf[symbol], legend_label: symbol,
      source: tradeSources[symbol], name: "trades_" + symbol});
  }
  tradePnl.add_layout(new Bokeh.Span({location: 0, dimension: "width", line_color: GREY}));
  tradePnl.add_tools(new Bokeh.HoverTool({tooltips: [["symbol", "@symbol"],
    ["exit", "@exit_time{%F %T}"], ["reason", "@reason"], ["P/L", "@pnl{0,0.00}"]],
    formatters: {"@exit_time": "datetime"}}));
  // A row of symbols: seven stacked would not fit the panel's height.
  if (Object.keys(tradeSources).length) legendAt(tradePnl, "horizontal");

  const figures = [equity, drawdown, curves, tradePnl];
  const layout = P.gridplot(figures.map((f) => [f]), {
    merge_tools: true, toolbar_location: "right", sizing_mode: "stretch_width"});
  for (const proxy of layout.toolbar.tools) {
    const tool = proxy.tools ? proxy.tools[0] : proxy;
    if (tool instanceof Bokeh.WheelZoomTool) layout.toolbar.active_scroll = proxy;
  }

  // --- Correlation heatmap ----------------------------------------------------------------
  const h = data.correlation;
  const heatmap = P.figure({title: "Correlation of daily returns", name: "correlation",
    height: Math.max(260, 45 * h.symbols.length + 90),
    width: Math.max(360, 70 * h.symbols.length + 120),
    x_range: new Bokeh.FactorRange({factors: h.symbols}),
    y_range: new Bokeh.FactorRange({factors: h.symbols.slice().reverse()}), tools: ""});
  const cells = source("correlation", h.cells);
  heatmap.rect({x: {field: "x"}, y: {field: "y"}, width: 1, height: 1,
    fill_color: {field: "color"}, line_color: "white", source: cells});
  heatmap.text({x: {field: "x"}, y: {field: "y"}, text: {field: "text"}, text_align: "center",
    text_baseline: "middle", text_font_size: "11px", source: cells});
  heatmap.add_tools(new Bokeh.HoverTool({tooltips: [["", "@y / @x"], ["correlation", "@text"]]}));

  window.omegaReport = {
    figures: Object.fromEntries([...figures, heatmap].map((f) => [f.name, f])),
    sources: {curves: curveSources, trades: tradeSources, correlation: cells},
    nShown: nShown,
    ready: Promise.all([P.show(layout, "#omega-charts"), P.show(heatmap, "#omega-heatmap")]),
  };

  // --- Sortable trade list (omegaTrades: trades.js) -------------------------------------
  const table = document.getElementById("omega-trades");
  if (!table) return;
  const F = omegaTrades;
  F.table(table, nShown, T.pnl, [
    ["#", (i) => i + 1, String],
    ["symbol", (i) => T.symbol[i], F.esc],
    ["side", (i) => (T.side[i] > 0 ? "long" : "short"), String],
    ["entry time", (i) => T.entry_time[i], F.time],
    ["exit time", (i) => T.exit_time[i], F.time],
    ["size", (i) => T.size[i], F.fixed(2)],
    ["entry", (i) => T.entry_price[i], F.fixed(5)],
    ["exit", (i) => T.exit_price[i], F.fixed(5)],
    ["reason", (i) => T.exit_reason[i], F.esc],
    ["bars", (i) => T.bars_held[i], String],
    ["fees", (i) => T.fees[i], F.fixed(2)],
    ["P/L", (i) => T.pnl[i], F.fixed(2)],
  ]);
})();
