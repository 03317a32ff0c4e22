"""image library: hashes, tags, descriptions, embeddings, collections

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-24 15:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import atelier.db.base

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

UTC = atelier.db.base.UTCDateTime(timezone=True)


def _auto_id() -> sa.Column[int]:
    return sa.Column(
        "id",
        sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
        autoincrement=True,
        nullable=False,
    )


def upgrade() -> None:
    op.create_table(
        "library_images",
        sa.Column("image_id", sa.String(length=36), nullable=False),
        sa.Column("owner", sa.String(length=64), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("phash", sa.BigInteger(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("original_filename", sa.String(length=255), nullable=True),
        sa.Column("source_url", sa.Text(), nullable=True),
        sa.Column("title", sa.String(length=200), nullable=True),
        sa.Column("description_en", sa.Text(), nullable=False),
        sa.Column("description_zh", sa.Text(), nullable=False),
        sa.Column("analysis", sa.JSON(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("analyzer", sa.String(length=32), nullable=True),
        sa.Column("tag_task_id", sa.String(length=36), nullable=True),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("updated_at", UTC, nullable=False),
        sa.Column("analyzed_at", UTC, nullable=True),
        sa.ForeignKeyConstraint(
            ["image_id"],
            ["images.id"],
            name=op.f("fk_library_images_image_id_images"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tag_task_id"],
            ["tasks.id"],
            name=op.f("fk_library_images_tag_task_id_tasks"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("image_id", name=op.f("pk_library_images")),
        sa.UniqueConstraint("owner", "sha256", name="uq_library_images_owner_sha256"),
    )
    op.create_index(
        "ix_library_images_owner_created", "library_images", ["owner", "created_at"], unique=False
    )

    op.create_table(
        "library_tags",
        _auto_id(),
        sa.Column("image_id", sa.String(length=36), nullable=False),
        sa.Column("tag", sa.String(length=100), nullable=False),
        sa.Column("norm", sa.String(length=100), nullable=False),
        sa.Column("lang", sa.String(length=8), nullable=False),
        sa.Column("source", sa.String(length=8), nullable=False),
        sa.Column("origin", sa.String(length=16), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["image_id"],
            ["library_images.image_id"],
            name=op.f("fk_library_tags_image_id_library_images"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_library_tags")),
        sa.UniqueConstraint("image_id", "source", "lang", "tag", name="uq_library_tags_image_tag"),
    )
    op.create_index(
        "ix_library_tags_norm_image", "library_tags", ["norm", "image_id"], unique=False
    )

    op.create_table(
        "library_embeddings",
        _auto_id(),
        sa.Column("image_id", sa.String(length=36), nullable=False),
        sa.Column("model", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("dim", sa.Integer(), nullable=False),
        sa.Column("vector", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.ForeignKeyConstraint(
            ["image_id"],
            ["library_images.image_id"],
            name=op.f("fk_library_embeddings_image_id_library_images"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_library_embeddings")),
        sa.UniqueConstraint("image_id", "model", name="uq_library_embeddings_image_model"),
    )
    op.create_index(
        "ix_library_embeddings_model", "library_embeddings", ["model", "kind"], unique=False
    )

    op.create_table(
        "library_changes",
        _auto_id(),
        sa.Column("image_id", sa.String(length=36), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_library_changes")),
    )

    op.create_table(
        "library_collections",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("owner", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("share_token", sa.String(length=64), nullable=True),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("updated_at", UTC, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_library_collections")),
        sa.UniqueConstraint("share_token", name=op.f("uq_library_collections_share_token")),
    )
    op.create_index(
        "ix_library_collections_owner_created",
        "library_collections",
        ["owner", "created_at"],
        unique=False,
    )

    op.create_table(
        "library_collection_items",
        sa.Column("collection_id", sa.String(length=36), nullable=False),
        sa.Column("image_id", sa.String(length=36), nullable=False),
        sa.Column("added_at", UTC, nullable=False),
        sa.ForeignKeyConstraint(
            ["collection_id"],
            ["library_collections.id"],
            name=op.f("fk_library_collection_items_collection_id_library_collections"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["image_id"],
            ["library_images.image_id"],
            name=op.f("fk_library_collection_items_image_id_library_images"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "collection_id", "image_id", name=op.f("pk_library_collection_items")
        ),
    )
    op.create_index(
        "ix_library_collection_items_image",
        "library_collection_items",
        ["image_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_library_collection_items_image", table_name="library_collection_items")
    op.drop_table("library_collection_items")
    op.drop_index("ix_library_collections_owner_created", table_name="library_collections")
    op.drop_table("library_collections")
    op.drop_table("library_changes")
    op.drop_index("ix_library_embeddings_model", table_name="library_embeddings")
    op.drop_table("library_embeddings")
    op.drop_index("ix_library_tags_norm_image", table_name="library_tags")
    op.drop_table("library_tags")
    op.drop_index("ix_library_images_owner_created", table_name="library_images")
    op.drop_table("library_images")
