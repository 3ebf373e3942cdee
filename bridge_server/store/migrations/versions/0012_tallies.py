"""maintained counts: photo and job tallies written by triggers, so no screen counts 100,000 rows

Revision ID: 0012_tallies
Revises: 0011_library_speed
Create Date: 2026-11-29 16:00:00

Every insert, delete and counted change of a photo or a job adds one row of deltas to
`photo_tallies` (per session: total, processed, waiting, approved, rejected) or `job_tallies`
(per status), from a trigger in the same transaction as the change, so a count read in any
transaction agrees with the rows it sees. Rows are only added, never updated: concurrent
writers (studio bridges and workers on PostgreSQL) never wait on a shared counter row.
`store.tallies` sums them and folds old rows together in the background.

The conditions are the session counts' and `queries.queue_filter`'s, written in SQL; a test
compares the tallies with a direct count after real work on both databases. The covering
index that counted a session-list page goes; a session's first capture is one seek of
`ix_photos_session_first`. A partial index holds the few photos whose decisions are not in
their files yet, so start-up's catch-up no longer reads every photo to find them.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012_tallies"
down_revision = "0011_library_speed"
branch_labels = None
depends_on = None

# The counted facts of a photo row `{r}` (OLD or NEW): queries._count_columns.
PHOTO_FACTS: dict[str, str] = {
    "total": "1 = 1",
    "processed": "{r}.status IN ('analyzed', 'failed')",
    "waiting": "{r}.status = 'analyzed' AND {r}.selection = 'keeper' AND {r}.approval = 'pending'",
    "approved": "{r}.approval = 'approved'",
    "rejected": "{r}.approval = 'rejected'",
}
JOB_FACTS: dict[str, str] = {
    status: f"{{r}}.status = '{status}'"
    for status in ("pending", "running", "completed", "failed", "cancelled")
}
DROPPED_INDEX = ("ix_photos_session_counts", "photos",
                 ("session_id", "status", "selection", "approval", "captured_at"))  # fmt: skip
FIRST_CAPTURE_INDEX = ("ix_photos_session_first", "photos", ("session_id", "captured_at"))
# Start-up's scan for decisions a crash left out of their files reads only these photos.
UNSYNCED_INDEX = ("ix_photos_unsynced", "photos", "id", "metadata_rev != metadata_synced_rev")


def _flag(condition: str, ref: str, sign: str = "") -> str:
    """1 (or -1) where the condition holds for the row `ref`, else 0 (portable SQL)."""
    return f"{sign}(CASE WHEN {condition.format(r=ref)} THEN 1 ELSE 0 END)"


def _insert(table: str, facts: dict[str, str], ref: str, sign: str, keyed: bool) -> str:
    """INSERT of one delta row for the row `ref`, counted with `sign`."""
    columns = (["session_id"] if keyed else []) + list(facts)
    values = ([f"{ref}.session_id"] if keyed else []) + [
        _flag(cond, ref, sign) for cond in facts.values()
    ]
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join(values)})"


def _changed(facts: dict[str, str], keyed: bool, distinct: str) -> str:
    """SQL: an UPDATE changed something counted (no delta rows for the other updates)."""
    differs = [f"{_flag(c, 'OLD')} <> {_flag(c, 'NEW')}" for c in facts.values()]
    if keyed:
        differs.insert(0, f"OLD.session_id {distinct} NEW.session_id")
    return " OR ".join(differs)


# (table counted, tally table, facts, keyed by session, columns whose update may count)
TALLIES = (
    ("photos", "photo_tallies", PHOTO_FACTS, True, "session_id, status, selection, approval"),
    ("jobs", "job_tallies", JOB_FACTS, False, "status"),
)


def _create_tables() -> None:
    op.create_table(
        "photo_tallies",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("session_id", sa.String(length=32), nullable=False),
        *(sa.Column(name, sa.Integer(), nullable=False) for name in PHOTO_FACTS),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_photo_tallies_session", "photo_tallies", ["session_id"], unique=False)
    op.create_table(
        "job_tallies",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        *(sa.Column(name, sa.Integer(), nullable=False) for name in JOB_FACTS),
        sa.PrimaryKeyConstraint("id"),
    )


def _sqlite_triggers() -> None:
    for table, tally, facts, keyed, columns in TALLIES:
        added = _insert(tally, facts, "NEW", "", keyed)
        removed = _insert(tally, facts, "OLD", "-", keyed)
        op.execute(
            f"CREATE TRIGGER tally_{table}_insert AFTER INSERT ON {table} BEGIN {added}; END"
        )
        op.execute(
            f"CREATE TRIGGER tally_{table}_delete AFTER DELETE ON {table} BEGIN {removed}; END"
        )
        op.execute(
            f"CREATE TRIGGER tally_{table}_update AFTER UPDATE OF {columns} ON {table} "
            f"WHEN {_changed(facts, keyed, 'IS NOT')} BEGIN {removed}; {added}; END"
        )


def _postgresql_triggers() -> None:
    for table, tally, facts, keyed, columns in TALLIES:
        op.execute(
            f"CREATE FUNCTION tally_{table}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            f"IF TG_OP <> 'INSERT' THEN {_insert(tally, facts, 'OLD', '-', keyed)}; END IF; "
            f"IF TG_OP <> 'DELETE' THEN {_insert(tally, facts, 'NEW', '', keyed)}; END IF; "
            "RETURN NULL; END $$"
        )
        op.execute(
            f"CREATE TRIGGER tally_{table}_insert_delete AFTER INSERT OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION tally_{table}()"
        )
        op.execute(
            f"CREATE TRIGGER tally_{table}_update AFTER UPDATE OF {columns} ON {table} "
            f"FOR EACH ROW WHEN ({_changed(facts, keyed, 'IS DISTINCT FROM')}) "
            f"EXECUTE FUNCTION tally_{table}()"
        )


def _count_what_is_there() -> None:
    """One row per session (and one for the jobs) with the counts of the rows already there."""
    sums = ", ".join(f"SUM({_flag(c, 'photos')})" for c in PHOTO_FACTS.values())
    op.execute(
        f"INSERT INTO photo_tallies (session_id, {', '.join(PHOTO_FACTS)}) "
        f"SELECT session_id, {sums} FROM photos GROUP BY session_id"
    )
    sums = ", ".join(f"SUM({_flag(c, 'jobs')})" for c in JOB_FACTS.values())
    op.execute(
        f"INSERT INTO job_tallies ({', '.join(JOB_FACTS)}) "
        f"SELECT {sums} FROM jobs HAVING COUNT(*) > 0"
    )


def upgrade() -> None:
    _create_tables()
    # Triggers first, then the count, in one transaction: no change is missed or counted twice.
    if op.get_bind().dialect.name == "postgresql":
        _postgresql_triggers()
    else:
        _sqlite_triggers()
    _count_what_is_there()
    name, table, columns = FIRST_CAPTURE_INDEX
    op.create_index(name, table, list(columns), unique=False)
    op.drop_index(DROPPED_INDEX[0], table_name=DROPPED_INDEX[1])
    name, table, column, where = UNSYNCED_INDEX
    op.create_index(
        name, table, [column], sqlite_where=sa.text(where), postgresql_where=sa.text(where)
    )


def downgrade() -> None:
    op.drop_index(UNSYNCED_INDEX[0], table_name=UNSYNCED_INDEX[1])
    name, table, columns = DROPPED_INDEX
    op.create_index(name, table, list(columns), unique=False)
    op.drop_index(FIRST_CAPTURE_INDEX[0], table_name=FIRST_CAPTURE_INDEX[1])
    postgresql = op.get_bind().dialect.name == "postgresql"
    for table, _tally, _facts, _keyed, _columns in TALLIES:
        if postgresql:
            op.execute(f"DROP TRIGGER tally_{table}_insert_delete ON {table}")
            op.execute(f"DROP TRIGGER tally_{table}_update ON {table}")
            op.execute(f"DROP FUNCTION tally_{table}()")
        else:
            for when in ("insert", "delete", "update"):
                op.execute(f"DROP TRIGGER tally_{table}_{when}")
    op.drop_table("job_tallies")
    op.drop_index("ix_photo_tallies_session", table_name="photo_tallies")
    op.drop_table("photo_tallies")
