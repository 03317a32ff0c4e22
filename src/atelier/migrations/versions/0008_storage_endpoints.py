"""multi-endpoint storage: endpoints and object replicas

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-24 15:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import atelier.db.base

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "storage_endpoints",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("read_priority", sa.Integer(), nullable=False),
        sa.Column("read_weight", sa.Float(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("config", sa.JSON(), nullable=False),
        sa.Column("needs_scan", sa.Boolean(), nullable=False),
        sa.Column("planned_at", atelier.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", atelier.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", atelier.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_storage_endpoints")),
    )
    op.create_table(
        "storage_replicas",
        sa.Column("key", sa.String(length=512), nullable=False),
        sa.Column("endpoint_id", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(length=1000), nullable=True),
        sa.Column("next_attempt_at", atelier.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", atelier.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["endpoint_id"],
            ["storage_endpoints.id"],
            name=op.f("fk_storage_replicas_endpoint_id_storage_endpoints"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("key", "endpoint_id", name=op.f("pk_storage_replicas")),
    )
    op.create_index(
        "ix_storage_replicas_due", "storage_replicas", ["status", "next_attempt_at"], unique=False
    )
    op.create_index(
        "ix_storage_replicas_endpoint_status",
        "storage_replicas",
        ["endpoint_id", "status"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_storage_replicas_endpoint_status", table_name="storage_replicas")
    op.drop_index("ix_storage_replicas_due", table_name="storage_replicas")
    op.drop_table("storage_replicas")
    op.drop_table("storage_endpoints")
