"""learned culling profiles; photos carry what the profile did to their score

Revision ID: 0009_profile
Revises: 0005_decisions
Create Date: 2026-11-29 09:50:00

Adds the `culling_profiles` table, `photos.learned` and `photos.rated_at`, and the
`train_profile` job kind (the jobs table is rebuilt so its CHECK on `kind` admits it).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_profile"
down_revision = "0005_decisions"
branch_labels = None
depends_on = None


def _kinds(*names: str) -> sa.Enum:
    return sa.Enum(*names, name="job_kind", native_enum=False, create_constraint=True, length=24)


OLD_KINDS = ("analyze", "export")
NEW_KINDS = (*OLD_KINDS, "train_profile")


def upgrade() -> None:
    op.create_table(
        "culling_profiles",
        sa.Column("photographer", sa.String(length=64), nullable=False),
        sa.Column("profiles", sa.JSON(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("examples", sa.Integer(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("since", sa.DateTime(), nullable=True),
        sa.Column("trained_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("photographer"),
    )
    op.add_column("photos", sa.Column("learned", sa.JSON(), nullable=True))
    op.add_column("photos", sa.Column("rated_at", sa.DateTime(), nullable=True))
    with op.batch_alter_table("jobs", recreate="always") as batch:
        batch.alter_column("kind", existing_type=_kinds(*OLD_KINDS), type_=_kinds(*NEW_KINDS))


def downgrade() -> None:
    op.execute("DELETE FROM jobs WHERE kind = 'train_profile'")
    with op.batch_alter_table("jobs", recreate="always") as batch:
        batch.alter_column("kind", existing_type=_kinds(*NEW_KINDS), type_=_kinds(*OLD_KINDS))
    with op.batch_alter_table("photos") as batch:
        batch.drop_column("rated_at")
        batch.drop_column("learned")
    op.drop_table("culling_profiles")
