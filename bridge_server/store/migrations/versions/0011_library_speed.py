"""the approval queue walks an index in the whole-shoot query's score order; session counts
from a covering index

Revision ID: 0011_library_speed
Revises: 0008_studio
Create Date: 2026-11-29 13:00:00

The approval queue is the whole-shoot query (services.library) with the queue's filter in score
order, paged by its keyset cursor: these expression indexes lead with the queue's equalities
(`queries.queue_filter`), whole library and per session, then the score order's keys exactly as
`library._sort_keys` writes them, so a page is read in order from its cursor (no sort, no rows
skipped); they are not reflected by SQLAlchemy, so they live here only. A covering index
answers a session-list page's counts.
"""

from __future__ import annotations

from alembic import op

revision = "0011_library_speed"
down_revision = "0008_studio"
branch_labels = None
depends_on = None

SCORE_ORDER = (
    "(ai_score IS NULL)",
    "(-coalesce(ai_score, 0.0))",
    "(captured_at IS NULL)",
    "coalesce(captured_at, imported_at)",
    "file_name",
    "id",
)
QUEUE = ("selection", "approval", "status")
EXPRESSIONS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("ix_photos_queue_score", "photos", (*QUEUE, *SCORE_ORDER)),
    ("ix_photos_session_queue_score", "photos", ("session_id", *QUEUE, *SCORE_ORDER)),
)
# Every column of `queries._count_columns`: a session-list page counts its sessions' photos
# from this index alone, never reading a photo row (declared in the model too).
COUNTS = ("ix_photos_session_counts", "photos",
          ("session_id", "status", "selection", "approval", "captured_at"))  # fmt: skip
INDEXES = (*(name for name, _table, _columns in EXPRESSIONS), COUNTS[0])


def upgrade() -> None:
    for name, table, columns in EXPRESSIONS:
        op.execute(f"CREATE INDEX {name} ON {table} ({', '.join(columns)})")
    op.create_index(COUNTS[0], COUNTS[1], list(COUNTS[2]), unique=False)


def downgrade() -> None:
    op.drop_index(COUNTS[0], table_name=COUNTS[1])
    for name, _table, _columns in EXPRESSIONS:
        op.execute(f"DROP INDEX IF EXISTS {name}")
