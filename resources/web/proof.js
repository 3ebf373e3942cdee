// The client gallery: a guest joins with a name, sees the photos shared with them live, hearts
// them and leaves notes. Everything from the server goes in with textContent.

const STORE_KEY = "adb.guest";
const VISIBLE = { picks: ["pick"], picks_and_proposals: ["pick", "proposal"] };
const $ = (id) => document.getElementById(id);

const state = {
  token: null,
  deviceId: null,
  visibility: "picks",
  photos: new Map(), // photo_id -> guest photo
  blobs: new Map(), // url -> object URL
  open: null, // photo_id shown in the viewer
  socket: null,
  retry: 500,
};

function saved() {
  try {
    return JSON.parse(localStorage.getItem(STORE_KEY) || "null");
  } catch {
    return null;
  }
}

function save(value) {
  try {
    if (value) localStorage.setItem(STORE_KEY, JSON.stringify(value));
    else localStorage.removeItem(STORE_KEY);
  } catch {
    // Private mode: the guest joins again next time.
  }
}

let toastTimer = null;
function toast(text) {
  const node = $("toast");
  node.textContent = text;
  node.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { node.hidden = true; }, 3000);
}

class Closed extends Error {}

async function api(method, path, body) {
  const headers = { Accept: "application/json" };
  if (state.token) headers.Authorization = `Bearer ${state.token}`;
  const init = { method, headers, cache: "no-store" };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const response = await fetch(path, init);
  const data = await response.json().catch(() => null);
  if (response.status === 401 && state.token) throw new Closed(data?.error?.message || "");
  if (!response.ok) throw new Error(data?.error?.message || `Error ${response.status}`);
  return data;
}

async function imageUrl(path) {
  if (state.blobs.has(path)) return state.blobs.get(path);
  const response = await fetch(path, { headers: { Authorization: `Bearer ${state.token}` } });
  if (!response.ok) throw new Error("image");
  const url = URL.createObjectURL(await response.blob());
  state.blobs.set(path, url);
  return url;
}

function showOnly(id) {
  for (const name of ["join", "closed", "gallery"]) $(name).hidden = name !== id;
}

function closeGallery(message) {
  save(null);
  state.token = null;
  if (state.socket) state.socket.close();
  if ($("viewer").open) $("viewer").close();
  if (message) $("closed-text").textContent = message;
  showOnly("closed");
}

// --- joining ------------------------------------------------------------------------------

function linkSecret() {
  const match = /(?:^|[#&])link=([A-Za-z0-9_-]+)/.exec(location.hash);
  return match ? match[1] : null;
}

async function join(event) {
  event.preventDefault();
  const secret = linkSecret() || state.pendingSecret;
  const name = $("join-name").value.trim();
  if (!name) return;
  $("join-button").disabled = true;
  $("join-error").hidden = true;
  try {
    const guest = await api("POST", "/api/proofing/join", { link: secret, client_name: name });
    state.token = guest.token;
    state.deviceId = guest.device_id;
    save({ token: guest.token, device_id: guest.device_id });
    history.replaceState(null, "", location.pathname); // the secret leaves the address bar
    await openGallery();
  } catch (error) {
    $("join-error").textContent = error.message;
    $("join-error").hidden = false;
  } finally {
    $("join-button").disabled = false;
  }
}

// --- the gallery ----------------------------------------------------------------------------

function heartIcon() {
  const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("aria-hidden", "true");
  const path = document.createElementNS("http://www.w3.org/2000/svg", "path");
  path.setAttribute(
    "d",
    "M12 20.5s-7.5-4.6-9.3-9.4C1.5 7.7 3.7 4.5 7 4.5c2 0 3.6 1.1 5 3 1.4-1.9 3-3 5-3 3.3 0 5.5 3.2 4.3 6.6-1.8 4.8-9.3 9.4-9.3 9.4z",
  );
  svg.append(path);
  return svg;
}

function notesText(n) {
  return n ? `${n} ${n === 1 ? "note" : "notes"}` : "";
}

function tileFor(photo, arrived) {
  const li = document.createElement("li");
  li.className = arrived ? "tile arrived" : "tile";
  li.dataset.photoId = photo.photo_id;
  const open = document.createElement("button");
  open.type = "button";
  open.className = "open";
  open.setAttribute("aria-label", `Open ${photo.file_name}`);
  const img = document.createElement("img");
  img.alt = photo.file_name;
  img.decoding = "async";
  open.append(img);
  open.addEventListener("click", () => openViewer(photo.photo_id));
  imageUrl(photo.thumbnail_url).then((url) => { img.src = url; }).catch(() => {});
  const meta = document.createElement("div");
  meta.className = "meta";
  const notes = document.createElement("span");
  notes.className = "notes-count";
  notes.textContent = notesText(photo.comments);
  const heart = document.createElement("button");
  heart.type = "button";
  heart.className = "heart";
  heart.setAttribute("aria-label", `Favourite ${photo.file_name}`);
  heart.setAttribute("aria-pressed", String(Boolean(photo.favorite)));
  heart.append(heartIcon());
  heart.addEventListener("click", () => toggleHeart(photo.photo_id));
  meta.append(notes, heart);
  li.append(open, meta);
  return li;
}

function order(a, b) {
  return String(a.captured_at || "").localeCompare(String(b.captured_at || ""))
    || a.file_name.localeCompare(b.file_name) || a.photo_id.localeCompare(b.photo_id);
}

function render(arrivedId = null) {
  const grid = $("grid");
  const sorted = [...state.photos.values()].sort(order);
  const existing = new Map([...grid.children].map((li) => [li.dataset.photoId, li]));
  const nodes = sorted.map((photo) => {
    const node = existing.get(photo.photo_id) || tileFor(photo, photo.photo_id === arrivedId);
    node.querySelector(".heart").setAttribute("aria-pressed", String(Boolean(photo.favorite)));
    node.querySelector(".notes-count").textContent = notesText(photo.comments);
    return node;
  });
  grid.replaceChildren(...nodes);
  $("empty").hidden = sorted.length > 0;
}

async function openGallery() {
  const data = await api("GET", "/api/proofing/gallery");
  state.visibility = data.visibility;
  $("studio").textContent = data.studio_name;
  $("shoot").textContent = data.session_name;
  $("hello").textContent = `Hello ${data.client_name}. Tap the heart on the photos you love.`;
  document.title = `${data.session_name} · ${data.studio_name}`;
  state.photos = new Map(data.photos.map((p) => [p.photo_id, p]));
  showOnly("gallery");
  render();
  connect();
}

async function refreshPhoto(photoId, arrived) {
  try {
    const photo = await api("GET", `/api/proofing/photos/${encodeURIComponent(photoId)}`);
    const isNew = !state.photos.has(photoId);
    state.photos.set(photoId, photo);
    render(arrived && isNew ? photoId : null);
    if (arrived && isNew) toast("A new photo arrived");
  } catch (error) {
    if (error instanceof Closed) closeGallery();
    else removePhoto(photoId); // no longer shared (a 404): it goes
  }
}

function removePhoto(photoId) {
  if (!state.photos.delete(photoId)) return;
  render();
  if (state.open === photoId) $("viewer").close();
}

async function toggleHeart(photoId) {
  const photo = state.photos.get(photoId);
  if (!photo) return;
  const wanted = !photo.favorite;
  photo.favorite = wanted; // at once; the server's answer confirms the count
  render();
  syncViewer();
  try {
    const result = await api("PUT", `/api/proofing/photos/${encodeURIComponent(photoId)}/favorite`, { favorite: wanted });
    photo.favorites = result.favorites;
  } catch (error) {
    photo.favorite = !wanted;
    render();
    syncViewer();
    if (error instanceof Closed) closeGallery();
    else toast(`Could not save: ${error.message}`);
  }
}

// --- one photo --------------------------------------------------------------------------

function syncViewer() {
  const photo = state.photos.get(state.open);
  if (!photo) return;
  $("viewer-heart").setAttribute("aria-pressed", String(Boolean(photo.favorite)));
}

function renderNotes(list) {
  const items = list.map((c) => {
    const li = document.createElement("li");
    const who = document.createElement("span");
    who.className = "who";
    who.textContent = c.client_name;
    li.append(who, document.createTextNode(c.text));
    return li;
  });
  $("notes").replaceChildren(...items);
  $("notes-empty").hidden = items.length > 0;
}

async function openViewer(photoId) {
  const photo = state.photos.get(photoId);
  if (!photo) return;
  state.open = photoId;
  $("viewer-name").textContent = photo.file_name;
  $("viewer-img").removeAttribute("src");
  $("viewer-img").alt = photo.file_name;
  syncViewer();
  renderNotes([]);
  $("viewer").showModal();
  imageUrl(photo.preview_url).then((url) => { if (state.open === photoId) $("viewer-img").src = url; }).catch(() => {});
  try {
    const detail = await api("GET", `/api/proofing/photos/${encodeURIComponent(photoId)}`);
    if (state.open === photoId) renderNotes(detail.comment_list);
  } catch (error) {
    if (error instanceof Closed) closeGallery();
  }
}

async function sendNote(event) {
  event.preventDefault();
  const input = $("note-text");
  const text = input.value.trim();
  const photoId = state.open;
  if (!text || !photoId) return;
  try {
    await api("POST", `/api/proofing/photos/${encodeURIComponent(photoId)}/comments`, { text });
    input.value = "";
    const detail = await api("GET", `/api/proofing/photos/${encodeURIComponent(photoId)}`);
    if (state.open === photoId) renderNotes(detail.comment_list);
    toast("Sent to your photographer");
  } catch (error) {
    if (error instanceof Closed) closeGallery();
    else toast(`Could not send: ${error.message}`);
  }
}

// --- live -------------------------------------------------------------------------------

function setLive(live) {
  $("live").dataset.state = live ? "live" : "connecting";
  $("live-text").textContent = live ? "Live: new photos appear by themselves" : "Reconnecting…";
}

function onEvent(message) {
  const visible = VISIBLE[state.visibility] || [];
  switch (message.type) {
    case "proofing_photo_changed":
      if (visible.includes(message.level)) refreshPhoto(message.photo_id, true);
      else removePhoto(message.photo_id);
      break;
    case "client_favorite_changed": {
      const photo = state.photos.get(message.photo_id);
      if (!photo) return;
      photo.favorites = message.favorites;
      if (message.device_id === state.deviceId) photo.favorite = message.favorite;
      render();
      syncViewer();
      break;
    }
    case "client_comment_added": {
      const photo = state.photos.get(message.photo_id);
      if (!photo) return;
      photo.comments = message.comments;
      render();
      if (state.open === message.photo_id) openViewerNotes(message.photo_id);
      break;
    }
    default:
  }
}

async function openViewerNotes(photoId) {
  try {
    const detail = await api("GET", `/api/proofing/photos/${encodeURIComponent(photoId)}`);
    if (state.open === photoId) renderNotes(detail.comment_list);
  } catch {
    // The next event or reopening the photo shows them.
  }
}

function connect() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const socket = new WebSocket(`${scheme}://${location.host}/ws`);
  state.socket = socket;
  let resync = false;
  socket.addEventListener("message", (event) => {
    let message;
    try {
      message = JSON.parse(event.data);
    } catch {
      return;
    }
    if (message.type === "connection_established") {
      socket.send(JSON.stringify({ type: "register", client_type: "proofing", client_name: "gallery", token: state.token }));
    } else if (message.type === "registration_confirmed") {
      socket.send(JSON.stringify({ type: "subscribe", channels: ["proofing"] }));
    } else if (message.type === "subscription_confirmed") {
      state.retry = 500;
      setLive(true);
      if (resync) reload();
      resync = true;
    } else {
      onEvent(message);
    }
  });
  socket.addEventListener("close", (event) => {
    if (state.socket !== socket || !state.token) return;
    setLive(false);
    if (event.code === 4001) {
      closeGallery();
      return;
    }
    const wait = state.retry * (0.75 + Math.random() / 2);
    state.retry = Math.min(state.retry * 2, 30000);
    setTimeout(() => { if (state.token) connect(); }, wait);
  });
  return socket;
}

async function reload() {
  try {
    const data = await api("GET", "/api/proofing/gallery");
    state.photos = new Map(data.photos.map((p) => [p.photo_id, p]));
    render();
  } catch (error) {
    if (error instanceof Closed) closeGallery();
  }
}

// --- start --------------------------------------------------------------------------------

async function start() {
  $("join-form").addEventListener("submit", join);
  $("note-form").addEventListener("submit", sendNote);
  $("viewer-close").addEventListener("click", () => $("viewer").close());
  $("viewer").addEventListener("close", () => { state.open = null; });
  $("viewer-heart").addEventListener("click", () => toggleHeart(state.open));
  const secret = linkSecret();
  const guest = saved();
  if (guest && guest.token && !secret) {
    state.token = guest.token;
    state.deviceId = guest.device_id;
    try {
      await openGallery();
    } catch (error) {
      if (error instanceof Closed) closeGallery();
      else toast(error.message);
    }
    return;
  }
  if (!secret) {
    showOnly("closed");
    $("closed-text").textContent = "Open the link your photographer sent you.";
    return;
  }
  showOnly("join");
  $("join-name").focus();
}

start();
