// The zoom viewer: the large preview fitted to the screen; pinch or double-tap to 100 %, where
// the full-resolution image is loaded on demand and one image pixel is one screen pixel. The
// face panel below shows each face the analysis found, with its eyes; tap one to inspect it.

import { authImage } from "./api.js";

const DOUBLE_TAP_MS = 400;
const TAP_SLOP_PX = 10;
const MAX_OVER_ONE_TO_ONE = 2;

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = text;
  return node;
}

const EYES = { open: "Eyes open", closed: "Eyes closed", unknown: "Eyes unclear" };

/** Faces of a photo's analysis: [{box: [x, y, w, h] fractions, eye_state, sharpness}]. */
export function facesOf(photo) {
  const faces = photo && photo.analysis_results && photo.analysis_results.faces;
  if (!Array.isArray(faces)) return [];
  return faces.filter((f) => Array.isArray(f.box) && f.box.length === 4 && f.box.every(Number.isFinite));
}

export class ZoomViewer {
  constructor() {
    this.dialog = document.getElementById("zoom");
    this.stage = document.getElementById("zoom-stage");
    this.img = document.getElementById("zoom-img");
    this.title = document.getElementById("zoom-title");
    this.oneToOne = document.getElementById("zoom-100");
    this.facesBox = document.getElementById("zoom-faces");
    this.photo = null;
    this.base = { w: 1, h: 1 }; // the full-resolution size in CSS pixels
    this.view = { s: 1, x: 0, y: 0 };
    this.pointers = new Map();
    this.gesture = null;
    this.lastTap = 0;
    this.full = null; // Promise of the full-resolution object URL
    document.getElementById("zoom-close").addEventListener("click", () => this.dialog.close());
    this.oneToOne.addEventListener("click", () => this.toggle(null));
    this.stage.addEventListener("pointerdown", (e) => this.down(e));
    this.stage.addEventListener("pointermove", (e) => this.move(e));
    for (const type of ["pointerup", "pointercancel"]) this.stage.addEventListener(type, (e) => this.up(e));
    window.addEventListener("resize", () => { if (this.dialog.open) this.fit(); });
    this.dialog.addEventListener("close", () => { this.photo = null; });
  }

  get fitScale() {
    const r = this.stage.getBoundingClientRect();
    return Math.min(r.width / this.base.w, r.height / this.base.h, 1);
  }

  get zoomed() {
    return this.view.s > this.fitScale * 1.02;
  }

  open(photo) {
    this.photo = photo;
    this.full = null;
    const dpr = window.devicePixelRatio || 1;
    this.base = { w: (photo.width || 1600) / dpr, h: (photo.height || 1200) / dpr };
    this.title.textContent = photo.file_name || "";
    this.img.removeAttribute("src");
    this.img.dataset.source = "";
    this.img.alt = photo.file_name || "";
    if (!this.dialog.open) this.dialog.showModal();
    this.fit();
    authImage(photo.preview_url).then((url) => {
      if (this.photo === photo && this.img.dataset.source !== "full") {
        this.img.src = url;
        this.img.dataset.source = "preview";
      }
    }, () => {});
    this.renderFaces(photo);
  }

  /** The original (or a full-size rendition) as the image source, loaded once per opening. */
  loadFull() {
    const photo = this.photo;
    if (!photo || !photo.full_url) return Promise.resolve();
    if (!this.full) {
      this.full = authImage(photo.full_url).then((url) => new Promise((resolve) => {
        const probe = new Image();
        probe.onload = () => {
          if (this.photo !== photo) return resolve();
          const dpr = window.devicePixelRatio || 1;
          const scale = this.view.s * this.base.w / (probe.naturalWidth / dpr);
          this.base = { w: probe.naturalWidth / dpr, h: probe.naturalHeight / dpr };
          this.view.s = scale; // same size on screen while the source changes
          this.img.src = url;
          this.img.dataset.source = "full";
          this.apply();
          resolve();
        };
        probe.onerror = () => resolve();
        probe.src = url;
      }));
    }
    return this.full;
  }

  fit() {
    const r = this.stage.getBoundingClientRect();
    const s = this.fitScale;
    this.view = { s, x: (r.width - this.base.w * s) / 2, y: (r.height - this.base.h * s) / 2 };
    this.apply();
  }

  /** Zoom to `s` keeping the stage point (px, py) where it is. */
  zoomAt(s, px, py) {
    const min = this.fitScale;
    const next = Math.max(min, Math.min(MAX_OVER_ONE_TO_ONE, s));
    const k = next / this.view.s;
    this.view = { s: next, x: px - (px - this.view.x) * k, y: py - (py - this.view.y) * k };
    this.clamp();
    this.apply();
  }

  clamp() {
    const r = this.stage.getBoundingClientRect();
    const w = this.base.w * this.view.s;
    const h = this.base.h * this.view.s;
    this.view.x = w <= r.width ? (r.width - w) / 2 : Math.min(0, Math.max(r.width - w, this.view.x));
    this.view.y = h <= r.height ? (r.height - h) / 2 : Math.min(0, Math.max(r.height - h, this.view.y));
  }

  apply() {
    this.img.style.width = `${this.base.w}px`;
    this.img.style.height = `${this.base.h}px`;
    this.img.style.transform = `translate(${this.view.x}px, ${this.view.y}px) scale(${this.view.s})`;
    const one = Math.abs(this.view.s - 1) < 0.001;
    this.oneToOne.textContent = one ? "Fit" : "100 %";
    this.stage.dataset.zoom = one ? "100" : this.zoomed ? "in" : "fit";
  }

  /** Double-tap or the button: fit <-> 100 % around a stage point (the centre by default). */
  async toggle(point) {
    const r = this.stage.getBoundingClientRect();
    const px = point ? point.x : r.width / 2;
    const py = point ? point.y : r.height / 2;
    if (Math.abs(this.view.s - 1) < 0.001) {
      this.fit();
      return;
    }
    this.zoomAt(1, px, py);
    await this.loadFull();
    this.zoomAt(1, px, py);
  }

  local(e) {
    const r = this.stage.getBoundingClientRect();
    return { x: e.clientX - r.left, y: e.clientY - r.top };
  }

  down(e) {
    this.stage.setPointerCapture(e.pointerId);
    this.pointers.set(e.pointerId, { ...this.local(e), t: e.timeStamp, start: this.local(e) });
    if (this.pointers.size === 2) {
      const [a, b] = [...this.pointers.values()];
      this.gesture = { kind: "pinch", dist: Math.hypot(a.x - b.x, a.y - b.y) || 1, s: this.view.s };
      this.loadFull();
    } else if (this.pointers.size === 1) {
      this.gesture = { kind: "pan", x: this.view.x, y: this.view.y, moved: false };
    }
  }

  move(e) {
    const p = this.pointers.get(e.pointerId);
    if (!p) return;
    Object.assign(p, this.local(e));
    const g = this.gesture;
    if (g && g.kind === "pinch" && this.pointers.size >= 2) {
      const [a, b] = [...this.pointers.values()];
      const dist = Math.hypot(a.x - b.x, a.y - b.y);
      this.zoomAt(g.s * dist / g.dist, (a.x + b.x) / 2, (a.y + b.y) / 2);
    } else if (g && g.kind === "pan") {
      const dx = p.x - p.start.x;
      const dy = p.y - p.start.y;
      if (Math.hypot(dx, dy) > TAP_SLOP_PX) g.moved = true;
      if (this.zoomed) {
        this.view.x = g.x + dx;
        this.view.y = g.y + dy;
        this.clamp();
        this.apply();
      }
    }
  }

  up(e) {
    const p = this.pointers.get(e.pointerId);
    this.pointers.delete(e.pointerId);
    const g = this.gesture;
    if (this.pointers.size === 0) this.gesture = null;
    if (!p || !g || g.kind !== "pan" || g.moved || e.type !== "pointerup") return;
    if (e.timeStamp - this.lastTap < DOUBLE_TAP_MS) {
      this.lastTap = 0;
      this.toggle(this.local(e));
    } else {
      this.lastTap = e.timeStamp;
    }
  }

  renderFaces(photo) {
    const faces = facesOf(photo);
    this.facesBox.replaceChildren();
    this.facesBox.hidden = faces.length === 0;
    if (!faces.length) return;
    this.facesBox.append(el("h3", null, faces.length === 1 ? "1 face" : `${faces.length} faces`));
    const list = el("ul", "face-list");
    authImage(photo.preview_url).then((url) => {
      const source = new Image();
      source.onload = () => {
        faces.forEach((face, i) => {
          const [fx, fy, fw, fh] = face.box;
          const canvas = document.createElement("canvas");
          canvas.width = 96;
          canvas.height = 96;
          const side = Math.max(fw * source.naturalWidth, fh * source.naturalHeight) * 1.3;
          const cx = (fx + fw / 2) * source.naturalWidth;
          const cy = (fy + fh / 2) * source.naturalHeight;
          canvas.getContext("2d").drawImage(source, cx - side / 2, cy - side / 2, side, side, 0, 0, 96, 96);
          const item = list.children[i];
          if (item) item.querySelector(".face-crop").replaceChildren(canvas);
        });
      };
      source.src = url;
    }, () => {});
    faces.forEach((face) => {
      const item = el("li", `face ${face.eye_state || "unknown"}`);
      const button = el("button", "face-btn");
      button.type = "button";
      button.setAttribute("aria-label", `Inspect this face at 100 %: ${EYES[face.eye_state] || EYES.unknown}`);
      button.append(el("span", "face-crop"), el("span", "face-eyes", EYES[face.eye_state] || EYES.unknown));
      button.addEventListener("click", () => this.inspectFace(face));
      item.append(button);
      list.append(item);
    });
    this.facesBox.append(list);
  }

  /** 100 % centred on a face. */
  async inspectFace(face) {
    const [fx, fy, fw, fh] = face.box;
    await this.toggleTo100();
    const r = this.stage.getBoundingClientRect();
    const w = this.base.w * this.view.s;
    const h = this.base.h * this.view.s;
    this.view.x = r.width / 2 - (fx + fw / 2) * w;
    this.view.y = r.height / 2 - (fy + fh / 2) * h;
    this.clamp();
    this.apply();
  }

  async toggleTo100() {
    if (Math.abs(this.view.s - 1) >= 0.001) await this.toggle(null);
  }
}
