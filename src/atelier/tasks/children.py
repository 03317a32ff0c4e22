"""Parent and child tasks: a task that splits its work (a manga page into panels).

The parent's ``run`` writes its children with :func:`spawn` and raises
:class:`~atelier.tasks.kinds.AwaitChildren`; the runner then *parks* it — still
``processing``, holding no worker — and each child that finishes counts into the parent's
progress (:func:`child_finished`). When the last one has finished the parent is sent again and
its ``run`` goes on from what is in the database. Child ids are derived from the parent, so a
parent that runs twice (a worker lost mid-way) finds its children instead of making more, and
finished children are never redone.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from atelier.db.base import utcnow
from atelier.tasks import lifecycle
from atelier.tasks.lifecycle import ACTIVE, Event, TaskStatus
from atelier.tasks.models import Task
from atelier.worker.celery_app import enqueue

if TYPE_CHECKING:
    from atelier.runtime import Runtime

log = logging.getLogger(__name__)
_NAMESPACE = uuid.UUID("6f1d2c44-5b0e-4bb8-9f6a-3c8e2a51d7aa")


def child_id(parent_id: str, *parts: object) -> str:
    """A stable id for the child of ``parent_id`` named by ``parts`` (e.g. panel, version)."""
    return str(uuid.uuid5(_NAMESPACE, "/".join([parent_id, *map(str, parts)])))


@dataclass(frozen=True)
class ChildSpec:
    id: str
    kind: str
    params: dict[str, Any]
    queue: str = "cpu"
    provider: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def spawn(runtime: Runtime, parent: Task, specs: list[ChildSpec]) -> list[str]:
    """Create the children that do not exist yet (pending, with their ``created`` event)
    and send them to the broker after the commit. Returns the ids created now."""
    if not specs:
        return []
    now = utcnow()
    created: list[tuple[str, str, Event]] = []
    with runtime.db.session() as s:
        existing = set(s.scalars(select(Task.id).where(Task.id.in_([c.id for c in specs]))))
        for spec in specs:
            if spec.id in existing:
                continue
            task = Task(
                id=spec.id,
                kind=spec.kind,
                owner=parent.owner,
                queue=spec.queue,
                params=spec.params,
                status=TaskStatus.PENDING.value,
                stage=None,
                stage_current=0,
                stage_total=0,
                progress=0,
                attempts=0,
                worker_losses=0,
                provider=spec.provider,
                parent_id=parent.id,
                last_seq=1,
                dispatch_at=now,
                created_at=now,
                updated_at=now,
            )
            s.add(task)
            s.flush()
            created.append(
                (task.id, task.queue, lifecycle.append_event(s, task, lifecycle.EventType.CREATED))
            )
    if created:
        runtime.dispatcher.submit_many(created)
    return [task_id for task_id, _, _ in created]


def children_of(session: Session, parent_id: str) -> list[Task]:
    return list(
        session.scalars(
            select(Task).where(Task.parent_id == parent_id).order_by(Task.created_at, Task.id)
        )
    )


def child_finished(runtime: Runtime, child: Task) -> None:
    """A child reached a final state: count it into its parent; after the last one, send
    the parent again. Safe to call more than once."""
    if child.parent_id is not None:
        check_parent(runtime, child.parent_id)


def check_parent(runtime: Runtime, parent_id: str) -> bool:
    """Update a waiting parent's progress; send it again when all its children finished.
    Returns whether it was sent."""
    with runtime.db.session() as s:
        counted = lifecycle.children_progress(s, parent_id)
    if counted is None:
        return False
    parent, event, all_done = counted
    runtime.bus.publish([event])
    if all_done:
        log.info("every child of %s finished; resuming it", parent_id)
        return enqueue(runtime.celery, parent_id, parent.queue)
    return False


def active_children(session: Session, parent_id: str) -> int:
    return int(
        session.execute(
            select(func.count())
            .select_from(Task)
            .where(Task.parent_id == parent_id, Task.status.in_([s.value for s in ACTIVE]))
        ).scalar_one()
    )
