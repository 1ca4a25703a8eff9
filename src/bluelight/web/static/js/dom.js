// Building the page from data without ever parsing data as HTML.
//
// Record content is untrusted: a name may hold markup. Everything here goes through
// createElement, setAttribute and text nodes, never innerHTML, so data is only ever text.

const SAFE_HREF = /^(#|\/(?!\/))/;

/**
 * An element with attributes and children.
 * @param {string} tag
 * @param {Record<string, string|number|boolean|null|undefined>} [attrs]
 *   `class` sets the class list; boolean true sets an empty attribute; null/false/undefined skip.
 * @param {...(Node|string|number|null|undefined|false|Array<any>)} children
 *   strings and numbers become text nodes; null, undefined and false are left out.
 * @returns {HTMLElement}
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (name.toLowerCase().startsWith("on")) throw new Error(`no event attributes: ${name}`);
    if (name === "href" && !SAFE_HREF.test(String(value))) {
      throw new Error("links stay inside Bluelight");
    }
    el.setAttribute(name, value === true ? "" : String(value));
  }
  append(el, children);
  return el;
}

/** Append children (nodes, text, nested arrays) to `parent`. */
export function append(parent, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(parent, child);
    else if (child instanceof Node) parent.append(child);
    else parent.append(document.createTextNode(String(child)));
  }
  return parent;
}

/** Replace everything inside `parent` with `children`. */
export function replace(parent, ...children) {
  parent.replaceChildren();
  return append(parent, children);
}

/**
 * A description list from [term, value] pairs, leaving out pairs with no value.
 * @param {Array<[string, any]>} pairs
 */
export function facts(pairs, cls = "facts") {
  const shown = pairs.filter(([, value]) => value !== null && value !== undefined && value !== "");
  if (!shown.length) return null;
  return h(
    "dl",
    { class: cls },
    shown.map(([term, value]) => h("div", { class: "facts__row" }, h("dt", {}, term), h("dd", {}, value))),
  );
}

/**
 * A table with a caption, header cells and rows of cells (each a node or text).
 * @param {{caption: string, captionHidden?: boolean, head: string[], rows: any[][],
 *   narrow?: number[], cards?: boolean}} spec  `narrow` lists columns hidden on small screens;
 *   `cards` shows each row on small screens as a card, every cell under its column's name.
 */
export function table({ caption, captionHidden = false, head, rows, narrow = [], cards = false }) {
  const hide = (i) => (narrow.includes(i) ? "wide-only" : null);
  // A card drops the table's display, which would drop its meaning in some browsers: explicit
  // roles keep rows, cells and their headers for screen readers at every width.
  const role = (name) => (cards ? name : null);
  const labelled = (i, cell) =>
    cards ? [h("span", { class: "cell-label", "aria-hidden": "true" }, head[i]), cell] : cell;
  return h(
    "div",
    { class: "table-wrap" },
    h(
      "table",
      { class: cards ? "table--cards" : null, role: role("table") },
      h("caption", { class: captionHidden ? "visually-hidden" : null }, caption),
      h(
        "thead",
        { role: role("rowgroup") },
        h(
          "tr",
          { role: role("row") },
          head.map((text, i) => h("th", { scope: "col", class: hide(i), role: role("columnheader") }, text)),
        ),
      ),
      h(
        "tbody",
        { role: role("rowgroup") },
        rows.map((cells) =>
          h(
            "tr",
            { role: role("row") },
            cells.map((cell, i) =>
              i === 0
                ? h("th", { scope: "row", class: hide(i), role: role("rowheader") }, cell)
                : h("td", { class: hide(i), role: role("cell") }, labelled(i, cell)),
            ),
          ),
        ),
      ),
    ),
  );
}
