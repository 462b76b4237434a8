/* LeadCRM website tracking. No dependencies, no inline code.
   Sets a first-party visitor id cookie (lc_vid, 13 months, SameSite=Lax) and reports each page
   view (URL, referrer, title, UTM parameters) to /t/e of the server it was loaded from.
   leadcrm.page() reports another view (single-page applications). */
(function (w, d) {
  "use strict";
  var me = d.currentScript;
  if (!me || w.leadcrm) {
    return;
  }
  var endpoint = new URL("/t/e", me.src).href;
  var MONTHS_13 = 396 * 86400;

  function visitorId() {
    var found = d.cookie.match(/(?:^|;\s*)lc_vid=([A-Za-z0-9_-]{16,64})/);
    var id = found ? found[1] : "";
    if (!id) {
      var bytes = new Uint8Array(16);
      w.crypto.getRandomValues(bytes);
      id = Array.prototype.map.call(bytes, function (b) {
        return (b + 256).toString(16).slice(1);
      }).join("");
    }
    // Renewed on each visit: it expires 13 months after the last one.
    d.cookie = "lc_vid=" + id + "; Max-Age=" + MONTHS_13 + "; Path=/; SameSite=Lax" +
      (location.protocol === "https:" ? "; Secure" : "");
    return id;
  }

  function page() {
    var query = new URLSearchParams(location.search);
    var data = {
      visitor_id: visitorId(),
      url: location.href.slice(0, 2000),
      title: d.title.slice(0, 300)
    };
    if (/^https?:/.test(d.referrer)) {
      data.referrer = d.referrer.slice(0, 2000);
    }
    ["source", "medium", "campaign", "term", "content"].forEach(function (name) {
      var value = query.get("utm_" + name);
      if (value) {
        data["utm_" + name] = value.slice(0, 100);
      }
    });
    var body = JSON.stringify(data);
    // text/plain needs no CORS preflight; sendBeacon survives the page being left.
    var sent = false;
    try {
      sent = navigator.sendBeacon(endpoint, new Blob([body], { type: "text/plain" }));
    } catch (e) {
      sent = false;
    }
    if (!sent && w.fetch) {
      w.fetch(endpoint, {
        method: "POST", body: body, keepalive: true, mode: "no-cors", credentials: "omit",
        headers: { "Content-Type": "text/plain" }
      }).catch(function () {});
    }
  }

  w.leadcrm = { page: page };
  page();
})(window, document);
