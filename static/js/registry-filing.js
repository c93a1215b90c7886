/* Filing form: pasting a profile URL fills the platform and the account id from
   the server's parser (registry:parse_url). The form works without this file:
   the server parses the URL on submit. */
(function () {
  "use strict";
  var form = document.getElementById("filing-form");
  if (!form) { return; }
  var url = form.querySelector("[name=profile_url]");
  var platform = form.querySelector("[name=platform]");
  var accountId = form.querySelector("[name=platform_account_id]");
  var status = document.getElementById("parse-status");
  var timer = null;

  function showError(message) {
    var box = document.getElementById("field-profile_url");
    var old = box.querySelector(".field-error.js");
    if (old) { old.remove(); }
    if (message) {
      var p = document.createElement("p");
      p.className = "field-error js";
      p.setAttribute("role", "alert");
      p.textContent = message;
      box.appendChild(p);
    }
  }

  function parse() {
    var value = url.value.trim();
    if (!value) { showError(""); status.textContent = ""; return; }
    var query = "?url=" + encodeURIComponent(value);
    fetch(form.getAttribute("data-parse-url") + query, {
      credentials: "same-origin", headers: { "X-Requested-With": "fetch" }
    }).then(function (response) {
      return response.json().then(function (body) { return { ok: response.ok, body: body }; });
    }).then(function (result) {
      if (!result.ok) {
        var fields = result.body.fields || {};
        showError((fields.profile_url || [result.body.detail])[0]);
        status.textContent = "";
        return;
      }
      showError("");
      platform.value = String(result.body.platform);
      if (result.body.account_id) { accountId.value = result.body.account_id; }
      url.value = result.body.profile_url;
      status.textContent = result.body.platform_name + " · " + result.body.account_id;
    }).catch(function () { status.textContent = ""; });
  }

  url.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(parse, 300);
  });
  url.addEventListener("change", parse);
})();
