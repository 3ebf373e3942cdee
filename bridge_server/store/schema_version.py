"""Whether a store is already at the newest migration, so a start can skip Alembic's upgrade
(on SQLite it ends in a foreign-key check of every row: seconds on a 100,000-photo library)."""

from __future__ import annotations

import asyncio
from functools import lru_cache

from alembic.script import ScriptDirectory
from sqlalchemy.exc import DBAPIError

from .db import Database, alembic_config


@lru_cache(maxsize=1)
def newest_revisions() -> frozenset[str]:
    """The head revisions of the packaged migrations (reads their files: call in a thread)."""
    return frozenset(ScriptDirectory.from_config(alembic_config()).get_heads())


async def at_newest_revision(db: Database) -> bool:
    """True if the store's schema is stamped with exactly the packaged head revisions."""
    heads = await asyncio.to_thread(newest_revisions)
    try:
        async with db.engine.connect() as conn:
            result = await conn.exec_driver_sql("SELECT version_num FROM alembic_version")
            stamped = frozenset(str(v) for v in result.scalars().all())
    except DBAPIError:  # a new store: no version table yet
        return False
    return stamped == heads
