"""The shared sender never waits on one slow client, whatever its socket's buffer is doing."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import socket
from typing import Any

from bridge_server import events
from bridge_server.app import BridgeServer
from bridge_server.web.ws import ClientConnection
from tests.helpers import ProtocolClient, connect, wait_for

SMALL_BUFFER = (
    4096  # kernel socket buffers (Linux doubles it): the transport's buffer does the rest
)
PROBE_BYTES = 4_000
BAND_TOP = 24 * 1024  # inside asyncio's pause band (resumes at 16 KiB, pauses above 64 KiB)


def _masked_text_frame(text: str) -> bytes:
    payload = text.encode("utf-8")
    mask = os.urandom(4)
    length = len(payload)
    header = bytes([0x81]) + (
        bytes([0x80 | length]) if length < 126 else bytes([0x80 | 126]) + length.to_bytes(2, "big")
    )
    return header + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


class SlowReader:
    """A WebSocket client on a raw socket with a tiny receive buffer that reads only on demand,
    like a phone on a weak Wi-Fi link."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock

    @classmethod
    async def open(cls, port: int) -> SlowReader:
        loop = asyncio.get_running_loop()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, SMALL_BUFFER)
        sock.setblocking(False)
        await loop.sock_connect(sock, ("127.0.0.1", port))
        key = base64.b64encode(os.urandom(16)).decode()
        request = (
            f"GET /ws HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        )
        await loop.sock_sendall(sock, request.encode())
        reply = b""
        while b"\r\n\r\n" not in reply:
            reply += await loop.sock_recv(sock, 1)
        assert reply.startswith(b"HTTP/1.1 101"), reply
        return cls(sock)

    async def send(self, message: dict[str, Any]) -> None:
        await asyncio.get_running_loop().sock_sendall(
            self.sock, _masked_text_frame(json.dumps(message))
        )

    async def read_some(self, count: int) -> int:
        data = await asyncio.get_running_loop().sock_recv(self.sock, count)
        return len(data)

    def close(self) -> None:
        self.sock.close()


def _buffered(connection: ClientConnection) -> int:
    transport = connection._transport
    assert isinstance(transport, asyncio.WriteTransport)
    return transport.get_write_buffer_size()


async def test_a_client_whose_socket_is_paused_does_not_delay_the_others(
    bridge: BridgeServer, http
):
    """A slow phone keeps its socket between asyncio's water marks (paused, draining slowly);
    every event still reaches a healthy client at once, for as long as that goes on."""
    broker = bridge.context.broker
    healthy: ProtocolClient = await connect(http, bridge)
    await healthy.subscribe(["system"])
    slow = await SlowReader.open(bridge.port)
    try:
        await slow.send({"type": "register", "client_type": "slow", "client_name": "weak Wi-Fi"})
        await slow.send({"type": "subscribe", "channels": ["system"]})

        async def slow_subscribed() -> ClientConnection | None:
            for client in bridge.context.clients.all():
                if isinstance(client, ClientConnection) and client.client_type == "slow":
                    if broker.channels_of(client):
                        return client
            return None

        connection = await wait_for(slow_subscribed, timeout=10, interval=0.02)
        transport = connection._transport
        assert isinstance(transport, asyncio.WriteTransport)
        server_sock = transport.get_extra_info("socket")
        server_sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SMALL_BUFFER)
        low, high = transport.get_write_buffer_limits()
        blob = "x" * PROBE_BYTES

        async def received(probe: int) -> None:
            while True:
                message = await healthy.recv(timeout=10)
                if message.get("details", {}).get("probe") == probe:
                    return

        async def settle() -> int:
            # Give the server's transport a few turns to move what the socket now accepts.
            before = _buffered(connection)
            for _ in range(20):
                await asyncio.sleep(0.005)
                if _buffered(connection) != before:
                    break
            return _buffered(connection)

        probe = 0
        for _ in range(100):  # far more bytes than aiohttp's 256 KiB between drain checks
            if _buffered(connection) <= low:
                # Fill until the transport pauses the writer (above the high-water mark).
                while _buffered(connection) <= high:
                    probe += 1
                    broker.publish(events.system_status("running", {"probe": probe, "b": blob}))
                    await received(probe)
                    await asyncio.sleep(0)
            # Drain slowly into the band: paused until the buffer is back under low water.
            while await settle() > BAND_TOP:
                await slow.read_some(2048)
            probe += 1
            broker.publish(events.system_status("running", {"probe": probe, "b": blob}))
            await received(probe)  # the healthy client never waits for the slow one
        assert probe >= 100
    finally:
        slow.close()
