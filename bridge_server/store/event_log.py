"""The persisted event log and the durable reservation of sequence numbers.

Sequence numbers are reserved in blocks written to the `meta` table *before* any number of the
block is issued. After a crash, numbering resumes above the reservation, so no number is ever
issued twice; the gap between the last persisted event and the reservation marks events that
may have been lost, and a client resuming from before it is told `recovered: false`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
from dataclasses import dataclass
from typing import Final

from sqlalchemy import delete, func, insert, select, text

from ..broker import PublishedEvent
from .db import Database
from .models import EventRecord, Meta

log = logging.getLogger(__name__)

RESERVED_KEY: Final = "seq_reserved"
BLOCK: Final = 10_000
FLUSH_INTERVAL: Final = 0.25  # seconds; the reservation keeps a crash truthful
FLUSH_BATCH: Final = 2_000
PRUNE_EVERY: Final = 200  # flushes


@dataclass
class BootState:
    """What the broker needs to continue numbering and replaying after a start."""

    next_seq: int
    history: list[PublishedEvent]
    unrecoverable_below: int


def _to_published(row: EventRecord) -> PublishedEvent:
    message = json.loads(row.data)
    reserved = {"type", "timestamp", "seq", "channel"}
    payload = {k: v for k, v in message.items() if k not in reserved}
    return PublishedEvent(row.seq, row.type, row.channel, row.timestamp, payload, row.data)


class EventLog:
    """Batches published events into SQLite and keeps the sequence reservation ahead."""

    def __init__(self, db: Database, history_size: int) -> None:
        self._db = db
        self._history_size = history_size
        self._pending: list[PublishedEvent] = []
        self._reserved = 0
        self._reserving: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._flushes = 0
        self._closed = False

    async def open(self) -> BootState:
        """Load the retained history and reserve the first block of numbers."""
        async with self._db.session() as s:
            last_persisted = (await s.execute(select(func.max(EventRecord.seq)))).scalar() or 0
            reserved_row = await s.get(Meta, RESERVED_KEY)
            reserved = int(reserved_row.value) if reserved_row else 0
            rows = (
                (
                    await s.execute(
                        select(EventRecord)
                        .order_by(EventRecord.seq.desc())
                        .limit(self._history_size)
                    )
                )
                .scalars()
                .all()
            )
        history = [_to_published(r) for r in reversed(rows)]
        next_seq = max(last_persisted, reserved) + 1
        # Numbers between the last persisted event and the reservation may have been sent to
        # clients before a crash and never written: nobody below that mark can be trusted.
        unrecoverable_below = reserved if reserved > last_persisted else 0
        if unrecoverable_below:
            log.warning(
                "Event log: events %d..%d may have been lost in an unclean stop",
                last_persisted + 1,
                reserved,
            )
        await self._write_reservation(next_seq - 1 + BLOCK)
        self._task = asyncio.create_task(self._run(), name="event-log-writer")
        return BootState(next_seq, history, unrecoverable_below)

    # --- called synchronously by the broker ---------------------------------------------

    def append(self, event: PublishedEvent) -> None:
        """Queue an event for the next batch."""
        self._pending.append(event)
        if len(self._pending) >= FLUSH_BATCH:
            self._wake.set()

    def ensure_reserved(self, seq: int) -> None:
        """Keep the durable reservation ahead of `seq`; only blocks if it fell behind."""
        if seq > self._reserved:
            # Rare: more than a whole block published before the async reservation landed.
            self._reserve_blocking(seq - 1 + BLOCK)
        elif seq > self._reserved - BLOCK // 2 and self._reserving is None and not self._closed:
            self._reserving = asyncio.get_running_loop().create_task(
                self._write_reservation(self._reserved + BLOCK)
            )

    # --- persistence ----------------------------------------------------------------------

    async def _write_reservation(self, upto: int) -> None:
        try:
            async with self._db.session() as s, s.begin():
                await s.merge(Meta(key=RESERVED_KEY, value=str(upto)))
            self._reserved = max(self._reserved, upto)
        finally:
            self._reserving = None

    def _reserve_blocking(self, upto: int) -> None:
        conn = sqlite3.connect(self._db.path, timeout=10)
        try:
            with conn:
                conn.execute(
                    "INSERT INTO meta(key, value) VALUES (?, ?) "
                    "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                    (RESERVED_KEY, str(upto)),
                )
        finally:
            conn.close()
        self._reserved = upto

    async def _run(self) -> None:
        while not self._closed:
            try:
                await asyncio.wait_for(self._wake.wait(), FLUSH_INTERVAL)
            except TimeoutError:
                pass
            self._wake.clear()
            try:
                await self.flush()
            except Exception:  # keep the writer alive; the batch stays pending
                log.exception("Event log flush failed; will retry")
                await asyncio.sleep(1.0)

    async def flush(self) -> None:
        """Write every pending event now."""
        if not self._pending:
            return
        batch, self._pending = self._pending, []
        try:
            async with self._db.session() as s, s.begin():
                await s.execute(
                    insert(EventRecord),
                    [
                        {
                            "seq": e.seq,
                            "type": e.type,
                            "channel": e.channel,
                            "timestamp": e.timestamp,
                            "data": e.frame,
                        }
                        for e in batch
                    ],
                )
                self._flushes += 1
                if self._flushes % PRUNE_EVERY == 0:
                    await self._prune(s)
        except BaseException:
            self._pending[:0] = batch
            raise

    async def _prune(self, s: object) -> None:
        from sqlalchemy.ext.asyncio import AsyncSession

        assert isinstance(s, AsyncSession)
        cutoff = (
            await s.execute(
                select(EventRecord.seq)
                .order_by(EventRecord.seq.desc())
                .offset(self._history_size)
                .limit(1)
            )
        ).scalar()
        if cutoff is not None:
            await s.execute(delete(EventRecord).where(EventRecord.seq <= cutoff))

    async def close(self, last_seq: int) -> None:
        """Flush everything and pull the reservation down to the last issued number."""
        # Never cancel a flush in flight: its rows may commit after the cancellation lands.
        self._closed = True
        self._wake.set()
        if self._task is not None:
            await asyncio.gather(self._task, return_exceptions=True)
        if self._reserving is not None:
            await asyncio.gather(self._reserving, return_exceptions=True)
        await self.flush()
        # A clean stop leaves no gap, so resuming clients stay recoverable across restarts.
        async with self._db.session() as s, s.begin():
            await s.execute(
                text("UPDATE meta SET value = :v WHERE key = :k"),
                {"v": str(last_seq), "k": RESERVED_KEY},
            )
