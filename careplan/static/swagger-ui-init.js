/* Starts Swagger UI on /api/docs (templates/swagger_ui.html): a file, not an inline script, so the
   Content-Security-Policy needs no exception for it. */
(function () {
  "use strict";
  window.addEventListener("load", function () {
    var container = document.getElementById("swagger-ui-container");
    var config = {url: container.getAttribute("data-spec-url"), dom_id: "#swagger-ui-container"};
    var extra = JSON.parse(container.getAttribute("data-config") || "{}");
    Object.keys(extra).forEach(function (name) { config[name] = extra[name]; });
    window.ui = window.SwaggerUIBundle(config);
  });
})();
