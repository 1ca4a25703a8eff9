// One record on screen: its content with code-list labels, its warnings, links and history.

import { records } from "./api.js";
import { facts, h, replace, table } from "./dom.js";
import * as fmt from "./format.js";
import { KINDS, PATH_OF, href, titleOf } from "./kinds.js";
import { label, need, entry } from "./vocab.js";

/** The code lists each view reads its labels from. */
const LISTS = {
  persons: [
    "name-type",
    "sex",
    "ethnicity-officer",
    "ethnicity-self",
    "build",
    "hair-colour",
    "hair-length",
    "hair-style",
    "eye-colour",
    "facial-hair",
    "mark-type",
    "body-location",
    "identifier-type",
    "warning-marker",
    "link-type",
  ],
  vehicles: ["vehicle-make", "vehicle-colour", "vehicle-body-type"],
  events: ["incident-type", "incident-qualifier", "offence", "location-type"],
  locations: ["location-type", "warning-marker", "link-type"],
  property: ["property-category"],
};
const LINK_LISTS = ["link-type", "person-event-role"];
const ADDRESS_LINKS = new Set(["resides-at", "previously-resided-at", "works-at"]);
const MAX_LINKED = 25;
const META_FIELDS = new Set([
  "id",
  "version",
  "owner_agency",
  "created_at",
  "created_by",
  "updated_at",
  "updated_by",
  "deleted_at",
  "deleted_by",
  "deletion_reason",
]);

// Refusals the user can put right without leaving the view: give a reason, or reconnect.
const RETRYABLE = new Set(["REASON_REQUIRED", "UNKNOWN_REASON", "NETWORK"]);

let viewSeq = 0;
const section = () => document.getElementById("record");

// --- small pieces --------------------------------------------------------------------------

function time(iso, text = fmt.moment(iso)) {
  return iso ? h("time", { datetime: iso }, text) : null;
}

function dayTime(iso) {
  return iso ? h("time", { datetime: iso }, fmt.day(iso)) : null;
}

function block(title, ...content) {
  const body = content.flat().filter(Boolean);
  if (!body.length) return null;
  return h("section", { class: "block" }, h("h3", {}, title), body);
}

function recordLink(path, id, text) {
  const target = href(path, id);
  return target ? h("a", { href: target }, text) : text;
}

function markers(list) {
  const items = list || [];
  if (!items.length) {
    return h("section", { class: "block" }, h("h3", {}, "Warning markers"), h("p", { class: "muted" }, "No warning markers."));
  }
  return h(
    "section",
    { class: "markers", "aria-labelledby": "markers-title" },
    h("h3", { id: "markers-title" }, h("span", { class: "markers__icon", "aria-hidden": "true" }, "⚠"), `Warning markers (${items.length})`),
    h(
      "ul",
      { class: "markers__list" },
      items.map((m) => {
        const overdue = fmt.isPast(m.review_date);
        return h(
          "li",
          { class: "marker" },
          h("strong", { class: "marker__label" }, label("warning-marker", m.marker)),
          m.detail ? h("span", { class: "marker__detail" }, m.detail) : null,
          h(
            "span",
            { class: overdue ? "marker__review marker__review--overdue" : "marker__review" },
            overdue ? "Review overdue since " : "Review by ",
            dayTime(m.review_date),
          ),
        );
      }),
    ),
  );
}

// --- each kind -----------------------------------------------------------------------------

function personBody(p) {
  const age = fmt.ageOn(p.date_of_birth);
  const estimated =
    p.age_min !== null || p.age_max !== null ? [p.age_min ?? "?", p.age_max ?? "?"].join("–") : null;
  return [
    markers(p.markers),
    block(
      "Identity",
      facts([
        ["Date of birth", p.date_of_birth ? [dayTime(p.date_of_birth), age !== null ? ` (age ${age})` : ""] : null],
        ["Estimated age", p.date_of_birth ? null : estimated],
        ["Sex", label("sex", p.sex)],
      ]),
    ),
    block(
      "Names and aliases",
      table({
        caption: "Names and aliases",
        captionHidden: true,
        head: ["Family name", "Given names", "Type", "Title"],
        rows: p.names.map((n) => [n.family_name, n.given_names || "", label("name-type", n.type), n.title || ""]),
        narrow: [3],
      }),
    ),
    block(
      "Description",
      facts([
        ["Ethnicity (officer-defined)", label("ethnicity-officer", p.ethnicity_officer)],
        ["Ethnicity (self-defined)", label("ethnicity-self", p.ethnicity_self)],
        ["Height", p.height_cm ? `${p.height_cm} cm` : null],
        ["Build", label("build", p.build)],
        ["Hair colour", label("hair-colour", p.hair_colour)],
        ["Hair length", label("hair-length", p.hair_length)],
        ["Hair style", label("hair-style", p.hair_style)],
        ["Eye colour", label("eye-colour", p.eye_colour)],
        ["Facial hair", label("facial-hair", p.facial_hair)],
      ]) || h("p", { class: "muted" }, "No description recorded."),
    ),
    p.marks?.length
      ? block(
          "Marks, scars and tattoos",
          h(
            "ul",
            { class: "plain-list" },
            p.marks.map((m) =>
              h(
                "li",
                {},
                h("strong", {}, label("mark-type", m.type)),
                m.location ? ` — ${label("body-location", m.location)}` : "",
                m.description ? `: ${m.description}` : "",
              ),
            ),
          ),
        )
      : null,
    p.identifiers?.length
      ? block(
          "Identifiers",
          table({
            caption: "Identifiers",
            captionHidden: true,
            head: ["Type", "Number", "Issued by"],
            rows: p.identifiers.map((i) => [label("identifier-type", i.type), i.value, i.issuer || ""]),
          }),
        )
      : null,
    block(
      "Addresses",
      p.addresses?.length
        ? h(
            "ul",
            { class: "plain-list addresses" },
            p.addresses.map((a) =>
              h(
                "li",
                {},
                h("span", { class: "addresses__type" }, label("link-type", a.link_type)),
                recordLink("locations", a.location_id, a.summary),
                a.valid_from || a.valid_to
                  ? h(
                      "span",
                      { class: "muted addresses__dates" },
                      a.valid_from ? ["from ", time(a.valid_from, fmt.day(a.valid_from.slice(0, 10)))] : "",
                      a.valid_to ? [" to ", time(a.valid_to, fmt.day(a.valid_to.slice(0, 10)))] : "",
                    )
                  : null,
              ),
            ),
          )
        : h("p", { class: "muted" }, "No addresses recorded."),
    ),
  ];
}

function vehicleBody(v) {
  return [
    block(
      "Vehicle",
      facts([
        ["Registration mark", fmt.vrm(v.vrm)],
        ["Make", label("vehicle-make", v.make)],
        ["Model", v.model],
        ["Colour", label("vehicle-colour", v.colour)],
        ["Body type", label("vehicle-body-type", v.body_type)],
        ["Year of manufacture", v.year_of_manufacture],
        ["VIN", v.vin],
      ]),
    ),
    v.description ? block("Description", h("p", { class: "narrative" }, v.description)) : null,
  ];
}

function propertyBody(p) {
  return [
    block(
      "Property",
      facts([
        ["Category", label("property-category", p.category)],
        ["Make", p.make],
        ["Model", p.model],
        ["Serial number", p.serial_number],
        ["Colour", p.colour],
      ]),
    ),
    p.description ? block("Description", h("p", { class: "narrative" }, p.description)) : null,
  ];
}

function locationBody(l) {
  return [
    markers(l.markers),
    block(
      "Location",
      facts([
        ["Name", l.name],
        ["Type", label("location-type", l.location_type)],
        ["Premises", l.premises],
        ["Street", l.street],
        ["Locality", l.locality],
        ["Town", l.town],
        ["Postcode", l.postcode],
        ["UPRN", l.uprn],
        ["Coordinates", l.latitude !== null && l.latitude !== undefined ? `${l.latitude}, ${l.longitude}` : null],
      ]),
    ),
  ];
}

function offence(code) {
  if (!code) return null;
  const e = entry("offence", code);
  const a = e?.attributes || {};
  const extra = [a.ho_code ? `Home Office code ${a.ho_code}` : null, a.ho_class].filter(Boolean).join(", ");
  return [label("offence", code), extra ? h("span", { class: "muted" }, ` (${extra})`) : null];
}

function eventBody(ev, place) {
  let where = null;
  if (ev.location_id) {
    where = place ? recordLink("locations", ev.location_id, fmt.address(place)) : recordLink("locations", ev.location_id, "View location");
  }
  return [
    block(
      "Event",
      facts([
        ["Reference", ev.reference],
        ["Kind", ev.kind === "crime" ? "Crime report" : "Incident"],
        ["Type", label("incident-type", ev.incident_type)],
        ["Qualifiers", ev.qualifiers?.length ? ev.qualifiers.map((q) => label("incident-qualifier", q)).join(", ") : null],
        ["Offence", offence(ev.offence)],
        ["Occurred", ev.occurred_to ? [time(ev.occurred_from), " to ", time(ev.occurred_to)] : time(ev.occurred_from)],
        ["Reported", time(ev.reported_at)],
        ["Location", where],
      ]),
    ),
    block("Narrative", ev.narrative ? h("p", { class: "narrative" }, ev.narrative) : h("p", { class: "muted" }, "No narrative recorded.")),
  ];
}

function metaBlock(r) {
  return h(
    "details",
    { class: "block meta" },
    h("summary", {}, "Record details"),
    facts([
      ["Record id", h("code", {}, r.id)],
      ["Version", r.version],
      ["Owning agency", r.owner_agency],
      ["Created", [time(r.created_at), ` by ${r.created_by}`]],
      ["Last changed", [time(r.updated_at), ` by ${r.updated_by}`]],
    ]),
  );
}

// --- links to other records ------------------------------------------------------------------

async function showLinks(path, record, container, mine, ui) {
  const id = record.id;
  try {
    const [from, to] = await Promise.all([
      records.list("links", { from_id: id }, null, 50),
      records.list("links", { to_id: id }, null, 50),
      need(...LINK_LISTS),
    ]);
    let links = [...from.items, ...to.items].map((link) => {
      const outward = link.from_id === id;
      return { link, type: outward ? link.to_type : link.from_type, other: outward ? link.to_id : link.from_id };
    });
    if (path === "persons") links = links.filter((l) => !ADDRESS_LINKS.has(l.link.link_type));
    if (!links.length) {
      if (mine === viewSeq) replace(container, h("h3", {}, "Linked records"), h("p", { class: "muted" }, "No other linked records."));
      return;
    }
    const shown = links.slice(0, MAX_LINKED);
    const paths = [...new Set(shown.map((l) => PATH_OF[l.type]).filter(Boolean))];
    await need(...paths.flatMap((p) => KINDS[p].lists));
    const ends = await Promise.allSettled(shown.map((l) => records.read(PATH_OF[l.type], l.other)));
    if (mine !== viewSeq) return;
    const rows = shown.map((l, i) => {
      const p = PATH_OF[l.type];
      const end = ends[i].status === "fulfilled" ? ends[i].value : null;
      const role = l.link.role ? ` (${label("person-event-role", l.link.role)})` : "";
      return [
        `${label("link-type", l.link.link_type)}${role}`,
        end ? recordLink(p, l.other, titleOf(p, end)) : h("span", { class: "muted" }, "Not available"),
        KINDS[p]?.noun || l.type,
      ];
    });
    replace(
      container,
      h("h3", {}, "Linked records"),
      table({ caption: "Linked records", captionHidden: true, head: ["Relationship", "Record", "Kind"], rows, narrow: [2] }),
      links.length > shown.length || from.next_cursor || to.next_cursor
        ? h("p", { class: "muted" }, `Showing the first ${shown.length} links.`)
        : null,
    );
  } catch (err) {
    if (mine !== viewSeq) return;
    replace(container, h("h3", {}, "Linked records"), h("p", { class: "muted" }, "The linked records could not be loaded."));
    ui.fail(err);
  }
}

// --- history -------------------------------------------------------------------------------

function humanise(field) {
  const text = field.replaceAll("_", " ");
  return text[0].toUpperCase() + text.slice(1);
}

function shown(value) {
  if (value === null || value === undefined || value === "") return "—";
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

function changes(before, after) {
  const fields = new Set([...Object.keys(before || {}), ...Object.keys(after || {})]);
  const out = [];
  for (const field of fields) {
    if (META_FIELDS.has(field)) continue;
    const was = JSON.stringify(before?.[field] ?? null);
    const now = JSON.stringify(after?.[field] ?? null);
    if (was !== now) out.push([humanise(field), `${shown(before?.[field])} → ${shown(after?.[field])}`]);
  }
  return out;
}

function renderHistory(versions) {
  const items = versions.map((v, i) => {
    const diff = i === 0 ? [] : changes(versions[i - 1].snapshot, v.snapshot);
    return h(
      "li",
      { class: "version" },
      h("h4", { class: "version__title" }, `Version ${v.version}`, h("span", { class: "tag" }, v.action)),
      h("p", { class: "version__when" }, time(v.changed_at), ` by ${v.changed_by}`),
      v.reason ? h("p", {}, `Reason: ${v.reason}`) : null,
      i === 0
        ? h("p", { class: "muted" }, "First recorded.")
        : diff.length
          ? facts(diff, "facts facts--changes")
          : h("p", { class: "muted" }, "No content changed."),
    );
  });
  return [
    h("h3", { id: "history-title", tabindex: "-1" }, `History (${fmt.count(versions.length, "version", "versions")})`),
    h("ol", { class: "history" }, items.reverse()),
  ];
}

function historyControl(path, id, ui) {
  const box = h("div", { id: "history", class: "block", hidden: true });
  const button = h("button", { type: "button", class: "button button--secondary", "aria-expanded": "false", "aria-controls": "history" }, "Show history");
  button.addEventListener("click", async () => {
    if (button.getAttribute("aria-expanded") === "true") {
      box.hidden = true;
      button.setAttribute("aria-expanded", "false");
      button.textContent = "Show history";
      return;
    }
    const mine = viewSeq;
    button.disabled = true;
    box.setAttribute("aria-busy", "true");
    try {
      const versions = await records.history(path, id);
      if (mine !== viewSeq) return;
      replace(box, renderHistory(versions));
      box.hidden = false;
      button.setAttribute("aria-expanded", "true");
      button.textContent = "Hide history";
      ui.status(`History: ${fmt.count(versions.length, "version", "versions")}.`);
      box.querySelector("#history-title").focus();
    } catch (err) {
      if (mine === viewSeq) ui.fail(err);
    } finally {
      button.disabled = false;
      box.removeAttribute("aria-busy");
    }
  });
  return [h("div", { class: "actions" }, button), box];
}

// --- the view ------------------------------------------------------------------------------

function backLink() {
  return h("a", { href: "#search", class: "back" }, h("span", { "aria-hidden": "true" }, "←"), "Back to search");
}

/**
 * Show record `id` of `path` in the record panel, with focus on its title, and tell
 * `ui.reasonUsed()` once it is on screen.
 * @param {{status(text: string): void, fail(err: any): void, clear(): void,
 *   reasonUsed(): void}} ui
 */
export async function showRecord(path, id, ui) {
  const mine = ++viewSeq;
  const panel = section();
  panel.setAttribute("aria-busy", "true");
  replace(panel, backLink(), h("h2", { id: "record-title", tabindex: "-1" }, `Loading ${KINDS[path].one}…`));
  try {
    const [record] = await Promise.all([records.read(path, id), need(...LISTS[path])]);
    let place = null;
    if (path === "events" && record.location_id) {
      const [settled] = await Promise.allSettled([records.read("locations", record.location_id)]);
      place = settled.status === "fulfilled" ? settled.value : null;
    }
    if (mine !== viewSeq) return;
    const body = {
      persons: personBody,
      vehicles: vehicleBody,
      events: (r) => eventBody(r, place),
      locations: locationBody,
      property: propertyBody,
    }[path](record);
    const linked = h("section", { class: "block", "aria-busy": "true" }, h("h3", {}, "Linked records"), h("p", { class: "muted" }, "Loading…"));
    replace(
      panel,
      backLink(),
      h("p", { class: "record__kind" }, KINDS[path].noun),
      h("h2", { id: "record-title", tabindex: "-1" }, titleOf(path, record)),
      body,
      linked,
      metaBlock(record),
      historyControl(path, record.id, ui),
    );
    ui.clear();
    // Before the focus moves, so the title is reached without scrolling past the fold.
    ui.reasonUsed();
    panel.querySelector("#record-title").focus();
    showLinks(path, record, linked, mine, ui).finally(() => linked.removeAttribute("aria-busy"));
  } catch (err) {
    if (mine !== viewSeq) return;
    replace(panel, backLink(), h("h2", { id: "record-title", tabindex: "-1" }, "Record not shown"));
    if (RETRYABLE.has(err?.code)) {
      const again = h("button", { type: "button", class: "button button--secondary" }, "Try again");
      again.addEventListener("click", () => showRecord(path, id, ui));
      panel.append(h("div", { class: "actions" }, again));
    }
    ui.fail(err);
  } finally {
    if (mine === viewSeq) panel.removeAttribute("aria-busy");
  }
}

/** Leave the record view (a newer search or sign-out wins over a view still loading). */
export function closeRecord() {
  viewSeq++;
  section().replaceChildren();
}
