/* Report charts, drawn with the vendored Chart.js from the tables beside them: a canvas names
   its table (data-table); the row headers are the labels, each column header with data-series
   a data set, each cell's data-value its number. So the chart shows what the table says, and
   the table is the chart's accessible form. No inline script (CSP). */
(function () {
  "use strict";

  var COLOURS = ["#4f46e5", "#0ea5e9", "#16a34a", "#f59e0b", "#dc2626", "#7c3aed"];

  function readTable(table) {
    var headers = Array.prototype.slice.call(table.tHead.rows[0].cells);
    var series = [];
    headers.forEach(function (cell, index) {
      if (cell.hasAttribute("data-series")) {
        series.push({ index: index, label: cell.getAttribute("data-series"), data: [] });
      }
    });
    var labels = [];
    Array.prototype.forEach.call(table.tBodies[0].rows, function (row) {
      var head = row.cells[0];
      var cells = series.map(function (item) { return row.cells[item.index]; });
      if (!cells.length || !cells.every(function (cell) { return cell && cell.hasAttribute("data-value"); })) {
        return; // the "nothing here" row
      }
      var note = head.getAttribute("data-note");
      labels.push(head.textContent.trim() + (note ? " (" + note + ")" : ""));
      series.forEach(function (item) {
        var value = row.cells[item.index].getAttribute("data-value");
        item.data.push(value === "" || value === null ? null : Number(value));
      });
    });
    return { labels: labels, series: series };
  }

  function draw(canvas) {
    var table = document.getElementById(canvas.getAttribute("data-table"));
    if (!table || !window.Chart) {
      return;
    }
    var kind = canvas.getAttribute("data-chart");
    var parsed = readTable(table);
    var datasets = parsed.series.map(function (item, index) {
      var colour = COLOURS[index % COLOURS.length];
      return {
        label: item.label,
        data: item.data,
        backgroundColor: colour,
        borderColor: colour,
        tension: 0.2,
        spanGaps: true,
      };
    });
    new window.Chart(canvas, {
      type: kind === "line" ? "line" : "bar",
      data: { labels: parsed.labels, datasets: datasets },
      options: {
        indexAxis: kind === "funnel" ? "y" : "x",
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        plugins: { legend: { display: datasets.length > 1 } },
      },
    });
  }

  function drawAll() {
    Array.prototype.forEach.call(document.querySelectorAll("canvas[data-chart]"), draw);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", drawAll);
  } else {
    drawAll();
  }
})();
