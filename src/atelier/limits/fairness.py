"""Fair dispatch (ADR 5): at most ``limits.dispatch_per_owner`` tasks of one owner wait in the
broker per queue. Further tasks of that owner stay ``pending`` in the database with no
``dispatch_at`` (*held*) and are sent, oldest first, as the owner's earlier ones start. The
broker stays first in, first out, so another owner's task waits behind at most that many
tasks of each busy owner instead of behind their whole backlog.

- :func:`hold` decides, in the transaction that inserts new tasks, which of them are held.
- :func:`release` sends an owner's next held tasks when it has room; the runner calls it in
  the transaction that claims a task (a task leaving the broker frees a place), the API
  after a cancel, the recovery sweep (:func:`release_all`) for anything missed.

A held task has no broker message, so no delivery can start it and the recovery sweep does
not send it again (it only resends tasks whose ``dispatch_at`` is old). Releasing is a
compare-and-set on ``dispatch_at IS NULL``, so concurrent releasers never send a task twice;
the message follows the commit, and a message lost in between is resent by the sweep like
any other.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, bindparam, case, func, or_, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import BindParameter

from atelier.db.base import utcnow
from atelier.tasks.lifecycle import TaskStatus
from atelier.tasks.models import Task

if TYPE_CHECKING:
    from atelier.runtime import Runtime

log = logging.getLogger(__name__)
PENDING = TaskStatus.PENDING.value
RETRYING = TaskStatus.RETRYING.value
WAITING = (PENDING, RETRYING)
SWEEP_BATCH = 200


def held_clause() -> Any:
    """A task held back by fair dispatch: pending, never sent."""
    return and_(Task.status == PENDING, Task.dispatch_at.is_(None))


def ready_clause(now: datetime | BindParameter[Any]) -> Any:
    """A task waiting in the broker, due now: sent and pending, or retrying and due."""
    return or_(
        and_(Task.status == PENDING, Task.dispatch_at.is_not(None)),
        and_(Task.status == RETRYING, Task.dispatch_at <= now),
    )


# built once (it runs on every group commit): each owner's held and due tasks per queue. (An
# `owner = ANY(:array)` would keep one SQL text for any number of owners, but once psycopg
# prepares it PostgreSQL plans it generically and scanned the table: batches took 3x as long.)
_OWNER_COUNTS = (
    select(
        Task.owner,
        Task.queue,
        func.sum(case((held_clause(), 1), else_=0)),
        func.sum(case((ready_clause(bindparam("now")), 1), else_=0)),
    )
    .where(Task.owner.in_(bindparam("owners", expanding=True)), Task.status.in_(WAITING))
    .group_by(Task.owner, Task.queue)
)


def hold(conn: Connection | Session, rows: Sequence[dict[str, Any]], cap: int) -> None:
    """Of new task ``rows`` (to be inserted in this transaction, then sent), hold back those
    over their owner's place in the broker: their ``dispatch_at`` becomes ``None``. An owner
    with tasks held already has all its new ones held too, so each owner's tasks start in
    the order they were made."""
    if cap <= 0 or not rows:
        return
    owners = sorted({row["owner"] for row in rows})
    counts = {
        (owner, queue): (int(held or 0), int(ready or 0))
        for owner, queue, held, ready in conn.execute(
            _OWNER_COUNTS, {"owners": owners, "now": utcnow()}
        )
    }
    free: dict[tuple[str, str], int] = {}
    for row in rows:
        key = (row["owner"], row["queue"])
        if key not in free:
            held, ready = counts.get(key, (0, 0))
            free[key] = 0 if held else max(0, cap - ready)
        if free[key] > 0:
            free[key] -= 1
            if row["dispatch_at"] is None:  # held by an attempt that was rolled back
                row["dispatch_at"] = row["created_at"]
        else:
            row["dispatch_at"] = None


def release(session: Session, owner: str, queue: str, cap: int) -> list[str]:
    """Mark the owner's oldest held tasks in ``queue`` as sent, as many as it has room for
    in the broker (all of them when fair dispatch is off); returns their ids, to send after
    the commit."""
    held = list(
        session.scalars(
            select(Task.id)
            .where(Task.queue == queue, held_clause(), Task.owner == owner)
            .order_by(Task.created_at, Task.id)
            .limit(cap if cap > 0 else None)
        )
    )
    if not held:
        return []
    now = utcnow()
    room = len(held)
    if cap > 0:
        ready = session.execute(
            select(func.count())
            .select_from(Task)
            .where(Task.queue == queue, Task.owner == owner, ready_clause(now))
        ).scalar_one()
        room = cap - int(ready)
    released: list[str] = []
    for task_id in held:
        if len(released) >= room:
            break
        moved = session.execute(
            update(Task)
            .where(Task.id == task_id, held_clause())
            .values(dispatch_at=now)
            .execution_options(synchronize_session=False)
        )
        if getattr(moved, "rowcount", 0):
            released.append(task_id)
    return released


def after_claim(session: Session, task: Task | None, cap: int) -> list[str]:
    """In the transaction that claimed ``task``: it left the broker, so its owner's next held
    task may take its place."""
    if task is None or cap <= 0:
        return []
    return release(session, task.owner, task.queue, cap)


def send(runtime: Runtime, queue: str, task_ids: list[str]) -> None:
    """Hand released tasks to the broker (after their release committed)."""
    if task_ids:
        runtime.dispatcher.submit_many([(task_id, queue, None) for task_id in task_ids])


def release_and_send(runtime: Runtime, owner: str, queue: str) -> int:
    """:func:`release` in a transaction of its own, then :func:`send`."""
    cap = runtime.settings.limits.dispatch_per_owner
    with runtime.db.session() as s:
        ids = release(s, owner, queue, cap)
    send(runtime, queue, ids)
    return len(ids)


def release_all(runtime: Runtime) -> int:
    """The recovery sweep's pass: every owner with held tasks and room gets them sent (a
    release missed by a worker that died, a cancelled task's place, or fair dispatch turned
    off with tasks still held). Returns how many were sent."""
    from atelier.worker.celery_app import QUEUES

    with runtime.db.read() as s:
        pairs = s.execute(
            select(Task.owner, Task.queue)
            .where(Task.queue.in_(QUEUES), held_clause())
            .group_by(Task.owner, Task.queue)
            .limit(SWEEP_BATCH)
        ).all()
    sent = 0
    for owner, queue in pairs:
        count = release_and_send(runtime, owner, queue)
        if count:
            log.info("released %d held task(s) of %s on %s", count, owner, queue)
        sent += count
    return sent
