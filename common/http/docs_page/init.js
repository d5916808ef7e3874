// Starts Swagger UI (loaded just before this file) on the service's own OpenAPI document. Served
// from /docs/init.js rather than inline, so the page's Content-Security-Policy needs no inline
// script. "Try it out" sends its calls to the origin (and path prefix) the page came from, not to
// the development address in the document's `servers`, so it also works behind an ingress.
"use strict";

window.addEventListener("load", async () => {
  const base = window.location.pathname.replace(/\/docs\/?$/, "");
  const root = document.getElementById("swagger-ui");
  let spec;
  try {
    const response = await fetch(base + "/openapi.json", { headers: { Accept: "application/json" } });
    if (!response.ok) throw new Error("GET /openapi.json answered " + response.status);
    spec = await response.json();
  } catch (error) {
    root.textContent = "Cannot load this service's OpenAPI document: " + error.message;
    return;
  }
  spec.servers = [{ url: window.location.origin + base, description: "this service" }];
  window.ui = SwaggerUIBundle({
    spec,
    dom_id: "#swagger-ui",
    deepLinking: true,
    // No call to the public validator service: the page talks to its own origin only.
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
  });
});
