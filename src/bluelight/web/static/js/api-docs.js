// The API documentation page: Swagger UI draws a parameter's allowed values as a <select>
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
