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
          // A window's location (clinics with several) starts at the first one, never at none.
          if (/-location$/.test(el.getAttribute("name") || "")) el.selectedIndex = 0;
          el.removeAttribute("aria-invalid");
          el.removeAttribute("aria-describedby");
        }
      });
      body.appendChild(copy);
      copy.querySelector("select").focus();
    });
  }

  // A solve job's page: poll the job's JSON twice a second and show the optimizer's own figures (the best
  // schedule so far, its bound, the time used); once the job has ended, load the page again, which leads
  // on to the proposal. Without JavaScript the page refreshes itself (a <noscript> meta refresh).
  function setUpJob(section) {
    if (!window.fetch) return;
    var url = section.getAttribute("data-job");
    var clock = section.querySelector("[data-job-clock]");
    var state = section.querySelector("[data-job-state]");
    // The states' words in the page's language, from the page.
    var labels = JSON.parse(section.getAttribute("data-states") || "{}");
    function show(job) {
      var progress = job.progress || {};
      section.querySelectorAll("[data-job-figure]").forEach(function (el) {
        var name = el.getAttribute("data-job-figure");
        var value = progress[name];
        if (value === undefined || value === null) return;
        el.textContent = name === "elapsed" ? Number(value).toFixed(1) : String(value);
      });
      if (clock && progress.elapsed !== undefined) clock.value = Math.min(progress.elapsed, job.time_limit);
      if (state) state.textContent = labels[job.state] || job.state;
    }
    function poll() {
      fetch(url, {credentials: "same-origin", headers: {"Accept": "application/json"}})
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (job) {
          if (!job) { window.setTimeout(poll, 2000); return; }
          show(job);
          if (["done", "failed", "cancelled"].indexOf(job.state) >= 0) {
            window.location.reload();
          } else {
            window.setTimeout(poll, 500);
          }
        })
        .catch(function () { window.setTimeout(poll, 2000); });
    }
    if (clock) poll();
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
    document.querySelectorAll("[data-job]").forEach(setUpJob);
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
