// Searching persons, vehicles, events and locations, and paging through the results.

import { records } from "./api.js";
import { h, replace, table } from "./dom.js";
import * as fmt from "./format.js";
import { KINDS, href, titleOf } from "./kinds.js";
import { given } from "./reason.js";
import { label, need } from "./vocab.js";

/** What each search form sends, and how its filters read in a caption. */
const FILTERS = {
  persons: { family_name: "family name", given_names: "given names", date_of_birth: "date of birth" },
  vehicles: { vrm: "registration mark" },
  events: { reference: "reference" },
  locations: { postcode: "postcode" },
};

/** The filters of which a search needs at least one (a given name alone finds too many). */
const NEEDS = {
  persons: ["family_name", "date_of_birth"],
  vehicles: ["vrm"],
  events: ["reference"],
  locations: ["postcode"],
};

/** Searches that are checks on a person or a vehicle, which need a reason. */
const CHECKS = new Set(["persons", "vehicles"]);

// On a phone each result is a card showing every column: the date of birth and the address
// are what tell two people of one name apart.
const COLUMNS = {
  persons: { head: ["Name", "Born", "Warnings", "Address"] },
  vehicles: { head: ["Registration", "Make and model", "Colour", "Body type"] },
  events: { head: ["Reference", "Type", "Occurred", "Offence"] },
  locations: { head: ["Address", "Type", "Warnings"] },
};

let ui;
let current = null; // {path, filters, cursor, items}
let searchSeq = 0;

const resultsEl = () => document.getElementById("results");
const moreButton = () => document.getElementById("load-more");

function markerTags(markers) {
  if (!markers?.length) return h("span", { class: "muted" }, "None");
  return h(
    "ul",
    { class: "tags" },
    markers.map((m) => h("li", { class: "tag tag--danger" }, label("warning-marker", m.marker))),
  );
}

/** A cell with nothing recorded, said in words rather than left blank. */
function unknown(text = "Not recorded") {
  return h("span", { class: "muted" }, text);
}

function born(p) {
  if (p.date_of_birth) return fmt.day(p.date_of_birth);
  if (p.age_min !== null && p.age_max !== null) return `Aged ${p.age_min}–${p.age_max}`;
  if (p.age_min !== null) return `Aged ${p.age_min}+`;
  return h("span", { class: "muted" }, "Not known");
}

function cells(path, r) {
  const link = h("a", { href: href(path, r.id), "data-id": r.id }, titleOf(path, r));
  switch (path) {
    case "persons":
      return [link, born(r), markerTags(r.markers), r.addresses?.[0]?.summary || unknown()];
    case "vehicles":
      return [
        link,
        [label("vehicle-make", r.make), r.model].filter(Boolean).join(" ") || unknown(),
        label("vehicle-colour", r.colour) || unknown(),
        label("vehicle-body-type", r.body_type) || unknown(),
      ];
    case "events":
      return [
        link,
        label("incident-type", r.incident_type),
        fmt.moment(r.occurred_from),
        label("offence", r.offence) || unknown("None"),
      ];
    case "locations":
      return [link, label("location-type", r.location_type) || unknown(), markerTags(r.markers)];
    default:
      return [link];
  }
}

function caption(path, filters) {
  const said = Object.entries(filters)
    .filter(([, v]) => v)
    .map(([k, v]) => (k === "date_of_birth" ? `${FILTERS[path][k]} ${fmt.day(v)}` : `${FILTERS[path][k]} “${v}”`))
    .join(", ");
  const many = KINDS[path].many;
  return `${many[0].toUpperCase()}${many.slice(1)} matching ${said}`;
}

function render() {
  const { path, filters, items, cursor } = current;
  const kind = KINDS[path];
  const summary = cursor
    ? `${items.length} ${kind.many} shown; more match.`
    : items.length
      ? `${fmt.count(items.length, kind.one, kind.many)} found.`
      : `No ${kind.many} match.`;
  replace(
    resultsEl(),
    h("p", { class: "results__summary" }, summary),
    items.length
      ? table({
          caption: caption(path, filters),
          head: COLUMNS[path].head,
          rows: items.map((r) => cells(path, r)),
          cards: true,
        })
      : null,
  );
  moreButton().hidden = !cursor;
  return summary;
}

async function fetchPage(path, filters, cursor) {
  const [page] = await Promise.all([records.list(path, filters, cursor), need(...KINDS[path].lists)]);
  return page;
}

async function search(path, filters) {
  const mine = ++searchSeq;
  ui.clear();
  resultsEl().setAttribute("aria-busy", "true");
  try {
    const page = await fetchPage(path, filters, null);
    if (mine !== searchSeq) return; // a newer search has started
    current = { path, filters, cursor: page.next_cursor, items: page.items };
    ui.status(render());
    if (CHECKS.has(path)) ui.reasonUsed();
    reveal();
  } catch (err) {
    if (mine === searchSeq) ui.fail(err);
  } finally {
    resultsEl().removeAttribute("aria-busy");
  }
}

/**
 * Where the form fills the screen (a phone), the results start below it: bring the count and
 * the first result into view, with focus on the count, so that a phone's keyboard closes and
 * a screen reader reads it. Where they are in view already, focus stays in the form.
 */
function reveal() {
  const summary = resultsEl().querySelector(".results__summary");
  if (!summary) return;
  const first = resultsEl().querySelector("tbody tr") || summary;
  const top = summary.getBoundingClientRect().top;
  if (top >= 0 && first.getBoundingClientRect().bottom <= window.innerHeight) return;
  summary.tabIndex = -1;
  summary.scrollIntoView({ block: "start" });
  summary.focus({ preventScroll: true });
}

async function loadMore() {
  if (!current?.cursor) return;
  const mine = ++searchSeq;
  const before = current.items.length;
  const button = moreButton();
  button.disabled = true;
  try {
    const page = await fetchPage(current.path, current.filters, current.cursor);
    if (mine !== searchSeq) return;
    current.items = current.items.concat(page.items);
    current.cursor = page.next_cursor;
    ui.status(render());
    // Keyboard users carry on from the first new row rather than the top of the page.
    const links = resultsEl().querySelectorAll("tbody a");
    (links[before] || links[links.length - 1])?.focus();
  } catch (err) {
    if (mine === searchSeq) ui.fail(err);
  } finally {
    button.disabled = false;
  }
}

function showForm(path) {
  for (const form of document.querySelectorAll(".search-form")) form.hidden = form.dataset.kind !== path;
}

function submitted(event) {
  event.preventDefault();
  const form = event.currentTarget;
  const path = form.dataset.kind;
  // A person or vehicle check is refused without a reason: ask for it before sending.
  if (CHECKS.has(path) && !given(ui)) return;
  for (const field of form.querySelectorAll("input")) field.removeAttribute("aria-invalid");
  const filters = {};
  for (const name of Object.keys(FILTERS[path])) {
    const value = form.elements[name].value.trim();
    if (value) filters[name] = value;
  }
  if (filters.date_of_birth) {
    const iso = fmt.dayTyped(filters.date_of_birth);
    const field = form.elements.date_of_birth;
    if (!iso) return refuse(field, "Enter the date of birth as day, month and year, for example 27/3/1988.");
    if (fmt.isFuture(iso)) return refuse(field, "The date of birth is in the future: check it and try again.");
    filters.date_of_birth = iso;
  }
  const needed = NEEDS[path];
  if (!needed.some((name) => filters[name])) {
    const wanted = needed.map((name) => FILTERS[path][name]).join(" or a ");
    return refuse(form.elements[needed[0]], `Enter a ${wanted} to search by.`);
  }
  search(path, filters);
}

function refuse(field, text) {
  field.setAttribute("aria-invalid", "true");
  ui.error(text);
  field.focus();
}

/**
 * Wire up the search forms.
 * @param {{clear(): void, status(text: string): void, error(text: string): void, fail(err: any): void,
 *   reasonUsed(): void}} callbacks
 */
export function initSearch(callbacks) {
  ui = callbacks;
  for (const radio of document.querySelectorAll('input[name="kind"]')) {
    radio.addEventListener("change", () => showForm(radio.value));
  }
  const checked = document.querySelector('input[name="kind"]:checked');
  showForm(checked ? checked.value : "persons");
  for (const form of document.querySelectorAll(".search-form")) form.addEventListener("submit", submitted);
  moreButton().addEventListener("click", loadMore);
}

/** Put focus back on the result that opened record `id` (after closing its view). */
export function focusResult(id) {
  const link = id && resultsEl().querySelector(`a[data-id="${CSS.escape(id)}"]`);
  if (link) link.focus();
  else document.querySelector(".search-form:not([hidden]) input")?.focus();
}

/** Forget every search (on sign-out). */
export function resetSearch() {
  searchSeq++;
  current = null;
  resultsEl().replaceChildren();
  moreButton().hidden = true;
  for (const form of document.querySelectorAll(".search-form")) form.reset();
}
