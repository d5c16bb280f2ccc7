/* Charts from the daily rollups: every <figure class="chart" data-chart-url> fetches its JSON
   and draws it with Chart.js. No inline script (CSP); the figure's caption carries the text
   alternative the JSON's `summary` gives, and `empty` shows a note instead of a flat line. */
(function () {
  "use strict";
  // Dark enough for 3:1 against white (WCAG non-text contrast), told apart by more than hue.
  var COLOURS = ["#1f5fbf", "#b35900", "#2e7d32", "#6a3d9a"];
  var LIMIT = "#b00020";

  function money(value, currency) {
    var units = value / 10000;
    return units.toLocaleString(undefined, { maximumFractionDigits: 2 }) + (currency ? " " + currency : "");
  }

  function config(data) {
    var horizontal = !!data.horizontal;
    var datasets = data.datasets.map(function (set, i) {
      var colour = set.dashed ? LIMIT : COLOURS[i % COLOURS.length];
      var line = (set.type || data.type) === "line";
      return {
        type: set.type || data.type,
        label: set.label,
        data: set.data,
        yAxisID: set.yAxisID || (horizontal ? undefined : "y"),
        stack: set.stack,
        borderColor: colour,
        backgroundColor: line ? colour + "33" : colour,
        borderDash: set.dashed ? [6, 4] : undefined,
        fill: !!set.fill,
        pointRadius: line ? 2 : undefined,
        maxBarThickness: 28,
        spanGaps: true,
        order: line ? 0 : 1,
      };
    });
    var valueAxis = {
      beginAtZero: true,
      ticks: data.money ? { callback: function (v) { return money(v, data.currency); } } : { precision: 0 },
    };
    var scales = horizontal ? { x: valueAxis, y: { ticks: { autoSkip: false } } } : { x: { ticks: { maxRotation: 0, autoSkipPadding: 12 } }, y: valueAxis };
    // Stacked bars (usage by kind): datasets sharing a `stack` pile up; lines stay unstacked.
    if (data.stacked && !horizontal) { scales.x.stacked = true; valueAxis.stacked = true; }
    if (datasets.some(function (d) { return d.yAxisID === "percent"; })) {
      scales.percent = { position: "right", min: 0, max: 100, grid: { drawOnChartArea: false }, ticks: { callback: function (v) { return v + " %"; } } };
    }
    return {
      type: data.type,
      data: { labels: data.labels, datasets: datasets },
      options: {
        indexAxis: horizontal ? "y" : "x",
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        interaction: { mode: "index", intersect: false },
        scales: scales,
        plugins: {
          legend: { position: "bottom" },
          tooltip: data.money ? { callbacks: { label: function (c) { return c.dataset.label + ": " + money(c.parsed[horizontal ? "x" : "y"], data.currency); } } } : {},
        },
      },
    };
  }

  function load(figure) {
    var canvas = figure.querySelector("canvas");
    var caption = figure.querySelector("figcaption");
    var empty = figure.querySelector(".chart-empty");
    var base = figure.dataset.chartUrl;
    var url = base + (base.indexOf("?") < 0 ? "?" : "&") + "days=" + encodeURIComponent(figure.dataset.days || "");
    figure.setAttribute("aria-busy", "true");
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) { throw new Error(response.status); }
        return response.json();
      })
      .then(function (data) {
        caption.textContent = data.summary;
        canvas.setAttribute("aria-label", data.summary);
        if (figure.chart) { figure.chart.destroy(); figure.chart = null; }
        empty.hidden = !data.empty;
        canvas.parentElement.hidden = !!data.empty;
        if (!data.empty) { figure.chart = new window.Chart(canvas, config(data)); }
      })
      .catch(function () {
        caption.textContent = "The chart could not be loaded. Reload the page to try again.";
      })
      .finally(function () { figure.removeAttribute("aria-busy"); });
  }

  function init() {
    var figures = Array.prototype.slice.call(document.querySelectorAll("figure.chart[data-chart-url]"));
    figures.forEach(load);
    document.querySelectorAll("select.chart-range").forEach(function (select) {
      select.addEventListener("change", function () {
        figures.forEach(function (figure) {
          if (figure.dataset.days !== undefined && figure.dataset.fixedRange === undefined) {
            figure.dataset.days = select.value;
            load(figure);
          }
        });
      });
    });
  }

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", init); } else { init(); }
})();
