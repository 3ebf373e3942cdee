"""The window's in-process subscription: broker events, client changes and pairings as signals."""

from __future__ import annotations

from typing import Any, Final

from PyQt6.QtCore import QObject, pyqtSignal

from bridge_server.broker import PublishedEvent
from bridge_server.context import BridgeContext

from .timers import make_timer

CLIENTS_COALESCE_MS: Final = 200


class BridgeLink(QObject):
    """Re-emits what happens in the bridge as Qt signals on the GUI thread (same loop)."""

    event_published = pyqtSignal(object)  # PublishedEvent
    clients_changed = pyqtSignal()
    device_paired = pyqtSignal(dict)

    def __init__(self, ctx: BridgeContext, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self._attached = True
        # Hundreds of clients connecting at once would otherwise rebuild the list hundreds of
        # times; one refresh per 200 ms is live enough.
        self._clients_timer = make_timer(self, CLIENTS_COALESCE_MS, single_shot=True)
        self._clients_timer.timeout.connect(self.clients_changed)
        ctx.broker.add_listener(self._on_event)
        ctx.clients.on_change(self._on_clients)
        if ctx.pairing is not None:
            ctx.pairing.on_paired(self._on_paired)

    def detach(self) -> None:
        """Stop listening (before the bridge stops)."""
        self._attached = False
        self._clients_timer.stop()
        self.ctx.broker.remove_listener(self._on_event)
        self.ctx.clients.off_change(self._on_clients)
        if self.ctx.pairing is not None:
            self.ctx.pairing.off_paired(self._on_paired)

    def _on_event(self, event: PublishedEvent) -> None:
        if self._attached:
            self.event_published.emit(event)

    def _on_clients(self) -> None:
        if self._attached and not self._clients_timer.isActive():
            self._clients_timer.start()

    def _on_paired(self, device: dict[str, Any]) -> None:
        if self._attached:
            self.device_paired.emit(dict(device))
