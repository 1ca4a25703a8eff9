// The Bluelight HTTP API: the session token, this browser's device id, the reason for a
// check, problem+json errors, and whether requests run.
//
// The token lives in sessionStorage only: it is gone when the tab closes and is never written
// to localStorage, which outlives the session on a shared back-office machine. No cookie is
// ever set: only the Authorization header authenticates, so a request another site makes the
// browser send carries no credential (the server's defence against cross-site forgery).
// localStorage holds one thing, the device id this browser made for itself once.

const BASE = "/api/v1";
const TOKEN_KEY = "bluelight.token";
const DEVICE_KEY = "bluelight.device";

/** An API refusal, from its problem+json body (RFC 9457). */
export class ApiError extends Error {
  /**
   * @param {number} status  HTTP status, or 0 when the server could not be reached.
   * @param {string} code    the stable error code, e.g. TOKEN_EXPIRED.
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

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function randomUUID() {
  if (typeof crypto.randomUUID === "function") return crypto.randomUUID();
  // crypto.randomUUID exists only in secure contexts; a force intranet may serve plain HTTP.
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const hex = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** This browser as a device: an id made once and kept, and a short name people recognise. */
export const device = {
  id() {
    let id = null;
    try {
      id = localStorage.getItem(DEVICE_KEY);
      if (!id || !UUID.test(id)) {
        id = randomUUID();
        localStorage.setItem(DEVICE_KEY, id);
      }
    } catch {
      id = id || randomUUID(); // storage refused (a locked-down profile): one id per page load
    }
    return id.toLowerCase();
  },
  name() {
    const ua = navigator.userAgent || "";
    const browser = /Edg\//.test(ua)
      ? "Edge"
      : /Firefox\//.test(ua)
        ? "Firefox"
        : /Chrom(e|ium)\//.test(ua)
          ? "Chrome"
          : /Safari\//.test(ua)
            ? "Safari"
            : "Browser";
    const system = /Android/.test(ua)
      ? "Android"
      : /iPhone|iPad/.test(ua)
        ? "iOS"
        : /Windows/.test(ua)
          ? "Windows"
          : /Mac OS X/.test(ua)
            ? "macOS"
            : /CrOS/.test(ua)
              ? "ChromeOS"
              : /Linux/.test(ua)
                ? "Linux"
                : "unknown system";
    return `${browser} on ${system} (back office)`;
  },
};

/** Forget everything Bluelight keeps in this browser (a revoked device must be wiped). */
export function wipeStorage() {
  try {
    localStorage.clear();
  } catch {
    // nothing to clear
  }
  sessionStorage.clear();
}

// The reason for the current check: read from the page whenever a record request is sent.
let reasonSource = () => null;

/** Say where the reason comes from: `source()` returns {code, text} or null. */
export function useReason(source) {
  reasonSource = source;
}

function reasonHeaders() {
  const given = reasonSource();
  // A reason is a code and its words, both: half of one is not sent (the server would refuse
  // it even for a read that needs none).
  if (!given?.code || !given.text) return {};
  // Headers are ASCII: free text travels percent-encoded, and the server decodes it.
  return {
    "X-Bluelight-Reason": given.code,
    "X-Bluelight-Reason-Text": encodeURIComponent(given.text),
  };
}

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
 * Send a request to a path under /api/v1 and return its JSON (null for 204 No Content).
 * @param {string} method
 * @param {string} path  e.g. "/persons?family_name=SMITH"
 * @param {{auth?: boolean, bearer?: string, body?: any, headers?: Record<string, string>,
 *   signal?: AbortSignal}} [options]  `bearer` stands in for the stored token
 * @throws {ApiError}
 */
export async function request(
  method,
  path,
  { auth = true, bearer, body, headers: extra = {}, signal, keepalive = false } = {},
) {
  const headers = { Accept: "application/json", ...extra };
  if (auth) {
    const credential = bearer || token.get();
    if (!credential) throw new ApiError(401, "AUTH_REQUIRED", "sign in to continue");
    headers.Authorization = `Bearer ${credential}`;
  }
  const init = { method, headers, signal, keepalive, credentials: "omit" };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  // Records are personal data: never kept in the browser's HTTP cache. Code lists are public
  // reference data with ETags: revalidated, so a refresh costs a 304.
  init.cache = method === "GET" && path.startsWith("/vocab") ? "no-cache" : "no-store";
  track(1);
  try {
    let response;
    try {
      response = await fetch(BASE + path, init);
    } catch (err) {
      if (err.name === "AbortError") throw err;
      throw new ApiError(0, "NETWORK", "the server could not be reached; check the connection and try again");
    }
    if (!response.ok) throw await problemOf(response);
    if (response.status === 204) return null;
    return await response.json();
  } finally {
    track(-1);
  }
}

/** GET a path under /api/v1 and return its JSON. */
export function get(path, options = {}) {
  return request("GET", path, options);
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

/** Whether `value` is a record id (a UUID), so it may be put in a path or a link. */
export function isId(value) {
  return typeof value === "string" && UUID.test(value);
}

export const auth = {
  /** Step one: password and this device; answers {challenge, expires_at, enrolment?}. */
  signIn(username, password) {
    return request("POST", "/auth/sign-in", {
      auth: false,
      body: { username, password, device: { id: device.id(), name: device.name() } },
    });
  },
  /** Step two: a code from the authenticator (or a recovery code); answers the session. */
  secondFactor(challenge, code) {
    return request("POST", "/auth/second-factor", { auth: false, body: { challenge, code } });
  },
  me() {
    return get("/auth/me");
  },
  /** End the session of `bearer` (already forgotten by the page). */
  signOut(bearer) {
    return request("POST", "/auth/sign-out", { bearer, keepalive: true });
  },
};

export const records = {
  /** One page of `path` (persons, vehicles, events, locations) matching `filters`. */
  async list(path, filters, cursor, limit = 25) {
    return get(`/${path}${query({ ...filters, cursor, limit })}`, { headers: reasonHeaders() });
  },
  async read(path, id) {
    if (!isId(id)) throw new ApiError(400, "INVALID_ID", "that is not a record id");
    return get(`/${path}/${id}`, { headers: reasonHeaders() });
  },
  async history(path, id) {
    if (!isId(id)) throw new ApiError(400, "INVALID_ID", "that is not a record id");
    return get(`/${path}/${id}/history`, { headers: reasonHeaders() });
  },
};

export const sync = {
  /** The force's devices and how each stands with sync (the sync panel). */
  async devices() {
    return get("/sync/devices");
  },
  /** Operations refused from the force's devices, newest first. */
  async rejected() {
    return get("/sync/rejected");
  },
};

/** The server's health (public): status, version, database, and the force when it says. */
export function health() {
  return get("/health", { auth: false });
}

/** One code list. */
export function codeList(name) {
  return get(`/vocab/${encodeURIComponent(name)}`);
}
