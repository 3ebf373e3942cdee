"""photos carry their rank within their scene

Revision ID: 0004_scene_rank
Revises: 0003_device_roles
Create Date: 2026-11-29 07:30:00

Selection fills both columns on its next run over a session; until then they are NULL, which
readers show as "not ranked yet".
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_scene_rank"
down_revision = "0003_device_roles"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("photos", sa.Column("group_rank", sa.Integer(), nullable=True))
    op.add_column("photos", sa.Column("group_size", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("photos") as batch:
        batch.drop_column("group_size")
        batch.drop_column("group_rank")
