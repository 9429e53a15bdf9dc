/* careplan: the little JavaScript the pages use. Every page works without it. */
(function () {
  "use strict";

  // The weekly-hours editor: "Add another window" copies the last row with empty values and fresh numbers.
  function setUpWindows(fieldset) {
    var button = fieldset.querySelector("[data-add-window]");
    var body = fieldset.querySelector("tbody");
    if (!button || !body) return;
    button.hidden = false;
    button.addEventListener("click", function () {
      var rows = body.querySelectorAll("[data-window-row]");
      var last = rows[rows.length - 1];
      var next = rows.length;
      var copy = last.cloneNode(true);
      copy.classList.remove("windows__row--error");
      copy.querySelectorAll(".field-error").forEach(function (el) { el.remove(); });
      copy.querySelectorAll("input, select, label").forEach(function (el) {
        ["id", "name", "for"].forEach(function (attr) {
          var value = el.getAttribute(attr);
          if (value) el.setAttribute(attr, value.replace(/availability-\d+-/, "availability-" + next + "-"));
        });
        if (el.tagName === "LABEL") el.textContent = el.textContent.replace(/\d+$/, String(next + 1));
        if (el.tagName !== "LABEL") {
          el.value = "";
          el.removeAttribute("aria-invalid");
          el.removeAttribute("aria-describedby");
        }
      });
      body.appendChild(copy);
      copy.querySelector("select").focus();
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-windows]").forEach(setUpWindows);

    // A destructive button asks first.
    document.querySelectorAll("form[data-confirm]").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        if (!window.confirm(form.getAttribute("data-confirm"))) event.preventDefault();
      });
    });

    // After a refused form, take keyboard and screen-reader users straight to what needs fixing.
    var summary = document.querySelector("[data-focus-on-load]");
    if (summary) summary.focus();
  });
})();
