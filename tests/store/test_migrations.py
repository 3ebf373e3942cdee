"""The migrations build exactly the schema the models describe, and step down and up again."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Column, create_engine, inspect

from bridge_server.store.db import Database, alembic_config
from bridge_server.store.models import Base

TABLES = ("photos", "jobs", "exports")


def test_migrations_match_the_models_and_downgrade_cleanly(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'schema.sqlite3'}"
    cfg = alembic_config(url)
    command.upgrade(cfg, "head")
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"render_as_batch": True})
            diff = compare_metadata(context, Base.metadata)
            assert diff == [], diff
            # One chain, no second head, and 0002_file_intents in it.
            heads = ScriptDirectory.from_config(cfg).get_heads()
            assert len(heads) == 1 and context.get_current_revision() == heads[0]
            chain = [r.revision for r in ScriptDirectory.from_config(cfg).walk_revisions()]
            assert "0002_file_intents" in chain
        command.downgrade(cfg, "0001")
        with engine.connect() as conn:
            assert "file_intents" not in inspect(conn).get_table_names()
        command.upgrade(cfg, "head")
        with engine.connect() as conn:
            columns = {c["name"] for c in inspect(conn).get_columns("exports")}
            assert "content_hash" in columns
    finally:
        engine.dispose()


async def test_upgrading_a_library_keeps_its_jobs_and_exports(tmp_path: Path) -> None:
    # Migrations that rebuild `photos` (batch mode) must not cascade-delete what refers to it.
    path = tmp_path / "library.sqlite3"
    command.upgrade(alembic_config(f"sqlite:///{path}"), "0004_scene_rank")
    with sqlite3.connect(path) as conn:
        conn.execute(
            "INSERT INTO sessions (id, name, status, created_at) "
            "VALUES ('s_1', 'Shoot', 'active', '2026-01-01')"
        )
        conn.execute(
            "INSERT INTO photos (id, session_id, file_name, file_path, original_path, "
            "content_hash, file_size, exif, status, is_group_best, selection, approval, "
            "imported_at) VALUES ('p_1', 's_1', 'a.jpg', '/a.jpg', '/a.jpg', 'h', 1, '{}', "
            "'analyzed', 0, 'keeper', 'approved', '2026-01-01')"
        )
        conn.execute(
            "INSERT INTO jobs (id, kind, photo_id, priority, status, progress, stage, params, "
            "retry_count, created_at) VALUES ('j_1', 'export', 'p_1', 2, 'completed', 100, "
            "'done', '{}', 0, '2026-01-01')"
        )
        conn.execute(
            "INSERT INTO exports (photo_id, preset_name, status, created_at) "
            "VALUES ('p_1', 'Archive', 'completed', '2026-01-01')"
        )
    db = Database(path)  # the app's own engine: foreign keys on for every connection
    try:
        await db.migrate()
    finally:
        await db.close()
    with sqlite3.connect(path) as conn:
        counts = [conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES]
    assert dict(zip(TABLES, counts, strict=True)) == {"photos": 1, "jobs": 1, "exports": 1}


def _expression_only(diff: Any) -> bool:
    """An expression index (`lower(name)`, `coalesce(...)`) created by a migration only: SQLite
    does not reflect those, so the models need not declare them; PostgreSQL does."""
    if not isinstance(diff, tuple) or diff[0] != "remove_index":
        return False
    return any(not isinstance(e, Column) for e in diff[1].expressions)


async def test_the_whole_chain_runs_on_postgresql_and_matches_the_models(postgres_url: str):
    """Studio mode: every migration (every branch's too, once merged) runs on PostgreSQL."""
    from bridge_server.store.db import Database

    db = Database(Path("unused"), postgres_url)
    try:
        await db.migrate()

        def check(conn: Any) -> None:
            context = MigrationContext.configure(conn)
            diff = [d for d in compare_metadata(context, Base.metadata) if not _expression_only(d)]
            assert diff == [], diff
            cfg = alembic_config()
            assert (
                context.get_current_revision()
                == ScriptDirectory.from_config(cfg).get_current_head()
            )

        def step(conn: Any, target: str, up: bool) -> None:
            cfg = alembic_config()
            cfg.attributes["connection"] = conn
            (command.upgrade if up else command.downgrade)(cfg, target)

        async with db.engine.begin() as conn:
            await conn.run_sync(check)
            await conn.run_sync(step, "base", False)
            tables = await conn.run_sync(lambda c: inspect(c).get_table_names())
            assert set(tables) <= {"alembic_version"}, tables
            await conn.run_sync(step, "head", True)
            await conn.run_sync(check)
    finally:
        await db.close()
