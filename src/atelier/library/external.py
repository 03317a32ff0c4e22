"""``/api/v1/external``: the library for other systems — add, get, random, search.

Only API keys get in (``X-API-Key: atl_…``, or ``Authorization: Bearer atl_…``; never in the
URL): a session or an access token is 401 ``api_key_required``. A key acts for its user with
its scopes: ``read`` for the GETs, ``write`` to add images (403 ``insufficient_scope``). Keys
are made, listed and revoked under ``/api/v1/auth/api-keys`` (docs/accounts.md).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile

from atelier.accounts.auth import Caller, current_user, require_scope
from atelier.api.deps import RuntimeDep, Submitter
from atelier.errors import Unauthorized
from atelier.library.endpoints import (
    FiltersDep,
    Library,
    import_library_images,
)
from atelier.library.schemas import ImportOut, LibraryImageDetail, LibraryImageOut, SearchOut

router = APIRouter(prefix="/api/v1/external", tags=["external"])


class ApiKeyRequired(Unauthorized):
    code = "api_key_required"


async def api_key_caller(caller: Annotated[Caller, Depends(current_user)]) -> Caller:
    """Dependency: the caller came with an API key."""
    if caller.kind != "api_key":
        raise ApiKeyRequired(
            "the external API takes an API key in the X-API-Key header",
            headers={"WWW-Authenticate": "ApiKey"},
        )
    return caller


KeyCaller = Annotated[Caller, Depends(api_key_caller)]
Read = Depends(require_scope("read"))
Write = Depends(require_scope("write"))


@router.post("/images", status_code=201, response_model=ImportOut, dependencies=[Write])
async def add_images(
    caller: KeyCaller,
    owner: Submitter,
    runtime: RuntimeDep,
    request: Request,
    files: Annotated[list[UploadFile] | None, File(description="Images to add.")] = None,
    urls: Annotated[
        list[str] | None,
        Form(description="Image URLs: a JSON array, one per line, or the field repeated."),
    ] = None,
    tags: Annotated[
        list[str] | None, Form(description="Tags for every image (they skip the analysis).")
    ] = None,
    title: Annotated[str | None, Form(max_length=200)] = None,
) -> ImportOut:
    """Add images to the key owner's library, from files and/or URLs, exactly as
    `POST /api/v1/library/images` does (duplicates reported, a `tag` task per new image)."""
    return await import_library_images(owner, runtime, request, files, urls, tags, title)


@router.get("/images/{image_id}", response_model=LibraryImageDetail, dependencies=[Read])
def get_image(image_id: str, caller: KeyCaller, library: Library) -> LibraryImageDetail:
    """One image of the key owner's library: its URLs (fetch them with the same key), tags,
    descriptions and analysis."""
    return library.get(caller.owner, image_id)


@router.get("/random", dependencies=[Read])
def random_images(
    caller: KeyCaller,
    library: Library,
    filters: FiltersDep,
    n: Annotated[int, Query(ge=1, le=100)] = 1,
) -> dict[str, list[LibraryImageOut]]:
    """`n` random images among those the filters allow."""
    return {"items": library.random(caller.owner, filters, n)}


@router.get("/search", response_model=SearchOut, dependencies=[Read])
def search(
    caller: KeyCaller,
    library: Library,
    filters: FiltersDep,
    q: Annotated[str, Query(max_length=500, description="Words, a sentence, in any language.")],
    k: Annotated[int, Query(ge=1, le=100)] = 20,
) -> SearchOut:
    """Hybrid search of the key owner's library (see `GET /api/v1/library/search`)."""
    return library.search(caller.owner, q, filters, k)
