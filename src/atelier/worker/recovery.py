"""The recovery sweep: the task table, not the broker, decides that no task is lost.

- A ``processing`` task whose lease lapsed lost its worker: it goes back to ``retrying`` and is
  sent again, or is failed with ``worker_lost`` once its worker died too often.
- A ``pending`` or ``retrying`` task not picked up long after it was due (its message was lost
  with a dead worker, or the API died between commit and publish) is sent again.
- A task held back by fair dispatch whose owner has room in the broker again is sent (ADR 5).
Every change is a compare-and-set, so any number of sweepers may run; duplicates of a message
are harmless because only one attempt can claim a task.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta

from sqlalchemy import select, update

from atelier.db.base import utcnow
from atelier.limits import fairness
from atelier.runtime import Runtime
from atelier.system.retention import RetentionJob
from atelier.tasks import children, lifecycle
from atelier.tasks.lifecycle import TaskStatus
from atelier.tasks.models import Task
from atelier.webhooks import service as webhooks
from atelier.worker.celery_app import enqueue

log = logging.getLogger(__name__)
BATCH = 200


def sweep(runtime: Runtime) -> int:
    """One pass; returns how many tasks were sent again or failed."""
    q = runtime.settings.queue
    now = utcnow()
    acted = 0
    with runtime.db.read() as s:
        lapsed = s.execute(
            select(Task.id, Task.worker_losses)
            .where(Task.status == TaskStatus.PROCESSING.value, Task.lease_expires_at < now)
            .limit(BATCH)
        ).all()
    for task_id, losses in lapsed:
        give_up = losses + 1 >= q.max_worker_losses
        with runtime.db.session() as s:
            moved = lifecycle.transition(
                s,
                task_id,
                TaskStatus.FAILED if give_up else TaskStatus.RETRYING,
                extra_where=[Task.lease_expires_at < now],
                values={
                    "error_code": "worker_lost",
                    "error_message": (
                        f"the worker running this task stopped {losses + 1} times"
                        if give_up
                        else "the worker running this task stopped; trying again"
                    ),
                    "worker_losses": Task.worker_losses + 1,
                    "claim_token": None,
                    "lease_expires_at": None,
                    "dispatch_at": now,
                },
            )
        if moved is None:
            continue
        task, event = moved
        runtime.bus.publish([event])
        acted += 1
        if give_up:
            webhooks.schedule(runtime, task, event)
            children.child_finished(runtime, task)
        else:
            enqueue(runtime.celery, task_id, task.queue)
        log.warning(
            "task %s lost its worker (%d); %s",
            task_id,
            losses + 1,
            "failed" if give_up else "sent again",
        )

    stale = now - timedelta(seconds=q.redispatch_after)
    with runtime.db.read() as s:
        waiting = s.execute(
            select(Task.id, Task.queue, Task.dispatch_at)
            .where(
                Task.status.in_([TaskStatus.PENDING.value, TaskStatus.RETRYING.value]),
                Task.dispatch_at < stale,
            )
            .limit(BATCH)
        ).all()
    for task_id, queue, due in waiting:
        with runtime.db.session() as s:
            bumped = s.execute(
                update(Task)
                .where(Task.id == task_id, Task.dispatch_at == due)
                .values(dispatch_at=now)
                .execution_options(synchronize_session=False)
            )
        if getattr(bumped, "rowcount", 0):
            enqueue(runtime.celery, task_id, queue)
            acted += 1
            log.warning("task %s waited past its due time; sent again", task_id)
    acted += _wake_parents(runtime, stale, now)
    acted += fairness.release_all(runtime)  # held tasks whose owner has room (ADR 5)
    return acted


def _wake_parents(runtime: Runtime, stale: datetime, now: datetime) -> int:
    """Parents waiting for children that have all finished, whose wake-up message was lost
    (a worker died between the last child and the send): send them again."""
    acted = 0
    with runtime.db.read() as s:
        parked = s.execute(
            select(Task.id, Task.dispatch_at)
            .where(
                Task.status == TaskStatus.PROCESSING.value,
                Task.waiting_children.is_(True),
                Task.dispatch_at < stale,
            )
            .limit(BATCH)
        ).all()
    for task_id, due in parked:
        with runtime.db.session() as s:
            if children.active_children(s, task_id):
                continue
            s.execute(
                update(Task)
                .where(Task.id == task_id, Task.dispatch_at == due)
                .values(dispatch_at=now)
                .execution_options(synchronize_session=False)
            )
        if children.check_parent(runtime, task_id):
            acted += 1
            log.warning("task %s waited for children that had finished; resumed", task_id)
    return acted


class Sweeper(threading.Thread):
    def __init__(self, runtime: Runtime) -> None:
        super().__init__(name="atelier-recovery", daemon=True)
        self.runtime = runtime
        self._stop_event = threading.Event()

    def run(self) -> None:
        interval = self.runtime.settings.queue.sweep_interval
        retention = RetentionJob(self.runtime)  # the retention clean-up rides on the sweep
        while not self._stop_event.wait(interval):
            try:
                sweep(self.runtime)
            except Exception:
                log.exception("recovery sweep failed")
            retention.tick()  # due every RETENTION__INTERVAL; bounded work; never raises

    def stop(self) -> None:
        self._stop_event.set()
        if self.is_alive():
            self.join()
