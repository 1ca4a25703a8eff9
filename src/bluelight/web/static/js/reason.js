// Why the user is looking: a reason from the national access-reason list and free text.
//
// The law asks why, every time a person or vehicle is checked (Data Protection Act 2018
// s.62); the server refuses such a check without one and writes the reason to the audit
// trail. The reason stays on screen for the checks that follow, and only in this page's
// memory: it may name a person, so it is never written to browser storage.

import { useReason } from "./api.js";
import { h, replace } from "./dom.js";
import { need, list } from "./vocab.js";

const LIST = "access-reason";
const MAX_TEXT = 500;
// The server keeps no reason shorter than this: it would say nothing to an auditor.
const MIN_TEXT = 3;

const select = () => document.getElementById("reason-code");
const textField = () => document.getElementById("reason-text");
const full = () => document.getElementById("reason-full");
const summary = () => document.getElementById("reason-summary");

/** The reason as the form holds it now: {code, text}, or null when none is chosen. */
export function current() {
  const code = select().value;
  if (!code) return null;
  // By code point, so an emoji is never cut in half (encodeURIComponent throws on a half).
  return { code, text: Array.from(textField().value.trim()).slice(0, MAX_TEXT).join("") };
}

/**
 * Check that a full reason is given; if not, say what is missing and put focus on it.
 * @param {{error(text: string): void}} ui
 * @returns {boolean} whether a code and its text are both given
 */
export function given(ui) {
  const code = select().value;
  const text = textField().value.trim();
  const tooShort = Array.from(text).length < MIN_TEXT;
  if (!code || tooShort) unfold();
  if (!code) {
    select().setAttribute("aria-invalid", "true");
    ui.error("Choose the reason for this check before searching persons or vehicles.");
    select().focus();
    return false;
  }
  if (tooShort) {
    textField().setAttribute("aria-invalid", "true");
    ui.error("Describe the reason for this check, for example the incident or crime reference.");
    textField().focus();
    return false;
  }
  select().removeAttribute("aria-invalid");
  textField().removeAttribute("aria-invalid");
  return true;
}

/** Mark the reason as missing after the server refused a check (REASON_REQUIRED). */
export function refused() {
  unfold();
  const missing = select().value ? textField() : select();
  missing.setAttribute("aria-invalid", "true");
  missing.focus();
}

/** Fill the reason choices from the access-reason code list (active entries only). */
export async function loadReasons() {
  await need(LIST);
  const chosen = select().value;
  const options = list(LIST)
    .filter((e) => e.status === "active")
    .map((e) => h("option", { value: e.code, selected: e.code === chosen }, e.label));
  replace(select(), h("option", { value: "" }, "Choose a reason"), options);
}

/**
 * Fold the reason to one line ("Reason: … Change") once it is complete, so that on a phone
 * the record it was given for (its warning markers first) fills the screen.
 */
export function fold() {
  const given = current();
  if (!given?.text) return;
  const chosen = select().selectedOptions[0]?.textContent || given.code;
  document.getElementById("reason-said").textContent = `${chosen} — ${given.text}`;
  full().hidden = true;
  summary().hidden = false;
}

/** Show the whole reason form again; with `focus`, put focus on the choice of reason. */
export function unfold({ focus = false } = {}) {
  full().hidden = false;
  summary().hidden = true;
  if (focus) select().focus();
}

/** Start sending the form's reason with record requests. */
export function initReason() {
  useReason(current);
  document.getElementById("reason-change").addEventListener("click", () => unfold({ focus: true }));
  for (const field of [select(), textField()]) {
    field.addEventListener("input", () => field.removeAttribute("aria-invalid"));
  }
}

/** Forget the reason (on sign-out). */
export function resetReason() {
  unfold();
  document.getElementById("reason-form").reset();
  replace(select(), h("option", { value: "" }, "Choose a reason"));
  select().removeAttribute("aria-invalid");
  textField().removeAttribute("aria-invalid");
}
