"""One sender task for every WebSocket, so a publish costs one task wake-up, not one per client.

Frames for a connection go into one shared FIFO; the sender writes them in order. A write to a
socket whose transport is paused (or would pause) could make the sender wait for drain, and so
wait for that one slow client; such a connection's frames are handed to its own writer task
instead (its backlog), and the slow-client rules apply there. Per connection, frames are never
reordered: while a connection still has frames in the shared FIFO, new ones follow them there.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from .ws import ClientConnection

log = logging.getLogger(__name__)

# A WebSocket frame header is at most this long (server frames are not masked).
FRAME_HEADER_BYTES: Final = 10


def writes_without_waiting(transport: asyncio.BaseTransport | None, frame: str) -> bool:
    """True if writing `frame` now cannot make the writer await drain.

    asyncio pauses a protocol above the transport's high-water mark and resumes it only once the
    buffer is back at or below the low-water mark, so anywhere above low water the protocol may
    still be paused. Only a write that starts at or below low water and stays at or below high
    water is sure not to wait.
    """
    if not isinstance(transport, asyncio.WriteTransport):
        return True
    low, high = transport.get_write_buffer_limits()
    buffered = transport.get_write_buffer_size()
    if buffered > low:
        return False
    room = high - buffered - FRAME_HEADER_BYTES
    size = len(frame)
    if size * 4 > room:  # UTF-8 takes up to 4 bytes a character: count exactly only when close
        size = len(frame.encode("utf-8"))
    return size <= room


class FanoutSender:
    """The shared FIFO of (connection, frame) and the task that drains it."""

    def __init__(self) -> None:
        self._queue: deque[tuple[ClientConnection, str]] = deque()
        self._ready = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def push(self, connection: ClientConnection, frame: str) -> None:
        """Queue a frame for a connection (the connection counts its pending frames)."""
        self._queue.append((connection, frame))
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="ws-fanout")
        self._ready.set()

    async def _run(self) -> None:
        while True:
            await self._ready.wait()
            self._ready.clear()
            queue = self._queue
            while queue:
                connection, frame = queue.popleft()
                connection.fanout_pending -= 1
                try:
                    await connection.write_or_backlog(frame)
                except Exception:  # one broken socket must not stop the others
                    log.debug("Send to %s failed", connection.client_id, exc_info=True)
                    connection.close_soon(1011, "Send failed")

    async def close(self) -> None:
        """Stop the sender task."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
