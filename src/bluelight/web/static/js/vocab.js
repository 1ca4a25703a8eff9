// The national code lists, fetched once per list and kept in memory for the page's life.
//
// Records carry codes (IC1, FI, 1-01); people read labels. A list is fetched the first time
// a view needs it; later views read the same copy. Nothing is written to browser storage.

import { codeList } from "./api.js";

/** @type {Map<string, Promise<Map<string, {code: string, label: string, status: string, attributes: object}>>>} */
const lists = new Map();
/** @type {Map<string, Map<string, any>>} */
const loaded = new Map();

function fetchList(name) {
  const pending = codeList(name).then(
    (body) => {
      const entries = new Map(body.entries.map((e) => [e.code, e]));
      loaded.set(name, entries);
      return entries;
    },
    (err) => {
      lists.delete(name); // a failed fetch is tried again next time
      throw err;
    },
  );
  lists.set(name, pending);
  return pending;
}

/** Make sure every list in `names` is in memory. */
export async function need(...names) {
  await Promise.all(names.map((name) => lists.get(name) || fetchList(name)));
}

/** The entry for `code` in a loaded list, or undefined. */
export function entry(list, code) {
  return loaded.get(list)?.get(code);
}

/** Every entry of a loaded list, in the list's order. */
export function list(name) {
  return [...(loaded.get(name)?.values() || [])];
}

/**
 * The label of `code` in `list` (already loaded with `need`); the code itself when the list
 * does not know it, so an unmapped or retired code is still shown rather than hidden.
 */
export function label(list, code) {
  if (code === null || code === undefined || code === "") return null;
  const found = entry(list, code);
  if (!found) return code;
  return found.status === "retired" ? `${found.label} (retired)` : found.label;
}

/** Forget every list (on sign-out). */
export function forget() {
  lists.clear();
  loaded.clear();
}
