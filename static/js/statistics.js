// Managers' page (/statistics/): charts from the page's JSON, export progress.
//
// No inline script (CSP): the figures come from <script type="application/json"
// id="statistics-data"> (Django's json_script), each <canvas data-chart="key">
// is drawn with the vendored Chart.js, and the table under it has the same
// numbers. When a chart is drawn its canvas gets data-chart-ready="true".
//
// The export form posts with fetch (Accept: application/json), then polls the
// status URL until the file is done and shows the download link. Without
// JavaScript the form posts normally and the page shows the export's state.
(function () {
  "use strict";

  var PALETTE = ["#1f5fbf", "#e08a00", "#2e8b57", "#8e44ad", "#c62828", "#00838f"];
  var POLL_MS = 1000;

  function readJson(id) {
    var node = document.getElementById(id);
    if (!node) return null;
    try {
      return JSON.parse(node.textContent);
    } catch (e) {
      return null;
    }
  }

  function datasetOf(spec, index, horizontal) {
    var colour = PALETTE[index % PALETTE.length];
    var ds = {
      label: spec.label,
      data: spec.data,
      backgroundColor: spec.colors || colour,
      borderColor: spec.colors || colour,
      borderWidth: 1,
    };
    if (spec.type === "line") {
      ds.type = "line";
      ds.backgroundColor = colour;
      ds.tension = 0.2;
      ds.pointRadius = 3;
      ds.order = 0;
    } else {
      ds.order = 1;
    }
    if (horizontal) ds.maxBarThickness = 22;
    return ds;
  }

  function drawChart(canvas, spec) {
    var horizontal = !!spec.horizontal;
    var box = canvas.parentElement;
    if (horizontal && box) {
      // One bar row per label: 47 prefectures need a taller box.
      box.style.height = Math.max(220, spec.labels.length * 26 + 70) + "px";
    }
    var valueAxis = {
      beginAtZero: true,
      ticks: { precision: 0 },
    };
    var options = {
      responsive: true,
      maintainAspectRatio: false,
      animation: false,
      indexAxis: horizontal ? "y" : "x",
      plugins: {
        legend: { display: spec.datasets.length > 1 },
      },
      scales: horizontal ? { x: valueAxis } : { y: valueAxis },
    };
    var chart = new window.Chart(canvas, {
      type: spec.type || "bar",
      data: {
        labels: spec.labels,
        datasets: spec.datasets.map(function (d, i) {
          return datasetOf(d, i, horizontal);
        }),
      },
      options: options,
    });
    canvas.setAttribute("data-chart-ready", "true");
    return chart;
  }

  function drawCharts() {
    var data = readJson("statistics-data");
    if (!data || typeof window.Chart !== "function") return;
    window.Chart.defaults.font.family =
      '"Hiragino Sans", "Noto Sans CJK JP", "Noto Sans JP", "Yu Gothic", "Meiryo", sans-serif';
    document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
      var spec = data[canvas.getAttribute("data-chart")];
      if (spec && spec.labels && spec.labels.length) {
        drawChart(canvas, spec);
      } else if (canvas.parentElement) {
        canvas.parentElement.hidden = true; // the table says "no data"
      }
    });
  }

  // --- export progress ----------------------------------------------------------

  function csrfToken(form) {
    var input = form.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function exportUi() {
    return {
      box: document.getElementById("export-status"),
      bar: document.getElementById("export-progress"),
      message: document.getElementById("export-message"),
      link: document.getElementById("export-download"),
      button: document.getElementById("export-start"),
    };
  }

  function showExport(ui, state) {
    ui.box.hidden = false;
    ui.bar.value = state.progress || 0;
    ui.bar.textContent = (state.progress || 0) + "%";
    var text = state.kind_label + ": " + state.status_label + "（" + (state.progress || 0) + "%）";
    if (state.status === "done") {
      text += " " + state.row_count.toLocaleString("ja-JP") + (ui.box.getAttribute("data-rows-suffix") || "");
    }
    if (state.error) text += " " + state.error;
    ui.message.textContent = text;
    if (state.download_url) {
      ui.link.href = state.download_url;
      ui.link.hidden = false;
    } else {
      ui.link.hidden = true;
      ui.link.removeAttribute("href");
    }
    ui.box.setAttribute("data-status", state.status);
  }

  function poll(ui, url) {
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) {
        return response.json().then(function (body) {
          return { ok: response.ok, body: body };
        });
      })
      .then(function (result) {
        if (!result.ok) {
          ui.message.textContent = result.body.detail || "";
          ui.button.disabled = false;
          return;
        }
        showExport(ui, result.body);
        if (result.body.status === "pending" || result.body.status === "running") {
          window.setTimeout(function () {
            poll(ui, url);
          }, POLL_MS);
        } else {
          ui.button.disabled = false;
        }
      })
      .catch(function () {
        window.setTimeout(function () {
          poll(ui, url);
        }, POLL_MS * 3);
      });
  }

  function setUpExport() {
    var form = document.getElementById("export-form");
    if (!form) return;
    var ui = exportUi();
    var format = document.getElementById("export-format");
    var encoding = document.getElementById("export-encoding");
    function syncEncoding() {
      // xlsx is always Unicode: the encoding only applies to CSV.
      encoding.disabled = format.value !== "csv";
    }
    format.addEventListener("change", syncEncoding);
    syncEncoding();

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      ui.button.disabled = true;
      ui.link.hidden = true;
      fetch(form.action, {
        method: "POST",
        body: new FormData(form),
        headers: { Accept: "application/json", "X-CSRFToken": csrfToken(form) },
        credentials: "same-origin",
      })
        .then(function (response) {
          return response.json().then(function (body) {
            return { ok: response.ok, body: body };
          });
        })
        .then(function (result) {
          if (!result.ok) {
            ui.box.hidden = false;
            ui.bar.value = 0;
            ui.message.textContent = result.body.detail || "";
            ui.box.setAttribute("data-status", "refused");
            ui.button.disabled = false;
            return;
          }
          showExport(ui, result.body);
          poll(ui, result.body.status_url);
        })
        .catch(function () {
          ui.button.disabled = false;
        });
    });

    // An export requested without JavaScript (?export=id): keep following it.
    var current = readJson("export-data");
    if (current && (current.status === "pending" || current.status === "running")) {
      poll(ui, current.status_url);
    }
  }

  function start() {
    drawCharts();
    setUpExport();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
