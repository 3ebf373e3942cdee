"""The migrations build exactly the schema the models describe, and step down and up again."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect

from bridge_server.store.db import alembic_config
from bridge_server.store.models import Base


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
