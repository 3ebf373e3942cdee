"""The registry of connected clients, independent of the transport that carries them."""

from __future__ import annotations

import logging
import time
from collections import Counter
from typing import Any, Protocol

from .timeutil import now_iso

log = logging.getLogger(__name__)


class ClientHandle(Protocol):
    """What the rest of the system may do with a connected client."""

    client_id: str
    device_id: str | None

    def info(self) -> dict[str, Any]:
        """A JSON-ready description (type, name, address, subscriptions, queue depth...)."""

    def close_soon(self, code: int, reason: str) -> None:
        """Close the connection with a protocol close code, without waiting."""


class ClientRegistry:
    """Every live client connection, by id."""

    def __init__(self) -> None:
        self._clients: dict[str, ClientHandle] = {}
        self._listeners: list[Any] = []
        self._started = time.monotonic()
        self.started_at = now_iso()
        self._connections_total = 0
        self._sent_by_gone = 0  # frames sent to clients that have since disconnected

    def add(self, client: ClientHandle) -> None:
        """A client connected."""
        self._clients[client.client_id] = client
        self._connections_total += 1
        self._notify()

    def remove(self, client: ClientHandle) -> None:
        """A client went away."""
        if self._clients.pop(client.client_id, None) is not None:
            self._sent_by_gone += int(client.info().get("messages_sent") or 0)
            self._notify()

    def stats(self) -> dict[str, Any]:
        """Connection figures: counts by type, frames sent, queue depths, uptime."""
        infos = [c.info() for c in self._clients.values()]
        depths = {str(i["client_id"]): int(i.get("queue_depth") or 0) for i in infos}
        live_sent = sum(int(i.get("messages_sent") or 0) for i in infos)
        return {
            "connections": len(infos),
            "registered": sum(1 for i in infos if i.get("registered")),
            "by_type": dict(Counter(str(i.get("client_type") or "unknown") for i in infos)),
            "connections_since_start": self._connections_total,
            "messages_sent": self._sent_by_gone + live_sent,
            "queue_depths": depths,
            "queued_frames": sum(depths.values()),
            "max_queue_depth": max(depths.values(), default=0),
            "started_at": self.started_at,
            "uptime_seconds": round(time.monotonic() - self._started, 3),
        }

    def changed(self) -> None:
        """A client's details changed (registered, subscribed)."""
        self._notify()

    def get(self, client_id: str) -> ClientHandle | None:
        """The client with this id, if connected."""
        return self._clients.get(client_id)

    def all(self) -> list[ClientHandle]:
        """Every connected client."""
        return list(self._clients.values())

    def __len__(self) -> int:
        return len(self._clients)

    def on_change(self, callback: Any) -> None:
        """Call `callback()` whenever the set of clients or their details change."""
        self._listeners.append(callback)

    def off_change(self, callback: Any) -> None:
        """Stop calling `callback`."""
        if callback in self._listeners:
            self._listeners.remove(callback)

    def _notify(self) -> None:
        for callback in tuple(self._listeners):
            try:
                callback()
            except Exception:  # a broken listener must not break connections
                log.exception("Client registry listener failed")
