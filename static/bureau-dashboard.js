/* The bureau dashboard's charts (templates/bureau/dashboard.html), drawn with the vendored Chart.js
   (static/vendor/chart.js, MIT). The figures come from <script type="application/json"
   id="dashboard-data">, written by marketplace/bureau/dashboard_views.py: amounts in 万元 as decimal
   strings, counts as integers. Every chart has its figures in a table beside it, so the page reads
   the same without this file or without JavaScript. */
(function () {
  "use strict";

  var source = document.getElementById("dashboard-data");
  if (!source || typeof window.Chart === "undefined") { return; }
  var data;
  try {
    data = JSON.parse(source.textContent);
  } catch (error) {
    return;
  }
  var text = data.text || {};
  var palette = ["#1f5fa8", "#2e9e6b", "#e0a100", "#c8463d", "#7a5cc4", "#3aa6b9", "#8a6d3b", "#5f6b7a"];
  var classColours = ["#2e9e6b", "#e0a100", "#c8463d"]; // 优质, 一般, 较差
  // the grade's colour code: A green, B yellow, C red, D black; ungraded grey
  var gradeColours = { A: "#2e9e6b", B: "#e0a100", C: "#c8463d", D: "#222222", ungraded: "#9aa3ad" };

  function numbers(values) {
    return (values || []).map(function (value) { return value === null ? null : Number(value); });
  }

  function draw(name, config) {
    var canvas = document.querySelector('canvas[data-chart="' + name + '"]');
    if (!canvas) { return; }
    config.options = Object.assign({ responsive: true, maintainAspectRatio: false, animation: false }, config.options || {});
    new window.Chart(canvas, config);
  }

  // Counts as bars on the left axis, amounts (万元) as a line or bars on the right one.
  function countsAndAmounts(name, figures, amountType) {
    draw(name, {
      type: "bar",
      data: {
        labels: figures.labels,
        datasets: [
          { type: "bar", label: text.count, data: figures.counts, backgroundColor: palette[0], yAxisID: "count", order: 2 },
          { type: amountType, label: text.amount, data: numbers(figures.amounts), backgroundColor: palette[2],
            borderColor: palette[2], yAxisID: "amount", order: 1 }
        ]
      },
      options: {
        scales: {
          count: { type: "linear", position: "left", beginAtZero: true, ticks: { precision: 0 },
                   title: { display: true, text: text.count } },
          amount: { type: "linear", position: "right", beginAtZero: true, grid: { drawOnChartArea: false },
                    title: { display: true, text: text.amount } }
        }
      }
    });
  }

  if (data.funnel) { countsAndAmounts("funnel", data.funnel, "bar"); }
  if (data.monthly) { countsAndAmounts("monthly", data.monthly, "line"); }

  if (data.classes) {
    draw("classes", {
      type: "doughnut",
      data: { labels: data.classes.labels,
              datasets: [{ label: text.count, data: data.classes.counts, backgroundColor: classColours }] },
      options: { plugins: { legend: { position: "right" } } }
    });
  }

  if (data.grades) {
    draw("grades", {
      type: "bar",
      data: { labels: data.grades.labels,
              datasets: [{ label: text.enterprises, data: data.grades.counts,
                           backgroundColor: data.grades.codes.map(function (code) {
                             return gradeColours[code] || gradeColours.ungraded;
                           }) }] },
      options: { plugins: { legend: { display: false } },
                 scales: { y: { beginAtZero: true, ticks: { precision: 0 },
                                title: { display: true, text: text.enterprises } } } }
    });
  }

  if (data.declines && data.declines.labels.length) {
    draw("declines", {
      type: "bar",
      data: { labels: data.declines.labels,
              datasets: [{ label: text.count, data: data.declines.counts, backgroundColor: palette[3] }] },
      options: { indexAxis: "y", plugins: { legend: { display: false } },
                 scales: { x: { beginAtZero: true, ticks: { precision: 0 } } } }
    });
  }

  if (data.turnaround && data.turnaround.labels.length) {
    draw("turnaround", {
      type: "bar",
      data: {
        labels: data.turnaround.labels,
        datasets: data.turnaround.series.map(function (series, index) {
          return { label: series.label, data: numbers(series.data), backgroundColor: palette[index % palette.length] };
        })
      },
      options: { scales: { y: { beginAtZero: true, title: { display: true, text: text.median } } } }
    });
  }
}());
