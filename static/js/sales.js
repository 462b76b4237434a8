/* Lists worked by keyboard ("My tasks", the queue): j / k move between rows, Enter opens the
   row's lead, and a row's [data-key="x"] element is clicked by that key (x: tick a task off or
   select a queue row, c: log a call). Without this script every row is still a form and links. */
(function () {
  "use strict";

  function rows() {
    return Array.prototype.slice.call(document.querySelectorAll("[data-key-row]"));
  }

  function current() {
    var active = document.activeElement;
    return active ? active.closest("[data-key-row]") : null;
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
    if (!document.querySelector("[data-key-board]") || typing(event.target)) {
      return;
    }
    if (event.altKey || event.ctrlKey || event.metaKey) {
      return;
    }
    var row = current();
    var action = row && event.key.length === 1 ? row.querySelector('[data-key="' + event.key + '"]') : null;
    if (event.key === "j") {
      move(1);
    } else if (event.key === "k") {
      move(-1);
    } else if (event.key === "Enter" && row && event.target === row) {
      row.querySelector("[data-key-open]").click();
    } else if (action) {
      action.click();
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

  // The queue reloads itself (every data-refresh-seconds, 30 by default), so a lead assigned
  // meanwhile appears without a reload; not while leads are selected or a row has the keyboard.
  function refreshQueue() {
    var results = document.querySelector("[data-queue-refresh]");
    if (results && window.htmx && !results.querySelector("[data-select-row]:checked") && !current()) {
      window.htmx.ajax("GET", results.getAttribute("data-queue-refresh"), {
        target: "#queue-results",
        swap: "outerHTML"
      });
    }
    scheduleQueueRefresh();
  }

  function scheduleQueueRefresh() {
    var results = document.querySelector("[data-queue-refresh]");
    if (results) {
      var seconds = parseInt(results.getAttribute("data-refresh-seconds"), 10) || 30;
      window.setTimeout(refreshQueue, seconds * 1000);
    }
  }
  scheduleQueueRefresh();
})();

/* The pipeline board: drag a card onto another step's column. Without the script (or without a
   mouse) each card's menu and Move button do the same. */
(function () {
  "use strict";
  var board = document.querySelector("[data-pipeline]");
  if (!board) {
    return;
  }
  var dragged = null;

  function csrfToken() {
    var headers = document.body.getAttribute("hx-headers");
    try {
      return JSON.parse(headers)["X-CSRFToken"];
    } catch (error) {
      return "";
    }
  }

  board.addEventListener("dragstart", function (event) {
    dragged = event.target.closest("[data-move-url]");
    if (dragged) {
      dragged.classList.add("dragging");
      event.dataTransfer.effectAllowed = "move";
      event.dataTransfer.setData("text/plain", dragged.id);
    }
  });
  board.addEventListener("dragend", function () {
    if (dragged) {
      dragged.classList.remove("dragging");
    }
    board.querySelectorAll(".drop-target").forEach(function (column) {
      column.classList.remove("drop-target");
    });
  });
  board.addEventListener("dragover", function (event) {
    var column = event.target.closest("[data-stage]");
    if (dragged && column) {
      event.preventDefault();
      column.classList.add("drop-target");
    }
  });
  board.addEventListener("dragleave", function (event) {
    var column = event.target.closest("[data-stage]");
    if (column && !column.contains(event.relatedTarget)) {
      column.classList.remove("drop-target");
    }
  });
  board.addEventListener("drop", function (event) {
    var column = event.target.closest("[data-stage]");
    if (!dragged || !column) {
      return;
    }
    event.preventDefault();
    var body = new FormData();
    body.append("stage", column.getAttribute("data-stage"));
    fetch(dragged.getAttribute("data-move-url"), {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken(), "X-Requested-With": "fetch" }
    }).then(function (response) {
      if (response.status === 204) {
        window.location.reload();
      } else {
        response.text().then(function (text) {
          var status = document.querySelector("[data-pipeline-status]");
          if (status) {
            status.textContent = text;
            status.classList.remove("visually-hidden");
          }
        });
      }
    });
  });
})();

/* A select marked data-submit-on-change sends its form when it changes. */
document.addEventListener("change", function (event) {
  if (event.target.matches("select[data-submit-on-change]")) {
    event.target.form.submit();
  }
});
