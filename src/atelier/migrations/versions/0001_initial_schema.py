"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import atelier.db.base

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "tasks",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("owner", sa.String(length=64), nullable=False),
        sa.Column("queue", sa.String(length=16), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("stage", sa.String(length=64), nullable=True),
        sa.Column("stage_current", sa.Integer(), nullable=False),
        sa.Column("stage_total", sa.Integer(), nullable=False),
        sa.Column("progress", sa.Integer(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("worker_losses", sa.Integer(), nullable=False),
        sa.Column("error_code", sa.String(length=64), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.Column("provider", sa.String(length=64), nullable=True),
        sa.Column("webhook_url", sa.Text(), nullable=True),
        sa.Column("idempotency_key", sa.String(length=255), nullable=True),
        sa.Column("request_hash", sa.String(length=64), nullable=True),
        sa.Column("parent_id", sa.String(length=36), nullable=True),
        sa.Column("last_seq", sa.Integer(), nullable=False),
        sa.Column("claim_token", sa.String(length=36), nullable=True),
        sa.Column("lease_expires_at", atelier.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("dispatch_at", atelier.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("run_seconds", sa.Float(), nullable=True),
        sa.Column("created_at", atelier.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", atelier.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("started_at", atelier.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("completed_at", atelier.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["parent_id"], ["tasks.id"], name=op.f("fk_tasks_parent_id_tasks"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tasks")),
        sa.UniqueConstraint("owner", "idempotency_key", name="uq_tasks_owner_idempotency_key"),
    )
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.create_index("ix_tasks_owner_created", ["owner", "created_at"], unique=False)
        batch_op.create_index("ix_tasks_parent", ["parent_id"], unique=False)
        batch_op.create_index(
            "ix_tasks_queue_status_created", ["queue", "status", "created_at"], unique=False
        )
        batch_op.create_index("ix_tasks_status_lease", ["status", "lease_expires_at"], unique=False)

    op.create_table(
        "images",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("owner", sa.String(length=64), nullable=False),
        sa.Column("task_id", sa.String(length=36), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("storage_key", sa.String(length=512), nullable=False),
        sa.Column("thumbnail_key", sa.String(length=512), nullable=True),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("format", sa.String(length=16), nullable=False),
        sa.Column("content_type", sa.String(length=64), nullable=False),
        sa.Column("etag", sa.String(length=128), nullable=False),
        sa.Column("thumbnail_etag", sa.String(length=128), nullable=True),
        sa.Column("seed", sa.BigInteger(), nullable=True),
        sa.Column("created_at", atelier.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["task_id"], ["tasks.id"], name=op.f("fk_images_task_id_tasks"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_images")),
    )
    with op.batch_alter_table("images", schema=None) as batch_op:
        batch_op.create_index("ix_images_owner_created", ["owner", "created_at"], unique=False)
        batch_op.create_index("ix_images_task", ["task_id", "position"], unique=False)

    op.create_table(
        "task_events",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("task_id", sa.String(length=36), nullable=False),
        sa.Column("owner", sa.String(length=64), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(length=32), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("created_at", atelier.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["task_id"], ["tasks.id"], name=op.f("fk_task_events_task_id_tasks"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_task_events")),
        sa.UniqueConstraint("task_id", "seq", name="uq_task_events_task_seq"),
    )


def downgrade() -> None:

    op.drop_table("task_events")
    with op.batch_alter_table("images", schema=None) as batch_op:
        batch_op.drop_index("ix_images_task")
        batch_op.drop_index("ix_images_owner_created")

    op.drop_table("images")
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.drop_index("ix_tasks_status_lease")
        batch_op.drop_index("ix_tasks_queue_status_created")
        batch_op.drop_index("ix_tasks_parent")
        batch_op.drop_index("ix_tasks_owner_created")

    op.drop_table("tasks")
