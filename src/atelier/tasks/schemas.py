"""Request and response bodies of the task API."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class TaskCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: str = Field(description="Task kind, e.g. `generate`.", max_length=32)
    params: dict[str, Any] = Field(default_factory=dict, description="The kind's parameters.")
    webhook_url: str | None = Field(
        default=None, max_length=2048, description="Called when the task ends (signed)."
    )


class TaskCreated(BaseModel):
    task_id: str
    status: str
    created_at: datetime
    queue_position: int | None
    estimated_time: float | None = Field(description="Seconds until done, estimated.")


class StageProgress(BaseModel):
    current: int
    total: int


class TaskError(BaseModel):
    code: str
    message: str | None


class TaskOut(BaseModel):
    task_id: str
    kind: str
    status: str
    stage: str | None
    stage_progress: StageProgress
    progress: int
    queue_position: int | None
    estimated_time: float | None
    attempts: int
    error: TaskError | None
    params: dict[str, Any]
    result: dict[str, Any] | None
    provider: str | None
    created_at: datetime
    started_at: datetime | None
    completed_at: datetime | None
    updated_at: datetime


class TaskPage(BaseModel):
    items: list[TaskOut]
    next_cursor: str | None
