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
    // The list shows the results of `shownFor`; the input may already hold
    // more (the search waits 200 ms after the last key and then for the
    // server). Enter before the answer must not pick from the older list:
    // it waits for the answer to the query as typed.
    var shownFor = null;
    var requested = null;
    var enterPending = false;
    var enterTimer = null;
    function query() { return input.value.trim(); }
    function fresh() { return shownFor === query(); }

    function options() { return Array.prototype.slice.call(list.querySelectorAll("[role=option]:not([aria-disabled=true])")); }
    // An empty listbox is hidden: it is shown with the first answer.
    function clear() { list.innerHTML = ""; list.hidden = true; input.setAttribute("aria-expanded", "false"); }
    function active() { return list.querySelector("[aria-selected=true]"); }
    function activate(opt) {
      options().forEach(function (o) { o.setAttribute("aria-selected", o === opt ? "true" : "false"); });
      if (opt) { input.setAttribute("aria-activedescendant", opt.id); opt.scrollIntoView({ block: "nearest" }); }
    }
    function pick(opt) {
      enterPending = false;
      hidden.value = opt.dataset.company;
      chosenLabel.textContent = opt.dataset.label;
      chosen.hidden = false;
      finder.hidden = true;
      clear();
      if (!form.dataset.caseFieldUrl) {
        // Forms without a case (event registration): go on to the next field.
        var after = form.querySelector("[data-after-pick]");
        if (after) { after.focus(); }
        return;
      }
      var url = form.dataset.caseFieldUrl + "?company=" + encodeURIComponent(opt.dataset.company);
      var next = form.querySelector("input[name=channel]:checked") || form.querySelector("input[name=channel]");
      if (window.htmx) {
        window.htmx.ajax("GET", url, { target: "#case-field" }).then(function () { if (next) { next.focus(); } });
      } else if (next) { next.focus(); }
    }

    document.body.addEventListener("htmx:beforeRequest", function (ev) {
      if (ev.detail.elt === input) { requested = query(); }
    });
    document.body.addEventListener("htmx:afterSwap", function (ev) {
      if (ev.detail.target !== list) { return; }
      shownFor = requested;
      list.hidden = !list.children.length;
      var opts = options();
      input.setAttribute("aria-expanded", opts.length ? "true" : "false");
      activate(opts[0] || null);
      if (enterPending && fresh()) {
        enterPending = false;
        if (active()) { pick(active()); }
      }
    });
    input.addEventListener("keydown", function (ev) {
      // Keys that confirm or navigate an IME conversion (Japanese input)
      // belong to the IME, not to the list.
      if (ev.isComposing || ev.keyCode === 229) { return; }
      var opts = options();
      var i = opts.indexOf(active());
      if (ev.key === "ArrowDown" && opts.length) { ev.preventDefault(); activate(opts[Math.min(i + 1, opts.length - 1)]); }
      else if (ev.key === "ArrowUp" && opts.length) { ev.preventDefault(); activate(opts[Math.max(i - 1, 0)]); }
      else if (ev.key === "Enter" && !(ev.ctrlKey || ev.metaKey) && window.htmx) {
        // Never submit the whole form from the search box while the live
        // search works; if it does not answer, fall back to the server-side
        // search (the form's behaviour without JavaScript).
        ev.preventDefault();
        if (!fresh()) {
          enterPending = true;
          // Search now if nothing is under way (htmx drops it otherwise).
          window.htmx.trigger(input, "input");
          clearTimeout(enterTimer);
          enterTimer = setTimeout(function () {
            if (enterPending) { enterPending = false; form.requestSubmit(); }
          }, 3000);
        } else if (active()) { pick(active()); }
      } else if (ev.key === "Escape") { clear(); }
    });
    list.addEventListener("click", function (ev) {
      var opt = ev.target.closest("[role=option]:not([aria-disabled=true])");
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
    var registration = document.getElementById("event-registration-form");
    if (registration) { setupTypeahead(registration); }
    var form = document.getElementById("consultation-form");
    if (form) {
      setupTypeahead(form);
      // After a round trip, put the keyboard where the user must act: the
      // "この会社を選ぶ" candidates, else the first field with an error.
      var next = form.querySelector(".candidates button[name=pick_company], .options.static button[name=pick_company]") ||
        form.querySelector(".has-error input, .has-error select, .has-error textarea");
      if (next) { next.focus(); }
      // The line saying which case the consultation goes to follows the choice.
      form.addEventListener("change", function (ev) {
        var target = form.querySelector("#case-target");
        if (ev.target.id !== "id_case" || !target) { return; }
        var opt = ev.target.selectedOptions[0];
        target.textContent = ev.target.value ? (target.dataset.existing || "").replace("%s", opt ? opt.textContent : "")
          : (target.dataset.fresh || "");
      });
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

/* Selects marked data-submit-on-change submit their form when changed (the
   organisation switch in the header bar). An inline onchange= handler would
   break the Content Security Policy, which allows no inline script. */
(function () {
  "use strict";
  document.addEventListener("change", function (ev) {
    var el = ev.target;
    if (el instanceof HTMLSelectElement && el.hasAttribute("data-submit-on-change") && el.form) {
      el.form.requestSubmit ? el.form.requestSubmit() : el.form.submit();
    }
  });
})();

/* The header menu on a phone: one line with a "メニュー" button instead of
   four lines of links. The CSS folds the links only on narrow screens and
   only once this has run (class "foldable"): without JavaScript the menu
   stays open. */
(function () {
  "use strict";
  function setup() {
    var bar = document.getElementById("site-header");
    var nav = bar && bar.querySelector(".main-nav");
    if (!nav) { return; }
    if (!nav.id) { nav.id = "main-nav"; }
    var button = document.createElement("button");
    button.type = "button";
    button.className = "menu-toggle";
    button.textContent = bar.dataset.menuLabel || "Menu";
    button.setAttribute("aria-controls", nav.id);
    button.setAttribute("aria-expanded", "false");
    nav.parentNode.insertBefore(button, nav);
    bar.classList.add("foldable", "folded");
    button.addEventListener("click", function () {
      var folded = bar.classList.toggle("folded");
      button.setAttribute("aria-expanded", folded ? "false" : "true");
    });
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", setup); } else { setup(); }
})();
