"""queue_status events: coalesced, so a burst of job changes yields one event, not hundreds."""

from __future__ import annotations

import asyncio
import logging
from typing import Final

from .. import events
from ..broker import EventBroker
from ..store.db import Database
from .queries import job_counts

log = logging.getLogger(__name__)

COALESCE_SECONDS: Final = 0.25


class QueueStatusPublisher:
    """Publishes `queue_status` at most a few times per second, and only when counts change."""

    def __init__(self, db: Database, broker: EventBroker) -> None:
        self._db = db
        self._broker = broker
        self._pending: asyncio.TimerHandle | None = None
        self._task: asyncio.Task[None] | None = None
        self._last: dict[str, int] | None = None
        self._dirty = False  # a change arrived while a publication was in flight
        self._closed = False  # after close nothing is scheduled: the loop may be stopping
        self.latest: dict[str, int] = {
            "pending": 0,
            "processing": 0,
            "completed": 0,
            "failed": 0,
            "total": 0,
        }

    def changed(self) -> None:
        """Job counts may have changed; publish soon (again, if a publication is in flight)."""
        if self._closed:
            return
        if self._task is not None and not self._task.done():
            self._dirty = True  # its counts may predate this change: publish once more after
            return
        if self._pending is None:
            loop = asyncio.get_running_loop()
            self._pending = loop.call_later(COALESCE_SECONDS, self._fire)

    def _fire(self) -> None:
        self._pending = None
        self._dirty = False
        self._task = asyncio.get_running_loop().create_task(self.publish_now())
        self._task.add_done_callback(self._after_publish)

    def _after_publish(self, _task: asyncio.Task[None]) -> None:
        if self._dirty:
            self._dirty = False
            self.changed()

    async def publish_now(self) -> None:
        """Read the counts and publish them if they changed."""
        try:
            async with self._db.session() as s:
                counts = await job_counts(s)
        except Exception:
            log.exception("Could not read job counts")
            return
        self.latest = counts
        if counts != self._last:
            self._last = counts
            self._broker.publish(events.queue_status(**counts))

    def close(self) -> None:
        """Drop a scheduled publication; later changes schedule none."""
        self._closed = True
        self._dirty = False
        if self._pending is not None:
            self._pending.cancel()
            self._pending = None
