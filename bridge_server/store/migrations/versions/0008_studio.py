"""jobs record their worker, claim and lease (studio mode: workers on any machine)

Revision ID: 0008_studio
Revises: 0006_proofing
Create Date: 2026-11-29 09:45:00

Existing rows keep NULL in all three: a job never claimed under a lease has none to expire.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_studio"
down_revision = "0006_proofing"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("jobs", sa.Column("worker", sa.String(length=100), nullable=True))
    op.add_column("jobs", sa.Column("claim_id", sa.String(length=32), nullable=True))
    op.add_column("jobs", sa.Column("lease_until", sa.DateTime(), nullable=True))
    op.create_index("ix_jobs_lease", "jobs", ["status", "lease_until"])


def downgrade() -> None:
    op.drop_index("ix_jobs_lease", table_name="jobs")
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("lease_until")
        batch.drop_column("claim_id")
        batch.drop_column("worker")
