/* One Tab stop per group of checkboxes (roving tabindex).

   A <fieldset data-roving> of checkboxes (the consultation form's 18 topics
   and 9 IP types) is reached with one Tab; the arrow keys move between its
   boxes (Home/End to the first/last), Space ticks the one focused, the next
   Tab leaves the group. The box last focused, else the first ticked, else
   the first, is the group's Tab stop. Without this file every box is its
   own Tab stop, as plain HTML has it: nothing is lost. */
(function () {
  "use strict";

  function setup(group) {
    var boxes = Array.prototype.slice.call(group.querySelectorAll("input[type=checkbox]"));
    if (boxes.length < 2) { return; }
    function stop(box) {
      boxes.forEach(function (b) { b.tabIndex = b === box ? 0 : -1; });
    }
    stop(boxes.filter(function (b) { return b.checked; })[0] || boxes[0]);
    group.addEventListener("focusin", function (ev) {
      if (boxes.indexOf(ev.target) >= 0) { stop(ev.target); }
    });
    group.addEventListener("keydown", function (ev) {
      var i = boxes.indexOf(ev.target);
      if (i < 0 || ev.altKey || ev.ctrlKey || ev.metaKey) { return; }
      var next = null;
      if (ev.key === "ArrowRight" || ev.key === "ArrowDown") { next = boxes[(i + 1) % boxes.length]; }
      else if (ev.key === "ArrowLeft" || ev.key === "ArrowUp") { next = boxes[(i - 1 + boxes.length) % boxes.length]; }
      else if (ev.key === "Home") { next = boxes[0]; }
      else if (ev.key === "End") { next = boxes[boxes.length - 1]; }
      if (next) { ev.preventDefault(); stop(next); next.focus(); }
    });
    var legend = group.querySelector("legend");
    if (legend && !legend.querySelector(".group-hint")) {
      var hint = document.createElement("small");
      hint.className = "muted group-hint";
      hint.textContent = group.dataset.rovingHint || "";
      legend.appendChild(hint);
    }
  }

  function setupAll() {
    document.querySelectorAll("fieldset[data-roving]").forEach(setup);
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", setupAll); } else { setupAll(); }
})();
