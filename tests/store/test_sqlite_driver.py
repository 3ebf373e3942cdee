"""The embedded store's driver: one trip to the connection's thread per statement, with the
results, counts and errors of plain pysqlite, and no transaction outliving a cancelled caller."""

from __future__ import annotations

import asyncio
import gc
import subprocess
import sys
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, exc, text
from sqlalchemy.ext.asyncio import AsyncSession

from bridge_server.store import sqlite_driver
from bridge_server.store.db import Database
from bridge_server.store.sqlite_driver import OneTripConnection


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database(tmp_path / "driver.sqlite3")
    async with database.engine.begin() as conn:
        await conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT UNIQUE, n INT)"))
    try:
        yield database
    finally:
        await database.close()


async def _driver(session: AsyncSession) -> OneTripConnection:
    raw = await (await session.connection()).get_raw_connection()
    driver = raw.driver_connection
    assert isinstance(driver, OneTripConnection)
    return driver


async def test_a_read_session_takes_one_trip_per_statement_and_none_to_end(db: Database) -> None:
    async with db.session() as s:
        driver = await _driver(s)
        before = driver.trips.started
        assert (await s.execute(text("SELECT count(*) FROM t"))).scalar_one() == 0
        assert (await s.execute(text("SELECT 1, 'a'"))).one() == (1, "a")
        assert driver.trips.started - before == 2
    # The pool's reset (a rollback) found no transaction open and made no trip.
    assert driver.trips.started - before == 2


async def test_rows_counts_and_errors_are_those_of_sqlite(db: Database) -> None:
    async with db.session() as s:
        inserted = await s.execute(
            text("INSERT INTO t (name, n) VALUES ('a', 1), ('b', 2) RETURNING id, name")
        )
        assert [row.name for row in inserted] == ["a", "b"]
        await s.execute(
            text("INSERT INTO t (name, n) VALUES (:name, :n)"),
            [{"name": "c", "n": 3}, {"name": "d", "n": 4}],
        )
        changed = await s.execute(text("UPDATE t SET n = n + 10 WHERE n > 1"))
        assert changed.rowcount == 3  # type: ignore[attr-defined]
        await s.commit()
    async with db.session() as s:
        with pytest.raises(exc.IntegrityError, match="UNIQUE"):
            await s.execute(text("INSERT INTO t (name, n) VALUES ('a', 9)"))
        await s.rollback()
        # The failed statement took nothing with it, and the session carries on.
        rows = (await s.execute(text("SELECT name, n FROM t ORDER BY id"))).all()
        assert [tuple(r) for r in rows] == [("a", 1), ("b", 12), ("c", 13), ("d", 14)]
        many = (
            await s.execute(
                text(
                    "WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL "
                    "SELECT i + 1 FROM k WHERE i < 5000) SELECT i FROM k"
                )
            )
        ).all()
        assert len(many) == 5000 and many[-1][0] == 5000


async def _write_in_every_pooled_connection(db: Database) -> None:
    for n in range(6):  # one more than the pool keeps
        async with db.session() as s:
            await s.execute(text("INSERT INTO t (name, n) VALUES (:name, 0)"), {"name": f"w{n}"})
            await s.commit()


async def test_a_write_never_committed_is_rolled_back_when_its_session_ends(db: Database) -> None:
    class Interrupted(Exception):
        pass

    with pytest.raises(Interrupted):
        async with db.session() as s:
            await s.execute(text("INSERT INTO t (name, n) VALUES ('lost', 1)"))
            raise Interrupted  # before the commit
    # The next user of that pooled connection neither commits the write nor waits on its lock.
    await asyncio.wait_for(_write_in_every_pooled_connection(db), 10)
    async with db.session() as s:
        assert (await s.execute(text("SELECT count(*) FROM t WHERE name = 'lost'"))).scalar() == 0


async def test_a_write_whose_caller_is_cancelled_mid_statement_is_not_committed_later(
    db: Database,
) -> None:
    entered, release = threading.Event(), threading.Event()

    def slow(value: Any) -> Any:
        entered.set()
        release.wait(10)
        return value

    @event.listens_for(db.engine.sync_engine, "connect")
    def add_slow(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.create_function("slow", 1, slow)

    await db.engine.dispose()  # connections made from now on have the function
    async with db.session() as s:
        await s.execute(text("INSERT INTO t (name, n) VALUES ('a', 1)"))
        await s.commit()

    async def write_then_commit() -> None:
        async with db.session() as s:
            await s.execute(text("UPDATE t SET n = slow(n + 100)"))
            await s.commit()

    writer = asyncio.ensure_future(write_then_commit())
    assert await asyncio.to_thread(entered.wait, 10)
    writer.cancel()  # the caller gives up while its statement runs on the connection's thread
    await asyncio.sleep(0)  # its clean-up (the session's close) is under way
    release.set()  # and the statement finishes
    with pytest.raises(asyncio.CancelledError):
        await writer

    # No connection went back to the pool holding the cancelled write's transaction (its
    # write lock would hold every later write until the busy timeout).
    await asyncio.wait_for(_write_in_every_pooled_connection(db), 10)
    async with db.session() as s:
        assert (await s.execute(text("SELECT n FROM t WHERE name = 'a'"))).scalar_one() == 1


async def test_a_rollback_asked_while_a_statement_still_runs_is_not_skipped(
    tmp_path: Path,
) -> None:
    # The case the trip counter exists for: the pool resets a connection whose caller gave up
    # while its write still runs on the thread. The write opens its transaction only once it
    # runs, so the rollback must go behind it, not be skipped as "no transaction open".
    path = tmp_path / "late.sqlite3"
    entered, release = threading.Event(), threading.Event()

    def slow(value: Any) -> Any:
        entered.set()
        release.wait(10)
        return value

    connection = await sqlite_driver.connect(path)
    try:
        await connection.cursor().execute("CREATE TABLE t (n INT)")
        await connection.cursor().execute("INSERT INTO t VALUES (1)")
        await connection.commit()
        await connection.create_function("slow", 1, slow)
        write = asyncio.ensure_future(connection.cursor().execute("UPDATE t SET n = slow(2)"))
        assert await asyncio.to_thread(entered.wait, 10)
        rollback = asyncio.ensure_future(connection.rollback())  # while the write runs
        release.set()
        await write
        await rollback
        await connection.commit()  # a later user's commit must not carry the write
        rows = await (await connection.cursor().execute("SELECT n FROM t")).fetchall()
        assert list(rows) == [(1,)]
    finally:
        release.set()
        await connection.close()


async def test_a_connection_nobody_closed_still_stops_its_thread_so_the_process_can_exit(
    tmp_path: Path,
) -> None:
    # A bridge stopped mid-work may leave a pooled connection unclosed; collecting it must stop
    # its thread, or every such connection keeps one for the rest of the process's life.
    connection = await sqlite_driver.connect(tmp_path / "unclosed.sqlite3")
    cursor = connection.cursor()
    await cursor.execute("CREATE TABLE t (n INT)")
    await cursor.execute("INSERT INTO t VALUES (1)")
    await connection.commit()
    thread = connection._thread
    del connection, cursor
    gc.collect()
    await asyncio.to_thread(thread.join, 10)
    assert not thread.is_alive()


def test_a_process_holding_an_unclosed_connection_still_exits(tmp_path: Path) -> None:
    script = (
        "import asyncio, sys\n"
        "from pathlib import Path\n"
        "from bridge_server.store import sqlite_driver\n"
        "held = []\n"
        "async def main():\n"
        "    held.append(await sqlite_driver.connect(Path(sys.argv[1])))\n"
        "    await held[0].cursor().execute('CREATE TABLE t (n INT)')\n"
        "asyncio.run(main())\n"
        "print('done', flush=True)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path / "held.sqlite3")],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "done"
