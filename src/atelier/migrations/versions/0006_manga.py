"""manga jobs and panel versions

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24 14:08:54.957442
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import atelier.db.base

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "manga_jobs",
        sa.Column("task_id", sa.String(length=36), nullable=False),
        sa.Column("script", sa.JSON(), nullable=False),
        sa.Column("options", sa.JSON(), nullable=False),
        sa.Column("model", sa.String(length=128), nullable=False),
        sa.Column("steps", sa.Integer(), nullable=False),
        sa.Column("layout", sa.String(length=32), nullable=False),
        sa.Column("base_seed", sa.BigInteger(), nullable=False),
        sa.Column("page_image_id", sa.String(length=36), nullable=True),
        sa.Column("page_version", sa.Integer(), nullable=False),
        sa.Column("page_panels", sa.JSON(), nullable=True),
        sa.Column("page_report", sa.JSON(), nullable=True),
        sa.Column("created_at", atelier.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", atelier.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["task_id"],
            ["tasks.id"],
            name=op.f("fk_manga_jobs_task_id_tasks"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("task_id", name=op.f("pk_manga_jobs")),
    )
    op.create_table(
        "manga_panels",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("task_id", sa.String(length=36), nullable=False),
        sa.Column("panel_number", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("child_task_id", sa.String(length=36), nullable=False),
        sa.Column("seed", sa.BigInteger(), nullable=False),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("prompt", sa.JSON(), nullable=False),
        sa.Column("selected", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("created_at", atelier.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["task_id"],
            ["tasks.id"],
            name=op.f("fk_manga_panels_task_id_tasks"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_manga_panels")),
        sa.UniqueConstraint("child_task_id", name=op.f("uq_manga_panels_child_task_id")),
        sa.UniqueConstraint(
            "task_id", "panel_number", "version", name="uq_manga_panels_task_panel_version"
        ),
    )


def downgrade() -> None:
    op.drop_table("manga_panels")
    op.drop_table("manga_jobs")
