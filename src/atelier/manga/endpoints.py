"""``/api/v1/manga``: submit a story, follow the job panel by panel, regenerate a panel, pick
the versions the page shows, compose the page again, export it. See ``docs/manga.md``."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Header, Query, Response
from starlette.concurrency import run_in_threadpool

from atelier.api.deps import JsonBody, Owner, RuntimeDep, Submitter, Tasks
from atelier.manga.schemas import (
    MangaCreate,
    MangaJobOut,
    PanelOut,
    PanelVersionOut,
    RegenerateIn,
    SelectIn,
)
from atelier.manga.service import MangaService
from atelier.runtime import Runtime
from atelier.tasks.schemas import TaskCreate, TaskCreated
from atelier.tasks.service import TaskService

router = APIRouter(prefix="/api/v1/manga", tags=["manga"])


def _service(runtime: Runtime, tasks: TaskService) -> MangaService:
    return MangaService(runtime, tasks)


@router.post("", status_code=201, response_model=TaskCreated, dependencies=[JsonBody])
async def create_manga(
    body: MangaCreate,
    owner: Submitter,
    tasks: Tasks,
    response: Response,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> TaskCreated:
    """Submit a story. Same as `POST /api/v1/tasks` with `kind: manga`; follow it with
    `GET /api/v1/manga/{task_id}` or the task's stream."""
    params = body.model_dump(exclude={"webhook_url"}, exclude_none=True)
    create = TaskCreate(kind="manga", params=params, webhook_url=body.webhook_url)
    task, created = await tasks.create_async(owner, create, idempotency_key)
    if not created:
        response.status_code = 200
        response.headers["Idempotent-Replayed"] = "true"
    position, estimate = await tasks.created_view_async(task)
    return TaskCreated(
        task_id=task.id,
        status=task.status,
        created_at=task.created_at,
        queue_position=position,
        estimated_time=estimate,
    )


@router.get("/{task_id}", response_model=MangaJobOut)
def get_manga(task_id: str, owner: Owner, runtime: RuntimeDep, tasks: Tasks) -> MangaJobOut:
    """The job: status and stage, the script, each panel's versions with their child tasks'
    progress and images, the current page and its export links, the failed panels."""
    return _service(runtime, tasks).view(owner, task_id)


@router.get("/{task_id}/panels/{panel_number}", response_model=PanelOut)
def get_panel(
    task_id: str, panel_number: int, owner: Owner, runtime: RuntimeDep, tasks: Tasks
) -> PanelOut:
    """One panel with every version."""
    return _service(runtime, tasks).panel(owner, task_id, panel_number)


@router.post(
    "/{task_id}/panels/{panel_number}/versions",
    status_code=201,
    response_model=PanelVersionOut,
    dependencies=[JsonBody],
)
def regenerate_panel(
    task_id: str,
    panel_number: int,
    owner: Submitter,
    runtime: RuntimeDep,
    tasks: Tasks,
    body: RegenerateIn | None = None,
) -> PanelVersionOut:
    """Draw the panel again (optionally from a new scene text or seed) as its next version:
    a child task of the job, followed like any task. Earlier versions are kept; select the
    new one with `PUT …/panels/{n}` once it completed, then `POST …/page`."""
    body = body or RegenerateIn()
    return _service(runtime, tasks).regenerate(
        owner, task_id, panel_number, text=body.text, seed=body.seed
    )


@router.put("/{task_id}/panels/{panel_number}", response_model=MangaJobOut, dependencies=[JsonBody])
def select_version(
    task_id: str,
    panel_number: int,
    body: SelectIn,
    owner: Owner,
    runtime: RuntimeDep,
    tasks: Tasks,
) -> MangaJobOut:
    """Choose the version (a completed one) the page shows for this panel."""
    return _service(runtime, tasks).select(owner, task_id, panel_number, body.version)


@router.post("/{task_id}/page", response_model=MangaJobOut)
async def compose_page(
    task_id: str, owner: Owner, runtime: RuntimeDep, tasks: Tasks
) -> MangaJobOut:
    """Compose and store the page again from the selected versions (the next page version);
    answers when it is stored."""
    return await run_in_threadpool(_service(runtime, tasks).recompose, owner, task_id)


@router.get(
    "/{task_id}/export",
    response_class=Response,
    responses={
        200: {
            "content": {
                "image/png": {},
                "image/webp": {},
                "application/pdf": {},
                "application/vnd.comicbook+zip": {},
            }
        }
    },
)
async def export_page(
    task_id: str,
    owner: Owner,
    runtime: RuntimeDep,
    tasks: Tasks,
    format: Annotated[
        Literal["png", "webp", "pdf", "cbz"], Query(description="png, webp, pdf or cbz.")
    ] = "png",
) -> Response:
    """The current page as a file (`Content-Disposition: attachment`)."""
    out, filename = await run_in_threadpool(_service(runtime, tasks).export, owner, task_id, format)
    return Response(
        content=out.data,
        media_type=out.media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "private, no-cache",
            "X-Content-Type-Options": "nosniff",
        },
    )
