// The back office page: sign-in, messages, the progress indicator, and which view shows.

import { ApiError, catalogue, health, onBusy, token } from "./api.js";
import { closeRecord, showRecord } from "./records.js";
import { route } from "./kinds.js";
import { focusResult, initSearch, resetSearch } from "./search.js";
import { forget } from "./vocab.js";

const $ = (id) => document.getElementById(id);
let lastOpened = null;

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
  /** Show an error in the live region. */
  error(text) {
    const box = $("message");
    box.classList.add("message--error");
    box.textContent = text;
  },
  /** Show an API failure; a refused token sends the user back to sign in. */
  fail(err) {
    if (err?.name === "AbortError") return;
    if (err instanceof ApiError && err.status === 401) {
      signOut({ keepMessage: true });
      ui.error(`Sign in again: ${err.detail}`);
      $("token").focus();
      return;
    }
    ui.error(err instanceof ApiError ? err.detail : "Something went wrong in this page; reload it and try again.");
    if (!(err instanceof ApiError)) console.error(err);
  },
};

// --- signing in and out ------------------------------------------------------------------------

function showSignedIn(signedIn) {
  $("sign-in").hidden = signedIn;
  $("workspace").hidden = !signedIn;
  $("session").hidden = !signedIn;
}

async function signIn(event) {
  event.preventDefault();
  const field = $("token");
  const value = field.value.trim();
  if (!value) {
    field.setAttribute("aria-invalid", "true");
    ui.error("Enter the access token.");
    field.focus();
    return;
  }
  field.removeAttribute("aria-invalid");
  ui.clear();
  token.set(value);
  try {
    await catalogue(); // proves the token before the workspace opens
  } catch (err) {
    token.clear();
    ui.fail(err);
    return;
  }
  field.value = "";
  showSignedIn(true);
  ui.status("Signed in.");
  if (route(location.hash)) await openRoute();
  else document.querySelector(".search-form:not([hidden]) input")?.focus();
}

function signOut({ keepMessage = false } = {}) {
  token.clear();
  forget();
  resetSearch();
  closeRecord();
  $("record").hidden = true;
  $("search").hidden = false;
  showSignedIn(false);
  if (!keepMessage) {
    // The next person to sign in at this tab starts from the search, not this record.
    history.replaceState(null, "", location.pathname);
    ui.clear();
    ui.status("Signed out.");
    $("token").focus();
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
  $("sign-in-form").addEventListener("submit", signIn);
  $("sign-out").addEventListener("click", () => signOut());
  initSearch(ui);
  window.addEventListener("hashchange", openRoute);
  describeServer();
  const signedIn = Boolean(token.get());
  showSignedIn(signedIn);
  if (signedIn) openRoute();
  document.documentElement.dataset.ready = "true";
}

start();
