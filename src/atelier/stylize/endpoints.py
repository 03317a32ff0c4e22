"""``POST /api/v1/stylize``: a photo and its options in one multipart request."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, File, Form, Header, Response, UploadFile
from starlette.concurrency import run_in_threadpool

from atelier.api.deps import RuntimeDep, Submitter, Tasks
from atelier.images.endpoints import create_for_upload, ingest_for_task
from atelier.tasks.schemas import TaskCreate, TaskCreated

router = APIRouter(prefix="/api/v1", tags=["stylize"])


@router.post("/stylize", status_code=201, response_model=TaskCreated)
async def stylize(
    owner: Submitter,
    runtime: RuntimeDep,
    tasks: Tasks,
    response: Response,
    photo: Annotated[UploadFile, File(description="JPEG, PNG, WebP (HEIC with the extra).")],
    style: Annotated[str | None, Form(max_length=64)] = None,
    location: Annotated[str | None, Form(max_length=64)] = None,
    text: Annotated[str, Form(max_length=1000)] = "",
    language: Annotated[Literal["en", "zh"], Form()] = "en",
    model: Annotated[str | None, Form(max_length=128)] = None,
    num_images: Annotated[int, Form(ge=1, le=4)] = 1,
    strength: Annotated[float | None, Form(ge=0.0, le=1.0)] = None,
    seed: Annotated[int | None, Form(ge=0, le=2**32 - 1)] = None,
    webhook_url: Annotated[str | None, Form(max_length=2048)] = None,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> TaskCreated:
    """Upload the photo (validated, turned upright, metadata stripped) and create a
    `stylize` task for it. Same as `POST /api/v1/images` then `POST /api/v1/tasks`."""
    upload = await ingest_for_task(runtime, owner, photo)
    record = upload[0]
    params = {
        "image_id": record.id,
        "style": style,
        "location": location,
        "text": text,
        "language": language,
        "model": model,
        "num_images": num_images,
        "strength": strength,
        "seed": seed,
    }
    body = TaskCreate(
        kind="stylize",
        params={k: v for k, v in params.items() if v is not None},
        webhook_url=webhook_url,
    )
    task, created = await create_for_upload(runtime, tasks, owner, upload, body, idempotency_key)
    if not created:  # as POST /api/v1/tasks answers a replay
        response.status_code = 200
        response.headers["Idempotent-Replayed"] = "true"
    position, estimate = await run_in_threadpool(tasks.created_view, task)
    return TaskCreated(
        task_id=task.id,
        status=task.status,
        created_at=task.created_at,
        queue_position=position,
        estimated_time=estimate,
    )
