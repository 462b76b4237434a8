/* LeadCRM embedded capture form: <script src="https://crm.example.com/f/embed.js"
   data-leadcrm-form="SLUG" async></script> renders the form where the tag is (or inside an
   element with data-leadcrm-form-target="SLUG") and sends it to LeadCRM, which answers only the
   websites the form allows. No dependencies; the form's fields and texts come from LeadCRM. */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || !script.getAttribute("data-leadcrm-form")) {
    return;
  }
  var slug = script.getAttribute("data-leadcrm-form");
  var endpoint = new URL(script.src).origin + "/f/" + encodeURIComponent(slug) + "/embed/";
  var wanted = (script.getAttribute("data-lang") || document.documentElement.lang ||
    navigator.language || "en").slice(0, 2).toLowerCase();
  var address = endpoint + "?lang=" + (wanted === "de" ? "de" : "en");
  var UTM = ["utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content"];

  var container = document.querySelector('[data-leadcrm-form-target="' + slug + '"]');
  if (!container) {
    container = document.createElement("div");
    if (script.parentNode && script.parentNode !== document.head) {
      script.parentNode.insertBefore(container, script.nextSibling);
    } else {
      document.body.appendChild(container);
    }
  }
  container.classList.add("leadcrm-embed");

  function fill(form) {
    var params = new URLSearchParams(window.location.search);
    UTM.forEach(function (name) {
      if (form.elements[name] && params.get(name)) {
        form.elements[name].value = params.get(name).slice(0, 100);
      }
    });
    if (form.elements.page) {
      form.elements.page.value = window.location.href.slice(0, 2000);
    }
    var visitor = document.cookie.match(/(?:^|;\s*)lc_vid=([A-Za-z0-9_-]{16,64})/);
    if (visitor && form.elements.visitor_id) {
      form.elements.visitor_id.value = visitor[1];
    }
  }

  function problem(form, text) {
    var box = form.querySelector(".lc-errors");
    if (!box) {
      box = document.createElement("div");
      box.className = "lc-errors";
      box.setAttribute("role", "alert");
      form.insertBefore(box, form.firstChild);
    }
    box.textContent = text;
  }

  function show(html) {
    container.innerHTML = html;
    var redirect = container.querySelector("[data-leadcrm-redirect]");
    if (redirect) {
      window.location.href = redirect.href;
      return;
    }
    var form = container.querySelector("form");
    if (!form) {
      return;
    }
    fill(form);
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var button = form.querySelector("button[type=submit]");
      if (button) {
        button.disabled = true;
      }
      fetch(address, { method: "POST", body: new FormData(form), mode: "cors", credentials: "omit" })
        .then(function (response) {
          return response.text().then(function (text) {
            if (response.status === 200 || response.status === 400) {
              show(text);
            } else {
              problem(form, text);
              if (button) {
                button.disabled = false;
              }
            }
          });
        })
        .catch(function () {
          problem(form, "The form could not be sent. Please try again.");
          if (button) {
            button.disabled = false;
          }
        });
    });
  }

  fetch(address, { mode: "cors", credentials: "omit" })
    .then(function (response) {
      return response.ok ? response.text() : Promise.reject(response.status);
    })
    .then(show)
    .catch(function () {
      container.textContent = "";
    });
})();
