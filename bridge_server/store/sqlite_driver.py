"""aiosqlite with one trip to its thread per statement.

aiosqlite runs each call on the connection's own thread and hands the result back to the event
loop. SQLAlchemy's adapter makes four such calls per statement (open a cursor, execute, fetch,
close) and one more for the rollback that ends every pooled session, even a read that began no
transaction. On a loaded 2-core machine a trip costs 0.2-0.5 ms of waking two threads, more than
an indexed read itself. Here a statement is opened, executed, fetched and closed in one trip, and
a commit or rollback with no transaction open (pysqlite's own no-op) makes none.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import aiosqlite

Description = tuple[tuple[Any, ...], ...] | None
# (rows, description, rowcount, lastrowid) of one statement, read on the connection's thread.
Outcome = tuple[list[Any], Description, int, int | None]


def _run(conn: sqlite3.Connection, operation: str, parameters: Any, many: bool) -> Outcome:
    cursor = conn.cursor()
    try:
        if many:
            cursor.executemany(operation, parameters)
        elif parameters is None:
            cursor.execute(operation)
        else:
            cursor.execute(operation, parameters)
        description = cursor.description
        rows = cursor.fetchall() if description else []
        # Read after the fetch: for INSERT … RETURNING pysqlite counts the rows as they are read.
        return rows, description, cursor.rowcount, cursor.lastrowid
    finally:
        cursor.close()


class OneTripCursor:
    """The cursor SQLAlchemy's aiosqlite adapter drives: it executes, fetches every row and
    closes the sqlite3 cursor in one call on the connection's thread, then serves the rows."""

    def __init__(self, connection: OneTripConnection) -> None:
        self._connection = connection
        self._rows: list[Any] = []
        self._next = 0
        self.description: Description = None
        self.rowcount = -1
        self.lastrowid: int | None = None
        self.arraysize = 1

    async def __aenter__(self) -> OneTripCursor:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.close()

    async def _execute(self, operation: str, parameters: Any, many: bool) -> OneTripCursor:
        conn = self._connection._conn
        outcome: Outcome = await self._connection._execute(_run, conn, operation, parameters, many)
        self._rows, self.description, self.rowcount, self.lastrowid = outcome
        self._next = 0
        return self

    async def execute(self, operation: str, parameters: Any = None) -> OneTripCursor:
        """Execute one statement and hold all its rows."""
        return await self._execute(operation, parameters, many=False)

    async def executemany(self, operation: str, parameters: Iterable[Any]) -> OneTripCursor:
        """Execute one statement for each set of parameters."""
        return await self._execute(operation, parameters, many=True)

    async def fetchone(self) -> Any:
        """The next row, or None."""
        if self._next >= len(self._rows):
            return None
        self._next += 1
        return self._rows[self._next - 1]

    async def fetchmany(self, size: int | None = None) -> Sequence[Any]:
        """Up to `size` further rows."""
        end = self._next + (self.arraysize if size is None else size)
        rows = self._rows[self._next : end]
        self._next += len(rows)
        return rows

    async def fetchall(self) -> Sequence[Any]:
        """Every further row."""
        rows = self._rows[self._next :]
        self._next = len(self._rows)
        return rows

    async def close(self) -> None:
        """Drop the held rows (the sqlite3 cursor closed on its thread already)."""
        self._rows = []
        self._next = 0

    def __aiter__(self) -> OneTripCursor:
        return self

    async def __anext__(self) -> Any:
        if self._next >= len(self._rows):
            raise StopAsyncIteration
        return await self.fetchone()


def _in_transaction(conn: sqlite3.Connection | None) -> bool:
    try:
        return conn is not None and conn.in_transaction
    except sqlite3.ProgrammingError:  # closed by this very trip
        return False


class _Trips:
    """Trips to a connection's thread, counted on both threads (the GIL orders them)."""

    __slots__ = ("done", "started", "transaction_open")

    def __init__(self) -> None:
        self.started = 0
        self.done = 0
        self.transaction_open = False  # as the last trip left the connection


class OneTripConnection(aiosqlite.Connection):
    """An aiosqlite connection whose cursors take one trip per statement."""

    def __init__(self, connector: Callable[[], sqlite3.Connection], iter_chunk_size: int) -> None:
        super().__init__(connector, iter_chunk_size)
        self.trips = _Trips()
        # A connection nobody closed (a test's server stopped midway, one held past `gc.freeze`)
        # must not keep the process from exiting. SQLite rolls back what an exit cut short.
        self._thread.daemon = True

    async def _execute(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        # The trip refers to the counter and the sqlite3 connection, never to `self`: the
        # thread holds its last trip while it waits for the next, and a connection nobody
        # closed must still be collected, which stops its thread (aiosqlite's __del__).
        trips, conn = self.trips, self._connection

        def trip() -> Any:
            try:
                return fn(*args, **kwargs)
            finally:
                trips.transaction_open = _in_transaction(conn)
                trips.done += 1

        trips.started += 1
        return await super()._execute(trip)

    def _idle_outside_transaction(self) -> bool:
        # A commit or rollback may skip its trip only when no trip is under way (a cancelled
        # caller's statement may still be running) and the last left no transaction open.
        trips = self.trips
        return trips.done == trips.started and not trips.transaction_open

    def cursor(self) -> OneTripCursor:  # type: ignore[override]
        """A cursor; opening it costs no trip."""
        return OneTripCursor(self)

    async def commit(self) -> None:
        """Commit, unless no transaction is open (pysqlite does nothing then)."""
        if not self._idle_outside_transaction():
            await super().commit()

    async def rollback(self) -> None:
        """Roll back, unless no transaction is open (pysqlite does nothing then): the pool's
        reset after a read-only session costs no trip."""
        if not self._idle_outside_transaction():
            await super().rollback()


async def connect(path: Path) -> OneTripConnection:
    """Open the file on a new connection thread, as `aiosqlite.connect` does."""

    def connector() -> sqlite3.Connection:
        # As SQLAlchemy's aiosqlite dialect opens it.
        return sqlite3.connect(str(path), check_same_thread=False)

    connection = OneTripConnection(connector, 64)
    await connection  # starts its thread and opens the file there
    return connection
