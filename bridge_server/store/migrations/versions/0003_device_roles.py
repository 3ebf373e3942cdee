"""devices carry a role

Revision ID: 0003_device_roles
Revises: 0002_file_intents
Create Date: 2026-11-29 06:40:00

Existing devices were all the photographer's own phones, so they become `approver`.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_device_roles"
down_revision = "0002_file_intents"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A server default fills existing rows on SQLite and PostgreSQL alike, without a table copy.
    op.add_column(
        "devices",
        sa.Column("role", sa.String(length=24), nullable=False, server_default="approver"),
    )


def downgrade() -> None:
    with op.batch_alter_table("devices") as batch:
        batch.drop_column("role")
