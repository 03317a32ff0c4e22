"""Re-embedding the library after the embedding model changed.

Vectors of different models never mix: an index belongs to one model name. When the
configured embedder (or CLIP model) is not the one the stored vectors were made with, the
``reembed`` task embeds every library image that has no vector of the configured model yet —
in batches, with progress, from what is stored (title, tags, descriptions, text read; the
image bytes for a CLIP model) — and then deletes the vectors of the other models of the same
kind. Images done are skipped when it runs again, so a task that lost its worker goes on
where it was.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sqlalchemy import delete, exists, func, select, text
from sqlalchemy.exc import DBAPIError

from atelier.images.models import ImageRecord
from atelier.library import components, index, store
from atelier.library.analysis import Analysis, load
from atelier.library.models import LibraryEmbedding, LibraryImage
from atelier.library.pgvector import TABLE
from atelier.library.tagging import embedding_text
from atelier.runtime import Runtime
from atelier.tasks.kinds import RunContext

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Plan:
    """What re-embedding would do: the configured models, the images still lacking a vector
    of each, and the other models whose vectors would be deleted."""

    text_model: str
    image_model: str | None
    missing_text: int
    missing_image: int
    stale_models: list[str] = field(default_factory=list)

    @property
    def needed(self) -> bool:
        return bool(self.missing_text or self.missing_image or self.stale_models)

    def as_dict(self) -> dict[str, Any]:
        return {
            "text_model": self.text_model,
            "image_model": self.image_model,
            "missing_text": self.missing_text,
            "missing_image": self.missing_image,
            "stale_models": self.stale_models,
        }


def _lacking(model: str) -> Any:
    return ~exists().where(
        LibraryEmbedding.image_id == LibraryImage.image_id, LibraryEmbedding.model == model
    )


def plan(runtime: Runtime) -> Plan:
    models = components.models(runtime.settings)
    text_model = models.embedder.name
    image_model = models.image_embedder.name if models.image_embedder is not None else None
    with runtime.db.read() as s:
        stored = s.execute(select(LibraryEmbedding.model, LibraryEmbedding.kind).distinct()).all()
        has_vectors = bool(stored)
        missing_text = 0
        if has_vectors:  # a library never embedded has nothing to re-embed
            missing_text = int(
                s.scalar(select(func.count()).select_from(LibraryImage).where(_lacking(text_model)))
                or 0
            )
        missing_image = 0
        if image_model is not None and any(kind == "image" for _, kind in stored):
            missing_image = int(
                s.scalar(
                    select(func.count()).select_from(LibraryImage).where(_lacking(image_model))
                )
                or 0
            )
    current = {"text": text_model, "image": image_model}
    stale = sorted(
        {str(m) for m, kind in stored if current.get(kind) is not None and current[kind] != m}
    )
    return Plan(text_model, image_model, missing_text, missing_image, stale)


def _ids_lacking(runtime: Runtime, model: str) -> list[str]:
    with runtime.db.read() as s:
        return list(
            s.scalars(
                select(LibraryImage.image_id)
                .where(_lacking(model))
                .order_by(LibraryImage.created_at, LibraryImage.image_id)
            )
        )


def stored_texts(runtime: Runtime, image_ids: Sequence[str]) -> dict[str, str]:
    """The text to embed of each image, from its stored rows."""
    with runtime.db.read() as s:
        rows = s.scalars(select(LibraryImage).where(LibraryImage.image_id.in_(list(image_ids))))
        images = {r.image_id: r for r in rows}
        tags = store.tags_of(s, list(images))
    out = {}
    for image_id, row in images.items():
        users = [t.tag for t in tags[image_id] if t.source == "user"]
        ai = tuple(store.as_tag(t) for t in tags[image_id] if t.source == "ai")
        analysis = Analysis.model_validate(row.analysis) if row.analysis else None
        if analysis is not None:
            analysis = analysis.model_copy(update={"tags": ai})
        out[image_id] = embedding_text(row.title, users, analysis) or " "
    return out


def _save(runtime: Runtime, model: str, kind: str, found: dict[str, np.ndarray]) -> None:
    with runtime.db.session() as s:
        present = set(
            s.scalars(select(LibraryImage.image_id).where(LibraryImage.image_id.in_(list(found))))
        )
        for image_id in present:
            store.put_vectors(s, image_id, [(model, kind, found[image_id])])
        store.changed(s, sorted(present))
    for image_id in present:
        index.write_vectors(runtime, image_id, [(model, found[image_id])])


def run_reembed(ctx: RunContext) -> dict[str, Any]:
    runtime = ctx.runtime
    models = components.models(runtime.settings)
    batch = runtime.settings.library.reembed_batch
    before = plan(runtime)
    text_ids = _ids_lacking(runtime, models.embedder.name)
    image_ids: list[str] = []
    if models.image_embedder is not None:
        image_ids = _ids_lacking(runtime, models.image_embedder.name)
    total = len(text_ids) + len(image_ids)
    done = 0
    ctx.progress("embedding", 0, total, 0.0)
    for start in range(0, len(text_ids), batch):
        chunk = text_ids[start : start + batch]
        texts = stored_texts(runtime, chunk)
        ids = [i for i in chunk if i in texts]
        if ids:
            vectors = models.embedder.embed([texts[i] for i in ids])
            _save(runtime, models.embedder.name, "text", dict(zip(ids, vectors, strict=True)))
        done += len(chunk)
        ctx.progress("embedding", done, total, 0.95 * done / max(total, 1))
    if models.image_embedder is not None:
        clip = models.image_embedder
        step = max(1, batch // 4)
        for start in range(0, len(image_ids), step):
            chunk = image_ids[start : start + step]
            with runtime.db.read() as s:
                keys = dict(
                    s.execute(
                        select(ImageRecord.id, ImageRecord.storage_key).where(
                            ImageRecord.id.in_(chunk)
                        )
                    ).all()
                )
            pictures = {i: load(runtime.storage.get(k))[1].convert("RGB") for i, k in keys.items()}
            if pictures:
                ids = list(pictures)
                vectors = clip.embed_images([pictures[i] for i in ids])
                _save(runtime, clip.name, "image", dict(zip(ids, vectors, strict=True)))
            done += len(chunk)
            ctx.progress("embedding", done, total, 0.95 * done / max(total, 1))
    ctx.progress("cleanup", 0, 1, 0.96)
    after = plan(runtime)
    removed = drop_models(runtime, after.stale_models)
    ctx.progress("cleanup", 1, 1, 0.99)
    return {
        "text_model": before.text_model,
        "image_model": before.image_model,
        "embedded": total,
        "removed_models": removed,
    }


def drop_models(runtime: Runtime, models: list[str]) -> list[str]:
    """Delete the stored vectors of ``models`` (and their pgvector rows and indexes)."""
    if not models:
        return []
    with runtime.db.session() as s:
        s.execute(
            delete(LibraryEmbedding)
            .where(LibraryEmbedding.model.in_(models))
            .execution_options(synchronize_session=False)
        )
    if index.uses_pgvector(runtime):
        try:
            with runtime.db.engine.begin() as conn:
                conn.execute(text(f"DELETE FROM {TABLE} WHERE model = ANY(:m)"), {"m": models})
                for model in models:
                    prefix = f"ix_{TABLE}_{hashlib.sha256(model.encode()).hexdigest()[:12]}"
                    names = conn.execute(
                        text(
                            "SELECT indexname FROM pg_indexes WHERE tablename = :t "
                            "AND indexname LIKE :p"
                        ),
                        {"t": TABLE, "p": prefix + "\\_%"},
                    ).scalars()
                    for name in list(names):
                        conn.execute(text(f'DROP INDEX IF EXISTS "{name}"'))
        except DBAPIError:
            log.warning("could not drop the pgvector rows of %s", models, exc_info=True)
    log.info("re-embedding done; removed the vectors of %s", ", ".join(models))
    return models
