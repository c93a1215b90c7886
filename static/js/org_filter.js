// The organization search of the user pages (accounts/forms.py RoleFields.org_q):
// while typing, the organization choices already listed are narrowed in place; the
// "Find" button asks the server, which searches the whole jurisdiction.
(function () {
  "use strict";
  document.querySelectorAll("input[data-org-filter]").forEach(function (box) {
    var select = box.form && box.form.querySelector("select[name$='organization']");
    if (!select) { return; }
    box.addEventListener("input", function () {
      var wanted = box.value.trim().toLowerCase();
      Array.prototype.forEach.call(select.options, function (option) {
        if (!option.value) { return; }
        option.hidden = wanted !== "" && option.text.toLowerCase().indexOf(wanted) === -1;
      });
    });
  });
})();
