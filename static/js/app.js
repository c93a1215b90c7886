/* Small progressive enhancements; every page works without this file. */
(function () {
  "use strict";

  // The language selector submits itself; a <noscript> button covers the rest.
  document.querySelectorAll("form[data-autosubmit] select, select[data-autosubmit-select]").forEach(function (select) {
    select.addEventListener("change", function () { select.form.submit(); });
  });

  // Close open <details> menus when clicking elsewhere or pressing Escape.
  function closeMenus(except) {
    document.querySelectorAll("details.user-menu[open], details.nav-toggle[open], details.navmenu[open]").forEach(function (d) {
      if (d !== except) { d.removeAttribute("open"); }
    });
  }
  document.addEventListener("click", function (event) {
    var inside = event.target.closest && event.target.closest("details.user-menu, details.nav-toggle, details.navmenu");
    // Opening a menu inside the phone's burger keeps the burger open.
    var burger = inside && inside.classList.contains("navmenu") ? document.querySelector("details.nav-toggle") : null;
    document.querySelectorAll("details.user-menu[open], details.nav-toggle[open], details.navmenu[open]").forEach(function (d) {
      if (d !== inside && d !== burger) { d.removeAttribute("open"); }
    });
  });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape") { closeMenus(null); }
  });

  // Organization tree: expand a node by fetching its children as an HTML fragment
  // from the organization page (?fragment=children). Loaded once, then toggled.
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("button[data-tree-toggle]");
    if (!button) { return; }
    event.preventDefault();
    var item = button.closest("li");
    var expanded = button.getAttribute("aria-expanded") === "true";
    var sub = item.querySelector(":scope > ul.tree-children");
    if (expanded) {
      button.setAttribute("aria-expanded", "false");
      if (sub) { sub.hidden = true; }
      return;
    }
    button.setAttribute("aria-expanded", "true");
    if (sub) { sub.hidden = false; return; }
    button.classList.add("loading");
    fetch(button.getAttribute("data-tree-toggle"), {
      credentials: "same-origin",
      headers: { "X-Requested-With": "fetch" }
    }).then(function (response) {
      if (!response.ok) { throw new Error(String(response.status)); }
      return response.text();
    }).then(function (html) {
      item.insertAdjacentHTML("beforeend", html);
    }).catch(function () {
      button.setAttribute("aria-expanded", "false");
      item.insertAdjacentHTML("beforeend", '<p class="error small-text">' + (button.getAttribute("data-error") || "Error") + "</p>");
    }).finally(function () {
      button.classList.remove("loading");
    });
  });
})();
