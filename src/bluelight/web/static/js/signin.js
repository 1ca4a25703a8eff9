// Signing in: username and password, then a code from the authenticator app (enrolling one
// on the first sign-in, with recovery codes shown once), or a recovery code.
//
// The challenge between the two steps and the recovery codes live only in this module's
// memory; the token goes to sessionStorage (api.js) once the user has finished.

import { ApiError, auth, token } from "./api.js";
import { h, replace } from "./dom.js";

const $ = (id) => document.getElementById(id);
const STEPS = ["sign-in", "second-factor", "recovery"];
const SVG_NS = "http://www.w3.org/2000/svg";
// What a QR code drawn by the server is made of; anything else is dropped, never imported.
const SVG_ELEMENTS = new Set(["svg", "g", "path", "rect", "title"]);
const SVG_ATTRIBUTES = new Set(["width", "height", "viewBox", "class", "transform", "fill", "stroke", "d", "x", "y"]);

let ui;
let onSignedIn;
let onRevoked;
let challenge = null; // the second step's ticket, from step one
let enrolling = false;
let mode = "totp"; // or "recovery"
let pending = null; // a granted session waiting for "I have saved these" (enrolment only)

/** "sign-in failed: …" reads as a sentence on screen. */
export function sentence(text) {
  const s = String(text || "").trim();
  if (!s) return "Something went wrong; try again.";
  const first = s[0].toUpperCase() + s.slice(1);
  return /[.!?]$/.test(first) ? first : `${first}.`;
}

function show(step) {
  for (const id of STEPS) $(id).hidden = id !== step;
}

function invalid(field, text) {
  field.setAttribute("aria-invalid", "true");
  ui.error(text);
  field.focus();
}

async function busy(form, work) {
  const button = form.querySelector('button[type="submit"]');
  button.disabled = true;
  try {
    await work();
  } finally {
    button.disabled = false;
  }
}

// --- step one: password ----------------------------------------------------------------------

async function submitPassword(event) {
  event.preventDefault();
  const form = event.currentTarget;
  const username = $("username");
  const password = $("password");
  for (const field of [username, password]) field.removeAttribute("aria-invalid");
  if (!username.value.trim()) return invalid(username, "Enter your username.");
  if (!password.value) return invalid(password, "Enter your password.");
  ui.clear();
  await busy(form, async () => {
    let due;
    try {
      due = await auth.signIn(username.value.trim(), password.value);
    } catch (err) {
      password.value = "";
      if (err instanceof ApiError && err.code === "DEVICE_REVOKED") return onRevoked(err);
      ui.error(err instanceof ApiError ? sentence(err.detail) : "Signing in failed in this page; reload it and try again.");
      password.focus();
      if (!(err instanceof ApiError)) console.error(err);
      return;
    }
    password.value = "";
    showSecondFactor(due);
  });
}

// --- step two: the code ----------------------------------------------------------------------

/** The server's QR code as an SVG element: parsed as XML, rebuilt from known parts only. */
function qrCode(markup) {
  const doc = new DOMParser().parseFromString(markup, "image/svg+xml");
  const root = doc.documentElement;
  if (root?.localName !== "svg" || doc.getElementsByTagName("parsererror").length) return null;
  const svg = copySvg(root);
  if (!svg.hasAttribute("viewBox") && svg.hasAttribute("width") && svg.hasAttribute("height")) {
    svg.setAttribute("viewBox", `0 0 ${svg.getAttribute("width")} ${svg.getAttribute("height")}`);
  }
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", "QR code to scan with your authenticator app");
  svg.setAttribute("class", "qr__code");
  return svg;
}

function copySvg(node) {
  // The server's markup may leave out xmlns; made with createElementNS, these are SVG anyway.
  const el = document.createElementNS(SVG_NS, node.localName);
  for (const attr of node.attributes) {
    if (!attr.namespaceURI && SVG_ATTRIBUTES.has(attr.localName)) el.setAttribute(attr.localName, attr.value);
  }
  for (const child of node.childNodes) {
    if (child.nodeType === Node.ELEMENT_NODE && SVG_ELEMENTS.has(child.localName)) el.append(copySvg(child));
    else if (child.nodeType === Node.TEXT_NODE && node.localName === "title") el.append(child.data);
  }
  return el;
}

function setMode(next) {
  mode = next;
  $("totp-field").hidden = mode !== "totp";
  $("recovery-field").hidden = mode !== "recovery";
  $("use-recovery").textContent =
    mode === "totp" ? "Use a recovery code instead" : "Use a code from the authenticator app instead";
  for (const id of ["totp-code", "recovery-code"]) {
    $(id).value = "";
    $(id).removeAttribute("aria-invalid");
  }
}

function showSecondFactor(due) {
  challenge = due.challenge;
  enrolling = Boolean(due.enrolment);
  setMode("totp");
  $("enrol").hidden = !enrolling;
  // A recovery code cannot stand in for a second factor that is being set up.
  $("use-recovery").hidden = enrolling;
  $("second-factor-title").textContent = enrolling ? "Set up your authenticator app" : "Enter your code";
  if (enrolling) {
    const qr = qrCode(due.enrolment.qr_svg);
    replace(
      $("qr"),
      qr || h("p", { class: "muted" }, "The QR code could not be shown: type the key below into the app."),
    );
    // Groups of four are easier to type; authenticator apps ignore the spaces.
    $("totp-secret").textContent = due.enrolment.secret.match(/.{1,4}/g).join(" ");
  } else {
    $("qr").replaceChildren();
    $("totp-secret").textContent = "";
  }
  show("second-factor");
  ui.status(enrolling ? "Password accepted. Set up your authenticator app." : "Password accepted. Enter your code.");
  // A new authenticator needs reading first; a known one needs only its code.
  (enrolling ? $("second-factor-title") : $("totp-code")).focus();
}

async function submitCode(event) {
  event.preventDefault();
  const form = event.currentTarget;
  const field = mode === "totp" ? $("totp-code") : $("recovery-code");
  field.removeAttribute("aria-invalid");
  const code = mode === "totp" ? field.value.replace(/\s+/g, "") : field.value.trim();
  if (mode === "totp" && !/^[0-9]{6}$/.test(code)) {
    return invalid(field, "Enter the 6-digit code your authenticator app shows now.");
  }
  if (mode === "recovery" && !code) return invalid(field, "Enter one of your recovery codes.");
  if (!challenge) return restart("Start again with your username and password.");
  ui.clear();
  await busy(form, async () => {
    let session;
    try {
      session = await auth.secondFactor(challenge, code);
    } catch (err) {
      field.value = "";
      if (!(err instanceof ApiError)) {
        console.error(err);
        return invalid(field, "Signing in failed in this page; reload it and try again.");
      }
      if (err.code === "DEVICE_REVOKED") return onRevoked(err);
      if (err.code === "CHALLENGE_INVALID" || err.code === "SIGN_IN_FAILED") return restart(sentence(err.detail));
      return invalid(field, sentence(err.detail));
    }
    challenge = null;
    if (session.recovery_codes?.length) showRecoveryCodes(session);
    else finish(session);
  });
}

function restart(message) {
  showSignIn();
  if (message) ui.error(message);
}

// --- after enrolment: recovery codes, shown once ---------------------------------------------

function showRecoveryCodes(session) {
  pending = session;
  replace(
    $("recovery-codes"),
    session.recovery_codes.map((c) => h("li", {}, h("code", {}, c))),
  );
  $("saved-codes").checked = false;
  $("saved-codes").removeAttribute("aria-invalid");
  show("recovery");
  ui.status("Authenticator set up. Save your recovery codes.");
  $("recovery-title").focus();
}

function submitSaved(event) {
  event.preventDefault();
  const box = $("saved-codes");
  if (!box.checked) return invalid(box, "Confirm that you have saved your recovery codes before you continue.");
  box.removeAttribute("aria-invalid");
  const session = pending;
  pending = null;
  $("recovery-codes").replaceChildren(); // shown once: gone from the page from here on
  finish(session);
}

function finish(session) {
  token.set(session.token);
  ui.clear();
  for (const id of STEPS) $(id).hidden = true;
  onSignedIn(session);
}

// --- the module ------------------------------------------------------------------------------

/**
 * Show step one, with every earlier step forgotten.
 * @param {{focus?: boolean}} [options]  put focus on the username (after sign-out, say)
 */
export function showSignIn({ focus = true } = {}) {
  challenge = null;
  pending = null;
  enrolling = false;
  for (const form of ["sign-in-form", "code-form", "recovery-form"]) $(form).reset();
  for (const field of document.querySelectorAll("#sign-in [aria-invalid], #second-factor [aria-invalid]")) {
    field.removeAttribute("aria-invalid");
  }
  $("qr").replaceChildren();
  $("totp-secret").textContent = "";
  $("recovery-codes").replaceChildren();
  show("sign-in");
  if (focus) $("username").focus();
}

/** Hide every sign-in step (a session is open). */
export function hideSignIn() {
  for (const id of STEPS) $(id).hidden = true;
}

/**
 * Wire up the sign-in steps.
 * @param {{clear(): void, status(text: string): void, error(text: string): void}} callbacks
 * @param {(session: object) => void} signedIn  called with the granted session
 * @param {(err: ApiError) => void} revoked  called when the server says this device is revoked
 */
export function initSignIn(callbacks, signedIn, revoked) {
  ui = callbacks;
  onSignedIn = signedIn;
  onRevoked = revoked;
  $("sign-in-form").addEventListener("submit", submitPassword);
  $("code-form").addEventListener("submit", submitCode);
  $("recovery-form").addEventListener("submit", submitSaved);
  $("use-recovery").addEventListener("click", () => {
    setMode(mode === "totp" ? "recovery" : "totp");
    $(mode === "totp" ? "totp-code" : "recovery-code").focus();
  });
  $("start-again").addEventListener("click", () => {
    ui.clear();
    showSignIn();
  });
  $("saved-codes").addEventListener("change", () => $("saved-codes").removeAttribute("aria-invalid"));
}
