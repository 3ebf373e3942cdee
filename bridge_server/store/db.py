"""The async engine (SQLite in WAL mode, or PostgreSQL in studio mode) and schema migration."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from importlib import resources
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import event, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from . import sqlite_driver

log = logging.getLogger(__name__)

# Found through importlib.resources, so an installed wheel or a bundle runs its own copy.
MIGRATIONS_DIR = Path(str(resources.files("bridge_server.store.migrations")))


def alembic_config(url: str | None = None) -> Config:
    """An Alembic config pointing at the packaged migrations."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url:
        cfg.set_main_option("sqlalchemy.url", url)
    return cfg


# A writer waits for another's commit rather than fail: under load a transaction that spans a few
# awaits can hold the lock for seconds, and a failed write is work to redo.
BUSY_TIMEOUT_MS = 30_000


def _set_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cur.close()


def async_url(url: str) -> str:
    """A PostgreSQL URL with the asyncpg driver (`postgresql://…` is accepted as written)."""
    for plain in ("postgresql://", "postgres://"):
        if url.startswith(plain):
            return "postgresql+asyncpg://" + url[len(plain) :]
    return url


class Database:
    """Owns the async engine and hands out sessions."""

    def __init__(self, path: Path, url: str = "") -> None:
        self.path = path
        if url:
            # Studio mode: one shared PostgreSQL; the local file is not used.
            self.engine: AsyncEngine = create_async_engine(
                async_url(url), pool_size=10, max_overflow=10, pool_pre_ping=True
            )
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            self.engine = create_async_engine(
                f"sqlite+aiosqlite:///{path}", async_creator=lambda: sqlite_driver.connect(path)
            )
            event.listen(self.engine.sync_engine, "connect", _set_pragmas)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)

    @property
    def shared(self) -> bool:
        """True on PostgreSQL (several machines may write), False on the embedded SQLite file."""
        return self.engine.dialect.name == "postgresql"

    async def migrate(self) -> None:
        """Bring the schema to the newest migration."""

        def upgrade(sync_conn: Connection) -> None:
            cfg = alembic_config()
            cfg.attributes["connection"] = sync_conn
            command.upgrade(cfg, "head")

        if self.shared:
            async with self.engine.begin() as conn:
                # Two machines starting at once must not both run a migration.
                await conn.exec_driver_sql("SELECT pg_advisory_xact_lock(5100)")
                await conn.run_sync(upgrade)
            return
        async with self.engine.connect() as conn:
            # A batch migration rebuilds a table (copy, drop, rename): with foreign keys on,
            # dropping the old `photos` would cascade-delete every job and export. SQLite
            # ignores this pragma inside a transaction, so it is set before one begins.
            await conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
            await conn.commit()
            try:
                async with conn.begin():
                    await conn.run_sync(upgrade)
                    broken = (await conn.exec_driver_sql("PRAGMA foreign_key_check")).all()
                    if broken:
                        raise RuntimeError(f"Migration left rows without a parent: {broken[:5]}")
            finally:
                await conn.exec_driver_sql("PRAGMA foreign_keys=ON")
                await conn.commit()

    def session(self) -> AsyncSession:
        """A new ORM session (use as `async with db.session() as s`)."""
        return self.sessions()

    @contextlib.asynccontextmanager
    async def snapshot(self) -> AsyncIterator[AsyncSession]:
        """A read-only session whose statements all see one snapshot of the database.

        A page read in two statements (running jobs, then the rest) would otherwise show a job
        that finished in between twice, or one that started in between not at all.
        """
        async with self.sessions() as s:
            if self.shared:
                await s.connection(execution_options={"isolation_level": "REPEATABLE READ"})
            else:
                # pysqlite begins no transaction before a SELECT; in WAL mode a deferred one
                # keeps the snapshot of its first read until it ends (rolled back on close).
                await s.execute(text("BEGIN"))
            yield s

    async def close(self) -> None:
        """Dispose of the engine, closing every connection."""
        await self.engine.dispose()
