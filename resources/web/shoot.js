// The Shoot screen: the whole shoot with the desk's filters (session, flag, AI verdict, stars,
// colour label, client favourites), so a rejected or below-threshold frame can be rescued; a
// photo sheet with keep / reject / clear, stars, colour labels, undo, and its scene side by side.
// Every change goes through the bridge's outbox as `set_decision`, like the card decisions.

import { api, authImage } from "./api.js";

const LABELS = ["red", "yellow", "green", "blue", "purple"];
const FLAG_WORDS = { pick: "Kept", reject: "Rejected", none: "" };
const VERDICT_WORDS = {
  proposed: "Proposed",
  alternate: "Alternate",
  below_threshold: "Below threshold",
  failed: "Could not analyse",
  pending: "Not analysed yet",
};
const PAGE = 60;

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = text;
  return node;
}

function starsText(n) {
  return n > 0 ? "★".repeat(n) : "";
}

export class ShootScreen {
  constructor({ bridge, names, toast, onZoom }) {
    this.bridge = bridge;
    this.names = names;
    this.toast = toast;
    this.onZoom = onZoom;
    this.photos = new Map(); // photo_id -> photo (as last listed or changed)
    this.order = [];
    this.cursor = null;
    this.total = null;
    this.gen = 0;
    this.open = null;
    this.history = []; // [{photo_id, before: {flag, stars, color_label}}]
    this.grid = document.getElementById("shoot-grid");
    this.more = document.getElementById("shoot-more");
    this.count = document.getElementById("shoot-count");
    this.sheet = document.getElementById("photo-sheet");
    this.filters = {
      session: document.getElementById("shoot-session"),
      flag: document.getElementById("shoot-flag"),
      verdict: document.getElementById("shoot-verdict"),
      stars: document.getElementById("shoot-stars"),
      label: document.getElementById("shoot-label"),
      favorite: document.getElementById("shoot-favorite"),
    };
    for (const select of Object.values(this.filters)) select.addEventListener("change", () => this.reload());
    this.more.addEventListener("click", () => this.load(false));
    document.getElementById("sheet-close").addEventListener("click", () => this.sheet.close());
    document.getElementById("sheet-undo").addEventListener("click", () => this.undo());
    document.getElementById("sheet-preview").addEventListener("click", () => {
      const photo = this.photos.get(this.open);
      if (photo) this.onZoom(photo);
    });
    for (const button of document.querySelectorAll("#sheet-flags [data-flag]")) {
      button.addEventListener("click", () => this.change({ flag: button.dataset.flag }));
    }
    for (const button of document.querySelectorAll("#sheet-stars [data-stars]")) {
      button.addEventListener("click", () => {
        const n = Number(button.dataset.stars);
        const photo = this.photos.get(this.open);
        this.change({ stars: photo && photo.stars === n ? 0 : n }); // tap the same star: none
      });
    }
    for (const button of document.querySelectorAll("#sheet-labels [data-label]")) {
      button.addEventListener("click", () => {
        const label = button.dataset.label || null;
        const photo = this.photos.get(this.open);
        this.change({ color_label: photo && photo.color_label === label ? null : label });
      });
    }
    this.sheet.addEventListener("close", () => { this.open = null; });
  }

  setSessions(sessions) {
    const select = this.filters.session;
    const current = select.value;
    while (select.options.length > 1) select.remove(1);
    for (const s of sessions) {
      const option = el("option", null, s.session_name || s.session_id);
      option.value = s.session_id;
      select.append(option);
    }
    select.value = sessions.some((s) => s.session_id === current) ? current : "";
  }

  params() {
    const f = this.filters;
    const params = { limit: PAGE };
    if (f.session.value) params.session_id = f.session.value;
    if (f.flag.value) params.flag = f.flag.value;
    if (f.verdict.value) params.verdict = f.verdict.value;
    if (f.stars.value) params.min_stars = f.stars.value;
    if (f.label.value) params.color_label = f.label.value;
    if (f.favorite.checked) params.favorite = "true";
    return params;
  }

  reload() {
    this.cursor = null;
    this.order = [];
    return this.load(true);
  }

  async load(fresh) {
    const gen = fresh ? ++this.gen : this.gen;
    const params = this.params();
    if (!fresh && this.cursor) params.cursor = this.cursor;
    let page;
    try {
      page = await api.get("/api/photos", params);
    } catch (error) {
      this.toast(`Could not load the shoot: ${error.message}`, "bad");
      return;
    }
    if (gen !== this.gen) return;
    const photos = page.photos || page.items || [];
    if (fresh) this.order = [];
    for (const p of photos) {
      this.photos.set(p.photo_id, p);
      this.names.rememberPhoto(p);
      if (!this.order.includes(p.photo_id)) this.order.push(p.photo_id);
    }
    this.cursor = page.next_cursor || null;
    this.total = page.total ?? this.order.length;
    this.render();
  }

  render() {
    const tiles = this.order.map((id) => this.tile(this.photos.get(id)));
    this.grid.replaceChildren(...tiles);
    this.more.hidden = !this.cursor;
    this.count.textContent = this.total === null ? "" : `${this.total} ${this.total === 1 ? "photo" : "photos"}`;
    if (this.open) this.renderSheet();
  }

  tile(photo) {
    const li = el("li", `shoot-tile flag-${photo.flag || "none"}`);
    li.dataset.photoId = photo.photo_id;
    const button = el("button", "shoot-open");
    button.type = "button";
    button.setAttribute("aria-label", photo.file_name);
    const img = el("img");
    img.alt = "";
    authImage(photo.thumbnail_url).then((url) => { img.src = url; }, () => {});
    button.append(img);
    button.addEventListener("click", () => this.openSheet(photo.photo_id));
    const badges = el("div", "badges");
    if (photo.flag === "pick") badges.append(el("span", "badge-flag pick", "✓"));
    if (photo.flag === "reject") badges.append(el("span", "badge-flag reject", "✕"));
    if (photo.stars) badges.append(el("span", "badge-stars", starsText(photo.stars)));
    if (photo.color_label) badges.append(el("span", `badge-label ${photo.color_label}`, ""));
    if (photo.favorites) badges.append(el("span", "badge-heart", `♥ ${photo.favorites}`));
    li.append(button, badges);
    return li;
  }

  async openSheet(photoId) {
    this.open = photoId;
    this.renderSheet();
    if (!this.sheet.open) this.sheet.showModal();
    this.loadScene(this.photos.get(photoId));
  }

  renderSheet() {
    const photo = this.photos.get(this.open);
    if (!photo) return;
    document.getElementById("sheet-name").textContent = photo.file_name;
    const verdict = VERDICT_WORDS[photo.verdict] || "";
    const flag = FLAG_WORDS[photo.flag] || "";
    const hearts = photo.favorites ? `♥ ${photo.favorites} from clients` : "";
    document.getElementById("sheet-state").textContent = [flag, verdict, hearts].filter(Boolean).join(" · ");
    const preview = document.getElementById("sheet-img");
    if (preview.dataset.photoId !== photo.photo_id) {
      preview.dataset.photoId = photo.photo_id;
      preview.removeAttribute("src");
      authImage(photo.preview_url).then((url) => {
        if (preview.dataset.photoId === photo.photo_id) preview.src = url;
      }, () => {});
    }
    for (const b of document.querySelectorAll("#sheet-flags [data-flag]")) {
      b.setAttribute("aria-pressed", String(photo.flag === b.dataset.flag));
    }
    for (const b of document.querySelectorAll("#sheet-stars [data-stars]")) {
      b.setAttribute("aria-pressed", String(Number(b.dataset.stars) <= (photo.stars || 0)));
    }
    for (const b of document.querySelectorAll("#sheet-labels [data-label]")) {
      b.setAttribute("aria-pressed", String((photo.color_label || "") === b.dataset.label));
    }
    document.getElementById("sheet-undo").disabled = this.history.length === 0;
  }

  /** The photo's scene (burst or near-identical frames), side by side. */
  async loadScene(photo) {
    const box = document.getElementById("sheet-scene");
    box.replaceChildren();
    box.hidden = true;
    if (!photo || !photo.group_id) return;
    let page;
    try {
      page = await api.get("/api/photos", { session_id: photo.session_id, group_id: photo.group_id, limit: 50 });
    } catch {
      return;
    }
    if (this.open !== photo.photo_id) return;
    const frames = (page.photos || page.items || []).sort((a, b) => (a.group_rank ?? 99) - (b.group_rank ?? 99));
    if (frames.length < 2) return;
    box.append(el("h3", null, `Scene: ${frames.length} frames, side by side`));
    const list = el("ul", "scene-list");
    for (const frame of frames) {
      this.photos.set(frame.photo_id, { ...this.photos.get(frame.photo_id), ...frame });
      const li = el("li", `scene-frame flag-${frame.flag || "none"}`);
      li.classList.toggle("current", frame.photo_id === photo.photo_id);
      const button = el("button", "scene-open");
      button.type = "button";
      const img = el("img");
      img.alt = frame.file_name;
      authImage(frame.preview_url).then((url) => { img.src = url; }, () => {});
      button.append(img, el("span", "scene-name", frame.file_name));
      button.addEventListener("click", () => this.openSheet(frame.photo_id));
      li.append(button, el("span", "scene-state", [FLAG_WORDS[frame.flag], starsText(frame.stars)].filter(Boolean).join(" ")));
      list.append(li);
    }
    box.append(list);
    box.hidden = false;
  }

  change(fields, { remember = true } = {}) {
    const photo = this.photos.get(this.open);
    if (!photo) return;
    if (remember) {
      this.history.push({
        photo_id: photo.photo_id,
        before: { flag: photo.flag, stars: photo.stars, color_label: photo.color_label },
      });
    }
    Object.assign(photo, fields); // at once on screen; the result or the next event confirms it
    this.bridge.enqueue("set_decision", { photo_id: photo.photo_id, ...fields });
    this.render();
  }

  undo() {
    const last = this.history.pop();
    if (!last) return;
    this.open = last.photo_id;
    this.change(last.before, { remember: false });
    this.toast(`${this.names.photo(last.photo_id) || "The photo"} is as it was`);
  }

  /** The result of a queued set_decision. */
  onResult(entry, result) {
    const photo = this.photos.get(entry.photo_id);
    if (result.success && result.data && result.data.photo) {
      this.photos.set(entry.photo_id, { ...photo, ...result.data.photo });
    } else if (!result.success) {
      this.toast(`Could not change ${this.names.photo(entry.photo_id) || "the photo"}: ${result.error?.message || "refused"}`, "bad");
      this.reload();
    }
    this.render();
  }

  /** A change made anywhere (desk, another phone) shows here too. */
  onEvent(msg) {
    const photo = this.photos.get(msg.photo_id);
    if (!photo) return;
    switch (msg.type) {
      case "photo_approved":
        photo.flag = "pick";
        break;
      case "photo_rejected":
        photo.flag = "reject";
        break;
      case "photo_unflagged":
        photo.flag = "none";
        break;
      case "photo_rating_changed":
        Object.assign(photo, { stars: msg.stars, color_label: msg.color_label, keywords: msg.keywords });
        break;
      case "client_favorite_changed":
        photo.favorites = msg.favorites;
        break;
      default:
        return;
    }
    this.render();
  }
}

export { LABELS };
