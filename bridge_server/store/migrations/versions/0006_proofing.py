"""client proofing: links, guests bound to a link, hearts and comments

Revision ID: 0006_proofing
Revises: 0010_decisions_follow
Create Date: 2026-11-29 09:45:00

Photos get counters of hearts and comments (0 for every existing photo); devices get the
proofing link a guest joined through (NULL for the photographer's own phones).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_proofing"
down_revision = "0010_decisions_follow"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "proofing_links",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("session_id", sa.String(length=32), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("visibility", sa.String(length=24), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.CheckConstraint(
            "visibility IN ('picks', 'picks_and_proposals')", name="ck_link_visibility"
        ),
        sa.ForeignKeyConstraint(["session_id"], ["sessions.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("secret_hash"),
    )
    op.create_index("ix_proofing_links_session", "proofing_links", ["session_id"])
    op.create_table(
        "client_favorites",
        sa.Column("photo_id", sa.String(length=32), nullable=False),
        sa.Column("device_id", sa.String(length=32), nullable=False),
        sa.Column("client_name", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["photo_id"], ["photos.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("photo_id", "device_id"),
    )
    op.create_index("ix_client_favorites_photo", "client_favorites", ["photo_id"])
    op.create_table(
        "client_comments",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("photo_id", sa.String(length=32), nullable=False),
        sa.Column("device_id", sa.String(length=32), nullable=False),
        sa.Column("client_name", sa.String(length=64), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["photo_id"], ["photos.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_client_comments_photo", "client_comments", ["photo_id", "created_at"])
    op.add_column(
        "photos",
        sa.Column("client_favorites", sa.Integer(), nullable=False, server_default="0"),
    )
    op.add_column(
        "photos",
        sa.Column("client_comments", sa.Integer(), nullable=False, server_default="0"),
    )
    with op.batch_alter_table("devices") as batch:
        batch.add_column(sa.Column("link_id", sa.String(length=32), nullable=True))
        batch.create_foreign_key(
            "fk_devices_link_id", "proofing_links", ["link_id"], ["id"], ondelete="CASCADE"
        )


def downgrade() -> None:
    with op.batch_alter_table("devices") as batch:
        batch.drop_constraint("fk_devices_link_id", type_="foreignkey")
        batch.drop_column("link_id")
    with op.batch_alter_table("photos") as batch:
        batch.drop_column("client_comments")
        batch.drop_column("client_favorites")
    op.drop_index("ix_client_comments_photo", table_name="client_comments")
    op.drop_table("client_comments")
    op.drop_index("ix_client_favorites_photo", table_name="client_favorites")
    op.drop_table("client_favorites")
    op.drop_index("ix_proofing_links_session", table_name="proofing_links")
    op.drop_table("proofing_links")
