"""FastAPI dependencies shared by the routers."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from atelier.accounts.sessions import resolve_owner
from atelier.api.ratelimit import TokenBuckets
from atelier.errors import UnsupportedMediaType
from atelier.runtime import Runtime
from atelier.tasks.service import TaskService


async def runtime(request: Request) -> Runtime:
    rt: Runtime = request.app.state.runtime
    return rt


async def task_service(request: Request) -> TaskService:
    svc: TaskService = request.app.state.tasks
    return svc


async def json_body(request: Request) -> None:
    """Bodies of JSON endpoints must be JSON: anything else is 415, not a parse error."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media and media != "application/json" and not media.endswith("+json"):
        raise UnsupportedMediaType(
            "send the body as application/json", details={"content_type": media}
        )


async def submit_owner(request: Request, owner: Annotated[str, Depends(resolve_owner)]) -> str:
    """The owner of a submission, after the submission rate limit."""
    buckets: TokenBuckets = request.app.state.submit_limits
    buckets.take(owner)
    return owner


Owner = Annotated[str, Depends(resolve_owner)]
Submitter = Annotated[str, Depends(submit_owner)]
JsonBody = Depends(json_body)
RuntimeDep = Annotated[Runtime, Depends(runtime)]
Tasks = Annotated[TaskService, Depends(task_service)]
