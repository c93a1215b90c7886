/* Live pre-checks while the operator types: debounced POST to the pre-check API,
   hits highlighted in place (a backdrop behind the textarea) and listed below. */
(function () {
  "use strict";
  var form = document.getElementById("post-form");
  if (!form) { return; }
  var textarea = form.querySelector("textarea[name=text]");
  var backdrop = document.getElementById("precheck-backdrop");
  var list = document.getElementById("precheck-hits");
  var statusLine = document.getElementById("precheck-status");
  var csrf = form.querySelector("input[name=csrfmiddlewaretoken]").value;
  var timer = null;
  var seq = 0;

  function escapeHtml(s) {
    return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  }

  function payload() {
    var ids = Array.prototype.map.call(
      form.querySelectorAll("input[name=accounts]:checked"), function (i) { return parseInt(i.value, 10); });
    var links = (form.querySelector("textarea[name=links]") || { value: "" }).value
      .split("\n").map(function (l) { return l.trim(); }).filter(Boolean);
    var repost = form.querySelector("input[name=is_repost]");
    return {
      organization: parseInt(form.getAttribute("data-organization"), 10),
      text: textarea.value,
      links: links,
      is_repost: !!(repost && repost.checked),
      repost_source: (form.querySelector("input[name=repost_source]") || { value: "" }).value,
      account_ids: ids
    };
  }

  function render(text, hits) {
    // Non-overlapping marks in order of position; hits without a position only listed.
    var html = "", at = 0;
    hits.filter(function (h) { return h.start >= 0; }).forEach(function (h) {
      if (h.start < at) { return; }
      html += escapeHtml(text.slice(at, h.start));
      html += '<mark class="hit-' + h.severity + '">' + escapeHtml(text.slice(h.start, h.end)) + "</mark>";
      at = h.end;
    });
    html += escapeHtml(text.slice(at)) + "\n";
    backdrop.innerHTML = html;
    // Keep the reasons typed so far (the list is redrawn on every check); after a
    // refused submission the page hands them back in hidden inputs.
    var reasons = {};
    list.querySelectorAll("input[data-key]").forEach(function (i) { reasons[i.getAttribute("data-key")] = i.value; });
    form.querySelectorAll("input.override-kept").forEach(function (i) {
      var key = i.getAttribute("data-name").slice("override:".length);
      if (!(key in reasons)) { reasons[key] = i.value; }
    });
    list.innerHTML = "";
    var seen = {};
    hits.forEach(function (h) {
      var li = document.createElement("li");
      li.className = h.severity;
      li.setAttribute("data-kind", h.kind);
      var badge = document.createElement("span");
      // Severity in words as well as colour.
      badge.className = "badge " + (h.severity === "hard" ? "status-overdue" : "status-due");
      badge.textContent = list.getAttribute(h.severity === "hard" ? "data-hard" : "data-soft");
      li.appendChild(badge);
      var text = " " + h.message + (h.term ? ": " + h.term : "");
      if (h.suggestion) { text += " → " + h.suggestion; }
      li.appendChild(document.createTextNode(text));
      if (h.severity === "soft" && h.key && !seen[h.key]) {
        seen[h.key] = true;  // one reason covers every occurrence of the term
        var input = document.createElement("input");
        input.name = "override:" + h.key;
        input.setAttribute("data-key", h.key);
        input.placeholder = list.getAttribute("data-reason");
        input.setAttribute("aria-label", list.getAttribute("data-reason") + ": " + h.term);
        input.className = "override-reason";
        input.value = reasons[h.key] || "";
        li.appendChild(input);
      }
      list.appendChild(li);
    });
  }

  function check() {
    var mine = ++seq;
    fetch(form.getAttribute("data-precheck-url"), {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify(payload())
    }).then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
      .then(function (data) {
        if (mine !== seq) { return; }  // a newer request is on its way
        render(textarea.value, data.hits);
        // The sentence comes translated from the page (data-summary).
        statusLine.textContent = statusLine.getAttribute("data-summary")
          .replace("%(length)s", data.length).replace("%(hard)s", data.hard)
          .replace("%(soft)s", data.soft);
        statusLine.setAttribute("data-hard", data.hard);
        statusLine.setAttribute("data-soft", data.soft);
      }).catch(function () { statusLine.textContent = statusLine.getAttribute("data-failed"); });
  }

  function schedule() {
    clearTimeout(timer);
    timer = setTimeout(check, 300);
    backdrop.scrollTop = textarea.scrollTop;
  }
  textarea.addEventListener("input", schedule);
  textarea.addEventListener("scroll", function () { backdrop.scrollTop = textarea.scrollTop; });
  form.addEventListener("change", function (event) {
    // Typing a reason needs no new check; every other change does.
    if (!(event.target.classList && event.target.classList.contains("override-reason"))) { schedule(); }
  });

  // The review chain of the chosen importance stands out in the table below it.
  var importance = form.querySelector("select[name=importance]");
  function markChain() {
    document.querySelectorAll("#review-chains tr[data-importance]").forEach(function (tr) {
      tr.classList.toggle("chosen", !!importance && tr.getAttribute("data-importance") === importance.value);
    });
  }
  if (importance) { importance.addEventListener("change", markChain); markChain(); }
  check();
})();
