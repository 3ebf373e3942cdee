"""One sender task for every WebSocket, so a publish costs one task wake-up, not one per client.

Frames for a connection go into one shared FIFO; the sender writes them in order. A write to a
socket whose transport buffer is filling up would make the sender wait for that one slow client,
so such a connection's frames are handed to its own writer task instead (its backlog), and the
4008 rule applies there. Per connection, frames are never reordered: while a connection still has
frames in the shared FIFO, new ones follow them there.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from .ws import ClientConnection

log = logging.getLogger(__name__)

# Above this many unsent bytes in a socket's transport, writing may wait: use the backlog.
CONGESTED_BYTES: Final = 32 * 1024


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
