// The Bluelight HTTP API: the bearer token, problem+json errors, and whether requests run.
//
// The token lives in sessionStorage only: it is gone when the tab closes and is never
// written to localStorage, which outlives the session on a shared back-office machine.

const BASE = "/api/v1";
const TOKEN_KEY = "bluelight.token";

/** An API refusal, from its problem+json body (RFC 9457). */
export class ApiError extends Error {
  /**
   * @param {number} status  HTTP status, or 0 when the server could not be reached.
   * @param {string} code    the stable error code, e.g. UNAUTHENTICATED.
   * @param {string} detail  what went wrong, in words for the user.
   */
  constructor(status, code, detail) {
    super(detail);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.detail = detail;
  }
}

export const token = {
  get() {
    return sessionStorage.getItem(TOKEN_KEY);
  },
  set(value) {
    sessionStorage.setItem(TOKEN_KEY, value);
  },
  clear() {
    sessionStorage.removeItem(TOKEN_KEY);
  },
};

let running = 0;
const busyListeners = new Set();

/** Call `listener(isBusy)` whenever requests start or all of them finish. */
export function onBusy(listener) {
  busyListeners.add(listener);
}

function track(delta) {
  const before = running > 0;
  running += delta;
  if (before !== running > 0) for (const listener of busyListeners) listener(running > 0);
}

async function problemOf(response) {
  const type = response.headers.get("content-type") || "";
  if (type.includes("json")) {
    try {
      const body = await response.json();
      return new ApiError(
        response.status,
        String(body.code || `HTTP_${response.status}`),
        String(body.detail || body.title || response.statusText || "the request failed"),
      );
    } catch {
      // fall through: a body that is not JSON after all
    }
  }
  return new ApiError(response.status, `HTTP_${response.status}`, `the server answered ${response.status}`);
}

/**
 * GET a path under /api/v1 (or a public one) and return its JSON.
 * @param {string} path  e.g. "/persons?family_name=SMITH"
 * @param {{auth?: boolean, signal?: AbortSignal}} [options]
 * @throws {ApiError}
 */
export async function get(path, { auth = true, signal } = {}) {
  const headers = { Accept: "application/json" };
  if (auth) {
    const bearer = token.get();
    if (!bearer) throw new ApiError(401, "UNAUTHENTICATED", "sign in with your access token");
    headers.Authorization = `Bearer ${bearer}`;
  }
  track(1);
  try {
    let response;
    try {
      // Records are personal data: never kept in the browser's HTTP cache. Code lists are
      // public reference data with ETags: revalidated, so a refresh costs a 304.
      const cache = path.startsWith("/vocab") ? "no-cache" : "no-store";
      response = await fetch(BASE + path, { headers, signal, cache });
    } catch (err) {
      if (err.name === "AbortError") throw err;
      throw new ApiError(0, "NETWORK", "the server could not be reached; check the connection and try again");
    }
    if (!response.ok) throw await problemOf(response);
    return await response.json();
  } finally {
    track(-1);
  }
}

/** The query string of `params`, leaving out empty values. */
export function query(params) {
  const q = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== null && value !== undefined && value !== "") q.set(key, String(value));
  }
  const text = q.toString();
  return text ? `?${text}` : "";
}

const ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Whether `value` is a record id (a UUID), so it may be put in a path or a link. */
export function isId(value) {
  return typeof value === "string" && ID.test(value);
}

export const records = {
  /** One page of `path` (persons, vehicles, events, locations) matching `filters`. */
  async list(path, filters, cursor, limit = 25) {
    return get(`/${path}${query({ ...filters, cursor, limit })}`);
  },
  async read(path, id) {
    if (!isId(id)) throw new ApiError(400, "INVALID_ID", "that is not a record id");
    return get(`/${path}/${id}`);
  },
  async history(path, id) {
    if (!isId(id)) throw new ApiError(400, "INVALID_ID", "that is not a record id");
    return get(`/${path}/${id}/history`);
  },
};

/** The server's health (public): status, version, database, and the force when it says. */
export function health() {
  return get("/health", { auth: false });
}

/** The catalogue of code lists: a cheap authenticated call that proves a token works. */
export function catalogue() {
  return get("/vocab");
}

/** One code list. */
export function codeList(name) {
  return get(`/vocab/${encodeURIComponent(name)}`);
}
