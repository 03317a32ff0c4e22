"""The library's task kinds.

- ``tag`` (stages ``analysis → embedding → indexing``): analyse, describe and embed one image
  (:mod:`atelier.library.tagging`). Callers may submit it (``{"image_id", "mode"}``); the
  library creates it for every imported image, and for every image a task produces.
- ``library_batch`` (internal): the parent of the tag tasks of one import of several images.
  Its children exist from the import on; it waits for them (``tagging``, k/N) and ends
  ``partial`` when some failed.
- ``reembed`` (internal, started by ``POST /api/v1/library/reembed``): the whole library with
  the configured models (:mod:`atelier.library.reembed`).
- ``library_auto`` (internal): the holder of automatic tag tasks (:mod:`atelier.library.hooks`);
  it never runs.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from atelier.errors import ValidationFailed
from atelier.images.models import ImageRecord
from atelier.library.hooks import HOLDER_KIND
from atelier.library.reembed import run_reembed
from atelier.library.tagging import TagParams, run_tag
from atelier.runtime import Runtime
from atelier.tasks import children
from atelier.tasks.kinds import AwaitChildren, RunContext, TaskKind, register
from atelier.tasks.lifecycle import TERMINAL
from atelier.worker.celery_app import LIBRARY_QUEUE

FINISHED = frozenset(s.value for s in TERMINAL)


class TagKind(TaskKind):
    name = "tag"
    params_model = TagParams

    def queue(self, runtime: Runtime, params: BaseModel) -> str:
        return LIBRARY_QUEUE

    def complete(self, runtime: Runtime, params: BaseModel, owner: str) -> TagParams:
        assert isinstance(params, TagParams)
        with runtime.db.read() as s:
            record = s.get(ImageRecord, params.image_id)
        if record is None or record.owner != owner:
            raise ValidationFailed(
                "no such image of yours", details={"field": "image_id", "image_id": params.image_id}
            )
        return params

    def run(self, ctx: RunContext, params: BaseModel) -> dict[str, Any]:
        assert isinstance(params, TagParams)
        return run_tag(ctx, params)


class BatchParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    image_ids: list[str] = Field(default_factory=list)


class LibraryBatchKind(TaskKind):
    name = "library_batch"
    params_model = BatchParams
    internal = True

    def queue(self, runtime: Runtime, params: BaseModel) -> str:
        return LIBRARY_QUEUE

    def run(self, ctx: RunContext, params: BaseModel) -> dict[str, Any]:
        with ctx.runtime.db.read() as s:
            kids = children.children_of(s, ctx.task_id)
        if any(k.status not in FINISHED for k in kids):
            raise AwaitChildren("tagging", len(kids))
        items = [
            {
                "task_id": k.id,
                "image_id": k.params.get("image_id"),
                "status": k.status,
            }
            for k in kids
        ]
        failures = [
            {**item, "error": {"code": k.error_code, "message": k.error_message}}
            for item, k in zip(items, kids, strict=True)
            if k.status != "completed"
        ]
        return {"items": items, "failures": failures}


class ReembedParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text_model: str = ""
    image_model: str | None = None


class ReembedKind(TaskKind):
    name = "reembed"
    params_model = ReembedParams
    internal = True

    def queue(self, runtime: Runtime, params: BaseModel) -> str:
        return LIBRARY_QUEUE

    def run(self, ctx: RunContext, params: BaseModel) -> dict[str, Any]:
        return run_reembed(ctx)


class HolderParams(BaseModel):
    day: str = ""


class HolderKind(TaskKind):
    name = HOLDER_KIND
    params_model = HolderParams
    internal = True

    def run(self, ctx: RunContext, params: BaseModel) -> dict[str, Any]:
        return {}  # made completed; never sent to a worker


register(TagKind())
register(LibraryBatchKind())
register(ReembedKind())
register(HolderKind())
