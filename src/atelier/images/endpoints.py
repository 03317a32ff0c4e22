"""``/api/v1/images/{id}``: image bytes with strong ETags and long-lived cache headers."""

from __future__ import annotations

import hashlib
from typing import Annotated, Any

from fastapi import APIRouter, File, Query, Request, Response, UploadFile
from starlette.concurrency import run_in_threadpool

from atelier.accounts.sessions import owner_of
from atelier.api.deps import RuntimeDep, Submitter
from atelier.errors import (
    AtelierError,
    NotFound,
    PayloadTooLarge,
    UnsupportedMediaType,
    ValidationFailed,
)
from atelier.images.models import ImageRecord
from atelier.images.processing import ImageRejected
from atelier.images.schemas import image_links
from atelier.images.signing import verify
from atelier.runtime import Runtime
from atelier.storage.base import ObjectNotFound
from atelier.tasks.models import Task
from atelier.tasks.schemas import TaskCreate
from atelier.tasks.service import TaskService

router = APIRouter(prefix="/api/v1", tags=["images"])


def _load(runtime: Runtime, owner: str, image_id: str) -> ImageRecord:
    with runtime.db.read() as s:
        record = runtime.images.get(s, image_id, owner)
    if record is None:
        raise NotFound("image not found", details={"image_id": image_id})
    return record


async def _serve(
    request: Request, runtime: Runtime, key: str, etag: str, content_type: str
) -> Response:
    quoted = f'"{etag}"'
    headers = {
        "ETag": quoted,
        "Cache-Control": f"private, max-age={runtime.settings.images.cache_max_age}, immutable",
        "X-Content-Type-Options": "nosniff",
    }
    match = request.headers.get("if-none-match", "")
    if quoted in [m.strip() for m in match.split(",")] or match.strip() == "*":
        return Response(status_code=304, headers=headers)
    try:
        data = await run_in_threadpool(runtime.storage.get, key)
    except ObjectNotFound:
        raise NotFound("image bytes are missing", details={"key": key}) from None
    return Response(content=data, media_type=content_type, headers=headers)


REJECTIONS: dict[str, type[AtelierError]] = {
    "payload_too_large": PayloadTooLarge,
    "unsupported_media_type": UnsupportedMediaType,
    "validation_error": ValidationFailed,
}


@router.post("/images", status_code=201)
async def upload_image(
    owner: Submitter,
    runtime: RuntimeDep,
    file: Annotated[UploadFile, File(description="JPEG, PNG, WebP, GIF, BMP or TIFF.")],
) -> dict[str, Any]:
    """Upload an image (for example a photo to stylize). Orientation is applied and metadata
    (EXIF, GPS, XMP) stripped before it is stored."""
    record = await ingest_upload(runtime, owner, file)
    return image_links(record, runtime.settings)


async def ingest_upload(runtime: Runtime, owner: str, upload: UploadFile) -> ImageRecord:
    """Read an uploaded file (one byte past the cap is enough to refuse it) and store it as
    an image of ``owner``; bad input becomes its 413/415/422."""
    data = await upload.read(runtime.settings.images.max_upload_bytes + 1)
    try:
        return await run_in_threadpool(runtime.images.ingest, runtime.db.session, owner, data)
    except ImageRejected as exc:
        raise REJECTIONS[exc.code](exc.message) from None


async def ingest_for_task(
    runtime: Runtime, owner: str, upload: UploadFile
) -> tuple[ImageRecord, str]:
    """:func:`ingest_upload` for an endpoint that makes a task of the photo: the record, and
    the SHA-256 of the bytes sent (what names the photo in an ``Idempotency-Key`` replay)."""
    record = await ingest_upload(runtime, owner, upload)
    await upload.seek(0)
    digest = hashlib.sha256(await upload.read()).hexdigest()
    return record, digest


async def create_for_upload(
    runtime: Runtime,
    tasks: TaskService,
    owner: str,
    upload: tuple[ImageRecord, str],
    body: TaskCreate,
    idempotency_key: str | None = None,
) -> tuple[Task, bool]:
    """Create the task that works on a just-stored upload (from :func:`ingest_for_task`).
    A repeat of the request with its ``Idempotency-Key`` matches by the photo's bytes, not
    by the new copy's id. The upload is withdrawn when no task uses it: the submission was
    refused (invalid params, the prompt filter, a quota) or replayed (that task works on the
    first request's photo)."""
    record, digest = upload
    identity = {
        **body.params,
        **{k: f"sha256:{digest}" for k, v in body.params.items() if v == record.id},
    }

    def create() -> tuple[Task, bool]:
        return tasks.create(owner, body, idempotency_key, identity=identity)

    try:
        task, created = await run_in_threadpool(create)
    except Exception:
        await run_in_threadpool(runtime.images.withdraw, runtime.db.session, record.id)
        raise
    if not created:
        await run_in_threadpool(runtime.images.withdraw, runtime.db.session, record.id)
    return task, created


def _authorised(
    request: Request,
    runtime: Runtime,
    image_id: str,
    variant: str,
    expires: int | None,
    sig: str | None,
) -> ImageRecord:
    """A valid signed URL opens the image to anyone holding it; otherwise the owner's."""
    if sig is not None and expires is not None:
        if not verify(runtime.settings, image_id, variant, expires, sig):
            raise NotFound("image not found", details={"image_id": image_id})
        with runtime.db.read() as s:
            record = s.get(ImageRecord, image_id)
        if record is None:
            raise NotFound("image not found", details={"image_id": image_id})
        return record
    owner = owner_of(request, Response())
    return _load(runtime, owner, image_id)


@router.get(
    "/images/{image_id}",
    response_class=Response,
    responses={200: {"content": {"image/png": {}, "image/webp": {}, "image/jpeg": {}}}},
)
async def get_image(
    image_id: str,
    request: Request,
    runtime: RuntimeDep,
    expires: Annotated[int | None, Query(description="Signed URL expiry (epoch s).")] = None,
    sig: Annotated[str | None, Query(max_length=64, description="Signed URL signature.")] = None,
) -> Response:
    """The image bytes, for its owner or for a signed URL."""
    record = await run_in_threadpool(_authorised, request, runtime, image_id, "full", expires, sig)
    return await _serve(request, runtime, record.storage_key, record.etag, record.content_type)


@router.get(
    "/images/{image_id}/thumbnail",
    response_class=Response,
    responses={200: {"content": {"image/webp": {}}}},
)
async def get_thumbnail(
    image_id: str,
    request: Request,
    runtime: RuntimeDep,
    expires: Annotated[int | None, Query()] = None,
    sig: Annotated[str | None, Query(max_length=64)] = None,
) -> Response:
    record = await run_in_threadpool(
        _authorised, request, runtime, image_id, "thumbnail", expires, sig
    )
    if not record.thumbnail_key:
        raise NotFound("this image has no thumbnail", details={"image_id": image_id})
    return await _serve(
        request, runtime, record.thumbnail_key, record.thumbnail_etag or "", "image/webp"
    )
