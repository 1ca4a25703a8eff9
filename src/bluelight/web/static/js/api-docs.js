// The API documentation page: Swagger UI, drawing the OpenAPI document the page carries in a
// data block (the Content-Security-Policy runs no inline script).

window.ui = SwaggerUIBundle({
  spec: JSON.parse(document.getElementById("openapi-document").textContent),
  dom_id: "#swagger-ui",
  // Deep links put a link inside each operation's expand button, which a screen reader
  // and the keyboard meet as one control nested in another (axe: nested-interactive).
  deepLinking: false,
  showExtensions: true,
  showCommonExtensions: true,
  presets: [SwaggerUIBundle.presets.apis],
});

// Swagger UI draws a parameter's allowed values as a <select>
// with no name, so a screen reader announces only "combo box" (axe: select-name). Name each
// after its parameter, as Swagger UI draws them (an operation opens, "Try it out" redraws).

const NAMELESS = "tr[data-param-name] select:not([aria-label]):not([aria-labelledby])";

function nameSelects() {
  for (const select of document.querySelectorAll(NAMELESS)) {
    const row = select.closest("tr[data-param-name]");
    const where = row.dataset.paramIn ? ` (${row.dataset.paramIn})` : "";
    select.setAttribute("aria-label", `${row.dataset.paramName}${where}`);
  }
}

new MutationObserver(nameSelects).observe(document.getElementById("swagger-ui"), {
  childList: true,
  subtree: true,
});
