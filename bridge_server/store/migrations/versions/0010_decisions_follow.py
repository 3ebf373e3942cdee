"""decisions reach the files; empty sessions; reselection jobs

Revision ID: 0010_decisions_follow
Revises: 0007_library_indexes
Create Date: 2026-11-29 11:20:00

`metadata_rev` counts a photo's decision changes and `metadata_synced_rev` what sidecars and
exported XMP hold (a difference left by a crash is written at start-up). A session whose import
ended without photos is `empty`, never "in progress" for ever (existing ones become so). A
`reselect` job runs selection again when its settings change.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_decisions_follow"
down_revision = "0007_library_indexes"
branch_labels = None
depends_on = None


def _text_enum(name: str, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=24)


_SESSION_OLD = _text_enum("session_status", "active", "completed")
_SESSION_NEW = _text_enum("session_status", "active", "completed", "empty")
_JOB_KIND_OLD = _text_enum("job_kind", "analyze", "export", "train_profile")
_JOB_KIND_NEW = _text_enum("job_kind", "analyze", "export", "train_profile", "reselect")


def _change_enum(table: str, column: str, old: sa.Enum, new: sa.Enum) -> None:
    """Widen or narrow a text enum's CHECK constraint.

    SQLite can only rebuild the table. PostgreSQL cannot drop a table other tables reference
    (sessions is referenced by photos), and needs no rebuild: the constraint is swapped in place.
    """
    if op.get_bind().dialect.name == "sqlite":
        with op.batch_alter_table(table, recreate="always") as batch:
            batch.alter_column(column, existing_type=old, type_=new)
        return
    assert new.name is not None
    values = ", ".join(f"'{v}'" for v in new.enums)
    op.drop_constraint(new.name, table, type_="check")
    op.create_check_constraint(new.name, table, f"{column} IN ({values})")


def upgrade() -> None:
    op.add_column(
        "photos", sa.Column("metadata_rev", sa.Integer(), nullable=False, server_default="0")
    )
    op.add_column(
        "photos",
        sa.Column("metadata_synced_rev", sa.Integer(), nullable=False, server_default="0"),
    )
    _change_enum("sessions", "status", _SESSION_OLD, _SESSION_NEW)
    op.execute(
        "UPDATE sessions SET status = 'empty' WHERE status = 'active' "
        "AND NOT EXISTS (SELECT 1 FROM photos WHERE photos.session_id = sessions.id)"
    )
    _change_enum("jobs", "kind", _JOB_KIND_OLD, _JOB_KIND_NEW)


def downgrade() -> None:
    op.execute("DELETE FROM jobs WHERE kind = 'reselect'")
    _change_enum("jobs", "kind", _JOB_KIND_NEW, _JOB_KIND_OLD)
    op.execute("UPDATE sessions SET status = 'active' WHERE status = 'empty'")
    _change_enum("sessions", "status", _SESSION_NEW, _SESSION_OLD)
    with op.batch_alter_table("photos") as batch:
        batch.drop_column("metadata_synced_rev")
        batch.drop_column("metadata_rev")
