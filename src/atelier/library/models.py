"""The library's tables. An image of the library is an ``images`` row (its bytes, size,
owner) plus the rows here, all deleted with it:

- ``library_images``: one per library image, keyed by ``images.id``: the SHA-256 of its bytes
  (unique per owner: an exact duplicate is not stored twice), its 64-bit perceptual hash
  (signed), where it came from (``upload``, ``url``, ``generated``), the original file name
  or URL, the user's title, the descriptions and the whole analysis (JSON), and the state of
  the analysis (``pending``, ``done``, ``failed``) with the tag task that last ran on it;
- ``library_tags``: its tags, one row per tag and language (``en``, ``zh``), from the user or
  the analyser (``ai``; ``origin`` says which stage: ``vlm``, ``clip``, ``color``...), with
  the confidence, and the normalised form that filters and lookups compare;
- ``library_embeddings``: one vector per image and model (``kind`` ``text`` or ``image``),
  as float32 bytes, so any vector index can be rebuilt from the database;
- ``library_changes``: an append-only log of the images whose searchable side changed (tags,
  descriptions, vectors, deletion). Every process keeps its in-memory search index current by
  reading the entries after the last one it has seen;
- ``library_collections`` and ``library_collection_items``: named sets of images, with an
  optional share token that opens a read-only listing to anyone holding it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from atelier.db.base import Base, utcnow

AUTO_ID = BigInteger().with_variant(Integer, "sqlite")


class LibraryImage(Base):
    __tablename__ = "library_images"

    image_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("images.id", ondelete="CASCADE"), primary_key=True
    )
    owner: Mapped[str] = mapped_column(String(64))
    sha256: Mapped[str] = mapped_column(String(64))
    phash: Mapped[int] = mapped_column(BigInteger)
    source: Mapped[str] = mapped_column(String(16))  # upload | url | generated
    original_filename: Mapped[str | None] = mapped_column(String(255), nullable=True)
    source_url: Mapped[str | None] = mapped_column(Text, nullable=True)
    title: Mapped[str | None] = mapped_column(String(200), nullable=True)
    description_en: Mapped[str] = mapped_column(Text, default="")
    description_zh: Mapped[str] = mapped_column(Text, default="")
    analysis: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending|done|failed
    analyzer: Mapped[str | None] = mapped_column(String(32), nullable=True)
    tag_task_id: Mapped[str | None] = mapped_column(
        String(36), ForeignKey("tasks.id", ondelete="SET NULL"), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    analyzed_at: Mapped[datetime | None] = mapped_column(nullable=True)

    __table_args__ = (
        UniqueConstraint("owner", "sha256", name="uq_library_images_owner_sha256"),
        Index("ix_library_images_owner_created", "owner", "created_at"),
    )


class LibraryTag(Base):
    __tablename__ = "library_tags"

    id: Mapped[int] = mapped_column(AUTO_ID, primary_key=True, autoincrement=True)
    image_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("library_images.image_id", ondelete="CASCADE")
    )
    tag: Mapped[str] = mapped_column(String(100))
    norm: Mapped[str] = mapped_column(String(100))  # normalised: what filters compare
    lang: Mapped[str] = mapped_column(String(8))  # en | zh
    source: Mapped[str] = mapped_column(String(8))  # user | ai
    origin: Mapped[str] = mapped_column(String(16))  # user, vlm, clip, color, face, ...
    score: Mapped[float] = mapped_column(Float, default=1.0)

    __table_args__ = (
        UniqueConstraint("image_id", "source", "lang", "tag", name="uq_library_tags_image_tag"),
        Index("ix_library_tags_norm_image", "norm", "image_id"),
    )


class LibraryEmbedding(Base):
    __tablename__ = "library_embeddings"

    # a new row (a new id) each time a vector is written: readers follow the ids
    id: Mapped[int] = mapped_column(AUTO_ID, primary_key=True, autoincrement=True)
    image_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("library_images.image_id", ondelete="CASCADE")
    )
    model: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(8))  # text | image
    dim: Mapped[int] = mapped_column(Integer)
    vector: Mapped[bytes] = mapped_column(LargeBinary)  # float32, little-endian
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        UniqueConstraint("image_id", "model", name="uq_library_embeddings_image_model"),
        Index("ix_library_embeddings_model", "model", "kind"),
    )


class LibraryChange(Base):
    __tablename__ = "library_changes"

    id: Mapped[int] = mapped_column(AUTO_ID, primary_key=True, autoincrement=True)
    image_id: Mapped[str] = mapped_column(String(36))  # no key: it outlives the image
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class LibraryCollection(Base):
    __tablename__ = "library_collections"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    owner: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    share_token: Mapped[str | None] = mapped_column(String(64), nullable=True, unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (Index("ix_library_collections_owner_created", "owner", "created_at"),)


class LibraryCollectionItem(Base):
    __tablename__ = "library_collection_items"

    collection_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("library_collections.id", ondelete="CASCADE"), primary_key=True
    )
    image_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("library_images.image_id", ondelete="CASCADE"), primary_key=True
    )
    added_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (Index("ix_library_collection_items_image", "image_id"),)
