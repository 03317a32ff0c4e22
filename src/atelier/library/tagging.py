"""The ``tag`` task's work on one image: analysis → embedding → indexing.

1. **analysis** — the configured analyser (offline, or a VLM) on the stored bytes, reporting
   its stages as progress. Skipped when the image has tags from its user (then only size,
   orientation and EXIF are read: :func:`~atelier.library.analysis.basic_analysis`), or when
   the task only re-embeds (``mode="embed"``, after the user edited tags or title).
2. **embedding** — the text embedding of the user's title and tags with the analysis's tags,
   descriptions and text (:func:`embedding_text`), and with a CLIP model configured the image
   embedding too.
3. **indexing** — one transaction: the analyser's tags (``source="ai"``) replace the earlier
   ones (the user's are kept), the descriptions and the analysis are stored, the vectors
   replace this model's earlier ones, and the image goes into the change log; then pgvector,
   where it is the vector store.

Running it twice gives the same rows: the task is idempotent. An image that is not in the
library yet (one a task generated, a plain upload) gets its row first — unless its bytes are
an exact duplicate of a library image of the same owner, which the result names instead.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from PIL import Image
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from atelier.db.base import utcnow
from atelier.errors import AtelierError, NotFound
from atelier.images.models import ImageRecord
from atelier.library import components, index, store
from atelier.library.analysis import Analysis, basic_analysis, load
from atelier.library.dedup import phash, sha256_hex, to_signed
from atelier.library.models import LibraryImage
from atelier.providers.errors import ProviderError
from atelier.runtime import Runtime
from atelier.tasks.kinds import RunContext
from atelier.tasks.models import Task

log = logging.getLogger(__name__)

Mode = Literal["auto", "analyze", "embed"]


class TagParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    image_id: str = Field(min_length=1, max_length=36, description="The image to tag.")
    mode: Mode = Field(
        default="auto",
        description="`auto`: analyse unless the user tagged the image; `analyze`: always; "
        "`embed`: only compute the embeddings again (after an edit of tags or title).",
    )


def embedding_text(title: str | None, user_tags: list[str], analysis: Analysis | None) -> str:
    """What is embedded: the title, the user's tags, then the analysis's text."""
    parts = [title or "", ", ".join(dict.fromkeys(user_tags))]
    if analysis is not None:
        parts.append(analysis.embedding_text())
    return ". ".join(p.strip() for p in parts if p.strip())


def prompt_of(params: dict[str, Any]) -> str | None:
    """The prompt an image was generated from, where the task's params name one."""
    prompt = params.get("prompt")
    if isinstance(prompt, dict):
        prompt = prompt.get("prompt")
    if not isinstance(prompt, str):
        return None
    return prompt.strip()[:200] or None


def ensure_entry(runtime: Runtime, record: ImageRecord, data: bytes, task_id: str) -> str | None:
    """Give an image its library row when it has none. Returns the id of the owner's library
    image with the same bytes instead, when there is one (nothing is written then)."""
    digest = sha256_hex(data)
    _, upright = load(data)
    value = to_signed(phash(upright))
    title = None
    if record.task_id is not None:
        with runtime.db.read() as s:
            producer = s.get(Task, record.task_id)
        title = prompt_of(producer.params) if producer is not None else None
    for _ in range(2):
        with runtime.db.read() as s:
            if s.get(LibraryImage, record.id) is not None:
                return None
            existing = store.by_sha256(s, record.owner, [digest]).get(digest)
        if existing is not None:
            return existing
        try:
            with runtime.db.session() as s:
                s.add(
                    LibraryImage(
                        image_id=record.id,
                        owner=record.owner,
                        sha256=digest,
                        phash=value,
                        source="generated" if record.task_id else "upload",
                        title=title,
                        description_en="",
                        description_zh="",
                        status="pending",
                        tag_task_id=task_id,
                        created_at=record.created_at,
                        updated_at=utcnow(),
                    )
                )
                s.flush()
                store.changed(s, [record.id])
            return None
        except IntegrityError:  # the same bytes, recorded meanwhile: look again
            continue
    raise AtelierError("could not record the image in the library")


@dataclass
class _Subject:
    record: ImageRecord
    row: LibraryImage
    user_tags: list[str]


def _read(runtime: Runtime, image_id: str, owner: str) -> tuple[ImageRecord, LibraryImage | None]:
    with runtime.db.read() as s:
        record = s.get(ImageRecord, image_id)
        row = s.get(LibraryImage, image_id)
    if record is None or record.owner != owner:
        raise NotFound("the image is gone", details={"image_id": image_id})
    return record, row


def run_tag(ctx: RunContext, params: TagParams) -> dict[str, Any]:
    runtime = ctx.runtime
    ctx.progress("analysis", 0, 0, 0.0)
    record, row = _read(runtime, params.image_id, ctx.owner)
    data = runtime.storage.get(record.storage_key)
    if row is None:
        duplicate = ensure_entry(runtime, record, data, ctx.task_id)
        if duplicate is not None:
            return {"image_id": record.id, "status": "duplicate", "duplicate_of": duplicate}
        record, row = _read(runtime, params.image_id, ctx.owner)
        assert row is not None
    with runtime.db.read() as s:
        users = [t.tag for t in store.user_tags(s, record.id)]
    try:
        return _tag(ctx, params, _Subject(record, row, users), data)
    except (ProviderError, AtelierError) as exc:
        if not (isinstance(exc, ProviderError) and exc.transient):
            _mark_failed(runtime, record.id)
        raise


def _mark_failed(runtime: Runtime, image_id: str) -> None:
    with runtime.db.session() as s:
        s.execute(
            update(LibraryImage)
            .where(LibraryImage.image_id == image_id)
            .values(status="failed", updated_at=utcnow())
            .execution_options(synchronize_session=False)
        )


def _tag(ctx: RunContext, params: TagParams, subject: _Subject, data: bytes) -> dict[str, Any]:
    runtime = ctx.runtime
    models = components.models(runtime.settings)
    row = subject.row
    analyze = params.mode == "analyze" or (params.mode == "auto" and not subject.user_tags)
    replace_ai = params.mode != "embed"
    analysis: Analysis | None
    if analyze:

        def on_stage(done: int, total: int) -> None:
            ctx.progress("analysis", done, total, 0.05 + 0.6 * done / max(total, 1))

        analysis = models.analyzer.analyze(data, on_progress=on_stage)
    elif params.mode == "embed" and row.analysis:
        analysis = Analysis.model_validate(row.analysis)
    else:
        analysis = basic_analysis(data, subject.user_tags)
        ctx.progress("analysis", 1, 1, 0.65)

    total = 2 if models.image_embedder is not None else 1
    ctx.progress("embedding", 0, total, 0.7)
    ai_tags = [t for t in analysis.tags if t.source != "user"]
    if not replace_ai:  # the analyser's tags stay as they are: embed them as stored
        with runtime.db.read() as s:
            ai_tags = [
                store.as_tag(t)
                for t in store.tags_of(s, [row.image_id])[row.image_id]
                if t.source == "ai"
            ]
        analysis = analysis.model_copy(update={"tags": tuple(ai_tags)})
    text = embedding_text(row.title, subject.user_tags, analysis)
    vectors: list[tuple[str, str, np.ndarray]] = [
        (models.embedder.name, "text", models.embedder.embed([text or " "])[0])
    ]
    ctx.progress("embedding", 1, total, 0.8)
    if models.image_embedder is not None:
        _, upright = load(data)
        picture: Image.Image = upright.convert("RGB")
        vectors.append(
            (models.image_embedder.name, "image", models.image_embedder.embed_images([picture])[0])
        )
        ctx.progress("embedding", 2, total, 0.85)

    ctx.progress("indexing", 0, 1, 0.9)
    now = utcnow()
    with runtime.db.session() as s:
        if s.get(LibraryImage, row.image_id) is None:  # deleted meanwhile
            return {"image_id": row.image_id, "status": "deleted"}
        values: dict[str, Any] = {
            "status": "done",
            "updated_at": now,
            "analyzed_at": now,
            "tag_task_id": ctx.task_id,
        }
        if replace_ai:
            store.replace_tags(s, row.image_id, "ai", store.tag_rows(row.image_id, ai_tags, "ai"))
            values.update(
                description_en=analysis.description_en,
                description_zh=analysis.description_zh,
                analysis=analysis.model_dump(mode="json"),
                analyzer=analysis.analyzer,
            )
        s.execute(
            update(LibraryImage)
            .where(LibraryImage.image_id == row.image_id)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        store.put_vectors(s, row.image_id, vectors)
        store.changed(s, [row.image_id])
    index.write_vectors(runtime, row.image_id, [(m, v) for m, _, v in vectors])
    ctx.progress("indexing", 1, 1, 0.99)
    return {
        "image_id": row.image_id,
        "status": "done",
        "analyzer": analysis.analyzer if replace_ai else None,
        "analyzed": analyze,
        "tags": [t.model_dump(mode="json") for t in ai_tags],
        "user_tags": subject.user_tags,
        "description_en": analysis.description_en,
        "description_zh": analysis.description_zh,
        "embeddings": [{"model": m, "kind": k, "dim": int(v.shape[0])} for m, k, v in vectors],
    }


def library_ids(runtime: Runtime) -> list[str]:
    with runtime.db.read() as s:
        return list(s.scalars(select(LibraryImage.image_id).order_by(LibraryImage.image_id)))
