/* The directive page polls its progress (completion by organization) every 5 s. */
(function () {
  "use strict";
  var table = document.getElementById("directive-progress");
  if (!table) { return; }
  var url = table.getAttribute("data-progress-url");

  // Cells follow the header's data-key order, so the page and this script cannot
  // disagree about which count sits in which column.
  var keys = Array.prototype.map.call(table.querySelectorAll("thead th"), function (th) {
    return th.getAttribute("data-key");
  });

  function cell(o, key) {
    var td = document.createElement("td");
    if (key === "bar") {
      var pct = o.total ? Math.round(100 * o.confirmed / o.total) : 0;
      td.innerHTML = '<div class="progress-bar"><span style="width:' + pct + '%"></span></div>';
    } else if (key === "confirmed") {
      td.textContent = o.confirmed + " / " + o.total;
    } else {
      td.textContent = String(o[key]);
    }
    return td;
  }

  function row(o) {
    var tr = document.createElement("tr");
    keys.forEach(function (key) { tr.appendChild(cell(o, key)); });
    return tr;
  }

  function poll() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
      .then(function (data) {
        var body = table.querySelector("tbody");
        body.innerHTML = "";
        data.organizations.forEach(function (o) { body.appendChild(row(o)); });
        var total = document.getElementById("directive-total");
        if (total) { total.textContent = data.confirmed + " / " + data.total + " (" + data.percent + "%)"; }
      }).catch(function () {}).finally(function () { setTimeout(poll, 5000); });
  }
  setTimeout(poll, 5000);
})();
