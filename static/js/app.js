/* LeadCRM's own script. No inline script, handler attributes or styles anywhere: the
   Content-Security-Policy forbids them; htmx is configured through its meta tag in base.html. */
(function () {
  "use strict";

  // A page that comes back with errors moves the focus to its summary, so keyboard and screen
  // reader users start there. Results swapped in by htmx announce themselves (role="alert")
  // but leave the focus where the person is typing.
  // On narrow screens the main navigation folds into a menu button.
  function toggleNavigation(event) {
    var button = event.target.closest(".nav-toggle");
    if (!button) {
      return;
    }
    var open = button.closest(".sidebar").classList.toggle("nav-open");
    button.setAttribute("aria-expanded", open ? "true" : "false");
  }
  document.addEventListener("click", toggleNavigation);

  function focusErrorSummary() {
    var summary = document.querySelector("[data-error-summary]");
    if (summary) {
      summary.focus();
    }
  }

  // A link in the summary focuses its field (a fragment link alone only scrolls).
  function focusLinkedField(event) {
    var link = event.target.closest("[data-error-summary] a[href^='#']");
    if (!link) {
      return;
    }
    var target = document.getElementById(link.getAttribute("href").slice(1));
    if (target) {
      event.preventDefault();
      // A group of checkboxes is a <div> with the field's id: focus its first box.
      var field = target.matches("input, select, textarea")
        ? target
        : target.querySelector("input, select, textarea") || target;
      field.focus();
      var label = document.querySelector("label[for='" + field.id + "']");
      (label || field).scrollIntoView({ block: "center" });
    }
  }

  // On a phone the list's filters fold away (the chips above the results show the active
  // ones); without this script they simply stay open.
  function foldFiltersOnSmallScreens() {
    if (!window.matchMedia("(max-width: 960px)").matches) {
      return;
    }
    document.querySelectorAll("details[data-collapse-on-small-screens]").forEach(function (panel) {
      panel.open = false;
    });
  }

  // A code snippet to copy (website tracking) is selected whole when it gets the focus.
  function selectSnippet(event) {
    if (event.target.matches && event.target.matches("[data-select-on-focus]")) {
      event.target.select();
    }
  }

  // Lead list and queue: the row checkboxes feed the bulk actions; "select all" takes the
  // page's rows.
  function selectionChanged(event) {
    var box = event.target;
    if (!box.matches || !box.matches("[data-select-all], [data-select-row]")) {
      return;
    }
    var results = box.closest("section.results");
    var rows = results.querySelectorAll("[data-select-row]");
    if (box.matches("[data-select-all]")) {
      rows.forEach(function (row) {
        row.checked = box.checked;
      });
    }
    var chosen = results.querySelectorAll("[data-select-row]:checked").length;
    var all = results.querySelector("[data-select-all]");
    if (all) {
      all.checked = chosen > 0 && chosen === rows.length;
      all.indeterminate = chosen > 0 && chosen < rows.length;
    }
    var count = results.querySelector("[data-bulk-count]");
    if (count) {
      count.textContent = chosen
        ? count.getAttribute("data-some").replace("{n}", chosen)
        : count.getAttribute("data-none");
    }
  }
  document.addEventListener("change", selectionChanged);

  // Dropdown menus (<details data-menu>) close on a click elsewhere and on Escape.
  function closeMenus(except) {
    document.querySelectorAll("details[data-menu][open]").forEach(function (menu) {
      if (menu !== except) {
        menu.open = false;
      }
    });
  }
  document.addEventListener("click", function (event) {
    closeMenus(event.target.closest && event.target.closest("details[data-menu]"));
  });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape") {
      closeMenus(null);
    }
  });

  function ready() {
    foldFiltersOnSmallScreens();
    focusErrorSummary();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", ready);
  } else {
    ready();
  }
  document.addEventListener("click", focusLinkedField);
  document.addEventListener("focusin", selectSnippet);
})();

// The temperature matrix on the scoring rules page colours each select by its value.
document.addEventListener("change", function (event) {
  var select = event.target.closest("select.temp-select");
  if (select) {
    select.className = "temp-select temp-" + select.value;
  }
});
