"""``POST /api/v1/erase``: a photo and the erase options in one multipart request."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Form, Header, Response, UploadFile
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from atelier.api.deps import RuntimeDep, Submitter, Tasks
from atelier.erase.schemas import EraseParams, Inpainter, SegmenterChoice
from atelier.errors import ValidationFailed
from atelier.images.endpoints import create_for_upload, ingest_for_task
from atelier.tasks.schemas import TaskCreate, TaskCreated

router = APIRouter(prefix="/api/v1", tags=["erase"])


def parse_roi(text: str) -> dict[str, int]:
    """``"x,y,width,height"`` (pixels) as the ``roi`` parameter."""
    parts = [p.strip() for p in text.split(",")]
    try:
        x, y, width, height = (int(p) for p in parts)
    except ValueError:
        raise ValidationFailed(
            "roi must be four integers: x,y,width,height", details={"field": "roi", "roi": text}
        ) from None
    return {"x": x, "y": y, "width": width, "height": height}


def check(params: dict[str, Any]) -> None:
    """Validate everything but the image before the upload is stored."""
    try:
        EraseParams.model_validate({**params, "image_id": "-"})
    except ValidationError as exc:
        raise ValidationFailed(
            "invalid params", details=exc.errors(include_url=False, include_context=False)
        ) from None


@router.post("/erase", status_code=201, response_model=TaskCreated)
async def erase(
    owner: Submitter,
    runtime: RuntimeDep,
    tasks: Tasks,
    response: Response,
    photo: Annotated[UploadFile, File(description="JPEG, PNG, WebP (HEIC with the extra).")],
    keep: Annotated[
        list[str] | None, Form(description="Text to keep (repeat the field for more).")
    ] = None,
    min_confidence: Annotated[float | None, Form(ge=0.0, le=1.0)] = None,
    roi: Annotated[str | None, Form(max_length=64, description="x,y,width,height")] = None,
    inpainter: Annotated[Inpainter | None, Form()] = None,
    segmenter: Annotated[SegmenterChoice | None, Form()] = None,
    mask_margin: Annotated[int | None, Form(ge=0, le=20)] = None,
    second_pass: Annotated[bool, Form()] = True,
    redraw: Annotated[Literal["blur", "color", "preset", "prompt"] | None, Form()] = None,
    redraw_color: Annotated[str | None, Form(max_length=16)] = None,
    redraw_preset: Annotated[str | None, Form(max_length=64)] = None,
    redraw_prompt: Annotated[str | None, Form(max_length=1000)] = None,
    redraw_model: Annotated[str | None, Form(max_length=128)] = None,
    blur_radius: Annotated[float | None, Form(ge=1.0, le=200.0)] = None,
    edge: Annotated[float | None, Form(ge=0.0, le=50.0)] = None,
    seed: Annotated[int | None, Form(ge=0, le=2**32 - 1)] = None,
    webhook_url: Annotated[str | None, Form(max_length=2048)] = None,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> TaskCreated:
    """Upload the photo (validated, turned upright, metadata stripped) and create an `erase`
    task for it. Same as `POST /api/v1/images` then `POST /api/v1/tasks` with `kind: erase`."""
    params: dict[str, Any] = {
        "keep": keep or [],
        "min_confidence": min_confidence,
        "roi": parse_roi(roi) if roi else None,
        "inpainter": inpainter,
        "segmenter": segmenter,
        "mask_margin": mask_margin,
        "second_pass": second_pass,
        "seed": seed,
    }
    if redraw is not None:
        spec = {
            "mode": redraw,
            "color": redraw_color,
            "preset": redraw_preset,
            "prompt": redraw_prompt,
            "model": redraw_model,
            "blur_radius": blur_radius,
            "edge": edge,
        }
        params["redraw"] = {k: v for k, v in spec.items() if v is not None}
    params = {k: v for k, v in params.items() if v is not None}
    check(params)
    upload = await ingest_for_task(runtime, owner, photo)
    record = upload[0]
    body = TaskCreate(
        kind="erase", params={**params, "image_id": record.id}, webhook_url=webhook_url
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
