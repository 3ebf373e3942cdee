// The Approve screen: a card stack of the approval queue, swipe or buttons to decide, undo,
// burst alternates. Decisions go through the bridge's outbox, so they survive a dropped connection.

import { api, authImage } from "./api.js";

const SWIPE_MIN_PX = 90;
const SWIPE_FRACTION = 0.28;
const FLICK_SPEED = 0.6; // px per ms
const RELOAD_DEBOUNCE_MS = 250;
const HISTORY_MAX = 50;

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = text;
  return node;
}

export function scoreText(score) {
  if (typeof score !== "number" || !Number.isFinite(score)) return "";
  return score.toFixed(1);
}

function reasonText(reason) {
  if (typeof reason === "string") return reason;
  if (reason && typeof reason === "object") {
    return String(reason.text || reason.message || reason.label || reason.code || "");
  }
  return "";
}

const STRENGTHS = [
  ["eyes", "Eyes open"],
  ["sharpness", "Sharp"],
  ["exposure", "Well exposed"],
  ["noise", "Clean"],
];

function capitalise(text) {
  return text ? text.charAt(0).toUpperCase() + text.slice(1) : text;
}

/** Why the score: the analysis' reasons (its doubts), or else what it found good. */
export function reasonChips(analysis) {
  const results = analysis && typeof analysis === "object" ? analysis : {};
  const reasons = Array.isArray(results.reasons) ? results.reasons : [];
  const chips = reasons.map(reasonText).filter(Boolean).slice(0, 4).map((t) => [capitalise(t), "issue"]);
  const factors = results.factors && typeof results.factors === "object" ? results.factors : {};
  for (const [key, label] of STRENGTHS) {
    if (chips.length >= 4) break;
    if (typeof factors[key] === "number" && factors[key] >= 4.5) chips.push([label, "good"]);
  }
  return chips;
}

/** Shutter speed for people: "1/250 s", "1 s", "2.5 s" (the store may hold "1s" or "1/250"). */
export function shutterText(value) {
  const text = String(value ?? "").trim().replace(/\s*s$/i, "");
  return text ? `${text} s` : "";
}

export function exifText(exif) {
  if (!exif || typeof exif !== "object") return "";
  const parts = [];
  if (exif.focal_length) parts.push(`${Math.round(Number(exif.focal_length)) || exif.focal_length} mm`);
  if (exif.aperture) parts.push(`f/${exif.aperture}`);
  if (exif.shutter) parts.push(shutterText(exif.shutter));
  if (exif.iso) parts.push(`ISO ${exif.iso}`);
  return parts.join(" · ");
}

export class ApproveScreen {
  constructor({ bridge, names, toast, onCount, onRefused, onZoom }) {
    this.onZoom = onZoom || (() => {});
    this.bridge = bridge;
    this.names = names;
    this.toast = toast;
    this.onCount = onCount;
    this.onRefused = onRefused;
    this.queue = []; // photos as the server listed them, best first
    this.total = null;
    this.localDecided = new Map(); // photo_id -> {kind, entryId, confirmedGen}
    this.history = []; // {photo, entryId, kind}
    this.altEntries = new Map(); // outbox entry id -> alternate photo
    this.alternates = new Map(); // session_id -> Map(group_id -> [photo])
    this.filter = "";
    this.gen = 0;
    this.reloadTimer = null;
    this.loading = null;
    this.drag = null;

    this.stack = document.getElementById("stack");
    this.empty = document.getElementById("queue-empty");
    this.undoButton = document.getElementById("btn-undo");
    this.select = document.getElementById("session-filter");
    this.sheet = document.getElementById("burst");
    this.sheetList = document.getElementById("burst-list");

    document.getElementById("btn-approve").addEventListener("click", () => this.decideTop("approve"));
    document.getElementById("btn-reject").addEventListener("click", () => this.decideTop("reject"));
    this.undoButton.addEventListener("click", () => this.undo());
    this.select.addEventListener("change", () => {
      this.filter = this.select.value;
      this.reload();
    });
    document.getElementById("burst-close").addEventListener("click", () => this.sheet.close());
    this.sheet.addEventListener("click", (e) => {
      if (e.target === this.sheet) this.sheet.close(); // tap on the backdrop
    });
  }

  // --- data ----------------------------------------------------------------------------

  /** Photos to show, in order, without the ones this phone has just decided. */
  visible() {
    return this.queue.filter(
      (p) => !this.localDecided.has(p.photo_id) && (!this.filter || p.session_id === this.filter),
    );
  }

  count() {
    if (this.total === null) return null;
    let pending = 0;
    for (const [id] of this.localDecided) if (this.allIds?.has(id)) pending += 1;
    return Math.max(0, this.total - pending);
  }

  scheduleReload() {
    clearTimeout(this.reloadTimer);
    this.reloadTimer = setTimeout(() => this.reload(), RELOAD_DEBOUNCE_MS);
  }

  async reload() {
    const gen = ++this.gen;
    const params = { limit: 100 };
    if (this.filter) params.session_id = this.filter;
    const filtered = api.get("/api/approval/queue", params);
    const all = this.filter ? api.get("/api/approval/queue", { limit: 100 }) : filtered;
    let page;
    let whole;
    try {
      [page, whole] = await Promise.all([filtered, all]);
    } catch {
      return; // unreachable for now: keep the cards we have; the next resync reloads
    }
    if (gen !== this.gen) return; // a newer reload is under way
    this.queue = page.items || [];
    this.total = typeof whole.total === "number" ? whole.total : (whole.items || []).length;
    this.allIds = new Set((whole.items || []).map((p) => p.photo_id));
    for (const p of this.queue) this.names.rememberPhoto(p);
    // Decisions confirmed before this load started are reflected in it.
    for (const [id, d] of this.localDecided) {
      if (d.confirmedGen !== null && d.confirmedGen < gen) this.localDecided.delete(id);
    }
    this.render();
    this.onCount(this.count());
    this.loadAlternates();
  }

  async loadAlternates() {
    const sessions = new Set(this.visible().slice(0, 3).map((p) => p.session_id).filter(Boolean));
    for (const sessionId of sessions) {
      if (this.alternates.has(sessionId)) continue;
      this.alternates.set(sessionId, new Map());
      try {
        const page = await api.get("/api/photos", {
          session_id: sessionId,
          selection: "alternate",
          limit: 500,
        });
        const groups = new Map();
        for (const p of page.items || []) {
          this.names.rememberPhoto(p);
          if (!p.group_id) continue;
          if (!groups.has(p.group_id)) groups.set(p.group_id, []);
          groups.get(p.group_id).push(p);
        }
        this.alternates.set(sessionId, groups);
        this.render();
      } catch {
        this.alternates.delete(sessionId);
      }
    }
  }

  /** New analysis results may change bursts: forget the cached alternates of that session. */
  invalidateAlternates(sessionId) {
    if (sessionId) this.alternates.delete(sessionId);
    else this.alternates.clear();
  }

  alternatesOf(photo) {
    const groups = this.alternates.get(photo.session_id);
    if (!groups || !photo.group_id) return [];
    return (groups.get(photo.group_id) || []).filter((p) => p.photo_id !== photo.photo_id);
  }

  setSessions(sessions) {
    const current = this.select.value;
    while (this.select.options.length > 1) this.select.remove(1);
    for (const s of sessions) {
      const option = el("option", null, s.session_name || s.session_id);
      option.value = s.session_id;
      this.select.append(option);
    }
    this.select.value = sessions.some((s) => s.session_id === current) ? current : "";
    if (this.select.value !== this.filter) {
      this.filter = this.select.value;
      this.reload();
    }
  }

  // --- decisions -----------------------------------------------------------------------

  decideTop(kind) {
    const card = this.stack.querySelector(".card.top");
    if (card) this.flyOff(card, kind);
  }

  decide(photo, kind) {
    const command = kind === "approve" ? "approve_photo" : "reject_photo";
    const entry = this.bridge.enqueue(command, { photo_id: photo.photo_id });
    this.localDecided.set(photo.photo_id, { kind, entryId: entry.id, confirmedGen: null });
    this.history.push({ photo, entryId: entry.id, kind });
    if (this.history.length > HISTORY_MAX) this.history.shift();
    this.render();
    this.onCount(this.count());
  }

  undo() {
    const last = this.history.pop();
    if (!last) return;
    const { photo } = last;
    if (!this.bridge.cancelQueued(last.entryId)) {
      this.bridge.enqueue("undo_decision", { photo_id: photo.photo_id });
    }
    this.localDecided.delete(photo.photo_id);
    this.queue = [photo, ...this.queue.filter((p) => p.photo_id !== photo.photo_id)];
    this.render();
    this.onCount(this.count());
    this.toast(`${this.names.photo(photo.photo_id) || photo.file_name} is back for a decision`);
  }

  /** Result of a queued decision (from the bridge's outbox). */
  onDecisionResult(entry, result) {
    const id = entry.photo_id;
    const name = this.names.photo(id) || "the photo";
    if (this.altEntries.has(entry.id)) {
      this.altEntries.delete(entry.id);
      if (!result.success) {
        this.refused(`Could not approve ${name}: ${result.error?.message || "refused"}`);
        this.invalidateAlternates();
      }
      return;
    }
    if (entry.command === "undo_decision") {
      if (!result.success) this.refused(`Could not undo ${name}: ${result.error?.message || "refused"}`);
      this.scheduleReload();
      return;
    }
    const decided = this.localDecided.get(id);
    if (result.success) {
      if (decided && decided.entryId === entry.id) decided.confirmedGen = this.gen;
      return;
    }
    // Refused: the card comes back, with the reason.
    const item = this.history.find((h) => h.entryId === entry.id);
    this.history = this.history.filter((h) => h.entryId !== entry.id);
    if (decided && decided.entryId === entry.id) this.localDecided.delete(id);
    const verb = entry.command === "approve_photo" ? "approve" : "reject";
    this.refused(`Could not ${verb} ${name}: ${result.error?.message || "refused"}`);
    if (item && result.error?.code !== "not_found" && !this.queue.some((p) => p.photo_id === id)) {
      this.queue = [item.photo, ...this.queue];
    }
    this.render();
    this.onCount(this.count());
    this.scheduleReload();
  }

  refused(message) {
    this.toast(message, "bad");
    this.onRefused(message);
  }

  /** A photo was approved or rejected somewhere (this phone, the desktop, another phone). */
  onServerDecision(msg) {
    if (!this.localDecided.has(msg.photo_id)) {
      const before = this.queue.length;
      this.queue = this.queue.filter((p) => p.photo_id !== msg.photo_id);
      if (this.queue.length !== before) this.render();
    }
    for (const groups of this.alternates.values()) {
      for (const list of groups.values()) {
        for (const p of list) {
          if (p.photo_id === msg.photo_id) {
            p.approval = msg.type === "photo_approved" ? "approved" : "rejected";
          }
        }
      }
    }
  }

  // --- cards ---------------------------------------------------------------------------

  render() {
    const photos = this.visible().slice(0, 2);
    const wanted = new Set(photos.map((p) => p.photo_id));
    const existing = new Map();
    for (const card of this.stack.querySelectorAll(".card:not(.fly)")) {
      if (wanted.has(card.dataset.photoId)) existing.set(card.dataset.photoId, card);
      else if (!(this.drag && this.drag.card === card)) card.remove();
    }
    photos.forEach((photo, index) => {
      let card = existing.get(photo.photo_id);
      if (!card) {
        card = this.buildCard(photo);
        this.stack.append(card);
      }
      card.classList.toggle("top", index === 0);
      card.classList.toggle("next", index === 1);
      card.style.zIndex = String(10 - index);
      this.updateBurstButton(card, photo);
    });
    const hasCards = photos.length > 0;
    this.empty.hidden = hasCards || this.total === null;
    this.stack.hidden = !hasCards && !this.stack.querySelector(".card.fly");
    for (const id of ["btn-approve", "btn-reject"]) document.getElementById(id).disabled = !hasCards;
    this.undoButton.disabled = this.history.length === 0;
    // Warm the cache for the card after next.
    const third = this.visible()[2];
    if (third) authImage(third.preview_url).catch(() => {});
  }

  buildCard(photo) {
    const card = el("article", "card");
    card.dataset.photoId = photo.photo_id;
    const name = photo.file_name || this.names.photo(photo.photo_id) || photo.photo_id;
    card.setAttribute("aria-label", name);

    const imgBox = el("div", "img");
    const placeholder = el("p", "placeholder", "Loading preview…");
    imgBox.append(placeholder);
    authImage(photo.preview_url || photo.thumbnail_url).then((url) => {
      const img = el("img");
      img.alt = name;
      img.src = url;
      img.draggable = false;
      placeholder.replaceWith(img);
    }, () => {
      placeholder.textContent = "No preview";
    });
    imgBox.append(el("div", "stamp yes", "KEEP"), el("div", "stamp no", "REJECT"));

    const info = el("div", "info");
    const head = el("div", "info-head");
    head.append(el("span", "name", name));
    const score = scoreText(photo.ai_score);
    if (score) head.append(el("span", "score", `Score ${score}/5`));
    info.append(head);
    const chips = reasonChips(photo.analysis_results);
    if (chips.length) {
      const list = el("ul", "reasons");
      for (const [text, kind] of chips) list.append(el("li", kind, text));
      info.append(list);
    }
    const meta = [this.names.session(photo.session_id), exifText(photo.exif)].filter(Boolean);
    if (meta.length) info.append(el("p", "meta", meta.join(" · ")));
    const burst = el("button", "btn burst-btn", "");
    burst.type = "button";
    burst.hidden = true;
    burst.addEventListener("click", () => this.openBurst(photo));
    info.append(burst);

    card.append(imgBox, info);
    this.attachSwipe(card, photo);
    return card;
  }

  updateBurstButton(card, photo) {
    const button = card.querySelector(".burst-btn");
    const alts = this.alternatesOf(photo);
    button.hidden = alts.length === 0;
    button.textContent = `${alts.length} more in this burst`;
  }

  attachSwipe(card, photo) {
    const stamps = { yes: card.querySelector(".stamp.yes"), no: card.querySelector(".stamp.no") };
    const move = (dx, dy) => {
      card.style.transform = `translate(${dx}px, ${dy * 0.25}px) rotate(${dx / 18}deg)`;
      stamps.yes.style.opacity = String(Math.max(0, Math.min(1, dx / SWIPE_MIN_PX)));
      stamps.no.style.opacity = String(Math.max(0, Math.min(1, -dx / SWIPE_MIN_PX)));
    };
    card.addEventListener("pointerdown", (e) => {
      if (!card.classList.contains("top") || e.button > 0 || e.target.closest("button")) return;
      if (this.drag) return;
      card.setPointerCapture(e.pointerId);
      card.classList.remove("settle");
      this.drag = { card, id: e.pointerId, x: e.clientX, y: e.clientY, t: e.timeStamp, dx: 0, dy: 0 };
    });
    card.addEventListener("pointermove", (e) => {
      const d = this.drag;
      if (!d || d.card !== card || d.id !== e.pointerId) return;
      d.dx = e.clientX - d.x;
      d.dy = e.clientY - d.y;
      d.lastT = e.timeStamp;
      move(d.dx, d.dy);
    });
    const end = (e, cancelled = e.type !== "pointerup") => {
      const d = this.drag;
      if (!d || d.card !== card || d.id !== e.pointerId) return;
      this.drag = null;
      const elapsed = Math.max(1, (d.lastT || e.timeStamp) - d.t);
      const speed = Math.abs(d.dx) / elapsed;
      const threshold = Math.max(SWIPE_MIN_PX, card.offsetWidth * SWIPE_FRACTION);
      const far = Math.abs(d.dx) > threshold;
      if (!cancelled && Math.hypot(d.dx, d.dy) < 8 && elapsed < 400) {
        // A tap, not a swipe: open the photo to check focus and eyes.
        card.classList.add("settle");
        card.style.transform = "";
        this.onZoom(photo);
        return;
      }
      const flick = !cancelled && speed > FLICK_SPEED && Math.abs(d.dx) > 40;
      if (!cancelled && (far || flick)) {
        this.flyOff(card, d.dx > 0 ? "approve" : "reject");
      } else {
        card.classList.add("settle");
        card.style.transform = "";
        stamps.yes.style.opacity = "0";
        stamps.no.style.opacity = "0";
        if (!this.visible().some((p) => p.photo_id === photo.photo_id)) this.render();
      }
    };
    card.addEventListener("pointerup", end);
    card.addEventListener("pointercancel", end);
    card.addEventListener("lostpointercapture", (e) => {
      if (this.drag && this.drag.card === card) end(e, true);
    });
  }

  flyOff(card, kind) {
    if (card.classList.contains("fly")) return;
    const photo = this.queue.find((p) => p.photo_id === card.dataset.photoId);
    if (!photo) {
      card.remove();
      return;
    }
    const width = this.stack.offsetWidth || 400;
    const sign = kind === "approve" ? 1 : -1;
    card.querySelector(kind === "approve" ? ".stamp.yes" : ".stamp.no").style.opacity = "1";
    card.classList.remove("top", "settle");
    card.classList.add("fly");
    card.style.zIndex = "20";
    card.style.transform = `translate(${sign * width * 1.4}px, 40px) rotate(${sign * 24}deg)`;
    setTimeout(() => card.remove(), 320);
    this.decide(photo, kind);
  }

  // --- burst ---------------------------------------------------------------------------

  openBurst(photo) {
    const alts = this.alternatesOf(photo).sort((a, b) => (b.ai_score ?? 0) - (a.ai_score ?? 0));
    this.sheetList.replaceChildren();
    document.getElementById("burst-title").textContent =
      `Burst of ${photo.file_name || this.names.photo(photo.photo_id) || "this photo"}`;
    for (const alt of alts) {
      const item = el("li", "burst-item");
      item.dataset.photoId = alt.photo_id;
      const img = el("img");
      img.alt = "";
      authImage(alt.thumbnail_url || alt.preview_url).then((url) => { img.src = url; }, () => {});
      const text = el("div");
      text.append(el("div", "name", alt.file_name || alt.photo_id));
      const score = scoreText(alt.ai_score);
      const doubts = reasonChips(alt.analysis_results).filter(([, kind]) => kind === "issue");
      const sub = [score ? `Score ${score}/5` : "Not scored", ...doubts.map(([t]) => t)];
      text.append(el("div", "sub", sub.join(" · ")));
      const button = el("button", "btn", alt.approval === "approved" ? "Approved" : "Approve");
      button.type = "button";
      button.classList.toggle("done", alt.approval === "approved");
      button.disabled = alt.approval === "approved";
      button.addEventListener("click", () => {
        const entry = this.bridge.enqueue("approve_photo", { photo_id: alt.photo_id });
        this.altEntries.set(entry.id, alt);
        alt.approval = "approved";
        button.textContent = "Approved";
        button.classList.add("done");
        button.disabled = true;
        this.toast(`Approved ${alt.file_name || "the alternate"} from the burst`);
      });
      item.append(img, text, button);
      this.sheetList.append(item);
    }
    if (!this.sheet.open) this.sheet.showModal();
  }
}
