// Omega research report: draws the out-of-sample equity, the Monte Carlo fan, the parameter
// heatmap and the PBO logits with BokehJS (embedded above this script) from #omega-research.
(function () {
  "use strict";
  const data = JSON.parse(document.getElementById("omega-research").textContent);
  const P = Bokeh.Plotting;
  const LINE = "#1f77b4", GREY = "#888888", FAN = "#1f77b4", DOWN = "#ef5350";
  const shown = {}, drawing = [];
  function source(name, columns) {
    return new Bokeh.ColumnDataSource({name: name, data: columns});
  }
  function place(id, fig) {
    shown[fig.name] = fig;
    drawing.push(P.show(fig, "#" + id));
  }

  if (data.equity) {
    const fig = P.figure({title: "Out-of-sample equity (folds stitched)", height: 320,
      sizing_mode: "stretch_width", x_axis_type: "datetime", y_axis_label: data.currency,
      tools: "xpan,xwheel_zoom,box_zoom,reset", name: "oos_equity"});
    fig.line({x: {field: "t"}, y: {field: "v"}, line_color: LINE,
      source: source("equity", data.equity)});
    for (const t of data.fold_starts) {
      fig.add_layout(new Bokeh.Span({location: t, dimension: "height", line_color: GREY,
        line_dash: "dotted"}));
    }
    fig.yaxis.formatter = new Bokeh.NumeralTickFormatter({format: "0,0"});
    place("omega-equity", fig);
  }

  if (data.fan) {
    const f = data.fan;
    const fig = P.figure({title: "Monte Carlo fan (" + f.method + ", " + f.runs +
      " runs): equity after each trade", height: 320, sizing_mode: "stretch_width",
      x_axis_label: "trade", y_axis_label: data.currency, tools: "pan,wheel_zoom,box_zoom,reset",
      name: "mc_fan"});
    const cols = {x: f.x};
    for (const k of Object.keys(f.bands)) cols[k] = f.bands[k];
    const src = source("fan", cols);
    const keys = Object.keys(f.bands);
    // Outer band (first and last percentile), then inner band, then the median line.
    const n = keys.length;
    for (let i = 0; i < Math.floor(n / 2); i++) {
      fig.varea({x: {field: "x"}, y1: {field: keys[i]}, y2: {field: keys[n - 1 - i]},
        fill_color: FAN, fill_alpha: 0.15 + 0.15 * i, source: src});
    }
    if (n % 2 === 1) {
      fig.line({x: {field: "x"}, y: {field: keys[(n - 1) / 2]}, line_color: FAN, line_width: 2,
        source: src, legend_label: "median"});
    }
    if (f.actual) {
      fig.line({x: {field: "x"}, y: {field: "v"}, line_color: DOWN, line_width: 1.5,
        source: source("actual", {x: f.x, v: f.actual}), legend_label: "actual order"});
    }
    fig.yaxis.formatter = new Bokeh.NumeralTickFormatter({format: "0,0"});
    place("omega-fan", fig);
  }

  if (data.heatmap) {
    const h = data.heatmap;
    const fig = P.figure({title: h.metric + " (best cell outlined)",
      height: Math.max(260, 45 * h.ys.length + 90), width: Math.max(420, 70 * h.xs.length + 120),
      x_range: new Bokeh.FactorRange({factors: h.xs}),
      y_range: new Bokeh.FactorRange({factors: h.ys}),
      x_axis_label: h.x, y_axis_label: h.y, tools: "", name: "heatmap"});
    fig.add_tools(new Bokeh.HoverTool({tooltips: [[h.x, "@x"], [h.y, "@y"], [h.metric, "@text"],
      ["neighbourhood mean", "@mean"]]}));
    const src = source("cells", h.cells);
    fig.rect({x: {field: "x"}, y: {field: "y"}, width: 1, height: 1,
      fill_color: {field: "color"}, line_color: {field: "edge"}, line_width: {field: "edge_width"},
      source: src});
    fig.text({x: {field: "x"}, y: {field: "y"}, text: {field: "text"}, text_align: "center",
      text_baseline: "middle", text_font_size: "11px", source: src});
    place("omega-heatmap", fig);
  }

  if (data.logits) {
    const l = data.logits;
    const fig = P.figure({title: "CSCV logits of the in-sample best's out-of-sample rank " +
      "(left of 0: overfit)", height: 260, sizing_mode: "stretch_width",
      x_axis_label: "logit", y_axis_label: "combinations", tools: "reset", name: "logits"});
    fig.quad({left: {field: "left"}, right: {field: "right"}, bottom: 0, top: {field: "count"},
      fill_color: LINE, fill_alpha: 0.6, line_color: "white", source: source("logits", l)});
    fig.add_layout(new Bokeh.Span({location: 0, dimension: "height", line_color: DOWN}));
    place("omega-logits", fig);
  }
  window.omegaResearch = {figures: shown, ready: Promise.all(drawing)};
})();
