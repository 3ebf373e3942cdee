"""The shared send path of every WebSocket: each frame built once, written whole, several at once.

The broker hands one text frame to many connections. Each connection keeps the frames it has
ready; the first frame of a loop pass puts the connection on the shared sender's list and
schedules one flush callback (no task per connection, no task per frame). The flush builds the
wire bytes of each distinct text once (header + UTF-8 payload, as RFC 6455 frames it, shared by
every connection that gets it) and hands a connection all its ready frames in one
`transport.write`. When the server falls behind, events gather between flushes, so a write
carries more frames: the cost per frame falls as the load rises.

Frames are written whole and synchronously, as aiohttp's own writer writes its control frames
(pings, pongs, close), so the two never interleave inside a frame. A connection whose transport
is above low water, or whose frames would take it past high water, gets the rest in its own
backlog (written by its writer task, which may wait for drain): the slow-client rules apply
there. Per connection frames are never reordered: while it has a backlog, new frames follow it.
"""

from __future__ import annotations

import asyncio
import logging
import struct
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from .ws import ClientConnection

log = logging.getLogger(__name__)

# A WebSocket frame header is at most this long (server frames are not masked).
FRAME_HEADER_BYTES: Final = 10
# FIN + opcode 1 (text), no RSV bits: per-message deflate stays off (see ws.websocket_handler).
_FIN_TEXT: Final = 0x81
# Connections written per loop pass: between two chunks the loop reads sockets again (requests,
# pings), and events that arrive meanwhile join the frames of the connections still waiting.
FLUSH_CHUNK: Final = 256

WireOf = Callable[[str], bytes]


def text_frame(text: str) -> bytes:
    """One unmasked, unfragmented WebSocket text frame (header + UTF-8 payload)."""
    payload = text.encode("utf-8")
    size = len(payload)
    if size < 126:
        header = struct.pack("!BB", _FIN_TEXT, size)
    elif size < 65536:
        header = struct.pack("!BBH", _FIN_TEXT, 126, size)
    else:
        header = struct.pack("!BBQ", _FIN_TEXT, 127, size)
    return header + payload


def writable_room(transport: asyncio.BaseTransport | None) -> int:
    """How many bytes can be written now without the transport reaching a paused state.

    asyncio pauses a protocol above the transport's high-water mark and resumes it only once the
    buffer is back at or below the low-water mark, so anywhere above low water the protocol may
    still be paused (then no room). Below it, the room is what is left under high water.
    """
    if not isinstance(transport, asyncio.WriteTransport) or transport.is_closing():
        return -1
    low, high = transport.get_write_buffer_limits()
    buffered = transport.get_write_buffer_size()
    if buffered > low:
        return 0
    return high - buffered


class FanoutSender:
    """The list of connections with frames ready, and the flush that writes them."""

    def __init__(self) -> None:
        self._dirty: deque[ClientConnection] = deque()
        self._scheduled = False
        # Wire bytes by text, for the frames of the flushes under way (cleared when all is out).
        self._wire: dict[str, bytes] = {}

    def push(self, connection: ClientConnection, frame: str) -> None:
        """Add a frame to the connection's ready frames and make sure a flush will write them."""
        ready = connection.ready
        if not ready:
            self._dirty.append(connection)
            if not self._scheduled:
                self._scheduled = True
                asyncio.get_running_loop().call_soon(self._flush)
        ready.append(frame)

    def wire(self, text: str) -> bytes:
        """The frame's wire bytes, built once however many connections get it."""
        data = self._wire.get(text)
        if data is None:
            data = self._wire[text] = text_frame(text)
        return data

    def _flush(self) -> None:
        dirty = self._dirty
        wire = self.wire
        for _ in range(min(len(dirty), FLUSH_CHUNK)):
            connection = dirty.popleft()
            try:
                connection.write_ready(wire)
            except Exception:  # one broken socket must not stop the others
                log.debug("Send to %s failed", connection.client_id, exc_info=True)
                connection.close_soon(1011, "Send failed")
        if dirty:
            asyncio.get_running_loop().call_soon(self._flush)
        else:
            self._scheduled = False
            self._wire.clear()

    async def close(self) -> None:
        """Forget the connections still waiting (the server is stopping)."""
        self._dirty.clear()
        self._wire.clear()
