// REST access with the device token, and the few values kept in localStorage.

const KEY = {
  token: "adb.token",
  device: "adb.device",
  lastSeq: "adb.lastSeq",
  epoch: "adb.epoch",
  outbox: "adb.outbox",
  activity: "adb.activity",
  names: "adb.names",
  notice: "adb.notice",
};

export const storage = {
  get(name, fallback = null) {
    try {
      const raw = localStorage.getItem(KEY[name]);
      return raw === null ? fallback : JSON.parse(raw);
    } catch {
      return fallback;
    }
  },
  set(name, value) {
    try {
      if (value === null || value === undefined) localStorage.removeItem(KEY[name]);
      else localStorage.setItem(KEY[name], JSON.stringify(value));
    } catch {
      // Storage full or blocked: the page still works, it only forgets more on reload.
    }
  },
};

/** An error answer of the REST API ({error: {code, message}}) or a network failure. */
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/** Random id usable outside secure contexts (crypto.randomUUID needs https). */
export function randomId(prefix) {
  const bytes = new Uint8Array(9);
  crypto.getRandomValues(bytes);
  return prefix + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

let onUnauthorized = () => {};

/** Called with a message when the server says the token is no longer valid. */
export function setUnauthorizedHandler(handler) {
  onUnauthorized = handler;
}

function authHeaders() {
  const token = storage.get("token");
  return token ? { Authorization: `Bearer ${token}` } : {};
}

async function request(method, path, body) {
  const headers = { ...authHeaders(), Accept: "application/json" };
  const init = { method, headers, cache: "no-store" };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch {
    throw new ApiError(0, "network", "The desktop app cannot be reached.");
  }
  let data = null;
  try {
    data = await response.json();
  } catch {
    data = null;
  }
  if (!response.ok) {
    const err = (data && data.error) || {};
    const error = new ApiError(
      response.status,
      err.code || `http_${response.status}`,
      err.message || `The desktop app answered ${response.status}.`,
    );
    if (response.status === 401 && path !== "/api/pairing/complete") onUnauthorized(error.message);
    throw error;
  }
  return data;
}

export const api = {
  get: (path, params) => {
    const query = params ? new URLSearchParams(
      Object.entries(params).filter(([, v]) => v !== undefined && v !== null && v !== ""),
    ).toString() : "";
    return request("GET", query ? `${path}?${query}` : path);
  },
  post: (path, body) => request("POST", path, body ?? {}),
};

const imageCache = new Map(); // url -> Promise<objectURL>
const IMAGE_CACHE_MAX = 40;

/** Loads an image that needs the Authorization header and returns an object URL. */
export function authImage(url) {
  if (!url) return Promise.reject(new Error("no image"));
  let pending = imageCache.get(url);
  if (pending) {
    imageCache.delete(url); // re-insert: most recently used last
    imageCache.set(url, pending);
    return pending;
  }
  pending = fetch(url, { headers: authHeaders() }).then((response) => {
    if (response.status === 401) onUnauthorized("The desktop app no longer accepts this phone.");
    if (!response.ok) throw new Error(`image ${response.status}`);
    return response.blob();
  }).then((blob) => URL.createObjectURL(blob));
  pending.catch(() => imageCache.delete(url));
  imageCache.set(url, pending);
  while (imageCache.size > IMAGE_CACHE_MAX) {
    const [oldUrl, oldPending] = imageCache.entries().next().value;
    imageCache.delete(oldUrl);
    oldPending.then((objectUrl) => setTimeout(() => URL.revokeObjectURL(objectUrl), 5000), () => {});
  }
  return pending;
}

/** A device name the photographer recognises in the desktop's device list. */
export function deviceNameFromUserAgent(ua = navigator.userAgent) {
  if (/iPhone/.test(ua)) return "iPhone";
  if (/iPad/.test(ua) || (/Macintosh/.test(ua) && navigator.maxTouchPoints > 1)) return "iPad";
  if (/Android/.test(ua)) return /Mobile/.test(ua) ? "Android phone" : "Android tablet";
  if (/Windows Phone/.test(ua)) return "Windows phone";
  if (/Mobi/.test(ua)) return "Phone";
  if (/Windows/.test(ua)) return "Windows browser";
  if (/Macintosh/.test(ua)) return "Mac browser";
  if (/Linux/.test(ua)) return "Linux browser";
  return "Web browser";
}
