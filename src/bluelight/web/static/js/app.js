// The back office page: the session, messages, the progress indicator, and which view shows.

import { ApiError, auth, health, onBusy, token, wipeStorage } from "./api.js";
import { fold as foldReason, initReason, loadReasons, refused, resetReason } from "./reason.js";
import { initDevices, resetDevices } from "./devices.js";
import { closeRecord, showRecord } from "./records.js";
import { route } from "./kinds.js";
import { focusResult, initSearch, resetSearch } from "./search.js";
import { hideSignIn, initSignIn, sentence, showSignIn } from "./signin.js";
import { forget } from "./vocab.js";

const $ = (id) => document.getElementById(id);
let lastOpened = null;

// The developer links (the API documentation and the OpenAPI document) are for those whose
// work is done through the API rather than this page: administrators (accounts, devices, code
// mappings, imports) and auditors (exports, proofs). Officers and the public never see them.
const DEVELOPER_PERMISSIONS = new Set([
  "identity:user:write",
  "vocab:mapping:write",
  "records:any:import",
  "audit:trail:read",
]);

const SESSION_ENDED = {
  TOKEN_EXPIRED: "Your session timed out. Sign in again to carry on.",
  TOKEN_REVOKED: "Your session has ended. Sign in again to carry on.",
  TOKEN_INVALID: "Your session is no longer valid. Sign in again to carry on.",
  AUTH_REQUIRED: "Sign in to carry on.",
};

// --- messages --------------------------------------------------------------------------------

const ui = {
  /** Clear the error message. */
  clear() {
    const box = $("message");
    box.textContent = "";
    box.classList.remove("message--error");
  },
  /** Tell screen-reader users something that sighted users see on screen anyway. */
  status(text) {
    $("status").textContent = text;
  },
  /** Show an error in the live region (as text: never markup, never a raw response). */
  error(text) {
    const box = $("message");
    box.classList.add("message--error");
    box.textContent = text;
  },
  /** A check was made with the reason given: it folds away to one line. */
  reasonUsed() {
    foldReason();
  },
  /** Show an API failure; a refused session sends the user back to sign in. */
  fail(err) {
    if (err?.name === "AbortError") return;
    if (err instanceof ApiError && err.code === "DEVICE_REVOKED") {
      deviceRevoked();
      return;
    }
    if (err instanceof ApiError && err.status === 401) {
      endSession();
      ui.error(SESSION_ENDED[err.code] || `${sentence(err.detail)} Sign in again.`);
      return;
    }
    if (err instanceof ApiError && err.code === "REASON_REQUIRED") {
      ui.error("This check needs a reason: choose one under “Reason for checks”, describe it, and try again.");
      refused();
      return;
    }
    if (err instanceof ApiError && err.code === "UNKNOWN_REASON") {
      ui.error(`${sentence(err.detail)} Choose a reason from the list and try again.`);
      refused();
      return;
    }
    ui.error(err instanceof ApiError ? sentence(err.detail) : "Something went wrong in this page; reload it and try again.");
    if (!(err instanceof ApiError)) console.error(err);
  },
};

// --- the session -----------------------------------------------------------------------------

function showWorkspace(open) {
  $("workspace").hidden = !open;
  $("session").hidden = !open;
  if (!open) {
    $("who").textContent = "";
    $("dev-links").hidden = true;
  }
}

/** Forget the session and everything it showed, and return to step one of signing in. */
function endSession() {
  token.clear();
  forget();
  resetSearch();
  resetReason();
  resetDevices();
  closeRecord();
  $("record").hidden = true;
  $("search").hidden = false;
  showWorkspace(false);
  // The next person to sign in at this tab starts from the search, not this record.
  history.replaceState(null, "", location.pathname);
  showSignIn();
}

/** The server revoked this device: wipe what the browser holds and say so. */
function deviceRevoked() {
  endSession();
  wipeStorage();
  ui.error(
    "This device has been revoked, so Bluelight has wiped everything it kept in this browser. " +
      "Speak to your supervisor before you sign in again.",
  );
}

async function describeUser() {
  try {
    const me = await auth.me();
    const u = me.user;
    $("who").textContent = `Signed in as ${u.display_name} (${u.username}), ${u.agency}`;
    $("dev-links").hidden = !(me.permissions || []).some((p) => DEVELOPER_PERMISSIONS.has(p));
    initDevices(me.permissions, ui.fail);
  } catch (err) {
    ui.fail(err);
  }
}

async function opened() {
  showWorkspace(true);
  ui.status("Signed in.");
  const reasons = loadReasons().catch(ui.fail);
  await describeUser();
  if (!token.get()) return; // the session was refused meanwhile
  await reasons;
  if (route(location.hash)) await openRoute();
  else $("reason-code").focus();
}

async function signOut() {
  // Forget the session here first, so nothing that happens next (a reload, a closed tab)
  // can bring it back; then tell the server to end it (keepalive outlives the page).
  const bearer = token.get();
  endSession();
  ui.clear();
  ui.status("Signed out.");
  if (!bearer) return;
  try {
    await auth.signOut(bearer);
  } catch (err) {
    if (err instanceof ApiError && err.code === "DEVICE_REVOKED") deviceRevoked();
    // Any other failure: the token is forgotten here all the same, and times out there.
  }
}

// --- which view ------------------------------------------------------------------------------

async function openRoute() {
  const where = route(location.hash);
  if (!token.get()) return;
  if (where) {
    lastOpened = where.id;
    $("search").hidden = true;
    $("record").hidden = false;
    window.scrollTo(0, 0);
    await showRecord(where.path, where.id, ui);
  } else if (!$("record").hidden) {
    closeRecord();
    $("record").hidden = true;
    $("search").hidden = false;
    focusResult(lastOpened);
  }
}

// --- the page --------------------------------------------------------------------------------

async function describeServer() {
  try {
    const about = await health();
    if (about.force) {
      $("force").textContent = `Force: ${about.force}`;
      $("force").hidden = false;
    }
    $("about").textContent = `Bluelight ${about.version} · database: ${about.database}`;
  } catch {
    $("about").textContent = "Bluelight · the server did not answer its health check";
  }
}

function start() {
  onBusy((busy) => {
    $("progress").hidden = !busy;
    $("main").setAttribute("aria-busy", String(busy));
  });
  initSignIn(ui, opened, deviceRevoked);
  initReason();
  $("reason-form").addEventListener("submit", (event) => event.preventDefault());
  $("sign-out").addEventListener("click", signOut);
  initSearch(ui);
  window.addEventListener("hashchange", openRoute);
  describeServer();
  if (token.get()) {
    hideSignIn();
    opened();
  } else {
    showSignIn({ focus: false });
  }
  document.documentElement.dataset.ready = "true";
}

start();
