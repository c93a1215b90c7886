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
    list.innerHTML = "";
    hits.forEach(function (h) {
      var li = document.createElement("li");
      li.className = h.severity;
      li.setAttribute("data-kind", h.kind);
      var text = h.message + (h.term ? ": " + h.term : "");
      if (h.suggestion) { text += " → " + h.suggestion; }
      li.textContent = text;
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
  form.addEventListener("change", schedule);
  check();
})();
