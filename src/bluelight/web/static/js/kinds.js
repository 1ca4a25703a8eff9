// The kinds of record the back office shows: their API paths, names, and one-line titles.

import { isId } from "./api.js";
import * as fmt from "./format.js";
import { label } from "./vocab.js";

export const KINDS = {
  persons: { entity: "person", one: "person", many: "persons", noun: "Person", lists: ["warning-marker", "sex"] },
  vehicles: {
    entity: "vehicle",
    one: "vehicle",
    many: "vehicles",
    noun: "Vehicle",
    lists: ["vehicle-make", "vehicle-colour", "vehicle-body-type"],
  },
  events: { entity: "event", one: "event", many: "events", noun: "Event", lists: ["incident-type", "offence"] },
  locations: {
    entity: "location",
    one: "location",
    many: "locations",
    noun: "Location",
    lists: ["location-type", "warning-marker"],
  },
  property: { entity: "property", one: "item of property", many: "items of property", noun: "Property", lists: ["property-category"] },
};

/** The API path of an entity type named in a link ("person" → "persons"). */
export const PATH_OF = Object.fromEntries(Object.entries(KINDS).map(([path, k]) => [k.entity, path]));

/** The in-page address of a record view, or null for anything that is not a known record. */
export function href(path, id) {
  return KINDS[path] && isId(id) ? `#/${path}/${id}` : null;
}

/** The in-page route in `hash`, as {path, id}, or null. */
export function route(hash) {
  const m = /^#\/([a-z]+)\/([0-9a-fA-F-]{36})$/.exec(hash || "");
  if (!m || !KINDS[m[1]] || !isId(m[2])) return null;
  return { path: m[1], id: m[2].toLowerCase() };
}

/** A record's title on one line (code lists of the kind must be loaded). */
export function titleOf(path, r) {
  switch (path) {
    case "persons":
      return fmt.personName(r.names?.[0]);
    case "vehicles":
      return fmt.vrm(r.vrm) || [label("vehicle-make", r.make), r.model].filter(Boolean).join(" ") || "Vehicle";
    case "events":
      return r.reference || `${label("incident-type", r.incident_type)} (no reference)`;
    case "locations":
      return fmt.address(r);
    case "property":
      return [label("property-category", r.category), r.make, r.model].filter(Boolean).join(" ");
    default:
      return "Record";
  }
}
