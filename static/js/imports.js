// The import page (/imports/<id>/): follow a dry run or a commit.
//
// No inline script (CSP): while the import is validating or committing, the
// section #import-state carries data-running="true" and the URL of its
// status JSON; this polls it every second, moves the progress bar and reloads
// the page once the import has finished, so the report and the buttons
// appear. Without JavaScript the page asks to be reloaded.
(function () {
  "use strict";

  function poll(state) {
    var url = state.getAttribute("data-status-url");
    var bar = document.getElementById("import-progress");
    var message = document.getElementById("import-message");
    var label = document.getElementById("import-status");
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) { return response.json(); })
      .then(function (data) {
        if (bar) {
          bar.value = data.progress || 0;
          bar.textContent = (data.progress || 0) + "%";
        }
        if (message) message.textContent = (data.progress || 0) + "%";
        if (label) label.textContent = data.status_label;
        if (data.status === "validating" || data.status === "committing") {
          window.setTimeout(function () { poll(state); }, 1000);
        } else {
          window.location.reload();
        }
      })
      .catch(function () {
        window.setTimeout(function () { poll(state); }, 3000);
      });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var state = document.getElementById("import-state");
    if (state && state.getAttribute("data-running") === "true") poll(state);
  });
})();
