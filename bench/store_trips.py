"""What a session of the embedded store costs: SQLAlchemy's stock aiosqlite adapter against the
bridge's one-trip driver (`bridge_server/store/sqlite_driver.py`), in the same run.

Both engines open the same SQLite file (WAL, the bridge's pragmas) and run the same sessions,
alternating rounds so the machine's load falls on both alike:

* a read session of one trivial statement (`SELECT 1`): what every read pays before any work;
* a read session of one 50-row page by an index, from a 20,000-row table;
* a read session of three statements (a count, a page, a lookup), as a REST page makes;
* a write session: an `INSERT`, an `UPDATE … RETURNING` and the commit.

For each it prints the wall time per session (p50 / p99, ms), the event loop's CPU per session
and the trips to the connection's thread (counted by the bridge's driver; the stock adapter's
are four per statement and one per commit or rollback, by its code).

Usage (from the repo root): .venv/bin/python bench/store_trips.py [--sessions 400]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

try:
    from bench import _common
except ImportError:  # run as `python bench/store_trips.py`
    import _common  # type: ignore[no-redef]

from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine

from bridge_server.store import db as store_db

ROWS = 20_000
PAGE = 50

Session = Callable[[async_sessionmaker[Any]], Awaitable[None]]


async def _trivial(sessions: async_sessionmaker[Any]) -> None:
    async with sessions() as s:
        (await s.execute(text("SELECT 1"))).all()


async def _page(sessions: async_sessionmaker[Any]) -> None:
    async with sessions() as s:
        (await s.execute(text(f"SELECT * FROM items WHERE grp = 7 ORDER BY k LIMIT {PAGE}"))).all()


async def _three(sessions: async_sessionmaker[Any]) -> None:
    async with sessions() as s:
        (await s.execute(text("SELECT count(*) FROM items WHERE grp = 7"))).all()
        (await s.execute(text(f"SELECT * FROM items WHERE grp = 7 ORDER BY k LIMIT {PAGE}"))).all()
        (await s.execute(text("SELECT * FROM items WHERE id = 1234"))).all()


async def _write(sessions: async_sessionmaker[Any]) -> None:
    async with sessions() as s:
        await s.execute(text("INSERT INTO log (note) VALUES ('x')"))
        await s.execute(text("UPDATE items SET k = k + 1 WHERE id = 99 RETURNING k"))
        await s.commit()


CASES: dict[str, Session] = {
    "read: one trivial statement": _trivial,
    "read: one 50-row page": _page,
    "read: count, page and lookup": _three,
    "write: insert, update, commit": _write,
}
STOCK_TRIPS = {  # by the adapter's code: 4 a statement, 1 a commit or rollback
    "read: one trivial statement": 5,
    "read: one 50-row page": 5,
    "read: count, page and lookup": 13,
    "write: insert, update, commit": 9,
}


def _fill(path: Path) -> None:
    import sqlite3

    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("CREATE TABLE items (id INTEGER PRIMARY KEY, grp INT, k INT, name TEXT)")
        conn.execute("CREATE INDEX ix_items_grp_k ON items (grp, k)")
        conn.execute("CREATE TABLE log (id INTEGER PRIMARY KEY, note TEXT)")
        conn.executemany(
            "INSERT INTO items (grp, k, name) VALUES (?, ?, ?)",
            ((i % 40, i, f"photo_{i:06d}.jpg") for i in range(ROWS)),
        )


def _stock_engine(path: Path) -> AsyncEngine:
    engine = create_async_engine(f"sqlite+aiosqlite:///{path}")
    event.listen(engine.sync_engine, "connect", store_db._set_pragmas)
    return engine


async def _time(
    case: Session, sessions: async_sessionmaker[Any], n: int
) -> tuple[list[float], float]:
    walls = []
    cpu0 = time.thread_time()
    for _ in range(n):
        t0 = time.perf_counter()
        await case(sessions)
        walls.append((time.perf_counter() - t0) * 1000)
    return walls, (time.thread_time() - cpu0) / n * 1000


async def _trips(database: store_db.Database, case: Session) -> int:
    async with database.session() as s:
        raw = await (await s.connection()).get_raw_connection()
        counter = raw.driver_connection.trips
    before = counter.started
    await case(database.sessions)
    return int(counter.started - before)


async def run(sessions_per_round: int, rounds: int) -> int:
    print(_common.machine_line())
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "trips.sqlite3"
        _fill(path)
        stock = _stock_engine(path)
        stock_sessions = async_sessionmaker(stock, expire_on_commit=False)
        ours = store_db.Database(path)
        results: dict[str, dict[str, list[float]]] = {}
        try:
            for case in CASES.values():  # warm both pools and statement caches
                for _ in range(20):
                    await case(stock_sessions)
                    await case(ours.sessions)
            for name, case in CASES.items():
                got = results.setdefault(
                    name, {"stock": [], "ours": [], "stock_cpu": [], "ours_cpu": []}
                )
                for _ in range(rounds):
                    walls, cpu = await _time(case, stock_sessions, sessions_per_round)
                    got["stock"] += walls
                    got["stock_cpu"].append(cpu)
                    walls, cpu = await _time(case, ours.sessions, sessions_per_round)
                    got["ours"] += walls
                    got["ours_cpu"].append(cpu)
            trips = {name: await _trips(ours, case) for name, case in CASES.items()}
        finally:
            await stock.dispose()
            await ours.close()
    rows = []
    for name, got in results.items():
        stock_ms, ours_ms = sorted(got["stock"]), sorted(got["ours"])
        s50, o50 = _common.percentile(stock_ms, 50), _common.percentile(ours_ms, 50)
        s99, o99 = _common.percentile(stock_ms, 99), _common.percentile(ours_ms, 99)
        scpu = sorted(got["stock_cpu"])[len(got["stock_cpu"]) // 2]
        ocpu = sorted(got["ours_cpu"])[len(got["ours_cpu"]) // 2]
        rows.append(
            [
                name,
                f"{s50:.2f} / {s99:.2f}",
                f"{o50:.2f} / {o99:.2f}",
                f"{o50 / s50:.2f}x",
                f"{scpu:.2f} / {ocpu:.2f}",
                f"{STOCK_TRIPS[name]} / {trips[name]}",
            ]
        )
    print(
        _common.table(
            [
                "session",
                "stock adapter p50 / p99 (ms)",
                "bridge driver p50 / p99 (ms)",
                "p50 ratio",
                "loop CPU per session, stock / bridge (ms)",
                "trips, stock / bridge",
            ],
            rows,
        )
    )
    print(f"({rounds} alternated rounds of {sessions_per_round} sessions per engine and case)")
    print(_common.machine_line())
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--sessions", type=int, default=100, help="sessions per round and engine")
    parser.add_argument("--rounds", type=int, default=4, help="alternated rounds per case")
    args = parser.parse_args(argv)
    return asyncio.run(run(args.sessions, args.rounds))


if __name__ == "__main__":
    sys.exit(main())
