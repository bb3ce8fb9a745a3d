/* Corridor: progressive enhancement only. Every page works without this file.
 *
 * - input[data-autocomplete]: suggestions as you type, from a JSON list endpoint
 *   (the reference API), into the input's <datalist>; a live region says how many.
 * - [data-formset]: "add another" / "remove" rows of a Django formset in place
 *   (without JavaScript the add button submits and the server adds the row).
 * - button[data-copy]: copy the text of the element it names to the clipboard.
 * - form[data-confirm]: ask before a destructive action (the server asks too).
 * - .error-summary: focused on load so screen readers announce it.
 */
(function () {
  "use strict";

  function debounce(fn, ms) {
    var timer;
    return function () {
      var args = arguments, self = this;
      clearTimeout(timer);
      timer = setTimeout(function () { fn.apply(self, args); }, ms);
    };
  }

  function setupAutocomplete(input) {
    var list = document.getElementById(input.getAttribute("list"));
    var status = document.getElementById(input.id + "-status");
    if (!list) return;
    var lastQuery = "";
    var lookup = debounce(function () {
      var query = input.value.trim();
      if (query.length < 2 || query === lastQuery || /^\S+ — /.test(query)) return;
      lastQuery = query;
      var url = input.dataset.autocomplete + (input.dataset.autocomplete.indexOf("?") < 0 ? "?" : "&") + "q=" + encodeURIComponent(query);
      fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : []; })
        .then(function (data) {
          var items = Array.isArray(data) ? data : (data.results || []);
          list.textContent = "";
          items.slice(0, 15).forEach(function (item) {
            var option = document.createElement("option");
            option.value = item.code + " — " + item.title;
            list.appendChild(option);
          });
          if (status) status.textContent = (input.dataset.countTemplate || "%s").replace("%s", items.length ? Math.min(items.length, 15) : 0);
        })
        .catch(function () { /* The field still accepts a typed code. */ });
    }, 200);
    input.addEventListener("input", lookup);
  }

  function renumber(container) {
    var prefix = container.dataset.formset;
    var total = container.querySelector("input[name='" + prefix + "-TOTAL_FORMS']");
    return total;
  }

  function setupFormset(container) {
    var prefix = container.dataset.formset;
    var template = container.querySelector("template[data-formset-template]");
    var rows = container.querySelector("[data-formset-rows]");
    var add = container.querySelector("[data-formset-add]");
    if (!template || !rows || !add) return;
    add.addEventListener("click", function (event) {
      event.preventDefault();
      var total = renumber(container);
      var index = parseInt(total.value, 10);
      var wrapper = document.createElement("div");
      wrapper.innerHTML = template.innerHTML.replace(/__prefix__/g, index).replace(/__number__/g, index + 1);
      var row = wrapper.firstElementChild;
      rows.appendChild(row);
      total.value = index + 1;
      var first = row.querySelector("input, select, textarea");
      if (first) first.focus();
      row.querySelectorAll("input[data-autocomplete]").forEach(setupAutocomplete);
    });
    container.addEventListener("click", function (event) {
      var button = event.target.closest("[data-formset-remove]");
      if (!button) return;
      var row = button.closest("[data-formset-row]");
      var del = row && row.querySelector("input[name$='-DELETE']");
      if (!del) return;
      event.preventDefault();
      del.checked = true;
      row.hidden = true;
      add.focus();
    });
  }

  function setupCopy(button) {
    button.hidden = false;
    button.addEventListener("click", function () {
      var target = document.getElementById(button.dataset.copy);
      var status = document.getElementById(button.dataset.copy + "-status");
      if (!target || !navigator.clipboard) return;
      navigator.clipboard.writeText(target.textContent.trim()).then(function () {
        if (status) status.textContent = button.dataset.copied || "Copied";
      });
    });
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.dataset && form.dataset.confirm && !window.confirm(form.dataset.confirm)) event.preventDefault();
  });

  function init(root) {
    root.querySelectorAll("input[data-autocomplete]").forEach(setupAutocomplete);
    root.querySelectorAll("[data-formset]").forEach(setupFormset);
    root.querySelectorAll("button[data-copy]").forEach(setupCopy);
  }

  document.addEventListener("DOMContentLoaded", function () {
    init(document);
    var summary = document.querySelector(".error-summary");
    if (summary) summary.focus();
  });
  // Fragments swapped in by htmx get the same behaviour.
  document.addEventListener("htmx:load", function (event) { init(event.target); });
})();
