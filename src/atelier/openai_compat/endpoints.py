"""OpenAI-compatible images API on the task core, so the official ``openai`` SDK works
unchanged (``base_url=<atelier>/v1``, ``api_key=<session token>``).

A request becomes a ``generate`` task like any other (queued, retried, visible in
``/api/v1/tasks``); the endpoint waits for it to finish and answers in OpenAI's format.
"""

from __future__ import annotations

import asyncio
import base64
import re
from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Form, Header, UploadFile
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from atelier.api.deps import JsonBody, RuntimeDep, Submitter, Tasks
from atelier.errors import AtelierError, ValidationFailed
from atelier.images.endpoints import create_for_upload, ingest_for_task
from atelier.images.models import ImageRecord
from atelier.images.signing import signed_url
from atelier.runtime import Runtime
from atelier.tasks.lifecycle import Event
from atelier.tasks.models import Task
from atelier.tasks.schemas import TaskCreate
from atelier.tasks.service import TaskService
from atelier.tasks.stream import task_events

router = APIRouter(prefix="/v1", tags=["openai-compatible"])
SIZE = re.compile(r"^(\d{2,5})x(\d{2,5})$")
BAD_REQUEST_CODES = {"validation_error", "invalid_request", "content_rejected"}


class GatewayTimeout(AtelierError):
    status_code = 504
    code = "timeout"


class UpstreamFailed(AtelierError):
    status_code = 502
    code = "upstream_error"


class ImageRequestFailed(AtelierError):
    status_code = 400
    code = "invalid_request_error"


class GenerationRequest(BaseModel):
    # OpenAI's other fields (quality, style, background, moderation, user…) are accepted and
    # ignored, as a drop-in server must.
    model_config = ConfigDict(extra="allow")

    prompt: str = Field(min_length=1, max_length=32000)
    model: str | None = None
    n: int = Field(default=1, ge=1, le=10)
    size: str | None = "auto"
    response_format: Literal["url", "b64_json"] | None = None
    seed: int | None = Field(default=None, ge=0, le=2**32 - 1)


def resolve_model(runtime: Runtime, requested: str | None) -> str:
    """OpenAI model names (dall-e-3, gpt-image-1…) map to the default model or route."""
    known = {m.id for m in runtime.providers.models()} | set(runtime.settings.policy.routes)
    if requested and requested in known:
        return requested
    return runtime.settings.generation.default_model


def parse_size(size: str | None) -> tuple[int, int]:
    if size in (None, "auto"):
        return 1024, 1024
    match = SIZE.match(size)
    if not match:
        raise ValidationFailed(
            f"size must be 'auto' or WIDTHxHEIGHT, not {size!r}", details={"field": "size"}
        )
    return int(match.group(1)), int(match.group(2))


async def wait_for(
    tasks: TaskService, runtime: Runtime, owner: str, task_id: str, seconds: float
) -> Event:
    events = task_events(tasks, runtime.bus, owner, task_id, 0, min(5.0, seconds))
    deadline = asyncio.get_running_loop().time() + seconds
    try:
        async with asyncio.timeout_at(deadline):
            async for event in events:
                if event is not None and event.terminal:
                    return event
                if asyncio.get_running_loop().time() >= deadline:  # a swallowed cancellation
                    raise TimeoutError
    except TimeoutError:
        raise GatewayTimeout(
            f"the image is not ready after {seconds:g}s; follow /api/v1/tasks/{task_id}",
            details={"task_id": task_id},
        ) from None
    finally:
        await events.aclose()
    raise UpstreamFailed("the task stream ended early", details={"task_id": task_id})


def render(runtime: Runtime, event: Event, response_format: str) -> list[dict[str, Any]]:
    data = []
    for image in event.data["result"]["images"]:
        if response_format == "url":
            data.append({"url": signed_url(runtime.settings, image["image_id"])})
            continue
        with runtime.db.read() as s:
            record = s.get(ImageRecord, image["image_id"])
        assert record is not None
        raw = runtime.storage.get(record.storage_key)
        data.append({"b64_json": base64.b64encode(raw).decode()})
    return data


async def answer(
    tasks: TaskService, runtime: Runtime, owner: str, task: Task, response_format: str | None
) -> dict[str, Any]:
    """Wait for the task, then answer as OpenAI does (or with its error)."""
    final = await wait_for(tasks, runtime, owner, task.id, runtime.settings.openai.wait_seconds)
    if final.type != "completed":
        error = final.data.get("error") or {}
        cls = ImageRequestFailed if error.get("code") in BAD_REQUEST_CODES else UpstreamFailed
        raise cls(
            error.get("message") or f"the task {final.type}",
            details={"task_id": task.id, "code": error.get("code")},
        )
    data = await run_in_threadpool(render, runtime, final, response_format or "b64_json")
    return {"created": int(task.created_at.timestamp()), "data": data}


@router.post("/images/generations", dependencies=[JsonBody])
async def create_image(
    body: GenerationRequest,
    owner: Submitter,
    tasks: Tasks,
    runtime: RuntimeDep,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> dict[str, Any]:
    """`images.generate`: waits for the task and returns `b64_json` (default) or signed
    `url`s valid for an hour."""
    width, height = parse_size(body.size)
    params: dict[str, Any] = {
        "prompt": body.prompt,
        "model": resolve_model(runtime, body.model),
        "num_images": body.n,
        "width": width,
        "height": height,
    }
    if body.seed is not None:
        params["seed"] = body.seed
    task, _ = await run_in_threadpool(
        tasks.create, owner, TaskCreate(kind="generate", params=params), idempotency_key
    )
    return await answer(tasks, runtime, owner, task, body.response_format)


@router.post("/images/edits")
async def edit_image(
    owner: Submitter,
    tasks: Tasks,
    runtime: RuntimeDep,
    image: Annotated[list[UploadFile], File(description="The image to edit (first one used).")],
    prompt: Annotated[str, Form(min_length=1, max_length=1000)],
    model: Annotated[str | None, Form()] = None,
    n: Annotated[int, Form(ge=1, le=4)] = 1,
    size: Annotated[str | None, Form()] = None,
    response_format: Annotated[Literal["url", "b64_json"] | None, Form()] = None,
    mask: Annotated[UploadFile | None, File()] = None,
) -> dict[str, Any]:
    """`images.edit`: the image is uploaded, a `stylize` task runs with the prompt as its
    text, and the results come back as in `generations`. A mask is accepted but ignored by
    the offline stylizer."""
    if size not in (None, "auto"):
        parse_size(size)  # validated for compatibility; the output keeps the input's size
    upload = await ingest_for_task(runtime, owner, image[0])
    record = upload[0]
    known = {m.id for m in runtime.providers.models()} | set(runtime.settings.policy.routes)
    params = {
        "image_id": record.id,
        "text": prompt,
        "num_images": n,
        "model": model if model in known else runtime.settings.stylize.default_model,
    }
    body = TaskCreate(kind="stylize", params=params)
    task, _ = await create_for_upload(runtime, tasks, owner, upload, body)
    return await answer(tasks, runtime, owner, task, response_format)


@router.get("/models")
def list_models(runtime: RuntimeDep) -> dict[str, Any]:
    items = [
        {"id": m.id, "object": "model", "created": 0, "owned_by": m.provider}
        for m in runtime.providers.models()
    ]
    items += [
        {"id": r, "object": "model", "created": 0, "owned_by": "atelier-route"}
        for r in runtime.settings.policy.routes
    ]
    return {"object": "list", "data": items}
