"""Test helpers: settings for a loopback bridge and a WebSocket client speaking the protocol."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import aiohttp

from bridge_server.app import BridgeServer
from bridge_server.config import Settings


def make_settings(data_dir: Path, **overrides: Any) -> Settings:
    """Settings for a test bridge: loopback only, ephemeral port, everything in `data_dir`.

    The test's own folder (the parent of `data_dir`) is an import root, as an operator would
    configure one, so tests may import by path from folders they create there.
    """
    values: dict[str, Any] = {
        "host": "127.0.0.1",
        "port": 0,
        "workers": 2,
        "import_roots": [str(data_dir.parent)],
    }
    values.update(overrides)
    return Settings(data_dir=str(data_dir), **values)


def base_url(server: BridgeServer) -> str:
    """http://127.0.0.1:<port>"""
    return f"http://127.0.0.1:{server.port}"


class ProtocolClient:
    """A WebSocket client speaking the bridge protocol, for assertions on exact replies."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.hello: dict[str, Any] = {}

    async def send(self, message: Any) -> None:
        """Send a JSON message (or a raw string)."""
        await self.ws.send_str(message if isinstance(message, str) else json.dumps(message))

    async def recv(self, timeout: float = 5.0) -> dict[str, Any]:
        """The next JSON message; fails on close or timeout."""
        msg = await self.ws.receive(timeout=timeout)
        if msg.type != aiohttp.WSMsgType.TEXT:
            raise AssertionError(f"expected a text frame, got {msg.type} {msg.data!r}")
        return dict(json.loads(msg.data))

    async def recv_type(self, type_: str, timeout: float = 5.0) -> dict[str, Any]:
        """Skip messages until one of `type_` arrives."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                raise AssertionError(f"no {type_!r} within {timeout}s")
            message = await self.recv(remaining)
            if message.get("type") == type_:
                return message

    async def expect_close(self, timeout: float = 5.0) -> int:
        """Read until the server closes; return the close code."""
        while True:
            msg = await self.ws.receive(timeout=timeout)
            if msg.type in (
                aiohttp.WSMsgType.CLOSE,
                aiohttp.WSMsgType.CLOSED,
                aiohttp.WSMsgType.CLOSING,
            ):
                return int(self.ws.close_code or msg.data or 0)

    async def subscribe(self, channels: list[str], since: int | None = None) -> dict[str, Any]:
        """Subscribe and return the confirmation (replayed events are left unread)."""
        message: dict[str, Any] = {"type": "subscribe", "channels": channels}
        if since is not None:
            message["since"] = since
        await self.send(message)
        return await self.recv_type("subscription_confirmed")

    async def command(self, command: str, command_id: Any = 1, **args: Any) -> dict[str, Any]:
        """Run a command and return its result."""
        await self.send({"type": "command", "id": command_id, "command": command, **args})
        while True:
            message = await self.recv_type("result")
            if message["id"] == command_id:
                return message


async def connect(
    http: aiohttp.ClientSession,
    server: BridgeServer,
    *,
    headers: dict[str, str] | None = None,
    register: bool = True,
    token: str | None = None,
    client_type: str = "test",
) -> ProtocolClient:
    """Open /ws, read connection_established, and register unless told not to."""
    ws = await http.ws_connect(f"{base_url(server)}/ws", headers=headers or {})
    client = ProtocolClient(ws)
    client.hello = await client.recv()
    if register:
        message: dict[str, Any] = {
            "type": "register",
            "client_type": client_type,
            "client_name": "pytest",
        }
        if token is not None:
            message["token"] = token
        await client.send(message)
        await client.recv_type("registration_confirmed")
    return client


async def wait_for(predicate: Any, timeout: float = 60.0, interval: float = 0.1) -> Any:
    """Await an async predicate until it returns something truthy."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = await predicate()
        if value:
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        await asyncio.sleep(interval)


async def jobs_settled(server: BridgeServer) -> bool:
    """True when no job is pending or running (and, in studio mode, every event is shown)."""
    from sqlalchemy import func, select

    from bridge_server.store.enums import ACTIVE_JOB_STATUSES
    from bridge_server.store.models import Job

    async with server.context.db.session() as s:
        active = (
            await s.execute(
                select(func.count())
                .select_from(Job)
                .where(Job.status.in_(list(ACTIVE_JOB_STATUSES)))
            )
        ).scalar_one()
        total = (await s.execute(select(func.count()).select_from(Job))).scalar_one()
    return total > 0 and active == 0 and not server.pipeline.busy and events_shown(server)


def events_shown(server: BridgeServer) -> bool:
    """Every event this bridge published has reached its own listeners (a studio's events
    make a round trip through Redis first)."""
    backplane = server.context.backplane
    return backplane is None or backplane.drained


def copy_photos(photo_set: dict[str, Path], names: list[str], dest: Path) -> list[Path]:
    """Copy named fixture photos into `dest` (tests never touch the shared originals)."""
    import shutil

    dest.mkdir(parents=True, exist_ok=True)
    return [Path(shutil.copy2(photo_set[n], dest / photo_set[n].name)) for n in names]


class ThreadedBridge:
    """A real bridge on loopback, run on its own event loop in a thread, for synchronous
    clients (Schemathesis, the `websockets` sync client) that would block the test's loop."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.server = BridgeServer(settings)
        self.loop = asyncio.new_event_loop()
        self._thread: Any = None

    def __enter__(self) -> ThreadedBridge:
        import threading

        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self.server.start(), self.loop).result(timeout=60)
        return self

    def __exit__(self, *exc: object) -> None:
        asyncio.run_coroutine_threadsafe(self.server.stop(), self.loop).result(timeout=60)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=10)
        self.loop.close()

    @property
    def url(self) -> str:
        """http://127.0.0.1:<port>"""
        return base_url(self.server)

    def run(self, coro: Any, timeout: float = 30) -> Any:
        """Run a coroutine on the bridge's loop and return its result."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=timeout)
