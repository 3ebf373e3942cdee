"""The persisted event log, the durable reservation of sequence numbers, and the epoch.

Sequence numbers are reserved in blocks written to the `meta` table *before* any number of the
block reaches a client. After a crash, numbering resumes above the reservation, so no number a
client may have seen is ever issued twice; the gap between the last persisted event and the
reservation marks events that may have been lost, and a client resuming from before it is told
`recovered: false`.

The reservation only ever rises while the log is open (a conditional UPDATE, so a late write can
never pull it below a newer one), and it is renewed in the background half a block ahead. The
loop never waits for it: if publishing outruns the renewal, the broker holds the newest events
back from clients until their numbers are durable (`covers` / `bind`).

The epoch names this history: a new database gets a new one, so a client can tell a server whose
history was reset from a gap in the one it knows.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import Table, delete, func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from ..broker import PublishedEvent
from ..ids import new_id
from .db import Database
from .models import EventRecord, Meta

log = logging.getLogger(__name__)

RESERVED_KEY: Final = "seq_reserved"
EPOCH_KEY: Final = "event_epoch"
# Numbers reserved per write. Renewal starts half a block before the end, so the broker holds
# events back only if more than BLOCK // 2 events are published within one reservation write.
BLOCK: Final = 10_000
RENEW_WITHIN: Final = BLOCK // 2
RESERVE_RETRY: Final = 1.0  # seconds before a failed reservation write is tried again
FLUSH_INTERVAL: Final = 0.25  # seconds; the reservation keeps a crash truthful
FLUSH_BATCH: Final = 2_000
# Events a start restores before it listens; the older retained ones load right after, so a
# start does not grow with the history (a resume older than these waits for them).
EAGER_HISTORY: Final = 2_000
LOAD_CHUNK: Final = 5_000  # older events read per statement after the start
PRUNE_EVERY: Final = 200  # flushes
CLOSE_PASSES: Final = 5  # flush-and-cover rounds at close while something keeps publishing

# Only ever raises the reservation: a write computed earlier can never undo a later, higher one.
# CAST(... AS BIGINT) behaves the same in SQLite and PostgreSQL.
_RAISE_RESERVATION = text(
    "UPDATE meta SET value = :value WHERE key = :key AND CAST(value AS BIGINT) < :upto"
)
_SET_RESERVATION = text("UPDATE meta SET value = :value WHERE key = :key")
_EVENTS: Table = EventRecord.__table__  # type: ignore[assignment]  # a mapped class is on a Table
_INSERT_EVENTS = insert(_EVENTS)  # built once: one executemany per flush


@dataclass
class BootState:
    """What the broker needs to continue numbering and replaying after a start."""

    next_seq: int
    history: list[PublishedEvent]
    unrecoverable_below: int
    epoch: str
    complete: bool = True  # False: older retained events remain (`load_older`)


def _to_published(row: Any) -> PublishedEvent:
    # The payload is parsed from the frame only if someone reads it (most are only replayed).
    return PublishedEvent(row.seq, row.type, row.channel, row.timestamp, None, row.data)


async def _newest(s: AsyncSession, before: int | None, limit: int) -> list[PublishedEvent]:
    """Up to `limit` stored events below `before` (None: the newest), oldest first."""
    # Plain rows, not ORM objects: the history can be tens of thousands of events.
    query = (
        select(
            EventRecord.seq,
            EventRecord.type,
            EventRecord.channel,
            EventRecord.timestamp,
            EventRecord.data,
        )
        .order_by(EventRecord.seq.desc())
        .limit(limit)
    )
    if before is not None:
        query = query.where(EventRecord.seq < before)
    rows = (await s.execute(query)).all()
    return [_to_published(r) for r in reversed(rows)]


class EventLog:
    """Batches published events into the store and keeps the sequence reservation ahead."""

    def __init__(self, db: Database, history_size: int) -> None:
        self._db = db
        self._history_size = history_size
        self._pending: list[PublishedEvent] = []
        self._last_appended = 0
        self._reserved = 0  # durable: every number up to here may be shown to clients
        self._wanted = 0  # the highest number the broker asked to show
        self._reserving: asyncio.Task[None] | None = None
        self._on_reserved: Callable[[], None] | None = None
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._flushes = 0
        self._closing = False

    async def open(self) -> BootState:
        """Load the newest EAGER_HISTORY retained events, the epoch, and reserve the first
        block of numbers."""
        async with self._db.session() as s, s.begin():
            last_persisted = (await s.execute(select(func.max(EventRecord.seq)))).scalar() or 0
            reserved_row = await s.get(Meta, RESERVED_KEY)
            reserved = int(reserved_row.value) if reserved_row else 0
            if reserved_row is None:
                s.add(Meta(key=RESERVED_KEY, value="0"))
            epoch_row = await s.get(Meta, EPOCH_KEY)
            if epoch_row is None:
                epoch_row = Meta(key=EPOCH_KEY, value=new_id("e"))
                s.add(epoch_row)
            epoch = epoch_row.value
            wanted = min(EAGER_HISTORY, self._history_size)
            history = await _newest(s, None, wanted)
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
        self._last_appended = next_seq - 1
        self._wanted = next_seq
        await self._raise_reservation(next_seq - 1 + BLOCK)
        self._task = asyncio.create_task(self._run(), name="event-log-writer")
        complete = len(history) < wanted or wanted == self._history_size
        return BootState(next_seq, history, unrecoverable_below, epoch, complete)

    async def load_older(self, before: int) -> list[PublishedEvent]:
        """The retained events older than `before`, oldest first (the rest of a start's load),
        read in chunks so the loop is never held for the whole history at once."""
        chunks: list[list[PublishedEvent]] = []
        wanted = self._history_size
        while wanted > 0:
            async with self._db.session() as s:
                chunk = await _newest(s, before, min(LOAD_CHUNK, wanted))
            if not chunk:
                break
            chunks.append(chunk)
            wanted -= len(chunk)
            before = chunk[0].seq
        return [event for chunk in reversed(chunks) for event in chunk]

    # --- called synchronously by the broker ---------------------------------------------

    def bind(self, on_reserved: Callable[[], None]) -> None:
        """Call `on_reserved()` whenever the reservation rose (the broker releases held events)."""
        self._on_reserved = on_reserved

    def append(self, event: PublishedEvent) -> None:
        """Queue an event for the next batch."""
        self._pending.append(event)
        self._last_appended = max(self._last_appended, event.seq)
        if len(self._pending) >= FLUSH_BATCH:
            self._wake.set()

    def covers(self, seq: int) -> bool:
        """True if `seq` is durably reserved; otherwise reserve it soon, never waiting here."""
        self._wanted = max(self._wanted, seq)
        if seq > self._reserved - RENEW_WITHIN and self._reserving is None and not self._closing:
            self._reserving = asyncio.get_running_loop().create_task(
                self._keep_reserved(), name="event-log-reservation"
            )
        return seq <= self._reserved

    # --- persistence ----------------------------------------------------------------------

    async def _keep_reserved(self) -> None:
        try:
            while not self._closing and self._wanted > self._reserved - RENEW_WITHIN:
                # The target is taken now, not when the task was scheduled.
                target = self._wanted + BLOCK
                try:
                    await self._raise_reservation(target)
                except Exception:  # a locked or full disk: hold events back and try again
                    log.exception("Event log: sequence reservation failed; retrying")
                    await asyncio.sleep(RESERVE_RETRY)
                    continue
                if self._on_reserved is not None:
                    self._on_reserved()
        finally:
            self._reserving = None

    async def _raise_reservation(self, upto: int) -> None:
        async with self._db.session() as s, s.begin():
            await s.execute(
                _RAISE_RESERVATION, {"value": str(upto), "key": RESERVED_KEY, "upto": upto}
            )
        # Either this write raised it to `upto`, or the stored value was already at least that.
        self._reserved = max(self._reserved, upto)

    async def _run(self) -> None:
        while not self._closing:
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
        committed = False
        try:
            # A Core connection, not an ORM session: the flush runs on the event loop between
            # deliveries, and the ORM's bulk-insert bookkeeping cost it milliseconds per batch.
            async with self._db.engine.connect() as conn:
                async with conn.begin():
                    await self._write_batch(conn, batch)
                # Closing the connection can still fail after the commit (a loop shutting
                # down): the rows are stored, so they must not be queued again.
                committed = True
        except BaseException as exc:
            if not committed:
                self._pending[:0] = batch
            if not committed or not isinstance(exc, Exception):
                raise
            log.warning("Event log: closing a connection failed after its batch was stored")

    async def _write_batch(self, conn: AsyncConnection, batch: list[PublishedEvent]) -> None:
        await conn.execute(
            _INSERT_EVENTS,
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
            await self._prune(conn)

    async def _prune(self, conn: AsyncConnection) -> None:
        cutoff = (
            await conn.execute(
                select(EventRecord.seq)
                .order_by(EventRecord.seq.desc())
                .offset(self._history_size)
                .limit(1)
            )
        ).scalar()
        if cutoff is not None:
            await conn.execute(delete(EventRecord).where(EventRecord.seq <= cutoff))

    async def close(self, last_seq: int = 0) -> None:
        """Flush everything and pull the reservation down to the true last issued number.

        The last number is read after every await here, so an event published while closing is
        persisted too; anything published after close is held back from clients for good.
        """
        # Never cancel a flush in flight: its rows may commit after the cancellation lands.
        self._closing = True
        self._wake.set()
        if self._task is not None:
            await asyncio.gather(self._task, return_exceptions=True)
        if self._reserving is not None:
            await asyncio.gather(self._reserving, return_exceptions=True)
        for _ in range(CLOSE_PASSES):
            await self.flush()
            last = max(last_seq, self._last_appended)
            # Anything published from here on is held back until a later pass covers it.
            self._reserved = min(self._reserved, last)
            # A clean stop leaves no gap, so resuming clients stay recoverable across restarts.
            async with self._db.session() as s, s.begin():
                await s.execute(_SET_RESERVATION, {"value": str(last), "key": RESERVED_KEY})
            self._reserved = last
            if not self._pending:
                break
        else:
            # Published during the last write, so never shown to anyone: safe to drop.
            log.warning("Event log: %d events published after shutdown dropped", len(self._pending))
        if self._on_reserved is not None:
            self._on_reserved()
