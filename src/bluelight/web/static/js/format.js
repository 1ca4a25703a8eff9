// How dates, times, names and marks read on screen (British English, UK time).

const DAY = new Intl.DateTimeFormat("en-GB", { day: "numeric", month: "short", year: "numeric", timeZone: "UTC" });
const MOMENT = new Intl.DateTimeFormat("en-GB", {
  day: "numeric",
  month: "short",
  year: "numeric",
  hour: "2-digit",
  minute: "2-digit",
  timeZone: "Europe/London",
  timeZoneName: "short",
});
const ISO_DAY = /^(\d{4})-(\d{2})-(\d{2})$/;

function parseDay(text) {
  const m = ISO_DAY.exec(text || "");
  return m ? new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]))) : null;
}

/** A calendar date ("2026-03-12") as "12 Mar 2026"; a date is not moved by time zones. */
export function day(text) {
  const d = parseDay(text);
  return d ? DAY.format(d) : text || null;
}

/**
 * A date typed by a person, day first as in the UK ("2/4/1988", "02.04.1988", "2 4 1988",
 * "02041988"), or as ISO ("1988-04-02"), as ISO; null when it is not a day that exists.
 */
export function dayTyped(text) {
  const s = String(text || "").trim();
  let parts;
  if (/^\d{8}$/.test(s)) parts = [s.slice(0, 2), s.slice(2, 4), s.slice(4)];
  else parts = s.split(/[\s./-]+/);
  if (parts.length !== 3 || !parts.every((p) => /^\d+$/.test(p))) return null;
  const [d, m, y] = parts[0].length === 4 ? [parts[2], parts[1], parts[0]] : parts;
  if (y.length !== 4 || d.length > 2 || m.length > 2) return null;
  const iso = `${y}-${m.padStart(2, "0")}-${d.padStart(2, "0")}`;
  const date = parseDay(iso);
  // Date.UTC rolls 31 February over into March: a day that exists reads back the same.
  return date && date.toISOString().slice(0, 10) === iso ? iso : null;
}

/** A moment ("2026-03-12T21:05:00Z") in UK time: "12 Mar 2026, 21:05 GMT". */
export function moment(text) {
  if (!text) return null;
  const d = new Date(text);
  return Number.isNaN(d.getTime()) ? text : MOMENT.format(d);
}

/** Whole years from a date of birth to today, or null. */
export function ageOn(dateOfBirth, today = new Date()) {
  const d = parseDay(dateOfBirth);
  if (!d) return null;
  let years = today.getUTCFullYear() - d.getUTCFullYear();
  const before =
    today.getUTCMonth() < d.getUTCMonth() ||
    (today.getUTCMonth() === d.getUTCMonth() && today.getUTCDate() < d.getUTCDate());
  if (before) years -= 1;
  return years;
}

/** Whether a calendar date is before today. */
export function isPast(text, today = new Date()) {
  const d = parseDay(text);
  if (!d) return false;
  const start = Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate());
  return d.getTime() < start;
}

/** Whether a calendar date is after today. */
export function isFuture(text, today = new Date()) {
  const d = parseDay(text);
  if (!d) return false;
  return d.getTime() > Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate());
}

/** A name the way police records print it: "SMITH, John Paul". */
export function personName(name) {
  if (!name) return "(no name)";
  const family = (name.family_name || "").toUpperCase();
  const given = name.given_names || "";
  const title = name.title ? ` (${name.title})` : "";
  return (given ? `${family}, ${given}` : family) + title;
}

/** A registration mark with the space of the current GB format: "AB12 CDE". */
export function vrm(mark) {
  if (!mark) return null;
  return /^[A-Z]{2}[0-9]{2}[A-Z]{3}$/.test(mark) ? `${mark.slice(0, 4)} ${mark.slice(4)}` : mark;
}

/** A location on one line, the way an officer reads it out. */
export function address(loc) {
  if (!loc) return null;
  const street = [loc.premises, loc.street].filter(Boolean).join(" ");
  const parts = [loc.name, street, loc.locality, loc.town, loc.postcode].filter(Boolean);
  if (parts.length) return parts.join(", ");
  if (loc.latitude !== null && loc.latitude !== undefined) return `${loc.latitude}, ${loc.longitude}`;
  return "(no address)";
}

/** "1 person", "3 persons". */
export function count(n, one, many) {
  return `${n} ${n === 1 ? one : many}`;
}
