"""tasks: an index for an owner's waiting tasks per queue (fair dispatch on the submit path)

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-24 19:00:00
"""

from __future__ import annotations

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # fair dispatch counts a submitting owner's waiting tasks per queue on every group commit;
    # through ix_tasks_owner_created it read every task the owner ever made
    op.create_index(
        "ix_tasks_owner_status_queue",
        "tasks",
        ["owner", "status", "queue", "dispatch_at"],
    )


def downgrade() -> None:
    op.drop_index("ix_tasks_owner_status_queue", table_name="tasks")
