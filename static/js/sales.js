/* "My tasks" by keyboard: j / k move between tasks, x ticks the current one off (or reopens
   it), Enter opens its lead. Without this script every task is still a form and a link. */
(function () {
  "use strict";

  function rows() {
    return Array.prototype.slice.call(document.querySelectorAll("[data-task-row]"));
  }

  function current() {
    var active = document.activeElement;
    return active ? active.closest("[data-task-row]") : null;
  }

  function move(step) {
    var all = rows();
    if (!all.length) {
      return;
    }
    var index = all.indexOf(current());
    var next = all[Math.max(0, Math.min(all.length - 1, index === -1 ? 0 : index + step))];
    next.focus();
    next.scrollIntoView({ block: "nearest" });
  }

  function typing(target) {
    return target.closest("input, textarea, select, [contenteditable]");
  }

  document.addEventListener("keydown", function (event) {
    if (!document.querySelector("[data-task-board]") || typing(event.target)) {
      return;
    }
    if (event.altKey || event.ctrlKey || event.metaKey) {
      return;
    }
    var row = current();
    if (event.key === "j") {
      move(1);
    } else if (event.key === "k") {
      move(-1);
    } else if (event.key === "x" && row) {
      row.querySelector("[data-task-toggle]").click();
    } else if (event.key === "Enter" && row && event.target === row) {
      row.querySelector("[data-task-lead]").click();
    } else {
      return;
    }
    event.preventDefault();
  });

  // A row swapped in after ticking keeps the keyboard focus, so x again undoes it.
  document.addEventListener("htmx:afterSwap", function (event) {
    var target = event.detail.target;
    if (target && target.id && target.id.indexOf("task-") === 0) {
      var row = document.getElementById(target.id);
      if (row) {
        row.focus();
      }
    }
  });
})();
