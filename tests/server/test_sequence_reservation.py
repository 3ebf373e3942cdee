"""The durable sequence reservation: never below a number a client may have seen, never a wait."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from bridge_server import events
from bridge_server.app import BridgeServer
from bridge_server.broker import EventBroker
from bridge_server.store.db import Database
from bridge_server.store.event_log import EventLog
from tests.helpers import connect, wait_for


def _durable_reservation(path: Path) -> int:
    db = sqlite3.connect(path, timeout=30)
    try:
        row = db.execute("SELECT value FROM meta WHERE key = 'seq_reserved'").fetchone()
        return int(row[0])
    finally:
        db.close()


def _persisted(path: Path) -> set[int]:
    db = sqlite3.connect(path, timeout=30)
    try:
        return {seq for (seq,) in db.execute("SELECT seq FROM events")}
    finally:
        db.close()


async def test_reservation_never_falls_below_issued_numbers_after_25000_quick_publishes(bridge):
    """A burst that outruns the background reservation must not leave it behind the numbers
    already shown: after a kill those numbers would be issued again and phones would drop the
    new events as duplicates."""
    broker = bridge.context.broker
    event_log = bridge._event_log
    path = bridge.settings.database_path
    issued = [broker.publish(events.queue_status(0, 0, 0, 0, 0)).seq for _ in range(25_000)]
    last = issued[-1]

    async def settled() -> bool:
        # Every event shown and written, no reservation write in flight; at every look on the
        # way there, the reservation covers everything clients may have seen.
        reserved = await asyncio.to_thread(_durable_reservation, path)
        assert reserved >= broker.last_seq, (reserved, broker.last_seq)
        persisted = await asyncio.to_thread(_persisted, path)
        return (
            broker.last_seq >= last
            and max(persisted, default=0) >= last
            and event_log._reserving is None
        )

    await wait_for(settled, timeout=60)
    assert await asyncio.to_thread(_durable_reservation, path) >= last


class _HeldLock:
    """A second connection holding SQLite's write lock, as a long import or backup would."""

    def __init__(self, path: Path) -> None:
        self._db = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)

    async def acquire(self) -> None:
        await asyncio.to_thread(self._db.execute, "BEGIN IMMEDIATE")

    async def release(self) -> None:
        await asyncio.to_thread(self._db.execute, "ROLLBACK")
        self._db.close()


async def test_publishing_past_the_reservation_on_a_locked_database_neither_blocks_nor_leaks(
    bridge, http
):
    """With the database locked, publishing more than the reserved block returns at once; the
    events beyond the durable reservation reach no client until it is written, then arrive in
    order."""
    broker = bridge.context.broker
    path = bridge.settings.database_path
    client = await connect(http, bridge)
    await client.subscribe(["approval"])
    lock = _HeldLock(path)
    await lock.acquire()
    try:
        reserved = await asyncio.to_thread(_durable_reservation, path)
        # Run past the reserved block in one go, without giving the loop a turn.
        while broker.publish(events.queue_status(0, 0, 0, 0, 0)).seq <= reserved:
            pass
        beyond = broker.publish(events.approval_queue_updated(7))
        assert beyond.seq > reserved
        assert broker.last_seq <= reserved  # what clients may see stops at the reservation
        await client.send({"type": "ping"})
        first = await client.recv()
        assert first["type"] == "pong", f"an unreserved event reached a client: {first}"
    finally:
        await lock.release()
    arrived = await client.recv_type("approval_queue_updated", timeout=30)
    assert arrived["seq"] == beyond.seq and arrived["queue_count"] == 7
    assert await asyncio.to_thread(_durable_reservation, path) >= beyond.seq


async def test_close_persists_events_published_while_it_runs(tmp_path):
    """`close` takes the last number after its own awaits: an event published while the log
    closes is persisted and covered, never left for the next start to issue again."""
    db = Database(tmp_path / "bridge.sqlite3")
    await db.migrate()
    event_log = EventLog(db, 1_000)
    boot = await event_log.open()
    broker = EventBroker(
        next_seq=boot.next_seq,
        history=boot.history,
        unrecoverable_below=boot.unrecoverable_below,
        sink=event_log,
    )
    for _ in range(10):
        broker.publish(events.queue_status(0, 0, 0, 0, 0))
    closing = asyncio.create_task(event_log.close(broker.last_seq))
    during: list[int] = []
    while not closing.done() and len(during) < 50:
        during.append(broker.publish(events.queue_status(1, 0, 0, 0, 1)).seq)
        await asyncio.sleep(0)
    await closing
    await db.close()
    assert during, "nothing was published while closing"
    persisted = _persisted(db.path)
    shown = broker.last_seq
    assert shown >= max(during)
    assert set(range(1, shown + 1)) <= persisted, "an event shown to clients was not persisted"
    assert _durable_reservation(db.path) >= shown


async def test_restart_after_a_clean_stop_continues_above_every_shown_number(tmp_path, http):
    from tests.helpers import make_settings

    settings = make_settings(tmp_path / "d")
    server = BridgeServer(settings)
    await server.start()
    for _ in range(12_000):
        server.context.broker.publish(events.queue_status(0, 0, 0, 0, 0))
    shown = server.context.broker.last_seq
    await server.stop()
    server = BridgeServer(settings)
    await server.start()
    try:
        assert server.context.broker.publish(events.queue_status(0, 0, 0, 0, 0)).seq > shown
    finally:
        await server.stop()
