/* The directive page refreshes its completion table (the server renders it:
   ?fragment=progress keeps the drill-down level and the sort) every 10 s, only
   while the tab is visible, and stops for good once every target has reposted. */
(function () {
  "use strict";
  var wrap = document.getElementById("directive-progress-wrap");
  if (!wrap) { return; }
  var url = wrap.getAttribute("data-refresh-url");
  var timer = null;

  function closed() {
    var body = document.getElementById("directive-progress-body");
    return !body || body.getAttribute("data-closed") === "1";
  }

  function schedule() {
    clearTimeout(timer);
    timer = null;
    if (!closed() && !document.hidden) { timer = setTimeout(refresh, 10000); }
  }

  function refresh() {
    fetch(url, { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } })
      .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
      .then(function (html) { wrap.innerHTML = html; })
      .catch(function () {})
      .finally(schedule);
  }

  document.addEventListener("visibilitychange", function () {
    if (document.hidden) { clearTimeout(timer); timer = null; } else if (!timer) { refresh(); }
  });
  window.addEventListener("pagehide", function () { clearTimeout(timer); timer = null; });
  schedule();
})();
