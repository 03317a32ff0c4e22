"""``/api/v1/library``: import, browse, edit, search the image library; collections and their
read-only shared listings (``/api/v1/shared/{token}``). See docs/library.md."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Query, Request, Response, UploadFile
from starlette.concurrency import run_in_threadpool

from atelier.accounts.auth import current_user
from atelier.accounts.errors import Forbidden
from atelier.api.deps import JsonBody, Owner, RuntimeDep, Submitter
from atelier.errors import AtelierError, NotFound, ValidationFailed
from atelier.images import processing
from atelier.library import fetch
from atelier.library.index import LibraryIndex
from atelier.library.ingest import REJECTIONS, Source, import_images
from atelier.library.schemas import (
    CollectionDetail,
    CollectionIn,
    CollectionOut,
    CollectionPage,
    CollectionPatch,
    ImagePage,
    ImagePatch,
    ImportOut,
    ItemsIn,
    LibraryImageDetail,
    LibraryImageOut,
    PatchOut,
    ReembedOut,
    SearchOut,
    SharedOut,
    ShareOut,
)
from atelier.library.schemas import Source as SourceName
from atelier.library.service import LibraryService
from atelier.library.store import Filters
from atelier.runtime import Runtime

INT32 = 2**31 - 1  # the pixel columns' range: past it a filter is a 422, not a 500
router = APIRouter(prefix="/api/v1/library", tags=["library"])
shared_router = APIRouter(prefix="/api/v1", tags=["library"])
_index_lock = threading.Lock()


def library_index(request: Request) -> LibraryIndex:
    """The search index of this API process (one per application)."""
    state = request.app.state
    found: LibraryIndex | None = getattr(state, "library_index", None)
    if found is None:
        with _index_lock:
            found = getattr(state, "library_index", None)
            if found is None:
                found = LibraryIndex(state.runtime)
                state.library_index = found
    return found


def library_service(request: Request) -> LibraryService:
    return LibraryService(request.app.state.runtime, library_index(request))


Library = Annotated[LibraryService, Depends(library_service)]


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _split(values: list[str] | None) -> tuple[str, ...]:
    out: list[str] = []
    for value in values or []:
        out += [part.strip() for part in value.split(",") if part.strip()]
    return tuple(dict.fromkeys(out))


def filters(
    tags: Annotated[
        list[str] | None,
        Query(description="Images with every one of these tags (repeat, or comma-separated)."),
    ] = None,
    collection: Annotated[str | None, Query(max_length=36, description="A collection id.")] = None,
    created_from: Annotated[datetime | None, Query(description="Created at or after.")] = None,
    created_to: Annotated[datetime | None, Query(description="Created before.")] = None,
    min_width: Annotated[int | None, Query(ge=1, le=INT32)] = None,
    max_width: Annotated[int | None, Query(ge=1, le=INT32)] = None,
    min_height: Annotated[int | None, Query(ge=1, le=INT32)] = None,
    max_height: Annotated[int | None, Query(ge=1, le=INT32)] = None,
    source: Annotated[
        SourceName | None, Query(description="`upload`, `url` or `generated`.")
    ] = None,
    kind: Annotated[SourceName | None, Query(description="Same as `source`.")] = None,
) -> Filters:
    if source is not None and kind is not None and source != kind:
        raise ValidationFailed("source and kind disagree", details={"field": "kind"})
    tag_list = _split(tags)
    if any(len(t) > 100 for t in tag_list) or len(tag_list) > 20:
        raise ValidationFailed("at most 20 tags of 100 characters", details={"field": "tags"})
    return Filters(
        tags=tag_list,
        collection=collection,
        created_from=_utc(created_from),
        created_to=_utc(created_to),
        min_width=min_width,
        max_width=max_width,
        min_height=min_height,
        max_height=max_height,
        source=source or kind,
    )


FiltersDep = Annotated[Filters, Depends(filters)]


# -- import -------------------------------------------------------------------------------------
def _list_field(values: list[str] | None, field: str) -> list[str]:
    """A form field given as a JSON array of strings, as lines, or repeated."""
    out: list[str] = []
    for value in values or []:
        text = value.strip()
        if not text:
            continue
        if text.startswith("["):
            try:
                parsed = json.loads(text)
            except ValueError:
                raise ValidationFailed(
                    f"{field} is not a valid JSON array", details={"field": field}
                ) from None
            if not isinstance(parsed, list) or not all(isinstance(p, str) for p in parsed):
                raise ValidationFailed(
                    f"{field} must be an array of strings", details={"field": field}
                )
            out += [p.strip() for p in parsed if p.strip()]
        else:
            out += [line.strip() for line in text.splitlines() if line.strip()]
    return out


def _fetch_all(runtime: Runtime, urls: list[str]) -> list[Source]:
    out = []
    for position, url in enumerate(urls):
        try:
            got = fetch.fetch(url, runtime.settings)
        except AtelierError as exc:
            details = exc.details if isinstance(exc.details, dict) else {}
            exc.details = {**details, "index": position, "url": url}
            raise
        out.append(Source(got.data, "url", filename=got.filename, url=url))
    return out


@router.post("/images", status_code=201, response_model=ImportOut)
async def import_library_images(
    owner: Submitter,
    runtime: RuntimeDep,
    request: Request,
    files: Annotated[
        list[UploadFile] | None, File(description="Images (JPEG, PNG, WebP, GIF, BMP, TIFF).")
    ] = None,
    urls: Annotated[
        list[str] | None,
        Form(description="Image URLs: a JSON array, one per line, or the field repeated."),
    ] = None,
    tags: Annotated[
        list[str] | None,
        Form(description="Your tags for every image: a JSON array, comma-separated, or repeated."),
    ] = None,
    title: Annotated[str | None, Form(max_length=200)] = None,
) -> ImportOut:
    """Import images into the library, from files and/or URLs. Exact duplicates of your
    images are not stored again (`status: duplicate`, with the existing id); near duplicates
    are stored and listed. Each new image gets a `tag` task (analysis → embedding →
    indexing); with several items, `batch_task_id` follows them all."""
    settings = runtime.settings
    url_list = _list_field(urls, "urls")
    tag_list: list[str] = []
    for value in _list_field(tags, "tags"):
        tag_list += [t.strip() for t in value.split(",") if t.strip()]
    uploads = files or []
    count = len(uploads) + len(url_list)
    if count == 0:
        raise ValidationFailed("send one or more files or urls", details={"field": "files"})
    if count > settings.library.max_batch:
        raise ValidationFailed(
            f"at most {settings.library.max_batch} images per import",
            details={"field": "files", "max": settings.library.max_batch},
        )
    if len(tag_list) > 50 or any(len(t) > 100 for t in tag_list):
        raise ValidationFailed("at most 50 tags of 100 characters", details={"field": "tags"})
    sources: list[Source] = []
    for position, upload in enumerate(uploads):
        data = await upload.read(settings.images.max_upload_bytes + 1)
        if len(data) > settings.images.max_upload_bytes:
            raise REJECTIONS["payload_too_large"](
                f"the file is larger than {settings.images.max_upload_bytes} bytes",
                details={"index": position, "filename": upload.filename},
            )
        sources.append(Source(data, "upload", filename=upload.filename))
    if url_list:
        sources += await run_in_threadpool(_fetch_all, runtime, url_list)
    index = library_index(request)
    imported = await run_in_threadpool(
        import_images, runtime, index, owner, sources, tags=tag_list, title=title or None
    )
    return ImportOut.model_validate(
        {"items": [i.as_dict() for i in imported.items], "batch_task_id": imported.batch_task_id}
    )


# -- browse -------------------------------------------------------------------------------------
@router.get("/images", response_model=ImagePage)
def list_library_images(
    owner: Owner,
    library: Library,
    filters: FiltersDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> ImagePage:
    """Your library, newest first, filtered; follow `next_cursor` for more."""
    return library.list_images(owner, filters, limit=limit, cursor=cursor)


@router.get("/images/{image_id}", response_model=LibraryImageDetail)
def get_library_image(image_id: str, owner: Owner, library: Library) -> LibraryImageDetail:
    """One image with its tags, descriptions, collections and the whole analysis."""
    return library.get(owner, image_id)


@router.patch("/images/{image_id}", response_model=PatchOut, dependencies=[JsonBody])
def patch_library_image(
    image_id: str, body: ImagePatch, owner: Owner, library: Library
) -> PatchOut:
    """Edit your tags (they replace your earlier ones; the analyser's stay) and the title; a
    `tag` task then computes the embedding again."""
    return library.patch(
        owner,
        image_id,
        title=body.title,
        tags=body.tags,
        title_given="title" in body.model_fields_set,
    )


@router.delete("/images/{image_id}", status_code=204)
def delete_library_image(image_id: str, owner: Owner, library: Library) -> Response:
    """Delete the image: its rows, its vectors and its bytes."""
    library.delete(owner, image_id)
    return Response(status_code=204)


@router.get("/images/{image_id}/similar", response_model=SearchOut)
def similar_images(
    image_id: str,
    owner: Owner,
    library: Library,
    filters: FiltersDep,
    k: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Annotated[int, Query(ge=0, le=1000, description="Skip this many hits (paging).")] = 0,
) -> SearchOut:
    """Images like this one: by CLIP image embedding when a CLIP model is configured, else
    by the embedding of tags and descriptions. Paged by `offset` (`next_offset`)."""
    return library.similar(owner, image_id, filters, k, offset)


@router.get("/random")
def random_images(
    owner: Owner,
    library: Library,
    filters: FiltersDep,
    n: Annotated[int, Query(ge=1, le=100)] = 1,
) -> dict[str, list[LibraryImageOut]]:
    """`n` images picked at random among those the filters allow."""
    return {"items": library.random(owner, filters, n)}


# -- search -------------------------------------------------------------------------------------
@router.get("/search", response_model=SearchOut)
def search_library(
    owner: Owner,
    library: Library,
    filters: FiltersDep,
    q: Annotated[str, Query(max_length=500, description="Words, a sentence, in any language.")],
    k: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Annotated[int, Query(ge=0, le=1000, description="Skip this many hits (paging).")] = 0,
) -> SearchOut:
    """Hybrid search: meaning (vector similarity), tags and full text (BM25), weighted by
    `LIBRARY__WEIGHT_*`. Each hit tells which parts matched. An empty `q` lists the images
    the filters allow, newest first. Paged by `offset` (`next_offset` says where the next
    page starts)."""
    return library.search(owner, q, filters, k, offset)


@router.post("/search/image", response_model=SearchOut)
async def search_by_image(
    owner: Owner,
    runtime: RuntimeDep,
    request: Request,
    filters: FiltersDep,
    file: Annotated[UploadFile | None, File(description="The example image.")] = None,
    image_id: Annotated[str | None, Form(max_length=36, description="Or one of yours.")] = None,
    k: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Annotated[int, Query(ge=0, le=1000, description="Skip this many hits (paging).")] = 0,
) -> SearchOut:
    """Search by example (an upload or one of your images), by CLIP image similarity. Without
    a CLIP model configured: 409 `image_embedder_unavailable`. Paged by `offset`."""
    library = LibraryService(runtime, library_index(request))
    if (file is None) == (image_id is None):
        raise ValidationFailed("send either a file or an image_id", details={"field": "file"})
    if image_id is not None:
        return await run_in_threadpool(
            lambda: library.search_by_image(owner, filters, k, image_id=image_id, offset=offset)
        )
    assert file is not None
    limits = runtime.settings.images
    data = await file.read(limits.max_upload_bytes + 1)

    def run() -> SearchOut:
        try:
            _, picture = processing.open_image(
                data, max_bytes=limits.max_upload_bytes, max_pixels=limits.max_pixels
            )
        except processing.ImageRejected as exc:
            raise REJECTIONS[exc.code](exc.message, details={"field": "file"}) from None
        return library.search_by_image(
            owner, filters, k, picture=processing.normalize(picture), offset=offset
        )

    return await run_in_threadpool(run)


async def operator_in_production(request: Request) -> None:
    """Re-embedding rewrites every owner's vectors: in `production` mode only an admin may
    start it (401 `authentication_required`, 403 `forbidden`; operators without an account
    have `atelier library reembed`); in `local` mode, the one person using the server."""
    if request.app.state.settings.mode == "production":
        caller = await current_user(request)
        if not caller.is_admin:
            raise Forbidden("re-embedding the library needs an admin account")


@router.post(
    "/reembed",
    status_code=201,
    response_model=ReembedOut,
    dependencies=[Depends(operator_in_production)],
)
def reembed_library(
    owner: Submitter,
    library: Library,
    response: Response,
    force: Annotated[bool, Query(description="Run even when nothing seems stale.")] = False,
) -> ReembedOut:
    """Re-embed the library with the configured models (after `LIBRARY__EMBEDDER` or
    `LIBRARY__CLIP_MODEL` changed): a background `reembed` task with progress; vectors of
    other models are deleted at its end. 409 `reembed_not_needed` when nothing is stale. It
    re-embeds every owner's images: in `production` mode it needs an admin account (401
    `authentication_required`, 403 `forbidden`)."""
    out = library.reembed(owner, force=force)
    if not out.created:
        response.status_code = 200
    return out


# -- collections --------------------------------------------------------------------------------
@router.post("/collections", status_code=201, response_model=CollectionOut, dependencies=[JsonBody])
def create_collection(body: CollectionIn, owner: Owner, library: Library) -> CollectionOut:
    return library.create_collection(owner, body.name, body.description)


@router.get("/collections", response_model=CollectionPage)
def list_collections(owner: Owner, library: Library) -> CollectionPage:
    return CollectionPage(items=library.collections(owner))


@router.get("/collections/{collection_id}", response_model=CollectionDetail)
def get_collection(collection_id: str, owner: Owner, library: Library) -> CollectionDetail:
    """The collection with its newest 100 images (`GET /library/images?collection=` pages
    through all)."""
    return library.collection(owner, collection_id)


@router.patch("/collections/{collection_id}", response_model=CollectionOut, dependencies=[JsonBody])
def update_collection(
    collection_id: str, body: CollectionPatch, owner: Owner, library: Library
) -> CollectionOut:
    return library.update_collection(owner, collection_id, body.name, body.description)


@router.delete("/collections/{collection_id}", status_code=204)
def delete_collection(collection_id: str, owner: Owner, library: Library) -> Response:
    """Delete the collection (its images stay in the library)."""
    library.delete_collection(owner, collection_id)
    return Response(status_code=204)


@router.post(
    "/collections/{collection_id}/items", response_model=CollectionOut, dependencies=[JsonBody]
)
def add_collection_items(
    collection_id: str, body: ItemsIn, owner: Owner, library: Library
) -> CollectionOut:
    return library.add_items(owner, collection_id, body.image_ids)


@router.delete(
    "/collections/{collection_id}/items", response_model=CollectionOut, dependencies=[JsonBody]
)
def remove_collection_items(
    collection_id: str, body: ItemsIn, owner: Owner, library: Library
) -> CollectionOut:
    return library.remove_items(owner, collection_id, body.image_ids)


@router.post("/collections/{collection_id}/share", response_model=ShareOut)
def share_collection(collection_id: str, owner: Owner, library: Library) -> ShareOut:
    """A token that opens `GET /api/v1/shared/{token}` to anyone (read-only, signed image
    URLs); the same token until revoked."""
    return library.share(owner, collection_id)


@router.delete("/collections/{collection_id}/share", status_code=204)
def unshare_collection(collection_id: str, owner: Owner, library: Library) -> Response:
    library.unshare(owner, collection_id)
    return Response(status_code=204)


@shared_router.get("/shared/{token}", response_model=SharedOut)
def shared_collection(token: str, request: Request, runtime: RuntimeDep) -> SharedOut:
    """A shared collection: its images with signed URLs, no session needed."""
    if not 8 <= len(token) <= 64:
        raise NotFound("no shared collection with this token")
    return LibraryService(runtime, library_index(request)).shared(token)
