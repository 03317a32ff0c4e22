"""Image records (database) and image bytes (storage), coordinated so neither is orphaned.

Bytes are written first under fresh keys; the caller inserts the rows in its transaction and,
if that transaction does not commit, calls :meth:`ImageService.discard` on the keys. Deleting
removes rows first, then bytes (a leftover object is harmless; a row without bytes is not).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field, replace

from PIL import Image
from sqlalchemy import select
from sqlalchemy.orm import Session

from atelier.config import Settings
from atelier.db.base import utcnow
from atelier.images import processing, watermark
from atelier.images.models import ImageRecord
from atelier.safety import images as content_safety
from atelier.storage.base import StorageBackend

log = logging.getLogger(__name__)


@dataclass
class PreparedImages:
    """Images whose bytes are stored but whose rows are not committed yet."""

    records: list[ImageRecord] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)
    #: NSFW verdicts of the images stored, by image id (a task's ``result.safety``)
    safety: dict[str, content_safety.Verdict] = field(default_factory=dict)


class ImageService:
    def __init__(self, settings: Settings, storage: StorageBackend) -> None:
        self.settings = settings
        self.storage = storage

    def store(
        self,
        prepared: PreparedImages,
        *,
        owner: str,
        task_id: str | None,
        position: int,
        image: Image.Image,
        seed: int | None = None,
        fmt: processing.OutputFormat | None = None,
        origin: dict[str, str] | None = None,
        prefix: str | None = None,
    ) -> ImageRecord:
        """Store an image. ``origin`` (model, provider) marks a generated one: it gets the
        owner class's watermark and, if configured, a provenance record. ``prefix`` groups
        the objects of one job under one storage folder (e.g. ``manga/<task id>``)."""
        image_id = str(uuid.uuid4())
        image = processing.normalize(image)
        # NSFW check before anything is written: a generated image (``origin``) is an output,
        # one of no task an upload (``ingest``, library imports); either may be refused
        verdict = None
        if origin is not None:
            image, verdict = content_safety.check(self.settings.safety, "output", image)
            image = self.settings.watermark.apply(image, watermark.owner_class(owner))
        elif task_id is None:
            image, verdict = content_safety.check(self.settings.safety, "upload", image)
        encoded = processing.encode(image, fmt or self.settings.images.output_format)
        if origin is not None and self.settings.images.provenance and encoded.format == "png":
            prov = watermark.provenance(
                image,
                model=origin.get("model", ""),
                provider=origin.get("provider", ""),
                task_id=task_id or "",
            )
            encoded = replace(encoded, data=watermark.embed_provenance(encoded.data, prov))
        thumb = processing.thumbnail(image, self.settings.images.thumbnail_size)
        base = f"{prefix}/{image_id}" if prefix else f"images/{image_id[:2]}/{image_id}"
        key = f"{base}.{encoded.format}"
        thumb_key = f"{base}.thumb.webp"
        stored = self.storage.put(key, encoded.data, encoded.content_type)
        prepared.keys.append(key)
        stored_thumb = self.storage.put(thumb_key, thumb.data, thumb.content_type)
        prepared.keys.append(thumb_key)
        record = ImageRecord(
            id=image_id,
            owner=owner,
            task_id=task_id,
            position=position,
            storage_key=key,
            thumbnail_key=thumb_key,
            size_bytes=stored.size,
            width=encoded.width,
            height=encoded.height,
            format=encoded.format,
            content_type=encoded.content_type,
            etag=stored.etag,
            thumbnail_etag=stored_thumb.etag,
            seed=seed,
            created_at=utcnow(),
        )
        prepared.records.append(record)
        if verdict is not None:
            prepared.safety[image_id] = verdict
            if verdict.flagged and origin is None:
                log.warning(
                    "upload %s of %s: %s (NSFW score %.4f)",
                    image_id,
                    owner,
                    verdict.action,
                    verdict.score,
                    extra={"image_id": image_id, "safety": verdict.as_dict()},
                )
        return record

    def ingest(
        self,
        session_factory: Callable[[], AbstractContextManager[Session]],
        owner: str,
        data: bytes,
    ) -> ImageRecord:
        """An upload: validated (size, format, pixel count), orientation applied, metadata
        stripped by re-encoding, NSFW-checked, stored with a thumbnail, recorded. Raises
        :class:`atelier.images.processing.ImageRejected` for bad input and
        :class:`atelier.safety.errors.ContentRejected` for refused content."""
        limits = self.settings.images
        _, decoded = processing.open_image(
            data, max_bytes=limits.max_upload_bytes, max_pixels=limits.max_pixels
        )
        image = processing.normalize(decoded)
        prepared = PreparedImages()
        fmt: processing.OutputFormat = "png" if image.mode == "RGBA" else "jpeg"
        try:
            record = self.store(
                prepared, owner=owner, task_id=None, position=0, image=image, fmt=fmt
            )
            with session_factory() as session:
                session.add(record)
        except BaseException:
            self.discard(prepared.keys)
            raise
        return record

    def withdraw(
        self, session_factory: Callable[[], AbstractContextManager[Session]], image_id: str
    ) -> None:
        """Remove an upload no task came to use: its row, then its bytes."""
        with session_factory() as session:
            record = session.get(ImageRecord, image_id)
            if record is None:
                return
            keys = [k for k in (record.storage_key, record.thumbnail_key) if k]
            session.delete(record)
        self.discard(keys)

    def discard(self, keys: Iterable[str]) -> list[str]:
        """Delete objects (whose rows are gone or never were); returns the keys that failed."""
        failed = []
        for key in keys:
            try:
                self.storage.delete(key)
            except Exception:
                log.exception("could not delete stored object %s", key)
                failed.append(key)
        return failed

    def keys_of_task(self, session: Session, task_id: str) -> list[str]:
        rows = session.execute(
            select(ImageRecord.storage_key, ImageRecord.thumbnail_key).where(
                ImageRecord.task_id == task_id
            )
        ).all()
        return [k for row in rows for k in row if k]

    def get(self, session: Session, image_id: str, owner: str) -> ImageRecord | None:
        record = session.get(ImageRecord, image_id)
        if record is None or record.owner != owner:
            return None
        return record

    def for_tasks(self, session: Session, task_ids: list[str]) -> dict[str, list[ImageRecord]]:
        out: dict[str, list[ImageRecord]] = {t: [] for t in task_ids}
        if not task_ids:
            return out
        rows = session.scalars(
            select(ImageRecord)
            .where(ImageRecord.task_id.in_(task_ids))
            .order_by(ImageRecord.position)
        ).all()
        for row in rows:
            if row.task_id is not None:
                out[row.task_id].append(row)
        return out
