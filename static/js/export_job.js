/* Export job progress: poll the status endpoint, move the bar; reload when finished. */
(function () {
  "use strict";
  var box = document.getElementById("export-progress");
  if (!box || !window.fetch) { return; }
  var url = box.getAttribute("data-status-url");
  var bar = box.querySelector("progress");
  var text = document.getElementById("export-progress-text");
  var template = text.textContent;
  function poll() {
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
      .then(function (data) {
        bar.value = data.percent;
        bar.textContent = data.percent + "%";
        text.textContent = (text.getAttribute("data-template") || "{done} / {total}")
          .replace("{done}", data.done).replace("{total}", data.total) +
          " · " + data.percent + "%";
        if (data.state === "queued" || data.state === "running") {
          window.setTimeout(poll, 1000);
        } else {
          window.location.reload();
        }
      })
      .catch(function () { text.textContent = template; window.setTimeout(poll, 3000); });
  }
  window.setTimeout(poll, 500);
})();
