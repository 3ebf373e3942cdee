"""file intents; export claims unique by path, with the content hash

Revision ID: 0002_file_intents
Revises: 0001
Create Date: 2026-11-29 07:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_file_intents"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "file_intents",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("mode", sa.String(length=8), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("staging", sa.Text(), nullable=False),
        sa.Column("target", sa.Text(), nullable=True),
        sa.Column("photo_id", sa.String(length=32), nullable=False),
        sa.Column("session_id", sa.String(length=32), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("file_size", sa.Integer(), nullable=False),
        sa.Column("exif", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.add_column("exports", sa.Column("content_hash", sa.String(length=64), nullable=True))
    # Before this revision two rows could claim one path. An unfinished claim gives way; of
    # finished ones the first keeps the file and the others are marked failed, to export again.
    op.execute(
        "UPDATE exports SET output_path = NULL WHERE status != 'completed' AND output_path IN "
        "(SELECT output_path FROM exports GROUP BY output_path HAVING COUNT(*) > 1)"
    )
    op.execute(
        "UPDATE exports SET output_path = NULL, status = 'failed', "
        "error = 'Claimed the same file as another export; export it again' "
        "WHERE output_path IS NOT NULL AND id NOT IN "
        "(SELECT MIN(id) FROM exports WHERE output_path IS NOT NULL GROUP BY output_path)"
    )
    op.create_index("uq_exports_output_path", "exports", ["output_path"], unique=True)


def downgrade() -> None:
    op.drop_index("uq_exports_output_path", table_name="exports")
    with op.batch_alter_table("exports") as batch_op:
        batch_op.drop_column("content_hash")
    op.drop_table("file_intents")
