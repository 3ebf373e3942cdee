"""indexes for a 100,000-photo library: every page walks an index in its own order

Revision ID: 0007_library_indexes
Revises: 0009_profile
Create Date: 2026-11-29 10:00:00

Each index serves one hot query (bench/library.py times them; tests/store/test_query_plans.py
checks their plans): the approval queue in score order, per library and per session (the latter
also covers a session's counts), the whole-shoot query (the grid) in capture order per session
and in both its orders for the whole library (expression indexes), and the jobs list in
priority order. The two older photo indexes are prefixes of the
new ones and go.
"""

from __future__ import annotations

from alembic import op

revision = "0007_library_indexes"
down_revision = "0009_profile"
branch_labels = None
depends_on = None

Spec = tuple[str, str, tuple[str, ...]]  # (name, table, columns)

CREATED: tuple[Spec, ...] = (
    ("ix_photos_queue_order", "photos", ("selection", "approval", "status", "ai_score")),
    ("ix_photos_session_queue", "photos", ("session_id", "selection", "approval", "status",
                                           "ai_score")),
    ("ix_jobs_order", "jobs", ("priority", "created_at", "id")),
)  # fmt: skip
# The whole-shoot query's two orders (services.library._sort_keys, written without bound
# parameters so that SQLite matches these expressions). Expression indexes are not reflected
# by SQLAlchemy, so they live here only, not in the models.
EXPRESSIONS: tuple[Spec, ...] = (
    ("ix_photos_session_captured", "photos", ("session_id", "(captured_at IS NULL)",
     "coalesce(captured_at, imported_at)", "file_name", "id")),
    ("ix_photos_library_captured", "photos", ("(captured_at IS NULL)",
     "coalesce(captured_at, imported_at)", "file_name", "id")),
    ("ix_photos_library_score", "photos", ("(ai_score IS NULL)", "(-coalesce(ai_score, 0.0))",
     "(captured_at IS NULL)", "coalesce(captured_at, imported_at)", "file_name", "id")),
)  # fmt: skip
# Indexes this migration replaces: (name, table, columns), restored by the downgrade.
REPLACED = (
    ("ix_photos_queue", "photos", "selection, approval, status"),
    ("ix_photos_session", "photos", "session_id"),
)
INDEXES = tuple(name for name, _table, _columns in CREATED + EXPRESSIONS)


def upgrade() -> None:
    for name, table, columns in CREATED:
        op.create_index(name, table, list(columns), unique=False)
    for name, table, columns in EXPRESSIONS:
        op.execute(f"CREATE INDEX {name} ON {table} ({', '.join(columns)})")
    for name, table, _columns in REPLACED:
        op.drop_index(name, table_name=table)


def downgrade() -> None:
    for name, table, columns in REPLACED:
        op.create_index(name, table, [c.strip() for c in columns.split(",")], unique=False)
    for name, _table, _columns in EXPRESSIONS:
        op.execute(f"DROP INDEX IF EXISTS {name}")
    for name, table, _columns in reversed(CREATED):
        op.drop_index(name, table_name=table)
