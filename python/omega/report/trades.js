// Omega reports: the sortable trade list and the cell formats both pages use (report.js and
// basket.js run after this script). No network access.
window.omegaTrades = (function () {
  "use strict";
  const esc = (text) => String(text).replace(/[&<>"']/g, (c) => "&#" + c.charCodeAt(0) + ";");
  const time = (ms) => new Date(ms).toISOString().replace("T", " ").slice(0, 19);
  const fixed = (digits) => (v) => (v === null ? "" : v.toLocaleString("en-US",
    {minimumFractionDigits: digits, maximumFractionDigits: digits}));

  // Fills `element` (a <table>) with `n` trades, winners and losers by `pnl`; `columns` are
  // [header, value of trade i, how a value shows]. A header click sorts by its column (again:
  // the other way); ties keep trade order.
  function table(element, n, pnl, columns) {
    const head = element.createTHead().insertRow();
    const body = element.createTBody();
    const order = Array.from({length: n}, (_, i) => i);
    function fill() {
      body.innerHTML = order.map((i) => "<tr class='" + (pnl[i] > 0 ? "win" : "loss") + "'>" +
        columns.map(([, get, show]) => "<td>" + show(get(i)) + "</td>").join("") + "</tr>")
        .join("");
    }
    let sorted = {column: 0, ascending: true};
    columns.forEach(([name, get], c) => {
      const th = document.createElement("th");
      th.textContent = name;
      th.title = "sort";
      th.addEventListener("click", () => {
        const ascending = sorted.column === c ? !sorted.ascending : true;
        sorted = {column: c, ascending: ascending};
        const key = (i) => { const v = get(i); return v === null ? -Infinity : v; };
        order.sort((a, b) => {
          const ka = key(a), kb = key(b);
          const cmp = ka < kb ? -1 : ka > kb ? 1 : a - b;
          return ascending ? cmp : -cmp;
        });
        fill();
      });
      head.appendChild(th);
    });
    fill();
  }

  return {esc: esc, time: time, fixed: fixed, table: table};
})();
