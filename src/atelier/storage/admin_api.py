"""``/api/v1/admin/storage/endpoints``: storage endpoints at run time (admin only)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Response

from atelier.api.deps import JsonBody, RuntimeDep
from atelier.runtime import Runtime
from atelier.storage.admin import (
    ENDPOINT_ID,
    EndpointIn,
    EndpointList,
    EndpointPatch,
    EndpointView,
    StorageAdmin,
)
from atelier.storage.admin_guard import require_admin

router = APIRouter(
    prefix="/api/v1/admin/storage",
    tags=["admin"],
    dependencies=[Depends(require_admin)],
    responses={
        401: {"description": "missing or wrong admin token"},
        403: {"description": "`admin_disabled`: ATELIER_ADMIN_TOKEN is not set"},
    },
)
EndpointId = Annotated[str, Path(pattern=ENDPOINT_ID, description="The endpoint's id.")]


def _admin(runtime: Runtime) -> StorageAdmin:
    return StorageAdmin(runtime.settings, runtime.db, runtime.storage)


@router.get("/endpoints")
def list_endpoints(
    runtime: RuntimeDep,
    max_age: Annotated[
        float | None,
        Query(ge=0, le=3600, description="Probe endpoints checked longer ago than this (s)."),
    ] = None,
) -> EndpointList:
    """Every endpoint with its health, the objects it holds and the copies still due."""
    return _admin(runtime).list(max_age)


@router.post(
    "/endpoints",
    status_code=201,
    dependencies=[JsonBody],
    responses={
        409: {"description": "`endpoint_exists`, `multi_storage_off`"},
        422: {"description": "invalid, `endpoint_unreachable` or `secret_unavailable`"},
    },
)
def add_endpoint(runtime: RuntimeDep, body: EndpointIn) -> EndpointView:
    """Add an endpoint (probed first: it must accept a write). A new endpoint is active and
    receives a copy of every object through the replication job."""
    return _admin(runtime).add(body)


@router.patch(
    "/endpoints/{endpoint_id}",
    dependencies=[JsonBody],
    responses={404: {"description": "no such endpoint"}, 409: {"description": "conflict"}},
)
def update_endpoint(
    runtime: RuntimeDep, endpoint_id: EndpointId, body: EndpointPatch
) -> EndpointView:
    """Change an endpoint's name, role, state, read priority or weight."""
    return _admin(runtime).update(endpoint_id, body)


@router.post(
    "/endpoints/{endpoint_id}/drain",
    responses={404: {"description": "no such endpoint"}, 409: {"description": "conflict"}},
)
def drain_endpoint(runtime: RuntimeDep, endpoint_id: EndpointId) -> EndpointView:
    """Stop writing to the endpoint; the replication job copies what it holds elsewhere."""
    return _admin(runtime).drain(endpoint_id)


@router.delete(
    "/endpoints/{endpoint_id}",
    status_code=204,
    responses={
        404: {"description": "no such endpoint"},
        409: {
            "description": "`endpoint_not_drained`, `endpoint_holds_only_copy` (details: "
            "objects, sample keys) or `endpoint_scan_pending`"
        },
    },
)
def remove_endpoint(runtime: RuntimeDep, endpoint_id: EndpointId) -> Response:
    """Remove a drained (or down) endpoint, refused while it holds the only copy of any
    object. Its objects are left in place; nothing reads them any more."""
    _admin(runtime).remove(endpoint_id)
    return Response(status_code=204)
