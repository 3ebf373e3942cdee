// The one WebSocket to the bridge: register, subscribe with resume, commands with results,
// reconnect with backoff, and a persistent outbox so no decision is lost or applied twice.

import { randomId, storage } from "./api.js";

const BACKOFF_BASE_MS = 500;
const BACKOFF_MAX_MS = 30000;
const OFFLINE_AFTER_ATTEMPTS = 4;
const HANDSHAKE_TIMEOUT_MS = 10000;
const PING_EVERY_MS = 25000;
const SILENCE_LIMIT_MS = 45000;
const COMMAND_TIMEOUT_MS = 20000;
const RATE_LIMIT_WAIT_MS = 61000;

/**
 * Events it dispatches:
 *  state        detail {state, reason}   state: connecting | connected | reconnecting | offline
 *  event        detail: a protocol event (has seq, channel, type)
 *  resync       the page must reload its state over REST
 *  unauthorized detail {message}         token refused (4001): pair again
 *  decision     detail {entry, result}   a queued decision got its result
 *  outbox       detail {count}
 */
export class Bridge extends EventTarget {
  constructor({ url, token, clientName }) {
    super();
    this.url = url;
    this.token = token;
    this.clientName = clientName;
    this.ws = null;
    this.state = "connecting";
    this.reason = "";
    this.attempt = 0;
    this.everConnected = false;
    this.stopped = true;
    this.timers = {};
    this.pending = new Map(); // command id -> {resolve, reject, timer}
    this.lastSeq = storage.get("lastSeq");
    this.epoch = storage.get("epoch"); // names the server history that lastSeq counts in
    this.outbox = storage.get("outbox", []);
    this.inflight = null; // id of the outbox entry sent and not yet answered
    this.commandCounter = 0;
    this.subscribedSince = null;
  }

  start() {
    this.stopped = false;
    window.addEventListener("online", this.#onOnline);
    window.addEventListener("offline", this.#onOffline);
    document.addEventListener("visibilitychange", this.#onVisible);
    this.#connect();
  }

  stop() {
    this.stopped = true;
    window.removeEventListener("online", this.#onOnline);
    window.removeEventListener("offline", this.#onOffline);
    document.removeEventListener("visibilitychange", this.#onVisible);
    this.#clearTimers();
    if (this.ws) {
      const ws = this.ws;
      this.ws = null;
      ws.onclose = null;
      ws.close(1000, "bye");
    }
  }

  /** Reconnect now, e.g. after the user pressed a button. */
  reconnectNow() {
    if (this.state === "connected") return;
    this.stopped = false;
    this.attempt = 0;
    clearTimeout(this.timers.retry);
    if (!this.ws) this.#connect();
  }

  get queuedCount() {
    return this.outbox.length;
  }

  /** Sends a command that only makes sense while connected (pause, resume). */
  command(command, args = {}) {
    if (this.state !== "connected") {
      return Promise.reject(new Error("Not connected to the desktop app."));
    }
    const id = `c${++this.commandCounter}-${randomId("")}`;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error("The desktop app did not answer."));
      }, COMMAND_TIMEOUT_MS);
      this.pending.set(id, { resolve, reject, timer });
      this.#send({ ...args, type: "command", id, command });
    });
  }

  /** Queues a decision (approve_photo, reject_photo, undo_decision); sent now or when back online. */
  enqueue(command, args) {
    const entry = { id: randomId("d_"), command, ...args, queued_at: Date.now() };
    this.outbox.push(entry);
    this.#saveOutbox();
    this.#flush();
    return entry;
  }

  /** Removes a queued decision that has not been sent yet; false if it is already on its way. */
  cancelQueued(entryId) {
    if (this.inflight === entryId) return false;
    const index = this.outbox.findIndex((e) => e.id === entryId);
    if (index < 0) return false;
    this.outbox.splice(index, 1);
    this.#saveOutbox();
    return true;
  }

  isQueued(entryId) {
    return this.outbox.some((e) => e.id === entryId);
  }

  // --- connection life -------------------------------------------------------------------

  #connect() {
    if (this.stopped) return;
    this.#setState(this.everConnected || this.attempt > 0 ? this.#retryState() : "connecting");
    let ws;
    try {
      ws = new WebSocket(this.url);
    } catch {
      this.#scheduleRetry(false);
      return;
    }
    this.ws = ws;
    this.rateLimited = false;
    this.lastHeard = Date.now();
    this.timers.handshake = setTimeout(() => ws.close(4000, "handshake timeout"), HANDSHAKE_TIMEOUT_MS);
    ws.onmessage = (e) => this.#onMessage(e.data);
    ws.onclose = (e) => this.#onClose(ws, e.code, e.reason);
    ws.onerror = () => {}; // a close event always follows
  }

  #retryState() {
    if (navigator.onLine === false || this.attempt >= OFFLINE_AFTER_ATTEMPTS) return "offline";
    return "reconnecting";
  }

  #onClose(ws, code, reason) {
    if (ws !== this.ws) return;
    this.ws = null;
    this.#clearTimers();
    this.inflight = null;
    for (const [, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(new Error("The connection to the desktop app was lost."));
    }
    this.pending.clear();
    if (this.stopped) return;
    // The server drops the rate_limited error frame when it closes, so the reason text is the
    // only sign left that this 4001 is a temporary ban and not a refused token.
    if (code === 4001 && (this.rateLimited || /too many/i.test(reason || ""))) {
      // A temporary ban of this address (too many failed attempts), not a bad token: keep the
      // token and try again once the ban is over.
      this.rateLimited = false;
      this.attempt = OFFLINE_AFTER_ATTEMPTS;
      this.#setState("offline", "Too many failed attempts from this network; retrying in a minute.");
      this.timers.retry = setTimeout(() => this.#connect(), RATE_LIMIT_WAIT_MS);
      return;
    }
    if (code === 4001) {
      this.stopped = true;
      this.#setState("offline", "not paired");
      this.dispatchEvent(new CustomEvent("unauthorized", {
        detail: { message: reason || "The desktop app no longer accepts this phone." },
      }));
      return;
    }
    if (code === 4003) {
      this.stopped = true;
      this.#setState("offline", "This address is not allowed by the desktop app.");
      return;
    }
    if (code === 4009) {
      this.stopped = true;
      this.#setState("offline", "The desktop app disconnected this phone. Tap “Offline” to reconnect.");
      return;
    }
    this.#scheduleRetry(code === 4008);
  }

  #scheduleRetry(immediately) {
    const exp = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** this.attempt);
    const delay = immediately ? Math.random() * 250 : exp / 2 + Math.random() * (exp / 2);
    this.attempt += 1;
    this.#setState(this.#retryState(), "");
    this.retryAt = Date.now() + delay;
    this.timers.retry = setTimeout(() => this.#connect(), delay);
  }

  #onOnline = () => {
    if (!this.ws && !this.stopped) {
      clearTimeout(this.timers.retry);
      this.attempt = 0;
      this.#connect();
    }
  };

  // The phone lost its network: the socket is dead even if no close arrived yet.
  #onOffline = () => {
    if (this.ws) this.ws.close(4000, "offline");
  };

  #onVisible = () => {
    if (document.visibilityState !== "visible" || this.stopped) return;
    if (!this.ws) {
      clearTimeout(this.timers.retry);
      this.#connect();
    } else if (this.state === "connected") {
      this.#send({ type: "ping" }); // phones freeze background tabs: check the socket is alive
    }
  };

  #clearTimers() {
    for (const t of Object.values(this.timers)) {
      clearTimeout(t);
      clearInterval(t);
    }
    this.timers = {};
  }

  #setState(state, reason = "") {
    if (state === this.state && reason === this.reason) return;
    this.state = state;
    this.reason = reason;
    this.dispatchEvent(new CustomEvent("state", { detail: { state, reason } }));
  }

  #send(message) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) {
      this.ws.send(JSON.stringify(message));
      return true;
    }
    return false;
  }

  // --- protocol ------------------------------------------------------------------------

  #onMessage(text) {
    this.lastHeard = Date.now();
    let msg;
    try {
      msg = JSON.parse(text);
    } catch {
      return;
    }
    switch (msg.type) {
      case "connection_established":
        // Another epoch is another history (a new database): our position means nothing there,
        // so subscribe without `since` and reload. A server without epochs that went backwards
        // was reset too.
        if (this.lastSeq !== null) {
          const otherEpoch = typeof msg.epoch === "string" && msg.epoch !== this.epoch;
          const wentBack = typeof msg.seq === "number" && msg.seq < this.lastSeq;
          if (otherEpoch || wentBack) this.#setLastSeq(null);
        }
        if (typeof msg.epoch === "string") this.#setEpoch(msg.epoch);
        this.#send({
          type: "register",
          client_type: "phone",
          client_name: this.clientName,
          token: this.token,
        });
        return;
      case "registration_confirmed": {
        const sub = { type: "subscribe", channels: ["*"] };
        if (this.lastSeq !== null) {
          sub.since = this.lastSeq;
          if (this.epoch !== null) sub.epoch = this.epoch;
        }
        this.subscribedSince = this.lastSeq;
        this.#send(sub);
        return;
      }
      case "subscription_confirmed":
        this.#onSubscribed(msg);
        return;
      case "result":
        this.#onResult(msg);
        return;
      case "pong":
      case "unsubscription_confirmed":
        return;
      case "error":
        if (msg.code === "rate_limited") this.rateLimited = true;
        else console.warn("bridge error", msg.code, msg.error);
        return;
      default:
        if (typeof msg.seq === "number" && msg.channel) this.#onEvent(msg);
    }
  }

  #onSubscribed(msg) {
    clearTimeout(this.timers.handshake);
    const resumed = this.subscribedSince !== null && msg.recovered !== false;
    if (!resumed && typeof msg.seq === "number") this.#setLastSeq(msg.seq);
    else if (typeof msg.seq === "number" && (this.lastSeq === null || msg.seq > this.lastSeq)) {
      this.#setLastSeq(msg.seq);
    }
    this.attempt = 0;
    this.everConnected = true;
    this.#setState("connected");
    if (!resumed) this.dispatchEvent(new Event("resync"));
    this.timers.ping = setInterval(() => {
      if (Date.now() - this.lastHeard > SILENCE_LIMIT_MS && this.ws) this.ws.close(4000, "silent");
      else this.#send({ type: "ping" });
    }, PING_EVERY_MS);
    this.#flush();
  }

  #onEvent(msg) {
    if (this.lastSeq !== null && msg.seq <= this.lastSeq) return; // already seen
    this.#setLastSeq(msg.seq);
    this.dispatchEvent(new CustomEvent("event", { detail: msg }));
  }

  #setLastSeq(seq) {
    this.lastSeq = seq;
    storage.set("lastSeq", seq);
  }

  #setEpoch(epoch) {
    this.epoch = epoch;
    storage.set("epoch", epoch);
  }

  #onResult(msg) {
    const id = msg.id;
    if (this.pending.has(id)) {
      const p = this.pending.get(id);
      this.pending.delete(id);
      clearTimeout(p.timer);
      if (msg.success) p.resolve(msg.data);
      else p.reject(Object.assign(new Error(msg.error?.message || "Refused"), msg.error || {}));
      return;
    }
    if (id !== this.inflight) return;
    clearTimeout(this.timers.decision);
    const index = this.outbox.findIndex((e) => e.id === id);
    const entry = index >= 0 ? this.outbox.splice(index, 1)[0] : null;
    this.inflight = null;
    this.#saveOutbox();
    if (entry) this.dispatchEvent(new CustomEvent("decision", { detail: { entry, result: msg } }));
    this.#flush();
  }

  // One decision at a time, in order: an undo never overtakes the decision it undoes, and only
  // the head of the queue can ever be "applied but unconfirmed" when the connection drops.
  #flush() {
    if (this.state !== "connected" || this.inflight || this.outbox.length === 0) return;
    const entry = this.outbox[0];
    const { id, command, queued_at: _queued, ...args } = entry;
    this.inflight = id;
    if (!this.#send({ ...args, type: "command", id, command })) {
      this.inflight = null;
      return;
    }
    this.timers.decision = setTimeout(() => {
      if (this.inflight === id && this.ws) this.ws.close(4000, "no result");
    }, COMMAND_TIMEOUT_MS);
  }

  #saveOutbox() {
    storage.set("outbox", this.outbox);
    this.dispatchEvent(new CustomEvent("outbox", { detail: { count: this.outbox.length } }));
  }
}
