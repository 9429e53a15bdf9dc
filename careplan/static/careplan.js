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

  // The optimizer takes a few seconds: show that it is working (with the seconds counting) while the form
  // posts, then follow the server's answer. Without JavaScript the form simply posts and the page waits.
  function setUpOptimize(form) {
    var box = form.querySelector("[data-optimizing]");
    var status = form.querySelector("[data-optimizing-status]");
    if (!box || !window.fetch) return;
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var button = form.querySelector("button[type=submit]");
      var started = Date.now();
      box.hidden = false;
      button.disabled = true;
      status.textContent = "Optimizing… this takes a few seconds.";
      var timer = window.setInterval(function () {
        var seconds = Math.round((Date.now() - started) / 1000);
        status.textContent = "Optimizing… " + seconds + " s";
      }, 2000);
      fetch(form.action || window.location.href, {method: "POST", body: new FormData(form), credentials: "same-origin"})
        .then(function (response) {
          if (response.redirected) {
            window.location.assign(response.url);
            return null;
          }
          return response.text().then(function (html) {
            document.open();
            document.write(html);
            document.close();
          });
        })
        .catch(function () {
          window.clearInterval(timer);
          button.disabled = false;
          status.textContent = "The request failed. Check the connection and try again.";
        });
    });
  }

  // A held proposal's countdown, once a minute: "12 minutes left", then that it expired.
  function setUpCountdown(element) {
    var expires = Date.parse(element.closest("p").querySelector("[data-expires]").getAttribute("data-expires"));
    function tick() {
      var minutes = Math.floor((expires - Date.now()) / 60000);
      element.textContent = minutes > 0 ? minutes + (minutes === 1 ? " minute" : " minutes") + " left"
        : "expired: propose again to hold slots";
    }
    tick();
    window.setInterval(tick, 30000);
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-windows]").forEach(setUpWindows);
    document.querySelectorAll("form[data-optimize]").forEach(setUpOptimize);
    document.querySelectorAll("[data-countdown]").forEach(setUpCountdown);

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
