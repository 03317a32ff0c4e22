"""The original platform's routes, kept as documented: ``/generate``, ``/task``, ``/history``."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Response
from pydantic import BaseModel

from atelier.api.deps import JsonBody, Owner, Submitter, Tasks
from atelier.generation.schemas import GenerateParams
from atelier.tasks.schemas import TaskCreate, TaskError, TaskOut

router = APIRouter(prefix="/api/v1", tags=["generate"])


class GenerateCreated(BaseModel):
    task_id: str
    status: str
    created_at: datetime
    estimated_time: float | None
    queue_position: int | None = None


class LegacyTask(BaseModel):
    task_id: str
    status: str
    progress: int
    stage: str | None = None
    images: list[dict[str, Any]] = []
    error: TaskError | None = None
    prompt: str | None = None
    created_at: datetime
    started_at: datetime | None = None
    completed_at: datetime | None = None


class HistoryPage(BaseModel):
    items: list[LegacyTask]
    next_cursor: str | None


def legacy(task: TaskOut) -> LegacyTask:
    images = (task.result or {}).get("images", []) if task.status == "completed" else []
    return LegacyTask(
        task_id=task.task_id,
        status=task.status,
        progress=task.progress,
        stage=task.stage,
        images=images,
        error=task.error,
        prompt=task.params.get("prompt"),
        created_at=task.created_at,
        started_at=task.started_at,
        completed_at=task.completed_at,
    )


@router.post("/generate", status_code=201, response_model=GenerateCreated, dependencies=[JsonBody])
def generate(
    body: GenerateParams,
    owner: Submitter,
    tasks: Tasks,
    response: Response,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> GenerateCreated:
    """Text to image. Same as `POST /api/v1/tasks` with `kind: generate`."""
    task, created = tasks.create(
        owner,
        TaskCreate(kind="generate", params=body.model_dump(exclude_none=True)),
        idempotency_key,
    )
    if not created:
        response.status_code = 200
    position, estimate = tasks.created_view(task)
    return GenerateCreated(
        task_id=task.id,
        status=task.status,
        created_at=task.created_at,
        estimated_time=estimate,
        queue_position=position,
    )


@router.get("/task/{task_id}", response_model=LegacyTask)
def get_legacy_task(task_id: str, owner: Owner, tasks: Tasks) -> LegacyTask:
    return legacy(tasks.describe(tasks.get(owner, task_id)))


@router.delete("/task/{task_id}", status_code=204)
def delete_legacy_task(task_id: str, owner: Owner, tasks: Tasks) -> Response:
    tasks.delete(owner, task_id)
    return Response(status_code=204)


@router.get("/history", response_model=HistoryPage)
def history(
    owner: Owner,
    tasks: Tasks,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> HistoryPage:
    """The caller's generations, newest first."""
    items, next_cursor = tasks.list_tasks(owner, kind=["generate"], limit=limit, cursor=cursor)
    return HistoryPage(items=[legacy(t) for t in items], next_cursor=next_cursor)


@router.delete("/history/{task_id}", status_code=204)
def delete_history(task_id: str, owner: Owner, tasks: Tasks) -> Response:
    tasks.delete(owner, task_id)
    return Response(status_code=204)
