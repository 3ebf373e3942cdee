"""The original bridge's clients, replayed unchanged against a real server on loopback.

Every message and REST call here is one that ../shared/design/ORIGINAL.md lists, in the shape the
original's documents, example clients and tests used; docs/compatibility.md says what we answer.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bridge_server.app import BridgeServer
from tests.helpers import ProtocolClient, base_url
from tests.web.photo_queue import SHOOT, queue_real_photos

ORIGINAL_CHANNELS = ["jobs", "photos", "sessions", "system", "queue", "approval", "export"]


class Socket:
    """The two calls the original's clients make: send a JSON text, receive a JSON text."""

    def __init__(self, send: Callable[[str], Awaitable[None]], recv: Callable[[], Awaitable[str]]):
        self.send_text = send
        self.recv_text = recv

    async def send(self, message: dict[str, Any]) -> None:
        """Send as the original clients did: json.dumps of a dict."""
        await self.send_text(json.dumps(message))

    async def recv(self) -> dict[str, Any]:
        """The next message."""
        return dict(json.loads(await self.recv_text()))

    async def recv_type(self, type_: str, limit: int = 50) -> dict[str, Any]:
        """Skip other messages (events of other channels) until one of `type_`."""
        for _ in range(limit):
            message = await self.recv()
            if message["type"] == type_:
                return message
        raise AssertionError(f"no {type_!r} in {limit} messages")


@asynccontextmanager
async def websockets_library(url: str) -> AsyncIterator[Socket]:
    """The original's Python example client: `websockets.connect(uri)`, send/recv of JSON."""
    websockets = pytest.importorskip("websockets")
    async with websockets.connect(url) as ws:

        async def recv() -> str:
            return str(await ws.recv())

        yield Socket(ws.send, recv)


@asynccontextmanager
async def aiohttp_client(url: str) -> AsyncIterator[Socket]:
    """Any other client library (browsers and QWebSocket behave the same on the wire)."""
    async with aiohttp.ClientSession() as http, http.ws_connect(url) as ws:

        async def recv() -> str:
            return str(await ws.receive_str(timeout=10))

        yield Socket(ws.send_str, recv)


@pytest.mark.parametrize("client", [websockets_library, aiohttp_client])
async def test_original_websocket_conversation(bridge: BridgeServer, http, client) -> None:
    url = base_url(bridge).replace("http://", "ws://") + "/ws"
    async with client(url) as ws:
        hello = await ws.recv()
        assert hello["type"] == "connection_established"
        assert hello["client_id"] and hello["server_time"]

        # The Lua plugin adds `version`; unknown fields are ignored.
        await ws.send(
            {
                "type": "register",
                "client_type": "lightroom",
                "client_name": "LR Classic",
                "version": "1.2.0",
            }
        )
        confirmed = await ws.recv()
        assert confirmed == {
            **confirmed,
            "type": "registration_confirmed",
            "client_type": "lightroom",
            "client_name": "LR Classic",
        }

        await ws.send({"type": "subscribe", "channels": ORIGINAL_CHANNELS})
        subscribed = await ws.recv_type("subscription_confirmed")
        assert sorted(subscribed["channels"]) == sorted(ORIGINAL_CHANNELS)

        # ping, and the Lua plugin's ping with a numeric timestamp.
        for ping in ({"type": "ping"}, {"type": "ping", "timestamp": 1732544935.25}):
            await ws.send(ping)
            assert (await ws.recv_type("pong"))["timestamp"]

        # The Lua plugin's own messages: an error each, and the connection stays open.
        for kind in ("job_progress", "stage_completed", "photo_info"):
            await ws.send({"type": kind, "job_id": 1, "progress": 50})
            error = await ws.recv_type("error")
            assert error["error"] and error["timestamp"]

        # The original's REST call creates a session; the event reaches the socket.
        resp = await http.post(
            f"{base_url(bridge)}/api/sessions",
            json={"name": "Studio", "import_folder": "/shoots/studio"},
        )
        assert resp.status == 201
        created = await ws.recv_type("session_created")
        assert (created["session_name"], created["import_folder"]) == ("Studio", "/shoots/studio")

        await ws.send({"type": "unsubscribe", "channels": ["jobs", "queue"]})
        removed = await ws.recv_type("unsubscription_confirmed")
        assert sorted(removed["channels"]) == ["jobs", "queue"]  # the channels removed


async def _events(client: ProtocolClient, *types: str) -> dict[str, dict[str, Any]]:
    """The next event of each of `types` (in any order)."""
    found: dict[str, dict[str, Any]] = {}
    while set(types) - set(found):
        message = await client.recv(timeout=30)
        if message["type"] in types and message["type"] not in found:
            found[message["type"]] = message
    return found


async def test_original_rest_calls(
    bridge: BridgeServer, http, photo_set: dict[str, Path], tmp_path: Path
) -> None:
    from tests.helpers import connect

    url = base_url(bridge)
    watcher = await connect(http, bridge, client_type="original_test")
    await watcher.subscribe(ORIGINAL_CHANNELS)

    # GET /api/websocket/clients
    listed = await (await http.get(f"{url}/api/websocket/clients")).json()
    assert listed["success"] is True and listed["count"] == 1
    (entry,) = listed["clients"]
    for key in ("id", "client_type", "client_name", "connected_at", "last_ping", "subscriptions"):
        assert key in entry, key
    assert sorted(entry["subscriptions"]) == sorted(ORIGINAL_CHANNELS)

    # POST /api/websocket/broadcast, quick-start body; the channel is optional for typed events.
    resp = await http.post(
        f"{url}/api/websocket/broadcast",
        json={
            "message": {"type": "test_message", "text": "Hello from the quick start"},
            "channel": "system",
        },
    )
    assert (await resp.json())["success"] is True
    assert (await watcher.recv_type("test_message"))["text"] == "Hello from the quick start"
    resp = await http.post(
        f"{url}/api/websocket/broadcast",
        json={
            "message": {
                "type": "system_status",
                "status": "running",
                "details": {"source": "quick start"},
            }
        },
    )
    assert (await resp.json())["success"] is True
    assert (await watcher.recv_type("system_status"))["details"] == {"source": "quick start"}

    # POST /api/sessions {name, import_folder}, then PATCH /api/sessions/<id> {status}
    resp = await http.post(
        f"{url}/api/sessions", json={"name": "Portraits", "import_folder": "/shoots/p"}
    )
    session_id = (await resp.json())["session_id"]
    assert (await watcher.recv_type("session_created"))["session_id"] == session_id
    resp = await http.patch(f"{url}/api/sessions/{session_id}", json={"status": "completed"})
    assert resp.status == 200
    updated = await watcher.recv_type("session_updated")
    assert (updated["session_id"], updated["status"]) == (session_id, "completed")

    # POST /api/approval/<id>/approve {auto_export} and /reject {reason}
    queue = await queue_real_photos(bridge, photo_set, tmp_path / "Wedding", SHOOT)
    keeper, other = queue[0], queue[-1]
    assert keeper["photo_id"] != other["photo_id"]
    resp = await http.post(
        f"{url}/api/approval/{keeper['photo_id']}/approve", json={"auto_export": True}
    )
    assert resp.status == 200
    got = await _events(watcher, "photo_approved", "approval_queue_updated")
    assert got["photo_approved"]["photo_id"] == keeper["photo_id"]
    resp = await http.post(
        f"{url}/api/approval/{other['photo_id']}/reject", json={"reason": "Eyes closed"}
    )
    assert resp.status == 200
    got = await _events(watcher, "photo_rejected", "approval_queue_updated")
    assert got["photo_rejected"]["reason"] == "Eyes closed"

    # POST /api/jobs {photo_id, config, priority}: a re-analysis of an undecided photo.
    pending = await (await http.get(f"{url}/api/photos?approval=pending&status=analyzed")).json()
    photo_id = pending["items"][0]["photo_id"]
    resp = await http.post(
        f"{url}/api/jobs", json={"photo_id": photo_id, "config": {}, "priority": 1}
    )
    assert resp.status == 201, await resp.text()
    created = await resp.json()
    job = await watcher.recv_type("job_created")
    while job["job_id"] != created["job"]["job_id"]:  # the decisions above may queue a profile job
        job = await watcher.recv_type("job_created")
    assert (job["photo_id"], job["priority"]) == (photo_id, 1)

    # POST /api/websocket/disconnect/<client_id>: the original's integer ids name nothing here.
    resp = await http.post(f"{url}/api/websocket/disconnect/1")
    assert resp.status == 404 and "not integers" in (await resp.json())["error"]["message"]
    client_id = watcher.hello["client_id"]
    reply = await (await http.post(f"{url}/api/websocket/disconnect/{client_id}")).json()
    assert reply["client_id"] == client_id and reply["message"]
    assert await watcher.expect_close() == 4009


async def test_original_routes_we_answer_elsewhere(bridge: BridgeServer, http) -> None:
    """Paths outside /api belong to the phone page: the original's aliases there are 404."""
    url = base_url(bridge)
    for path, ours in [
        ("/websocket/clients", "/api/websocket/clients"),
        ("/websocket/stats", "/api/websocket/stats"),
        ("/ws/status", "/api/websocket/stats"),
        ("/api/system/health", "/api/system/status"),
    ]:
        assert (await http.get(url + path)).status == 404, path
        assert (await http.get(url + ours)).status == 200, ours
    assert (await http.post(f"{url}/websocket/broadcast", json={"type": "x"})).status == 405
    assert (await http.post(f"{url}/api/system/pause")).status == 405
    assert (await http.post(f"{url}/api/processing/pause")).status == 200
