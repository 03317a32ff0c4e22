"""Importing images into the library: files and URLs, duplicates, tag tasks.

An import is all or nothing: every item is checked first (an uploaded file as ``/images``
checks it: size, format, pixel count; a URL fetched by :mod:`atelier.library.fetch`), and
one bad item refuses the request with its error (details name the item) before anything is
stored. Then, item by item:

- **exact duplicates** — the owner already has an image with the same SHA-256 (of the bytes as
  given), or an earlier item of the request has it: nothing is stored, the item reports
  ``duplicate`` with the existing image's id;
- otherwise the image is stored as uploads are (upright, metadata stripped, with a thumbnail),
  and reports ``created`` with its **near duplicates**: the owner's images (and earlier items)
  whose perceptual hash is within ``LIBRARY__NEAR_DUPLICATE_DISTANCE`` bits.

The image rows, library rows, the user's tags and one ``tag`` task per created image are
committed in one transaction (bytes written before it are deleted if it fails); with more
than one item a ``library_batch`` parent holds the tag tasks, and its progress counts them.
``UNIQUE (owner, sha256)`` settles two imports of the same bytes at once: the loser is
retried and finds the winner's image.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from sqlalchemy.exc import IntegrityError

from atelier.db.base import utcnow
from atelier.errors import AtelierError, PayloadTooLarge, UnsupportedMediaType, ValidationFailed
from atelier.images import processing
from atelier.images.service import PreparedImages
from atelier.library import store
from atelier.library.analysis import user_tags
from atelier.library.dedup import hamming, phash, sha256_hex, to_signed
from atelier.library.index import LibraryIndex
from atelier.library.models import LibraryImage
from atelier.runtime import Runtime
from atelier.tasks import children, lifecycle
from atelier.tasks.lifecycle import Event, TaskStatus
from atelier.tasks.models import Task
from atelier.worker.celery_app import LIBRARY_QUEUE

log = logging.getLogger(__name__)

REJECTIONS: dict[str, type[AtelierError]] = {
    "payload_too_large": PayloadTooLarge,
    "unsupported_media_type": UnsupportedMediaType,
    "validation_error": ValidationFailed,
}


@dataclass
class Source:
    """One item to import: bytes and where they came from."""

    data: bytes
    kind: Literal["upload", "url"]
    filename: str | None = None
    url: str | None = None


@dataclass
class _Checked:
    source: Source
    image: Any  # the decoded, normalised picture
    sha256: str
    phash: int  # unsigned


@dataclass
class Item:
    image_id: str
    status: Literal["created", "duplicate"]
    near_duplicates: list[dict[str, Any]] = field(default_factory=list)
    task_id: str | None = None
    filename: str | None = None
    url: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "image_id": self.image_id,
            "status": self.status,
            "near_duplicates": self.near_duplicates,
            "task_id": self.task_id,
            "filename": self.filename,
            "url": self.url,
        }


@dataclass
class Imported:
    items: list[Item]
    batch_task_id: str | None
    tasks: list[tuple[str, str, Event]] = field(default_factory=list)


def check(runtime: Runtime, sources: Sequence[Source]) -> list[_Checked]:
    """Decode and hash every item; the first bad one refuses the import."""
    limits = runtime.settings.images
    out = []
    for position, source in enumerate(sources):
        try:
            _, decoded = processing.open_image(
                source.data, max_bytes=limits.max_upload_bytes, max_pixels=limits.max_pixels
            )
        except processing.ImageRejected as exc:
            details = {"index": position, "filename": source.filename, "url": source.url}
            raise REJECTIONS[exc.code](exc.message, details=details) from None
        image = processing.normalize(decoded)
        out.append(_Checked(source, image, sha256_hex(source.data), phash(image)))
    return out


def import_images(
    runtime: Runtime,
    index: LibraryIndex,
    owner: str,
    sources: Sequence[Source],
    *,
    tags: Sequence[str] = (),
    title: str | None = None,
    dispatch: bool = True,
) -> Imported:
    checked = check(runtime, sources)
    for attempt in range(3):
        try:
            imported = _store(runtime, index, owner, checked, tags, title)
            break
        except IntegrityError:  # the same bytes imported at the same time: look again
            if attempt == 2:
                raise
            log.info("library import raced another one; retrying")
    if dispatch and imported.tasks:
        runtime.dispatcher.submit_many(imported.tasks)
    return imported


def _store(
    runtime: Runtime,
    index: LibraryIndex,
    owner: str,
    checked: list[_Checked],
    tags: Sequence[str],
    title: str | None,
) -> Imported:
    index.refresh()
    threshold = runtime.settings.library.near_duplicate_distance
    with runtime.db.read() as s:
        existing = store.by_sha256(s, owner, [c.sha256 for c in checked])
    prepared = PreparedImages()
    items: list[Item] = []
    rows: list[LibraryImage] = []
    fresh: list[tuple[str, int]] = []  # (image id, phash) of this import's new images
    seen: dict[str, str] = {}  # sha256 -> image id within this import
    clean_tags = user_tags(tags)
    try:
        for position, c in enumerate(checked):
            src = c.source
            dup = existing.get(c.sha256) or seen.get(c.sha256)
            if dup is not None:
                items.append(Item(dup, "duplicate", filename=src.filename, url=src.url))
                continue
            near = [
                {"image_id": m.id, "distance": m.distance}
                for m in index.near_duplicates(owner, to_signed(c.phash))
            ]
            near += [
                {"image_id": other, "distance": d}
                for other, value in fresh
                if (d := hamming(value, c.phash)) <= threshold
            ]
            near.sort(key=lambda n: (n["distance"], n["image_id"]))
            fmt: processing.OutputFormat = "png" if c.image.mode == "RGBA" else "jpeg"
            record = runtime.images.store(
                prepared, owner=owner, task_id=None, position=position, image=c.image, fmt=fmt
            )
            seen[c.sha256] = record.id
            fresh.append((record.id, c.phash))
            rows.append(
                LibraryImage(
                    image_id=record.id,
                    owner=owner,
                    sha256=c.sha256,
                    phash=to_signed(c.phash),
                    source=src.kind,
                    original_filename=(src.filename or "")[:255] or None,
                    source_url=src.url,
                    title=title,
                    description_en="",
                    description_zh="",
                    status="pending",
                    created_at=record.created_at,
                    updated_at=record.created_at,
                )
            )
            items.append(Item(record.id, "created", near, filename=src.filename, url=src.url))
        created = [i for i in items if i.status == "created"]
        batch_id = str(uuid.uuid4()) if len(checked) > 1 and created else None
        for item in created:
            item.task_id = (
                children.child_id(batch_id, item.image_id) if batch_id else str(uuid.uuid4())
            )
        tasks: list[tuple[str, str, Event]] = []
        with runtime.db.session() as s:
            s.add_all(prepared.records)
            s.flush()
            for row in rows:
                row.tag_task_id = None
                s.add(row)
            s.flush()
            for row in rows:
                s.add_all(store.tag_rows(row.image_id, clean_tags, "user"))
            store.changed(s, [r.image_id for r in rows])
            if batch_id is not None:
                ids = [i.image_id for i in created]
                tasks.append(new_task(s, batch_id, "library_batch", owner, {"image_ids": ids}))
            for item in created:
                params = {"image_id": item.image_id, "mode": "auto"}
                assert item.task_id is not None
                tasks.append(new_task(s, item.task_id, "tag", owner, params, parent_id=batch_id))
            s.flush()
            for row, item in zip(rows, created, strict=True):
                row.tag_task_id = item.task_id
    except BaseException:
        runtime.images.discard(prepared.keys)
        raise
    return Imported(items, batch_id, tasks)


def new_task(
    s: Any,
    task_id: str,
    kind: str,
    owner: str,
    params: dict[str, Any],
    *,
    parent_id: str | None = None,
) -> tuple[str, str, Event]:
    """A pending task and its ``created`` event, in the caller's transaction."""
    now = utcnow()
    task = Task(
        id=task_id,
        kind=kind,
        owner=owner,
        queue=LIBRARY_QUEUE,
        params=params,
        status=TaskStatus.PENDING.value,
        stage=None,
        stage_current=0,
        stage_total=0,
        progress=0,
        attempts=0,
        worker_losses=0,
        parent_id=parent_id,
        last_seq=1,
        dispatch_at=now,
        created_at=now,
        updated_at=now,
    )
    s.add(task)
    s.flush()
    return task.id, task.queue, lifecycle.append_event(s, task, lifecycle.EventType.CREATED)


def new_tag_task(
    runtime: Runtime, owner: str, image_id: str, mode: str, *, dispatch: bool = True
) -> str:
    """Create (and send) a top-level ``tag`` task for one library image; the library row
    points at it."""
    task_id = str(uuid.uuid4())
    with runtime.db.session() as s:
        created = new_task(s, task_id, "tag", owner, {"image_id": image_id, "mode": mode})
        row = s.get(LibraryImage, image_id)
        if row is not None:
            row.tag_task_id = task_id
            row.updated_at = utcnow()
    if dispatch:
        runtime.dispatcher.submit_many([created])
    return task_id
