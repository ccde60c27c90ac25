/* The summary reports page (templates/bureau/reports_index.html): each report still being built
   carries data-report-status-url; poll it every two seconds and move its progress bar, then reload
   the page once it is done or failed (to show the download link or the failure). A separate file:
   the Content Security Policy allows no inline scripts. The page works without it (reload by hand). */
(function () {
  "use strict";

  var INTERVAL = 2000;

  function watch(row) {
    var url = row.getAttribute("data-report-status-url");
    var bar = row.querySelector("[data-report-progress]");
    var step = row.querySelector("[data-report-step]");
    function poll() {
      fetch(url, {credentials: "same-origin", headers: {"Accept": "application/json"}})
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (data) {
          if (!data) { return; }  // 404 (gone) or an error page: stop polling
          if (data.state === "done" || data.state === "failed") { window.location.reload(); return; }
          if (bar) { bar.value = data.progress; bar.textContent = data.progress + "%"; }
          if (step) { step.textContent = data.progress + "% · " + (data.step_label || ""); }
          window.setTimeout(poll, INTERVAL);
        }, function () { window.setTimeout(poll, INTERVAL * 3); });
    }
    window.setTimeout(poll, INTERVAL);
  }

  function start() {
    if (!window.fetch) { return; }
    document.querySelectorAll("[data-report-status-url]").forEach(watch);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
}());
