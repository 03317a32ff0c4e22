"""FastAPI dependencies shared by the routers.

``Owner`` is who owns what the request reads or makes: a user (access token or API key,
``user:<uuid>``) or an anonymous session (``anon:<uuid>``, started on first use). A read-only
API key is refused (403 ``insufficient_scope``) on any method but GET/HEAD/OPTIONS.
``CurrentUser``, ``require_role`` and ``require_scope`` are for endpoints that need more."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request, Response

from atelier.accounts.auth import (
    Caller,
    CurrentUser,
    current_user,
    is_admin,
    require_role,
    require_scope,
    resolve_caller,
    resolve_owner,
)
from atelier.api.ratelimit import spend_submission
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


async def submit_owner(request: Request, response: Response) -> str:
    """The owner of a submission (as ``Owner``), after the submission rate limit."""
    owner = await resolve_owner(request, response)
    await spend_submission(request)
    return owner


Owner = Annotated[str, Depends(resolve_owner)]
CallerDep = Annotated[Caller, Depends(resolve_caller)]
Admin = Annotated[Caller, Depends(require_role("admin"))]
Submitter = Annotated[str, Depends(submit_owner)]
JsonBody = Depends(json_body)
RuntimeDep = Annotated[Runtime, Depends(runtime)]
Tasks = Annotated[TaskService, Depends(task_service)]

__all__ = [
    "Admin",
    "CallerDep",
    "CurrentUser",
    "JsonBody",
    "Owner",
    "RuntimeDep",
    "Submitter",
    "Tasks",
    "current_user",
    "is_admin",
    "require_role",
    "require_scope",
]
