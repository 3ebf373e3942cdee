"""The original's PyQt6 example client: a QWebSocket on a Qt event loop, unchanged."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import ThreadedBridge, make_settings

QtWebSockets = pytest.importorskip("PyQt6.QtWebSockets")


def _post(url: str, body: dict[str, Any]) -> int:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return int(response.status)


def test_qwebsocket_registers_subscribes_and_receives_events(qtbot, tmp_path: Path) -> None:
    from PyQt6.QtCore import QUrl

    with ThreadedBridge(make_settings(tmp_path / "data")) as live:
        received: list[dict[str, Any]] = []
        ws = QtWebSockets.QWebSocket()
        ws.textMessageReceived.connect(lambda text: received.append(json.loads(text)))

        def types() -> list[str]:
            return [m.get("type") for m in received]

        def send(message: dict[str, Any]) -> None:
            ws.sendTextMessage(json.dumps(message))

        # As the example did: register once connected, then subscribe, then listen.
        ws.connected.connect(
            lambda: send({"type": "register", "client_type": "pyqt", "client_name": "Qt example"})
        )
        ws.open(QUrl(live.url.replace("http://", "ws://") + "/ws"))
        try:
            qtbot.waitUntil(lambda: "registration_confirmed" in types(), timeout=10_000)
            assert types()[0] == "connection_established"
            send({"type": "subscribe", "channels": ["sessions", "system"]})
            qtbot.waitUntil(lambda: "subscription_confirmed" in types(), timeout=10_000)

            assert _post(f"{live.url}/api/sessions", {"name": "From the Qt example"}) == 201
            qtbot.waitUntil(lambda: "session_created" in types(), timeout=10_000)
            created = next(m for m in received if m["type"] == "session_created")
            assert created["session_name"] == "From the Qt example"

            send({"type": "ping"})
            qtbot.waitUntil(lambda: "pong" in types(), timeout=10_000)
            send({"type": "unsubscribe", "channels": ["system"]})
            qtbot.waitUntil(lambda: "unsubscription_confirmed" in types(), timeout=10_000)
            removed = next(m for m in received if m["type"] == "unsubscription_confirmed")
            assert (removed["channels"], removed["subscribed"]) == (["system"], ["sessions"])
        finally:
            ws.close()
