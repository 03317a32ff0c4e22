"""FastAPI dependencies shared by the routers."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from atelier.accounts.sessions import resolve_owner
from atelier.runtime import Runtime
from atelier.tasks.service import TaskService


def runtime(request: Request) -> Runtime:
    rt: Runtime = request.app.state.runtime
    return rt


def task_service(request: Request) -> TaskService:
    svc: TaskService = request.app.state.tasks
    return svc


Owner = Annotated[str, Depends(resolve_owner)]
RuntimeDep = Annotated[Runtime, Depends(runtime)]
Tasks = Annotated[TaskService, Depends(task_service)]
