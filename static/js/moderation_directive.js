/* The directive page polls its progress (completion by organization) every 5 s. */
(function () {
  "use strict";
  var table = document.getElementById("directive-progress");
  if (!table) { return; }
  var url = table.getAttribute("data-progress-url");

  function row(o) {
    var pct = o.total ? Math.round(100 * o.confirmed / o.total) : 0;
    var tr = document.createElement("tr");
    [o.name, o.confirmed + " / " + o.total, String(o.overdue), String(o.late)].forEach(function (v) {
      var td = document.createElement("td");
      td.textContent = v;
      tr.appendChild(td);
    });
    var td = document.createElement("td");
    td.innerHTML = '<div class="progress-bar"><span style="width:' + pct + '%"></span></div>';
    tr.appendChild(td);
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
