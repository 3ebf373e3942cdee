"""photos carry the photographer's stars, colour label and keywords

Revision ID: 0005_decisions
Revises: 0004_scene_rank
Create Date: 2026-11-29 09:40:00

The flag stays `approval` (pending = unflagged, approved = pick, rejected = reject). Existing
photos start with no stars, no label and no keywords; `export_preset` is the photographer's
choice of preset (NULL: selection's proposal, `selected_preset`, applies); `metadata_rev` and
`metadata_synced_rev` tell which decisions are not yet written to sidecars and exported XMP.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_decisions"
down_revision = "0004_scene_rank"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Server defaults fill existing rows without a table copy; the CHECKs need the batch copy.
    with op.batch_alter_table("photos") as batch:
        batch.add_column(sa.Column("stars", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("color_label", sa.String(length=8), nullable=True))
        batch.add_column(sa.Column("keywords", sa.JSON(), nullable=False, server_default="[]"))
        batch.add_column(sa.Column("export_preset", sa.String(length=100), nullable=True))
        batch.add_column(
            sa.Column("metadata_rev", sa.Integer(), nullable=False, server_default="0")
        )
        batch.add_column(
            sa.Column("metadata_synced_rev", sa.Integer(), nullable=False, server_default="0")
        )
        batch.create_check_constraint("ck_stars", "stars >= 0 AND stars <= 5")
        batch.create_check_constraint(
            "ck_color_label",
            "color_label IS NULL OR color_label IN ('red', 'yellow', 'green', 'blue', 'purple')",
        )

    # An export whose pick is taken back is removed (withdrawing -> withdrawn, or kept when the
    # file changed since); the removal's intent names its export.
    with op.batch_alter_table("exports") as batch:
        batch.alter_column("status", existing_type=_EXPORT_STATUS_OLD, type_=_EXPORT_STATUS_NEW)
    op.add_column("file_intents", sa.Column("export_id", sa.Integer(), nullable=True))


def _export_status(*values: str) -> sa.Enum:
    return sa.Enum(
        *values, name="export_status", native_enum=False, create_constraint=True, length=24
    )


_EXPORT_STATUS_OLD = _export_status("pending", "completed", "failed")
_EXPORT_STATUS_NEW = _export_status(
    "pending", "completed", "failed", "withdrawing", "withdrawn", "kept"
)


def downgrade() -> None:
    op.execute("DELETE FROM file_intents WHERE mode = 'unexport'")
    with op.batch_alter_table("file_intents") as batch:
        batch.drop_column("export_id")
    op.execute(
        "UPDATE exports SET status = 'failed', output_path = NULL, "
        "error = 'Withdrawn after its pick was taken back' "
        "WHERE status IN ('withdrawing', 'withdrawn', 'kept')"
    )
    with op.batch_alter_table("exports") as batch:
        batch.alter_column("status", existing_type=_EXPORT_STATUS_NEW, type_=_EXPORT_STATUS_OLD)
    with op.batch_alter_table("photos") as batch:
        batch.drop_constraint("ck_color_label", type_="check")
        batch.drop_constraint("ck_stars", type_="check")
        batch.drop_column("metadata_synced_rev")
        batch.drop_column("metadata_rev")
        batch.drop_column("export_preset")
        batch.drop_column("keywords")
        batch.drop_column("color_label")
        batch.drop_column("stars")
