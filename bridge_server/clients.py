"""The registry of connected clients, independent of the transport that carries them."""

from __future__ import annotations

import logging
from typing import Any, Protocol

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

    def add(self, client: ClientHandle) -> None:
        """A client connected."""
        self._clients[client.client_id] = client
        self._notify()

    def remove(self, client: ClientHandle) -> None:
        """A client went away."""
        if self._clients.pop(client.client_id, None) is not None:
            self._notify()

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
