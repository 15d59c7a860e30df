/* Casefile: the one small script (deferred, CSP-safe: no inline code, no eval).
 *
 * Every page works without it; it only adds:
 *   "/"      focuses the search box (#site-search), unless you are typing in a field;
 *   Esc      closes the open panel: look-up results (an htmx panel marked data-esc-close) of
 *            the field you type in, else the <details> you are in or opened last (menus, "Add
 *            a link", "Cite", the citation panel), else any panel marked data-esc-close;
 *   rows     [data-rows-add="ID"] clones <template id="ID-template"> into #ID, and
 *            [data-rows-remove] removes its row (.form-row); without JavaScript both buttons
 *            submit the form and the server adds or drops the row instead.
 * Listeners are delegated from document, so content swapped in by htmx is covered too.
 */
(function () {
  "use strict";

  var lastOpened = [];

  function isTyping(target) {
    if (!target || !target.tagName) return false;
    var tag = target.tagName.toLowerCase();
    return tag === "input" || tag === "textarea" || tag === "select" || target.isContentEditable;
  }

  function closeDetails(details) {
    details.open = false;
    var summary = details.querySelector(":scope > summary");
    if (summary) summary.focus();
  }

  function closeTopPanel(start) {
    // Look-up results of the field being typed in go first, then the form around it.
    var field = start && start.closest ? start.closest(".field") : null;
    var results = field ? field.querySelector("[data-esc-close]") : null;
    if (results && results.childElementCount) {
      results.replaceChildren();
      return true;
    }
    var inside = start && start.closest ? start.closest("details[open]") : null;
    if (inside) {
      closeDetails(inside);
      return true;
    }
    while (lastOpened.length) {
      var details = lastOpened.pop();
      if (details.isConnected && details.open) {
        closeDetails(details);
        return true;
      }
    }
    var panels = document.querySelectorAll("[data-esc-close]");
    for (var i = panels.length - 1; i >= 0; i--) {
      if (panels[i].childElementCount) {
        panels[i].replaceChildren();
        return true;
      }
    }
    return false;
  }

  document.addEventListener(
    "toggle",
    function (event) {
      var details = event.target;
      if (details.tagName !== "DETAILS") return;
      lastOpened = lastOpened.filter(function (d) { return d !== details; });
      if (details.open) lastOpened.push(details);
    },
    true
  );

  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.key === "/" && !isTyping(event.target)) {
      var search = document.getElementById("site-search");
      if (search) {
        event.preventDefault();
        search.focus();
        search.select();
      }
    } else if (event.key === "Escape") {
      if (closeTopPanel(event.target)) {
        event.preventDefault();
      } else if (event.target && event.target.id === "site-search") {
        event.target.blur();
      }
    }
  });

  var rowCounter = 0;

  document.addEventListener("click", function (event) {
    var add = event.target.closest("[data-rows-add]");
    if (add) {
      var id = add.getAttribute("data-rows-add");
      var template = document.getElementById(id + "-template");
      var rows = document.getElementById(id);
      if (!template || !rows) return;
      event.preventDefault();
      rowCounter += 1;
      var html = template.innerHTML.replace(/__row__/g, "new" + rowCounter);
      rows.insertAdjacentHTML("beforeend", html);
      var added = rows.lastElementChild;
      var first = added && added.querySelector("input, select");
      if (first) first.focus();
      return;
    }
    var remove = event.target.closest("[data-rows-remove]");
    if (remove) {
      var row = remove.closest(".form-row");
      if (!row) return;
      event.preventDefault();
      var next = row.nextElementSibling || row.previousElementSibling;
      row.remove();
      var focus = next && next.querySelector("input, select");
      if (focus) focus.focus();
    }
  });
})();
