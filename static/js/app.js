/* Keyboard helpers of the web UI: the company typeahead, Ctrl+Enter to save,
   quick follow-up dates. Everything works without this file too (the form
   falls back to a server-side company search). */
(function () {
  "use strict";

  function pad(n) { return String(n).padStart(2, "0"); }
  function isoDate(d) { return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()); }

  function setupTypeahead(form) {
    var input = form.querySelector("#company-q");
    var list = form.querySelector("#company-options");
    var hidden = form.querySelector("#id_company");
    var chosen = form.querySelector("#company-chosen");
    var chosenLabel = form.querySelector("#company-chosen-label");
    var finder = form.querySelector("#company-finder");
    var change = form.querySelector("#company-change");
    if (!input || !list) { return; }

    function options() { return Array.prototype.slice.call(list.querySelectorAll("[role=option]")); }
    function active() { return list.querySelector("[aria-selected=true]"); }
    function activate(opt) {
      options().forEach(function (o) { o.setAttribute("aria-selected", o === opt ? "true" : "false"); });
      if (opt) { input.setAttribute("aria-activedescendant", opt.id); opt.scrollIntoView({ block: "nearest" }); }
    }
    function pick(opt) {
      hidden.value = opt.dataset.company;
      chosenLabel.textContent = opt.dataset.label;
      chosen.hidden = false;
      finder.hidden = true;
      list.innerHTML = "";
      input.setAttribute("aria-expanded", "false");
      var url = form.dataset.caseFieldUrl + "?company=" + encodeURIComponent(opt.dataset.company);
      var next = form.querySelector("input[name=channel]:checked") || form.querySelector("input[name=channel]");
      if (window.htmx) {
        window.htmx.ajax("GET", url, { target: "#case-field" }).then(function () { if (next) { next.focus(); } });
      } else if (next) { next.focus(); }
    }

    document.body.addEventListener("htmx:afterSwap", function (ev) {
      if (ev.detail.target !== list) { return; }
      var opts = options();
      input.setAttribute("aria-expanded", opts.length ? "true" : "false");
      activate(opts[0] || null);
    });
    input.addEventListener("keydown", function (ev) {
      var opts = options();
      var i = opts.indexOf(active());
      if (ev.key === "ArrowDown" && opts.length) { ev.preventDefault(); activate(opts[Math.min(i + 1, opts.length - 1)]); }
      else if (ev.key === "ArrowUp" && opts.length) { ev.preventDefault(); activate(opts[Math.max(i - 1, 0)]); }
      else if (ev.key === "Enter" && !(ev.ctrlKey || ev.metaKey)) {
        if (active()) { ev.preventDefault(); pick(active()); }
      } else if (ev.key === "Escape") { list.innerHTML = ""; }
    });
    list.addEventListener("click", function (ev) {
      var opt = ev.target.closest("[role=option]");
      if (opt) { pick(opt); }
    });
    if (change) {
      change.addEventListener("click", function () {
        hidden.value = "";
        chosen.hidden = true;
        finder.hidden = false;
        input.value = "";
        input.focus();
      });
    }
  }

  function setup() {
    var form = document.getElementById("consultation-form");
    if (form) {
      setupTypeahead(form);
      form.querySelectorAll(".quick-dates [data-days]").forEach(function (b) {
        b.addEventListener("click", function () {
          var d = new Date();
          d.setDate(d.getDate() + Number(b.dataset.days));
          form.querySelector("#id_follow_up_on").value = isoDate(d);
        });
      });
    }
    document.addEventListener("keydown", function (ev) {
      if (ev.key === "Enter" && (ev.ctrlKey || ev.metaKey)) {
        var f = ev.target.form || document.getElementById("consultation-form");
        if (f) { ev.preventDefault(); f.requestSubmit(); }
      }
    });
  }

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", setup); } else { setup(); }
})();
