"""Every image a task produces is tagged, so library search finds it.

:func:`tag_results` runs after a task completed (the runner calls it): for each image of the
task's ``result["images"]`` (what generate, stylize, erase and manga answer) it spawns an
internal ``tag`` task, unless ``LIBRARY__AUTO_TAG_GENERATED`` is off.

The tag tasks are child tasks, so that they stay out of their owner's task history, but not
children of the task that made the image: a parent task counts its children (a manga page
waits for its panels). Their parent is a *holder*: one per owner and day, a completed task of
the internal kind ``library_auto`` that never runs, parented to itself so it is no one's
history entry either. Child ids come from the holder, the producing task and the image, so a
hook that runs twice (a worker lost after the completion) creates nothing new.
"""

from __future__ import annotations

import logging
import uuid

from sqlalchemy.exc import IntegrityError

from atelier.db.base import utcnow
from atelier.runtime import Runtime
from atelier.tasks import children
from atelier.tasks.lifecycle import TaskStatus
from atelier.tasks.models import Task
from atelier.worker.celery_app import LIBRARY_QUEUE

log = logging.getLogger(__name__)

HOLDER_KIND = "library_auto"
#: Kinds of the library itself: their results are never tagged again.
LIBRARY_KINDS = frozenset({"tag", "library_batch", "reembed", HOLDER_KIND})
_NAMESPACE = uuid.UUID("0b7c5d8e-2f43-4c1e-9a6d-5e2b8f1c3a70")


def holder(runtime: Runtime, owner: str) -> Task:
    """The owner's holder task of today (made on first use)."""
    now = utcnow()
    day = now.date().isoformat()
    holder_id = str(uuid.uuid5(_NAMESPACE, f"{owner}/{day}"))
    for _ in range(2):
        with runtime.db.read() as s:
            found = s.get(Task, holder_id)
        if found is not None:
            return found
        task = Task(
            id=holder_id,
            kind=HOLDER_KIND,
            owner=owner,
            queue=LIBRARY_QUEUE,
            params={"day": day},
            status=TaskStatus.COMPLETED.value,
            stage="done",
            stage_current=0,
            stage_total=0,
            progress=100,
            attempts=0,
            worker_losses=0,
            result={},
            parent_id=holder_id,
            last_seq=0,
            created_at=now,
            updated_at=now,
            completed_at=now,
        )
        try:
            with runtime.db.session() as s:
                s.add(task)
            return task
        except IntegrityError:  # made meanwhile by another worker
            continue
    raise RuntimeError("could not make the library holder task")


def tag_results(runtime: Runtime, task: Task) -> list[str]:
    """Spawn the tag tasks of a completed task's images; answers the ids created. Never
    raises: tagging must not fail the task that made the images."""
    try:
        if not runtime.settings.library.auto_tag_generated or task.kind in LIBRARY_KINDS:
            return []
        images = (task.result or {}).get("images") or []
        ids = [i["image_id"] for i in images if isinstance(i, dict) and i.get("image_id")]
        if not ids:
            return []
        parent = holder(runtime, task.owner)
        specs = [
            children.ChildSpec(
                id=children.child_id(parent.id, task.id, image_id),
                kind="tag",
                params={"image_id": image_id, "mode": "auto"},
                queue=LIBRARY_QUEUE,
            )
            for image_id in dict.fromkeys(ids)
        ]
        return children.spawn(runtime, parent, specs)
    except Exception:
        log.exception("could not start tagging the images of task %s", task.id)
        return []
