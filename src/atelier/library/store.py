"""Every query on the library's tables: rows in and out, filters, the change log.

Tags are stored one row per name and language; the normalised form (:func:`norm_tag`, the
same one the search index compares) serves filters. Vectors are float32 bytes
(:func:`pack`/:func:`unpack`). A write that changes what search sees (tags, descriptions,
vectors, a deletion) appends the image to ``library_changes`` in the same transaction
(:func:`changed`), which is how every process's in-memory index learns of it.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from sqlalchemy import Select, and_, delete, exists, func, insert, or_, select
from sqlalchemy.orm import Session

from atelier.db.base import utcnow
from atelier.images.models import ImageRecord
from atelier.library.analysis import Tag
from atelier.library.hybrid import LibraryDoc
from atelier.library.models import (
    LibraryChange,
    LibraryCollectionItem,
    LibraryEmbedding,
    LibraryImage,
    LibraryTag,
)
from atelier.library.textsearch import normalise

TagSource = Literal["user", "ai"]
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
SOURCES = ("upload", "url", "generated")


def norm_tag(name: str) -> str:
    return normalise(" ".join(name.split())).strip()[:100]


def clean_tag(name: str) -> str:
    return " ".join(name.split())[:100]


def lang_of(name: str) -> str:
    return "zh" if _CJK.search(name) else "en"


def tag_rows(image_id: str, tags: Iterable[Tag], source: TagSource) -> list[LibraryTag]:
    """One row per name and language of ``tags`` (the first of equal names wins)."""
    rows: list[LibraryTag] = []
    seen: set[tuple[str, str]] = set()
    for tag in tags:
        names = [(lang_of(tag.name), tag.name)]
        if tag.name_zh:
            names.append(("zh", tag.name_zh))
        for lang, raw in names:
            name = clean_tag(raw)
            if not name or (lang, name.casefold()) in seen:
                continue
            seen.add((lang, name.casefold()))
            rows.append(
                LibraryTag(
                    image_id=image_id,
                    tag=name,
                    norm=norm_tag(name),
                    lang=lang,
                    source=source,
                    origin=tag.source,
                    score=float(tag.confidence),
                )
            )
    return rows


def as_tag(row: LibraryTag) -> Tag:
    origin: Any = row.origin
    return Tag(name=row.tag, source=origin, confidence=max(0.0, min(1.0, row.score)))


# -- vectors --------------------------------------------------------------------------------
def pack(vector: ArrayLike) -> bytes:
    return np.asarray(vector, dtype="<f4").ravel().tobytes()


def unpack(data: bytes, dim: int) -> NDArray[np.float32]:
    vector = np.frombuffer(data, dtype="<f4").astype(np.float32)
    if vector.shape != (dim,):
        raise ValueError(f"a stored vector has {vector.size} values, not {dim}")
    return vector


def put_vectors(
    session: Session, image_id: str, vectors: Sequence[tuple[str, str, NDArray[np.float32]]]
) -> None:
    """Replace the vectors of ``image_id`` for these models (``(model, kind, vector)``): the
    rows are written anew, so they get new ids."""
    if not vectors:
        return
    session.execute(
        delete(LibraryEmbedding)
        .where(
            LibraryEmbedding.image_id == image_id,
            LibraryEmbedding.model.in_([model for model, _, _ in vectors]),
        )
        .execution_options(synchronize_session=False)
    )
    now = utcnow()
    session.execute(
        insert(LibraryEmbedding),
        [
            {
                "image_id": image_id,
                "model": model,
                "kind": kind,
                "dim": int(vector.shape[0]),
                "vector": pack(vector),
                "created_at": now,
            }
            for model, kind, vector in vectors
        ],
    )


def vectors_of(
    session: Session, model: str, image_ids: Collection[str] | None = None
) -> list[tuple[str, bytes, int]]:
    stmt = select(LibraryEmbedding.image_id, LibraryEmbedding.vector, LibraryEmbedding.dim).where(
        LibraryEmbedding.model == model
    )
    if image_ids is not None:
        stmt = stmt.where(LibraryEmbedding.image_id.in_(list(image_ids)))
    return [(str(i), bytes(v), int(d)) for i, v, d in session.execute(stmt).all()]


# -- the change log ---------------------------------------------------------------------------
def changed(session: Session, image_ids: Iterable[str]) -> None:
    rows = [{"image_id": i, "created_at": utcnow()} for i in dict.fromkeys(image_ids)]
    if rows:
        session.execute(insert(LibraryChange), rows)


def last_change(session: Session) -> int:
    return int(session.scalar(select(func.max(LibraryChange.id))) or 0)


def changes_after(session: Session, last: int, gaps: Collection[int]) -> list[tuple[int, str]]:
    cond = LibraryChange.id > last
    if gaps:
        cond = or_(cond, LibraryChange.id.in_(list(gaps)))
    rows = session.execute(
        select(LibraryChange.id, LibraryChange.image_id).where(cond).order_by(LibraryChange.id)
    ).all()
    return [(int(i), str(image_id)) for i, image_id in rows]


# -- documents (the searchable side) --------------------------------------------------------
@dataclass(frozen=True)
class Entry:
    """What the search index keeps of one image: its document and its perceptual hash."""

    doc: LibraryDoc
    phash: int


def entries(session: Session, image_ids: Collection[str] | None = None) -> list[Entry]:
    """The search documents of ``image_ids`` (all images when None); missing ids are left
    out."""
    stmt = select(LibraryImage, ImageRecord.width, ImageRecord.height).join(
        ImageRecord, ImageRecord.id == LibraryImage.image_id
    )
    tag_stmt = select(LibraryTag).order_by(LibraryTag.image_id, LibraryTag.id)
    if image_ids is not None:
        ids = list(image_ids)
        stmt = stmt.where(LibraryImage.image_id.in_(ids))
        tag_stmt = tag_stmt.where(LibraryTag.image_id.in_(ids))
    tags: dict[str, list[Tag]] = {}
    for row in session.scalars(tag_stmt):
        tags.setdefault(row.image_id, []).append(as_tag(row))
    out = []
    for image, width, height in session.execute(stmt).all():
        analysis = image.analysis or {}
        description = " ".join(
            part for part in (image.title, image.description_en, image.description_zh) if part
        )
        doc = LibraryDoc(
            id=image.image_id,
            owner=image.owner,
            tags=tuple(tags.get(image.image_id, ())),
            description=description,
            ocr_text=str(analysis.get("ocr_text") or ""),
            created_at=image.created_at,
            width=int(width),
            height=int(height),
            kind=image.source,
        )
        out.append(Entry(doc, int(image.phash)))
    return out


# -- listing --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Filters:
    """The conditions of listings, searches and random picks: all must hold."""

    tags: tuple[str, ...] = ()
    collection: str | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None
    min_width: int | None = None
    max_width: int | None = None
    min_height: int | None = None
    max_height: int | None = None
    source: str | None = None


Row = tuple[LibraryImage, ImageRecord]


def filtered(owner: str, filters: Filters) -> Select[LibraryImage, ImageRecord]:
    stmt = (
        select(LibraryImage, ImageRecord)
        .join(ImageRecord, ImageRecord.id == LibraryImage.image_id)
        .where(LibraryImage.owner == owner)
    )
    conds: list[Any] = []
    for tag in dict.fromkeys(norm_tag(t) for t in filters.tags if t.strip()):
        conds.append(
            exists().where(LibraryTag.image_id == LibraryImage.image_id, LibraryTag.norm == tag)
        )
    if filters.collection is not None:
        conds.append(
            exists().where(
                LibraryCollectionItem.image_id == LibraryImage.image_id,
                LibraryCollectionItem.collection_id == filters.collection,
            )
        )
    if filters.created_from is not None:
        conds.append(LibraryImage.created_at >= filters.created_from)
    if filters.created_to is not None:
        conds.append(LibraryImage.created_at < filters.created_to)
    if filters.source is not None:
        conds.append(LibraryImage.source == filters.source)
    for limit, column, low in (
        (filters.min_width, ImageRecord.width, True),
        (filters.max_width, ImageRecord.width, False),
        (filters.min_height, ImageRecord.height, True),
        (filters.max_height, ImageRecord.height, False),
    ):
        if limit is not None:
            conds.append(column >= limit if low else column <= limit)
    return stmt.where(and_(*conds)) if conds else stmt


def page(
    session: Session,
    owner: str,
    filters: Filters,
    *,
    limit: int,
    after: tuple[datetime, str] | None = None,
) -> list[Row]:
    """Newest first; ``after`` is the (created_at, image_id) of the last row seen."""
    stmt = filtered(owner, filters)
    if after is not None:
        created, image_id = after
        stmt = stmt.where(
            or_(
                LibraryImage.created_at < created,
                and_(LibraryImage.created_at == created, LibraryImage.image_id < image_id),
            )
        )
    stmt = stmt.order_by(LibraryImage.created_at.desc(), LibraryImage.image_id.desc())
    return [(a, b) for a, b in session.execute(stmt.limit(limit)).all()]


def random_rows(session: Session, owner: str, filters: Filters, n: int) -> list[Row]:
    stmt = filtered(owner, filters).order_by(func.random()).limit(n)
    return [(a, b) for a, b in session.execute(stmt).all()]


def rows_by_id(session: Session, owner: str, image_ids: Collection[str]) -> dict[str, Row]:
    if not image_ids:
        return {}
    stmt = filtered(owner, Filters()).where(LibraryImage.image_id.in_(list(image_ids)))
    return {a.image_id: (a, b) for a, b in session.execute(stmt).all()}


def tags_of(session: Session, image_ids: Collection[str]) -> dict[str, list[LibraryTag]]:
    out: dict[str, list[LibraryTag]] = {i: [] for i in image_ids}
    if not image_ids:
        return out
    for row in session.scalars(
        select(LibraryTag)
        .where(LibraryTag.image_id.in_(list(image_ids)))
        .order_by(
            LibraryTag.image_id, LibraryTag.source.desc(), LibraryTag.score.desc(), LibraryTag.id
        )
    ):
        out.setdefault(row.image_id, []).append(row)
    return out


def collections_of(session: Session, image_ids: Collection[str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {i: [] for i in image_ids}
    if not image_ids:
        return out
    for collection_id, image_id in session.execute(
        select(LibraryCollectionItem.collection_id, LibraryCollectionItem.image_id).where(
            LibraryCollectionItem.image_id.in_(list(image_ids))
        )
    ):
        out.setdefault(image_id, []).append(collection_id)
    return out


def members(session: Session, collection_id: str) -> frozenset[str]:
    return frozenset(
        session.scalars(
            select(LibraryCollectionItem.image_id).where(
                LibraryCollectionItem.collection_id == collection_id
            )
        )
    )


def by_sha256(session: Session, owner: str, digests: Collection[str]) -> dict[str, str]:
    """sha256 -> image id, for the owner's images with one of ``digests``."""
    if not digests:
        return {}
    rows = session.execute(
        select(LibraryImage.sha256, LibraryImage.image_id).where(
            LibraryImage.owner == owner, LibraryImage.sha256.in_(list(digests))
        )
    ).all()
    return {str(sha): str(image_id) for sha, image_id in rows}


def user_tags(session: Session, image_id: str) -> list[LibraryTag]:
    return list(
        session.scalars(
            select(LibraryTag)
            .where(LibraryTag.image_id == image_id, LibraryTag.source == "user")
            .order_by(LibraryTag.id)
        )
    )


def replace_tags(
    session: Session, image_id: str, source: TagSource, rows: list[LibraryTag]
) -> None:
    session.execute(
        delete(LibraryTag)
        .where(LibraryTag.image_id == image_id, LibraryTag.source == source)
        .execution_options(synchronize_session=False)
    )
    session.flush()
    session.add_all(rows)
