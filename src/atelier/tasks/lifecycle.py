"""The task state machine. This module alone changes a task's status.

Every change is a compare-and-set ``UPDATE … WHERE status IN (legal sources)`` in the caller's
transaction, followed by an event row with the task's next sequence number, so the machine
holds across processes (an API cancelling while a worker starts) on SQLite and PostgreSQL
alike. Callers publish the returned events after their transaction commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import Table, case, func, insert, select, update
from sqlalchemy.orm import Session

from atelier.db.base import utcnow
from atelier.tasks.models import Task, TaskEvent

_EVENTS: Table = TaskEvent.__table__  # type: ignore[assignment]
INSERT_EVENT = insert(_EVENTS).returning(_EVENTS.c.id)


class TaskStatus(StrEnum):
    PENDING = "pending"
    PROCESSING = "processing"
    RETRYING = "retrying"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"
    PARTIAL = "partial"


TERMINAL = frozenset(
    {TaskStatus.COMPLETED, TaskStatus.FAILED, TaskStatus.CANCELLED, TaskStatus.PARTIAL}
)
ACTIVE = frozenset({TaskStatus.PENDING, TaskStatus.PROCESSING, TaskStatus.RETRYING})

#: Legal transitions. ``processing → processing`` is a new attempt taking over a lapsed lease.
TRANSITIONS: dict[TaskStatus, frozenset[TaskStatus]] = {
    TaskStatus.PENDING: frozenset({TaskStatus.PROCESSING, TaskStatus.CANCELLED, TaskStatus.FAILED}),
    TaskStatus.RETRYING: frozenset(
        {TaskStatus.PROCESSING, TaskStatus.CANCELLED, TaskStatus.FAILED}
    ),
    TaskStatus.PROCESSING: frozenset(
        {
            TaskStatus.PROCESSING,
            TaskStatus.RETRYING,
            TaskStatus.COMPLETED,
            TaskStatus.FAILED,
            TaskStatus.CANCELLED,
            TaskStatus.PARTIAL,
        }
    ),
    TaskStatus.COMPLETED: frozenset(),
    TaskStatus.FAILED: frozenset(),
    TaskStatus.CANCELLED: frozenset(),
    TaskStatus.PARTIAL: frozenset(),
}


class EventType(StrEnum):
    CREATED = "created"
    STARTED = "started"
    PROGRESS = "progress"
    RETRYING = "retrying"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"
    PARTIAL = "partial"


EVENT_FOR_STATUS = {
    TaskStatus.PROCESSING: EventType.STARTED,
    TaskStatus.RETRYING: EventType.RETRYING,
    TaskStatus.COMPLETED: EventType.COMPLETED,
    TaskStatus.FAILED: EventType.FAILED,
    TaskStatus.CANCELLED: EventType.CANCELLED,
    TaskStatus.PARTIAL: EventType.PARTIAL,
}
TERMINAL_EVENTS = frozenset(
    {EventType.COMPLETED, EventType.FAILED, EventType.CANCELLED, EventType.PARTIAL}
)


class IllegalTransition(Exception):
    def __init__(self, src: str, dst: str) -> None:
        super().__init__(f"a {src} task cannot become {dst}")
        self.src = src
        self.dst = dst


class TaskCancelled(Exception):
    """Raised inside a running task when it was cancelled, deleted or its claim was lost."""


def check(src: str, dst: TaskStatus) -> None:
    if dst not in TRANSITIONS[TaskStatus(src)]:
        raise IllegalTransition(src, dst)


def sources_of(dst: TaskStatus) -> list[str]:
    return [s.value for s, targets in TRANSITIONS.items() if dst in targets]


@dataclass(frozen=True)
class Event:
    """A persisted task event, as published on the bus and sent to clients."""

    id: int
    task_id: str
    owner: str
    seq: int
    type: str
    data: dict[str, Any]
    created_at: datetime

    @property
    def terminal(self) -> bool:
        return self.type in TERMINAL_EVENTS

    def to_wire(self) -> dict[str, Any]:
        return {
            "task_id": self.task_id,
            "seq": self.seq,
            "type": self.type,
            "at": self.created_at.isoformat(),
            **self.data,
        }

    @classmethod
    def from_row(cls, row: TaskEvent) -> Event:
        return cls(row.id, row.task_id, row.owner, row.seq, row.type, row.data, row.created_at)


def snapshot(task: Task) -> dict[str, Any]:
    """The event payload: what a client needs to redraw the task without another request."""
    data: dict[str, Any] = {
        "status": task.status,
        "progress": task.progress,
        "stage": task.stage,
        "stage_progress": {"current": task.stage_current, "total": task.stage_total},
        "attempts": task.attempts,
    }
    if task.error_code:
        data["error"] = {"code": task.error_code, "message": task.error_message}
    if task.status in (TaskStatus.COMPLETED, TaskStatus.PARTIAL) and task.result is not None:
        data["result"] = task.result
    return data


def append_event(session: Session, task: Task, type_: EventType | str) -> Event:
    """Write the event for ``task``'s current state; ``task.last_seq`` must be already bumped."""
    now = utcnow()
    data = snapshot(task)
    row_id = (
        session.connection()
        .execute(
            INSERT_EVENT,
            {
                "task_id": task.id,
                "owner": task.owner,
                "seq": task.last_seq,
                "type": str(type_),
                "data": data,
                "created_at": now,
            },
        )
        .scalar_one()
    )
    return Event(row_id, task.id, task.owner, task.last_seq, str(type_), data, now)


def _cas(session: Session, task_id: str, where: list[Any], values: dict[str, Any]) -> Task | None:
    stmt = (
        update(Task)
        .where(Task.id == task_id, *where)
        .values(**{"last_seq": Task.last_seq + 1, "updated_at": utcnow(), **values})
        .returning(Task)
        .execution_options(synchronize_session=False)
    )
    task = session.execute(stmt).scalar_one_or_none()
    if task is not None:
        session.refresh(task)
    return task


def transition(
    session: Session,
    task_id: str,
    to: TaskStatus,
    *,
    holder: str | None = None,
    extra_where: list[Any] | None = None,
    event: EventType | None = None,
    values: dict[str, Any] | None = None,
) -> tuple[Task, Event] | None:
    """Move a task to ``to`` if its current status allows it (and, for a worker, if its
    attempt ``holder`` still holds the claim). Returns ``None`` when the compare-and-set
    matched nothing."""
    values = dict(values or {})
    where: list[Any] = [Task.status.in_(sources_of(to))]
    if holder is not None:
        where.append(Task.claim_token == holder)
    where.extend(extra_where or [])
    now = utcnow()
    values.setdefault("updated_at", now)  # one clock reading for every timestamp of the move
    if to == TaskStatus.PROCESSING:
        values.setdefault("started_at", now)
    if to in TERMINAL:
        values.setdefault("completed_at", now)
        values.setdefault("claim_token", None)
        values.setdefault("lease_expires_at", None)
        values.setdefault("dispatch_at", None)
        if to == TaskStatus.COMPLETED:
            values.setdefault("progress", 100)
    task = _cas(session, task_id, where, {"status": to.value, **values})
    if task is None:
        return None
    return task, append_event(session, task, event or EVENT_FOR_STATUS[to])


def claim(
    session: Session, task_id: str, token: str, lease_seconds: float
) -> tuple[Task, Event] | None:
    """A worker takes a task: pending/retrying, or processing whose lease lapsed."""
    now = utcnow()
    lapsed = (Task.status != TaskStatus.PROCESSING.value) | (Task.lease_expires_at < now)
    return transition(
        session,
        task_id,
        TaskStatus.PROCESSING,
        extra_where=[lapsed],
        event=EventType.STARTED,
        values={
            "claim_token": token,
            "lease_expires_at": now + timedelta(seconds=lease_seconds),
            "attempts": Task.attempts + 1,
            "dispatch_at": None,
            "stage_current": 0,
            "stage_total": 0,
        },
    )


def resume(
    session: Session, task_id: str, token: str, lease_seconds: float
) -> tuple[Task, Event] | None:
    """A worker takes back a parent that waited for its children (see :func:`park`). Not a
    new attempt: the parent goes on from where it stopped."""
    now = utcnow()
    task = _cas(
        session,
        task_id,
        [
            Task.status == TaskStatus.PROCESSING.value,
            Task.waiting_children.is_(True),
            Task.claim_token.is_(None),
        ],
        {
            "waiting_children": False,
            "claim_token": token,
            "lease_expires_at": now + timedelta(seconds=lease_seconds),
            "dispatch_at": None,
        },
    )
    if task is None:
        return None
    return task, append_event(session, task, EventType.PROGRESS)


def park(
    session: Session,
    task_id: str,
    token: str,
    *,
    stage: str,
    current: int,
    total: int,
    progress: int,
) -> tuple[Task, Event] | None:
    """The attempt holding ``token`` hands its work to child tasks and releases its worker;
    the task stays ``processing`` and is resumed when the last child has finished."""
    task = _cas(
        session,
        task_id,
        [Task.status == TaskStatus.PROCESSING.value, Task.claim_token == token],
        {
            "waiting_children": True,
            "claim_token": None,
            "lease_expires_at": None,
            "dispatch_at": utcnow(),
            "progress": case((Task.progress < progress, progress), else_=Task.progress),
            "stage": stage,
            "stage_current": current,
            "stage_total": total,
        },
    )
    if task is None:
        return None
    return task, append_event(session, task, EventType.PROGRESS)


#: The share of a parent's progress its children cover, in percent: before them the parent
#: prepares (e.g. writes the scenes), after them it assembles (e.g. lays out the page).
CHILDREN_PROGRESS = (10, 90)


def children_progress(session: Session, parent_id: str) -> tuple[Task, Event, bool] | None:
    """Count the finished children of a waiting parent into its progress (its stage's
    ``stage_progress`` becomes finished/total, ``progress`` moves within
    :data:`CHILDREN_PROGRESS`). Returns (parent, event, all finished), or ``None`` when the
    parent is not waiting (cancelled, deleted, already resumed)."""
    low, high = CHILDREN_PROGRESS
    finished_states = [s.value for s in TERMINAL]
    total, finished = session.execute(
        select(
            func.count(),
            func.count(case((Task.status.in_(finished_states), 1))),
        ).where(Task.parent_id == parent_id)
    ).one()
    if total == 0:
        return None
    pct = low + (high - low) * finished // total
    task = _cas(
        session,
        parent_id,
        [Task.status == TaskStatus.PROCESSING.value, Task.waiting_children.is_(True)],
        {
            "progress": case((Task.progress < pct, pct), else_=Task.progress),
            "stage_current": finished,
            "stage_total": total,
        },
    )
    if task is None:
        return None
    return task, append_event(session, task, EventType.PROGRESS), finished == total


def report_progress(
    session: Session,
    task_id: str,
    token: str,
    *,
    progress: int,
    stage: str | None,
    current: int,
    total: int,
) -> tuple[Task, Event] | None:
    """Record progress of the attempt holding ``token``; progress never goes backwards.

    Returns ``None`` when the attempt no longer holds the task (cancelled, deleted, taken
    over): the worker must stop."""
    progress = max(0, min(100, int(progress)))
    task = _cas(
        session,
        task_id,
        [Task.status == TaskStatus.PROCESSING.value, Task.claim_token == token],
        {
            "progress": case((Task.progress < progress, progress), else_=Task.progress),
            "stage": stage,
            "stage_current": current,
            "stage_total": total,
        },
    )
    if task is None:
        return None
    return task, append_event(session, task, EventType.PROGRESS)


def renew_lease(session: Session, task_id: str, token: str, lease_seconds: float) -> bool:
    result = session.execute(
        update(Task)
        .where(
            Task.id == task_id,
            Task.claim_token == token,
            Task.status == TaskStatus.PROCESSING.value,
        )
        .values(lease_expires_at=utcnow() + timedelta(seconds=lease_seconds))
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0))
