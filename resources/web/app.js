// AutoDev Bridge phone page: pairing, the three screens, and the wiring to the live connection.

import { api, deviceNameFromUserAgent, setUnauthorizedHandler, storage } from "./api.js";
import { ApproveScreen } from "./approve.js";
import { ShootScreen } from "./shoot.js";
import { ZoomViewer } from "./zoom.js";
import { Bridge } from "./bridge.js";
import { ACTIVITY_TYPES, HISTORY_TYPES, describe, jobSentence, timeText } from "./describe.js";

const ACTIVITY_MAX = 150;
const NAMES_MAX = 800;
const IMPORT_GROUP_MS = 5 * 60 * 1000;
const FINISHED_JOB_LINGER_MS = 2500;
const RESERVED = new Set(["type", "timestamp", "seq", "channel"]);

const $ = (id) => document.getElementById(id);

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = text;
  return node;
}

function plural(n, one, many = `${one}s`) {
  return n === 1 ? one : many;
}

// --- names of photos and sessions (file names are untrusted text: textContent only) -------

const names = {
  photos: new Map(storage.get("names", [])),
  sessions: new Map(),
  fetching: new Set(),
  saveTimer: null,
  photo(id) {
    return this.photos.get(id) || null;
  },
  session(id) {
    return this.sessions.get(id) || null;
  },
  rememberPhoto(p) {
    if (!p || !p.photo_id || !p.file_name || this.photos.get(p.photo_id) === p.file_name) return;
    this.photos.delete(p.photo_id);
    this.photos.set(p.photo_id, p.file_name);
    while (this.photos.size > NAMES_MAX) this.photos.delete(this.photos.keys().next().value);
    clearTimeout(this.saveTimer);
    this.saveTimer = setTimeout(() => storage.set("names", [...this.photos]), 1000);
  },
  /** Looks up a photo's file name once; re-renders when it arrives. */
  want(id) {
    if (!id || this.photos.has(id) || this.fetching.has(id)) return;
    this.fetching.add(id);
    api.get(`/api/photos/${encodeURIComponent(id)}`).then((p) => {
      this.rememberPhoto(p);
      scheduleRender();
    }, () => {});
  },
};

// --- state ---------------------------------------------------------------------------------

const state = {
  paused: null,
  system: null,
  queueStatus: null,
  jobs: new Map(),
  sessions: new Map(),
  approvalCount: null,
  activity: storage.get("activity", []),
  tab: "now",
};

let bridge = null;
let approve = null;
let zoom = null;
let shoot = null;
let toastTimer = null;

function toast(message, kind = "") {
  const node = $("toast");
  node.textContent = message;
  node.className = `toast ${kind}`;
  node.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { node.hidden = true; }, kind === "bad" ? 6000 : 3000);
}

// --- pairing -------------------------------------------------------------------------------

function takePairCode() {
  const params = new URLSearchParams(location.hash.slice(1));
  const code = params.get("pair");
  if (code !== null) {
    params.delete("pair");
    const rest = params.toString();
    history.replaceState(null, "", location.pathname + location.search + (rest ? `#${rest}` : ""));
  }
  return code ? code.trim() : null;
}

async function pair(code) {
  showPairing(null);
  $("pair-busy").hidden = false;
  try {
    const device = await api.post("/api/pairing/complete", {
      code,
      device_name: deviceNameFromUserAgent(),
    });
    storage.set("token", device.token);
    storage.set("device", { device_id: device.device_id, device_name: device.device_name });
    storage.set("notice", null);
    return true;
  } catch (error) {
    const message = error.status === 0
      ? "Could not reach the desktop app. Is this phone on the same Wi-Fi as the computer?"
      : error.status === 429
        ? "Too many attempts. Wait a minute, then scan a new QR code."
        : "That pairing code was not accepted: it may have expired or been used already. " +
          "Show a new QR code on the desktop and scan it again.";
    showPairing(message);
    return false;
  } finally {
    $("pair-busy").hidden = true;
  }
}

function showPairing(message) {
  $("boot").hidden = true;
  $("app").hidden = true;
  $("pair-screen").hidden = false;
  const box = $("pair-message");
  box.textContent = message || "";
  box.hidden = !message;
  document.title = "Pair this phone · AutoDev Bridge";
}

/** The token is gone or refused: back to the pairing screen, keeping queued decisions. */
function unpair() {
  if (bridge) {
    bridge.stop();
    bridge = null;
  }
  const text = "This phone is no longer paired with the desktop app: it was removed there, or " +
    "its pairing is no longer valid. Pair again to continue.";
  storage.set("token", null);
  storage.set("notice", text);
  showPairing(text);
}

// --- loading over REST ---------------------------------------------------------------------

let loading = null;
let loadAgain = false;

function loadAll() {
  if (loading) {
    loadAgain = true;
    return loading;
  }
  // Sessions first: the cards show their session's name.
  const queue = loadSessions().catch(() => {}).then(() => approve.reload());
  loading = Promise.allSettled([loadSystem(), loadJobs(), queue, loadHistory()])
    .then(() => {
      loading = null;
      scheduleRender();
      if (loadAgain) {
        loadAgain = false;
        loadAll();
      }
    });
  return loading;
}

async function loadSystem() {
  const data = await api.get("/api/system/status");
  state.system = data;
  if (typeof data.paused === "boolean") state.paused = data.paused;
  if (data.queue && typeof data.queue === "object") state.queueStatus = data.queue;
}

/**
 * Activity from the server's event log: a newly paired phone gets no replay, so its Activity is
 * filled from here; a known phone gets what happened while it was away, each line once.
 */
async function loadHistory() {
  const page = await api.get("/api/activity", { limit: ACTIVITY_MAX, types: HISTORY_TYPES.join(",") });
  const items = Array.isArray(page.items) ? page.items : [];
  const upto = typeof page.seq === "number" ? page.seq : Infinity;
  // Lines the history cannot hold: this phone's own notes, and live events newer than it.
  const keep = state.activity.filter((a) => a.seq === null || a.seq === undefined || a.seq > upto);
  state.activity = [];
  for (const event of items.slice().reverse()) addActivity(event); // oldest first
  for (const item of keep.slice().reverse()) {
    state.activity.unshift(item);
  }
  state.activity.sort((a, b) => (Date.parse(b.ts) || 0) - (Date.parse(a.ts) || 0));
  if (state.activity.length > ACTIVITY_MAX) state.activity.length = ACTIVITY_MAX;
  saveActivitySoon();
}

// A REST answer can be older than the live events that arrived while it was on its way:
// anything updated live after the request started wins over the snapshot.
function mergeSnapshot(current, items, key, startedAt) {
  const merged = new Map();
  for (const item of items) {
    const live = current.get(item[key]);
    merged.set(item[key], live && live.liveAt > startedAt ? { ...item, ...live } : { ...item });
  }
  for (const [id, live] of current) {
    if (!merged.has(id) && (live.liveAt > startedAt || live.finishedAt)) merged.set(id, live);
  }
  return merged;
}

async function loadJobs() {
  const startedAt = performance.now();
  const page = await api.get("/api/jobs", { status: "running", limit: 50 });
  state.jobs = mergeSnapshot(state.jobs, page.items || [], "job_id", startedAt);
}

async function loadSessions() {
  const startedAt = performance.now();
  const page = await api.get("/api/sessions", { limit: 50 });
  state.sessions = mergeSnapshot(state.sessions, page.items || [], "session_id", startedAt);
  for (const s of state.sessions.values()) names.sessions.set(s.session_id, s.session_name);
  approve.setSessions(sortedSessions());
  shoot.setSessions(sortedSessions());
}

// --- live events ---------------------------------------------------------------------------

function payload(msg) {
  const data = {};
  for (const [k, v] of Object.entries(msg)) if (!RESERVED.has(k)) data[k] = v;
  return data;
}

function onEvent(msg) {
  const jobs = state.jobs;
  const now = performance.now();
  switch (msg.type) {
    case "job_started":
      jobs.set(msg.job_id, {
        job_id: msg.job_id, photo_id: msg.photo_id, kind: msg.kind, progress: 0, status: "running",
        liveAt: now,
      });
      break;
    case "job_progress": {
      let job = jobs.get(msg.job_id);
      if (!job && msg.stage === "queued") break; // a retried job waiting again, not running
      if (!job) {
        job = { job_id: msg.job_id, status: "running", progress: 0 };
        jobs.set(msg.job_id, job);
        api.get(`/api/jobs/${encodeURIComponent(msg.job_id)}`).then((full) => {
          Object.assign(job, { photo_id: full.photo_id, kind: full.kind });
          scheduleRender();
        }, () => {});
      }
      Object.assign(job, { stage: msg.stage, progress: msg.progress, message: msg.message, liveAt: now });
      break;
    }
    case "job_completed":
    case "job_failed": {
      const job = jobs.get(msg.job_id);
      if (job) {
        job.status = msg.type === "job_completed" ? "completed" : "failed";
        if (job.status === "completed") job.progress = 100;
        job.finishedAt = Date.now();
        job.liveAt = now;
        setTimeout(() => {
          if (state.jobs.get(msg.job_id)?.finishedAt) state.jobs.delete(msg.job_id);
          scheduleRender();
        }, FINISHED_JOB_LINGER_MS);
      }
      break;
    }
    case "photo_imported":
      names.rememberPhoto(msg);
      break;
    case "photo_analyzed":
    case "photo_selected":
      approve.invalidateAlternates(null);
      break;
    case "photo_approved":
    case "photo_rejected":
      approve.onServerDecision(msg);
      shoot.onEvent(msg);
      break;
    case "photo_unflagged":
      approve.scheduleReload();
      shoot.onEvent(msg);
      break;
    case "photo_rating_changed":
    case "client_favorite_changed":
      shoot.onEvent(msg);
      break;
    case "session_created":
      names.sessions.set(msg.session_id, msg.session_name);
      state.sessions.set(msg.session_id, {
        session_id: msg.session_id,
        session_name: msg.session_name,
        import_folder: msg.import_folder,
        status: "active",
        created_at: msg.timestamp,
        total_photos: 0,
        processed_photos: 0,
        progress_percent: 0,
        liveAt: now,
      });
      approve.setSessions(sortedSessions());
      shoot.setSessions(sortedSessions());
      break;
    case "session_updated":
    case "session_completed": {
      const s = state.sessions.get(msg.session_id) || { session_id: msg.session_id };
      Object.assign(s, payload(msg), { liveAt: now });
      if (msg.type === "session_completed") s.status = "completed";
      if (msg.session_name) names.sessions.set(msg.session_id, msg.session_name);
      state.sessions.set(msg.session_id, s);
      break;
    }
    case "system_status": {
      const wasPaused = state.paused;
      const details = msg.details && typeof msg.details === "object" ? msg.details : {};
      state.system = { ...(state.system || {}), ...details, status: msg.status };
      if (details.queue && typeof details.queue === "object") state.queueStatus = details.queue;
      if (typeof details.paused === "boolean") state.paused = details.paused;
      else if (msg.status === "paused") state.paused = true;
      else if (msg.status === "running" || msg.status === "resumed") state.paused = false;
      if (state.paused !== wasPaused && wasPaused !== null && state.paused !== null) {
        addActivity({ ...msg, status: state.paused ? "paused" : "resumed" });
      }
      scheduleRender();
      return;
    }
    case "queue_status":
      state.queueStatus = payload(msg);
      break;
    case "approval_queue_updated":
      approve.scheduleReload();
      break;
    default:
      break;
  }
  if (ACTIVITY_TYPES.has(msg.type) && msg.type !== "system_status") addActivity(msg);
  scheduleRender();
}

function addActivity(msg) {
  const data = payload(msg);
  const top = state.activity[0];
  const ts = msg.timestamp || new Date().toISOString();
  if (
    msg.type === "photo_imported" && top && top.type === "photo_imported" &&
    top.data.session_id === data.session_id && Date.parse(ts) - Date.parse(top.ts) < IMPORT_GROUP_MS
  ) {
    top.count = (top.count || 1) + 1;
    top.data = data;
    top.ts = ts;
    top.seq = msg.seq;
  } else {
    state.activity.unshift({ seq: msg.seq ?? null, type: msg.type, ts, data, count: 1 });
    if (state.activity.length > ACTIVITY_MAX) state.activity.length = ACTIVITY_MAX;
  }
  saveActivitySoon();
}

let activityTimer = null;
function saveActivitySoon() {
  clearTimeout(activityTimer);
  activityTimer = setTimeout(() => storage.set("activity", state.activity), 500);
}

// --- rendering -----------------------------------------------------------------------------

let renderQueued = false;
function scheduleRender() {
  if (renderQueued) return;
  renderQueued = true;
  requestAnimationFrame(() => {
    renderQueued = false;
    renderNow();
    renderActivity();
    renderOutbox();
  });
}

function sortedSessions() {
  return [...state.sessions.values()].sort((a, b) =>
    String(b.created_at || "").localeCompare(String(a.created_at || "")));
}

function progressRow(title, percent, sub, id) {
  const li = el("li", "row");
  const value = Math.max(0, Math.min(100, Number(percent) || 0));
  const head = el("div", "row-head");
  head.append(el("span", "name", title), el("span", "pct", `${Math.round(value)}%`));
  const bar = el("div", "bar");
  bar.setAttribute("role", "progressbar");
  bar.setAttribute("aria-valuemin", "0");
  bar.setAttribute("aria-valuemax", "100");
  bar.setAttribute("aria-valuenow", String(Math.round(value)));
  bar.setAttribute("aria-label", title);
  const fill = el("span");
  fill.style.width = `${value}%`;
  bar.append(fill);
  li.append(head, bar);
  if (sub) li.append(el("p", "row-sub", sub));
  if (id) li.dataset.id = id;
  return li;
}

/** Updates a list in place by key, so progress bars animate instead of being rebuilt. */
function syncRows(list, rows) {
  const old = new Map([...list.children].map((li) => [li.dataset.id, li]));
  rows.forEach((row, index) => {
    const current = old.get(row.dataset.id);
    if (current) {
      current.querySelector(".row-head").replaceWith(row.querySelector(".row-head"));
      const bar = current.querySelector(".bar");
      const newBar = row.querySelector(".bar");
      for (const attr of ["aria-valuenow", "aria-label"]) bar.setAttribute(attr, newBar.getAttribute(attr));
      bar.firstElementChild.style.width = newBar.firstElementChild.style.width;
      const sub = current.querySelector(".row-sub");
      const newSub = row.querySelector(".row-sub");
      if (sub && newSub) sub.textContent = newSub.textContent;
      else if (sub) sub.remove();
      else if (newSub) current.append(newSub);
      current.className = row.className;
      old.delete(row.dataset.id);
      if (list.children[index] !== current) list.insertBefore(current, list.children[index] || null);
    } else {
      list.insertBefore(row, list.children[index] || null);
    }
  });
  for (const li of old.values()) li.remove();
}

function renderNow() {
  const paused = state.paused;
  const processing = $("processing");
  processing.dataset.paused = String(paused === true);
  $("processing-state").textContent = paused === null ? "—" : paused ? "Paused" : "Running";
  const toggle = $("pause-toggle");
  toggle.textContent = paused ? "Resume" : "Pause";
  toggle.disabled = paused === null || !bridge || bridge.state !== "connected" || toggle.dataset.busy === "1";

  const count = state.approvalCount;
  $("approval-count").textContent = count === null ? "–" : String(count);
  $("approval-text").textContent = count === null
    ? "photos waiting for you"
    : `${plural(count, "photo")} waiting for you`;
  const badge = $("tab-badge");
  badge.hidden = !count;
  badge.textContent = count > 99 ? "99+" : String(count || "");

  const jobRows = [...state.jobs.values()].map((job) => {
    if (job.photo_id) names.want(job.photo_id);
    const title = jobSentence(job, names.photo(job.photo_id));
    const sub = job.status === "failed"
      ? "Failed"
      : job.status === "completed"
        ? "Done"
        : job.message || stageWord(job.stage);
    const row = progressRow(title, job.progress, sub, job.job_id);
    row.dataset.jobId = job.job_id;
    if (job.status === "completed") row.classList.add("done");
    return row;
  });
  syncRows($("jobs"), jobRows);
  $("jobs-empty").hidden = jobRows.length > 0;

  const q = state.queueStatus;
  $("queue-line").textContent = q
    ? `Queue: ${q.pending ?? 0} waiting · ${q.processing ?? 0} working · ${q.completed ?? 0} done` +
      (q.failed ? ` · ${q.failed} failed` : "")
    : "";

  const sessions = sortedSessions();
  const shown = [
    ...sessions.filter((s) => s.status !== "completed"),
    ...sessions.filter((s) => s.status === "completed"),
  ].slice(0, 6);
  const sessionRows = shown.map((s) => {
    const total = s.total_photos ?? 0;
    const processed = s.processed_photos ?? 0;
    const parts = [total ? `${processed} of ${total} analysed` : "No photos yet"];
    if (typeof s.approved_photos === "number") parts.push(`${s.approved_photos} approved`);
    if (s.status === "completed") parts.push("completed");
    const percent = s.progress_percent ?? (total ? (processed / total) * 100 : 0);
    const row = progressRow(s.session_name || "Session", percent, parts.join(" · "), s.session_id);
    row.dataset.sessionId = s.session_id;
    if (s.status === "completed") row.classList.add("done");
    return row;
  });
  syncRows($("sessions"), sessionRows);
  $("sessions-empty").hidden = sessionRows.length > 0;

  renderSystem();
}

function stageWord(stage) {
  if (!stage) return "";
  const text = String(stage).replace(/_/g, " ");
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function pct(v) {
  return typeof v === "number" && Number.isFinite(v) ? `${Math.round(v)}%` : null;
}

function gb(v) {
  return typeof v === "number" && Number.isFinite(v) ? `${(v / 1e9).toFixed(v >= 1e11 ? 0 : 1)} GB` : null;
}

function statusWord(status) {
  const words = { running: "Working", paused: "Paused", idle: "Idle" };
  const text = words[status] || String(status).replace(/_/g, " ");
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function renderSystem() {
  const s = state.system || {};
  const pick = (...keys) => {
    for (const key of keys) {
      const parts = key.split(".");
      let v = s;
      for (const p of parts) v = v && typeof v === "object" ? v[p] : undefined;
      if (v !== undefined && v !== null) return v;
    }
    return undefined;
  };
  const rows = [];
  const status = pick("status");
  // Running or paused is already the big line at the top; other states are news.
  if (status && status !== "running" && status !== "paused") rows.push(["Status", statusWord(status)]);
  const cpu = pct(pick("cpu_percent", "cpu.percent", "cpu"));
  if (cpu) rows.push(["Processor", cpu]);
  const mem = pct(pick("memory_percent", "memory.percent", "memory"));
  if (mem) rows.push(["Memory", mem]);
  const disks = pick("disk_free_mb");
  if (disks && typeof disks === "object") {
    const label = { library: "Free for photos", export: "Free for exports" };
    const entries = Object.entries(disks).filter(([, mb]) => typeof mb === "number");
    const same = entries.length > 1 && entries.every(([, mb]) => mb === entries[0][1]);
    for (const [name, mb] of same ? entries.slice(0, 1) : entries) {
      rows.push([same ? "Disk free" : label[name] || `Free (${name})`, gb(mb * 2 ** 20)]);
    }
  } else {
    const diskFree = gb(pick("disk_free", "disk.free"));
    if (diskFree) rows.push(["Disk free", diskFree]);
  }
  const clients = pick("clients", "connected_clients", "websocket_clients");
  const clientCount = Array.isArray(clients) ? clients.length
    : typeof clients === "object" && clients ? clients.count ?? clients.total : clients;
  if (typeof clientCount === "number") rows.push(["Connected screens", String(clientCount)]);
  const dl = $("system");
  dl.replaceChildren();
  for (const [k, v] of rows) dl.append(el("dt", null, k), el("dd", null, v));
  if (!rows.length) dl.append(el("dt", null, "Status"), el("dd", null, "—"));
}

function renderActivity() {
  const list = $("activity");
  list.replaceChildren();
  const now = Date.now();
  for (const item of state.activity) {
    if (item.data?.photo_id) names.want(item.data.photo_id);
    const li = el("li", toneOf(item.type));
    li.dataset.type = item.type;
    const time = el("time", null, timeText(item.ts, now));
    time.dateTime = item.ts;
    li.append(el("span", "icon"), el("span", "text", describe(item, names)), time);
    list.append(li);
  }
  $("activity-empty").hidden = state.activity.length > 0;
}

function toneOf(type) {
  if (/approved|completed/.test(type)) return "good";
  if (/failed|error|refused/.test(type)) return "bad";
  if (/rejected|warning/.test(type)) return "warn";
  return "";
}

const CONN_TEXT = {
  connecting: "Connecting…",
  connected: "Connected",
  reconnecting: "Reconnecting…",
  offline: "Offline",
};

function renderConn() {
  const button = $("conn");
  const { state: s, reason } = bridge ? { state: bridge.state, reason: bridge.reason } : { state: "offline" };
  button.dataset.state = s;
  $("conn-text").textContent = CONN_TEXT[s] || s;
  button.title = reason || (s === "offline" ? "Tap to retry now" : "");
  const note = $("conn-note");
  note.textContent = reason || "";
  note.hidden = !reason || s === "connected";
  renderOutbox();
  renderNow();
}

function renderOutbox() {
  const n = bridge ? bridge.queuedCount : 0;
  const note = $("outbox-note");
  note.hidden = n === 0;
  if (!n) return;
  const what = `${n} ${plural(n, "decision")}`;
  note.textContent = bridge.state === "connected"
    ? `Sending ${what}…`
    : `${what} saved on this phone, sent when the connection is back`;
}

function showTab(tab) {
  state.tab = tab;
  for (const button of document.querySelectorAll(".tab")) {
    if (button.dataset.tab === tab) button.setAttribute("aria-current", "page");
    else button.removeAttribute("aria-current");
  }
  for (const screen of document.querySelectorAll(".screen")) screen.hidden = screen.dataset.screen !== tab;
  const titles = { now: "Now", approve: "Approve", shoot: "Shoot", activity: "Activity" };
  $("screen-title").textContent = titles[tab];
  document.title = `${titles[tab]} · AutoDev Bridge`;
  document.querySelector("main").scrollTop = 0;
  if (tab === "shoot" && shoot) shoot.reload();
}

// --- start ---------------------------------------------------------------------------------

async function startApp() {
  $("boot").hidden = true;
  $("pair-screen").hidden = true;
  $("app").hidden = false;
  const token = storage.get("token");
  const wsUrl = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws`;
  bridge = new Bridge({ url: wsUrl, token, clientName: deviceNameFromUserAgent() });
  zoom = zoom || new ZoomViewer();
  approve = approve || new ApproveScreen({
    bridge,
    names,
    toast,
    onZoom: (photo) => zoom.open(photo),
    onCount: (count) => {
      state.approvalCount = count;
      scheduleRender();
    },
    onRefused: (message) => {
      addActivity({ type: "decision_refused", message, timestamp: new Date().toISOString() });
      scheduleRender();
    },
  });
  approve.bridge = bridge;
  shoot = shoot || new ShootScreen({ bridge, names, toast, onZoom: (photo) => zoom.open(photo) });
  shoot.bridge = bridge;
  bridge.addEventListener("state", renderConn);
  bridge.addEventListener("event", (e) => onEvent(e.detail));
  bridge.addEventListener("resync", () => loadAll());
  bridge.addEventListener("unauthorized", () => unpair());
  bridge.addEventListener("decision", (e) => {
    if (e.detail.entry.command === "set_decision") shoot.onResult(e.detail.entry, e.detail.result);
    else approve.onDecisionResult(e.detail.entry, e.detail.result);
    renderOutbox();
  });
  bridge.addEventListener("outbox", renderOutbox);
  renderConn();
  showTab(state.tab);
  // One request first: a stale token then costs one failed attempt, not five at once (the
  // server bans an address after five failures a minute, which would block re-pairing too).
  const current = bridge;
  try {
    await loadSystem();
  } catch (error) {
    if (error.status === 401) return;
  }
  if (bridge !== current) return;
  bridge.start();
  loadAll();
}

function wireStaticControls() {
  for (const button of document.querySelectorAll(".tab")) {
    button.addEventListener("click", () => showTab(button.dataset.tab));
  }
  $("approvals-link").addEventListener("click", () => showTab("approve"));
  $("conn").addEventListener("click", () => {
    if (bridge && bridge.state !== "connected") bridge.reconnectNow();
  });
  $("pause-toggle").addEventListener("click", async () => {
    const button = $("pause-toggle");
    const command = state.paused ? "resume_processing" : "pause_processing";
    button.dataset.busy = "1";
    renderNow();
    try {
      const data = await bridge.command(command);
      if (data && typeof data.paused === "boolean") state.paused = data.paused;
      toast(state.paused ? "Processing paused" : "Processing resumed");
    } catch (error) {
      toast(`Could not ${command === "pause_processing" ? "pause" : "resume"}: ${error.message}`, "bad");
    } finally {
      button.dataset.busy = "";
      scheduleRender();
    }
  });
  document.addEventListener("keydown", (e) => {
    if (state.tab !== "approve" || !approve || e.target.closest("select, dialog")) return;
    if (e.key === "ArrowRight") approve.decideTop("approve");
    else if (e.key === "ArrowLeft") approve.decideTop("reject");
    else if ((e.ctrlKey || e.metaKey) && e.key === "z") approve.undo();
  });
  setInterval(() => {
    if (state.tab === "activity") renderActivity();
  }, 30000);
}

async function boot() {
  setUnauthorizedHandler(() => {
    if (bridge || !$("app").hidden) unpair();
  });
  wireStaticControls();
  const code = takePairCode();
  if (code && !(await pair(code))) {
    // A bad code does not undo an earlier, still valid pairing.
    if (storage.get("token")) resumeAfterFailedPairing();
    return;
  }
  if (!storage.get("token")) {
    showPairing(storage.get("notice"));
    return;
  }
  startApp();
}

// Scanning a new QR code while this page is open only changes the hash: pair without a reload.
window.addEventListener("hashchange", async () => {
  const code = takePairCode();
  if (!code) return;
  if (bridge) {
    bridge.stop();
    bridge = null;
  }
  if (await pair(code)) startApp();
  else if (storage.get("token")) resumeAfterFailedPairing();
});

function resumeAfterFailedPairing() {
  const message = $("pair-message").textContent;
  startApp();
  toast(`${message} This phone stays paired as before.`, "bad");
}

// Exposed for tests and for debugging from the browser console.
window.autodev = {
  get bridge() { return bridge; },
  get state() { return state; },
  get approve() { return approve; },
  get zoom() { return zoom; },
  get shoot() { return shoot; },
};

boot();
