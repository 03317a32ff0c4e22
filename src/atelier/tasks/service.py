"""Task use cases for the API: create, read, list, cancel, delete."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import json
import logging
import threading
import time
import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import delete, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from atelier.db.base import utcnow
from atelier.errors import BadRequest, Conflict, NotFound
from atelier.limits import fairness
from atelier.limits.positions import Positions
from atelier.limits.quotas import Quotas
from atelier.runtime import Runtime
from atelier.tasks import children, lifecycle
from atelier.tasks.kinds import TaskKind, get_kind
from atelier.tasks.lifecycle import ACTIVE, TERMINAL, Event, TaskStatus
from atelier.tasks.models import Task
from atelier.tasks.schemas import StageProgress, TaskCreate, TaskError, TaskOut
from atelier.tasks.writer import NewTask
from atelier.webhooks import service as webhooks

log = logging.getLogger(__name__)
WAITING = [TaskStatus.PENDING.value, TaskStatus.RETRYING.value]
FINISHED_WITH_RESULT = (TaskStatus.COMPLETED.value, TaskStatus.PARTIAL.value)


def _transient(row: dict[str, Any]) -> Task:
    """A :class:`Task` carrying ``row``, for reading only: the writer inserts the row itself,
    and this object never joins a session. Filled as SQLAlchemy fills a loaded row (straight
    into its ``__dict__``), which costs a tenth of the constructor's per-attribute events on
    the submit path; attributes not in ``row`` read as ``None``."""
    Task.registry.configure()  # our models only (the constructor would do it); then a no-op
    task: Task = Task.__mapper__.class_manager.new_instance()
    task.__dict__.update(row)
    return task


class Estimator:
    """Average run time per kind over recent completions, cached for a few seconds."""

    def __init__(self, default: float, concurrency: int) -> None:
        self.default = default
        self.concurrency = max(1, concurrency)
        self._cache: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def average(self, session: Session, kind: str) -> float:
        now = time.monotonic()
        with self._lock:
            hit = self._cache.get(kind)
            if hit and now - hit[1] < 5.0:
                return hit[0]
        recent = (
            select(Task.run_seconds)
            .where(Task.kind == kind, Task.status == "completed", Task.run_seconds.is_not(None))
            .order_by(Task.completed_at.desc())
            .limit(50)
            .subquery()
        )
        avg = session.execute(select(func.avg(recent.c.run_seconds))).scalar()
        value = float(avg) if avg is not None else self.default
        with self._lock:
            self._cache[kind] = (value, now)
        return value

    def estimate(self, session: Session, kind: str, position: int) -> float:
        return self.scale(self.average(session, kind), position)

    def scale(self, average: float, position: int) -> float:
        return round(average * (position // self.concurrency + 1), 2)

    def cached(self, kind: str, *, stale: bool = False) -> float | None:
        """The average when it is fresh (or, with ``stale``, known), without the database."""
        with self._lock:
            hit = self._cache.get(kind)
        if hit is None:
            return None
        return hit[0] if stale or time.monotonic() - hit[1] < 5.0 else None


class WaitingCounter:
    """Waiting tasks per queue: a COUNT refreshed at most every ``ttl`` seconds plus the
    tasks this process created since, so a submission does not scan the whole queue."""

    def __init__(self, ttl: float = 0.5) -> None:
        self.ttl = ttl
        self._counts: dict[str, tuple[int, float]] = {}
        self._lock = threading.Lock()

    def created(self, queue: str) -> None:
        with self._lock:
            if queue in self._counts:
                count, at = self._counts[queue]
                self._counts[queue] = (count + 1, at)

    def cached(self, queue: str, *, stale: bool = False) -> int | None:
        """The count when it is fresh (or, with ``stale``, known), without the database."""
        with self._lock:
            hit = self._counts.get(queue)
        if hit is None:
            return None
        return hit[0] if stale or time.monotonic() - hit[1] < self.ttl else None

    def count(self, session: Session, queue: str) -> int:
        now = time.monotonic()
        with self._lock:
            hit = self._counts.get(queue)
            if hit is not None and now - hit[1] < self.ttl:
                return hit[0]
        fresh = session.execute(
            select(func.count())
            .select_from(Task)
            .where(Task.queue == queue, Task.status.in_(WAITING), Task.dispatch_at.is_not(None))
        ).scalar_one()
        with self._lock:
            self._counts[queue] = (int(fresh), now)
        return int(fresh)


class TaskService:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        q = runtime.settings.queue
        self.estimator = Estimator(q.default_estimate_seconds, q.embedded_concurrency)
        self.waiting = WaitingCounter()
        self.quotas = Quotas(runtime)
        self.positions = Positions(runtime.settings.limits.dispatch_per_owner)
        self._refreshing = threading.Lock()
        self._background: set[asyncio.Future[None]] = set()

    # -- create --------------------------------------------------------------------------
    def create(
        self,
        owner: str,
        body: TaskCreate,
        idempotency_key: str | None = None,
        *,
        dispatch: bool = True,
        identity: dict[str, Any] | None = None,
    ) -> tuple[Task, bool]:
        """Returns (task, created). A repeated ``Idempotency-Key`` returns the first task.
        ``dispatch=False`` leaves the task for the caller to run (the local CLI). Blocks
        until the task is committed (by the group-committing :class:`TaskWriter`).
        ``identity``: what a repeat of the request must match, instead of ``body.params``
        (an upload endpoint names the photo by its bytes, not by the id of its new copy)."""
        kind, params, request_hash = self._validate(owner, body, idempotency_key, identity)
        if body.webhook_url is not None:
            webhooks.check_url(body.webhook_url)
        if idempotency_key is not None:
            existing = self._by_key(owner, idempotency_key)
            if existing is not None:
                return self._replay(existing, request_hash), False
        with self.quotas.admit(owner):
            task, item = self._new_task(owner, body, kind, params, request_hash, idempotency_key)
            item.dispatch = dispatch
            try:
                self.runtime.writer.write(item)
            except IntegrityError:
                return self._after_conflict(owner, idempotency_key, request_hash), False
        self._written(task, item)
        return task, True

    async def create_async(
        self, owner: str, body: TaskCreate, idempotency_key: str | None = None
    ) -> tuple[Task, bool]:
        """:meth:`create` for the event loop: the common case (a kind whose validation needs
        no I/O, no webhook, no idempotency key) validates here and awaits the group commit
        without taking a worker thread; anything else runs :meth:`create` in the pool."""
        kind = get_kind(body.kind, internal=False)
        if (
            kind.validation_blocks
            or body.webhook_url is not None
            or idempotency_key is not None
            or self.quotas.might_apply(owner)  # a quota is counted in the database
        ):
            return await run_in_threadpool(self.create, owner, body, idempotency_key)
        kind, params, request_hash = self._validate(owner, body, None)
        task, item = self._new_task(owner, body, kind, params, request_hash, None)
        await self.runtime.writer.write_async(item)
        self._written(task, item)
        return task, True

    def _written(self, task: Task, item: NewTask) -> None:
        # the writer may have held the task back (fair dispatch): it is not in the broker
        task.dispatch_at = item.row["dispatch_at"]
        if task.dispatch_at is not None:
            self.waiting.created(task.queue)

    def _validate(
        self,
        owner: str,
        body: TaskCreate,
        idempotency_key: str | None,
        identity: dict[str, Any] | None = None,
    ) -> tuple[TaskKind, BaseModel, str | None]:
        """The kind and its validated params, and (with an ``Idempotency-Key``, the only use)
        the request's hash, which tells a replay of the first request from a different one."""
        if idempotency_key is not None and not 1 <= len(idempotency_key) <= 255:
            raise BadRequest("Idempotency-Key must be 1 to 255 characters")
        kind = get_kind(body.kind, internal=False)
        params = kind.validate(self.runtime, body.params, owner)
        if idempotency_key is None:
            return kind, params, None
        named = body.params if identity is None else identity
        request_hash = hashlib.sha256(
            json.dumps([body.kind, named, body.webhook_url], sort_keys=True).encode()
        ).hexdigest()
        return kind, params, request_hash

    def _new_task(
        self,
        owner: str,
        body: TaskCreate,
        kind: TaskKind,
        params: BaseModel,
        request_hash: str | None,
        idempotency_key: str | None,
    ) -> tuple[Task, NewTask]:
        now = utcnow()
        row: dict[str, Any] = {
            "id": str(uuid.uuid4()),
            "kind": body.kind,
            "owner": owner,
            "queue": kind.queue(self.runtime, params),
            "params": params.model_dump(mode="json"),
            "status": TaskStatus.PENDING.value,
            "stage": None,
            "stage_current": 0,
            "stage_total": 0,
            "progress": 0,
            "attempts": 0,
            "worker_losses": 0,
            "provider": kind.provider(self.runtime, params),
            "webhook_url": body.webhook_url,
            "idempotency_key": idempotency_key,
            "request_hash": request_hash,
            "last_seq": 1,
            "dispatch_at": now,
            "created_at": now,
            "updated_at": now,
        }
        task = _transient(row)
        event = {
            "task_id": task.id,
            "owner": owner,
            "seq": 1,
            "type": str(lifecycle.EventType.CREATED),
            "data": lifecycle.snapshot(task),
            "created_at": now,
        }
        return task, NewTask(row=row, event=event)

    def _after_conflict(
        self, owner: str, idempotency_key: str | None, request_hash: str | None
    ) -> Task:
        """A unique violation on insert: the same key was used concurrently; replay it."""
        existing = None if idempotency_key is None else self._by_key(owner, idempotency_key)
        if existing is None:
            raise Conflict("the task could not be created; try again")
        return self._replay(existing, request_hash)

    def _by_key(self, owner: str, key: str) -> Task | None:
        with self.runtime.db.read() as s:
            return s.scalars(
                select(Task).where(Task.owner == owner, Task.idempotency_key == key)
            ).first()

    @staticmethod
    def _replay(task: Task, request_hash: str | None) -> Task:
        if task.request_hash != request_hash:
            raise Conflict(
                "this Idempotency-Key was used with a different request",
                details={"task_id": task.id},
            )
        return task

    # -- read ------------------------------------------------------------------------------
    def get(self, owner: str, task_id: str) -> Task:
        with self.runtime.db.read() as s:
            task = s.get(Task, task_id)
        if task is None or task.owner != owner:
            raise NotFound("task not found", details={"task_id": task_id})
        return task

    def queue_position(self, session: Session, task: Task) -> int | None:
        """How many tasks start before this one, under fair dispatch (ADR 5)."""
        return self.positions.position(session, task)

    def describe(self, task: Task) -> TaskOut:
        with self.runtime.db.read() as s:
            position = self.queue_position(s, task)
            estimate = self._estimate(s, task, position)
        return to_out(task, position, estimate)

    def _estimate(self, s: Session, task: Task, position: int | None) -> float | None:
        if task.status in (s.value for s in TERMINAL):
            return None
        avg = self.estimator.average(s, task.kind)
        if position is not None:
            return self.estimator.estimate(s, task.kind, position)
        return round(max(0.0, avg * (1 - task.progress / 100)), 2)

    def created_view(self, task: Task) -> tuple[int | None, float | None]:
        """Position and estimate of a task just created: every task in the broker is ahead
        of it, so the position is the queue's count of those, kept by :class:`WaitingCounter`;
        a task held back by fair dispatch is placed by :class:`Positions`."""
        with self.runtime.db.read() as s:
            if task.dispatch_at is None and task.status in WAITING:
                position: int | None = self.positions.position(s, task, exact=False)
                return position, self._estimate(s, task, position)
            position = max(0, self.waiting.count(s, task.queue) - 1)
            return position, self.estimator.estimate(s, task.kind, position)

    async def created_view_async(self, task: Task) -> tuple[int | None, float | None]:
        """:meth:`created_view` from the caches, on the event loop. A stale cache still
        answers (a count carried forward by the tasks created since; a replay extended by
        the tasks held since) while one background refresh runs, so a burst of submissions
        does not run a burst of queries; with no cache yet, it is computed."""
        average = self.estimator.cached(task.kind, stale=True)
        if average is None:
            return await run_in_threadpool(self.created_view, task)
        if task.dispatch_at is None:  # held by fair dispatch: placed by the queue's replay
            placed = self.positions.cached_place(task) if task.status in WAITING else None
            if placed is None:
                return await run_in_threadpool(self.created_view, task)
            position, due = placed
        else:
            waiting = self.waiting.cached(task.queue, stale=True)
            if waiting is None:
                return await run_in_threadpool(self.created_view, task)
            position, due = max(0, waiting - 1), self.waiting.cached(task.queue) is None
        if (due or self.estimator.cached(task.kind) is None) and not self._refreshing.locked():
            self._refreshing.acquire()
            refresh = asyncio.get_running_loop().run_in_executor(None, self._refresh, task)
            self._background.add(refresh)
            refresh.add_done_callback(self._background.discard)
        return position, self.estimator.scale(average, position)

    def _refresh(self, task: Task) -> None:
        try:
            if task.dispatch_at is None:
                with self.runtime.db.read() as s:
                    self.positions.refresh(s, task.queue)
                    self.estimator.average(s, task.kind)
            else:
                self.created_view(task)
        except Exception:  # a failed refresh leaves the stale value; the next one retries
            log.warning("could not refresh the queue count", exc_info=True)
        finally:
            self._refreshing.release()

    def list_tasks(
        self,
        owner: str,
        *,
        status: list[str] | None = None,
        kind: list[str] | None = None,
        limit: int = 20,
        cursor: str | None = None,
    ) -> tuple[list[TaskOut], str | None]:
        stmt = select(Task).where(Task.owner == owner, Task.parent_id.is_(None))
        if status:
            stmt = stmt.where(Task.status.in_(status))
        if kind:
            stmt = stmt.where(Task.kind.in_(kind))
        if cursor:
            created, last_id = decode_cursor(cursor)
            stmt = stmt.where(
                or_(
                    Task.created_at < created,
                    (Task.created_at == created) & (Task.id < last_id),
                )
            )
        stmt = stmt.order_by(Task.created_at.desc(), Task.id.desc()).limit(limit + 1)
        with self.runtime.db.read() as s:
            rows = list(s.scalars(stmt).all())
            page = rows[:limit]
            out = []
            for t in page:
                position = self.queue_position(s, t)
                out.append(to_out(t, position, self._estimate(s, t, position)))
        next_cursor = encode_cursor(page[-1]) if len(rows) > limit else None
        return out, next_cursor

    def events_after(self, owner: str, task_id: str, after: int) -> list[Event]:
        from atelier.tasks.models import TaskEvent

        with self.runtime.db.read() as s:
            rows = s.scalars(
                select(TaskEvent)
                .where(
                    TaskEvent.task_id == task_id,
                    TaskEvent.owner == owner,
                    TaskEvent.seq > after,
                )
                .order_by(TaskEvent.seq)
            ).all()
            return [Event.from_row(r) for r in rows]

    # -- cancel / delete --------------------------------------------------------------------
    def cancel(self, owner: str, task_id: str) -> Task:
        task = self.get(owner, task_id)
        if task.status in (s.value for s in TERMINAL):
            raise Conflict(
                f"task is already {task.status}",
                details={"task_id": task_id, "status": task.status},
            )
        with self.runtime.db.session() as s:
            moved = lifecycle.transition(
                s,
                task_id,
                TaskStatus.CANCELLED,
                extra_where=[Task.owner == owner],
                values={"error_code": "cancelled", "error_message": "cancelled by the owner"},
            )
        if moved is None:
            current = self.get(owner, task_id)
            raise Conflict(
                f"task is already {current.status}",
                details={"task_id": task_id, "status": current.status},
            )
        self.runtime.bus.publish([moved[1]])
        webhooks.schedule(self.runtime, *moved)
        if task.status in WAITING:  # its place in the broker is free (fair dispatch)
            fairness.release_and_send(self.runtime, owner, task.queue)
        self._cancel_children(owner, task_id)
        if moved[0].parent_id is not None:
            children.child_finished(self.runtime, moved[0])
        return moved[0]

    def _cancel_children(self, owner: str, parent_id: str) -> None:
        with self.runtime.db.read() as s:
            active = s.scalars(
                select(Task.id).where(
                    Task.parent_id == parent_id, Task.status.in_([a.value for a in ACTIVE])
                )
            ).all()
        for child in active:
            with contextlib.suppress(Conflict, NotFound):
                self.cancel(owner, child)

    def delete(self, owner: str, task_id: str) -> None:
        task = self.get(owner, task_id)
        if task.status in (s.value for s in ACTIVE):
            with contextlib.suppress(Conflict):
                self.cancel(owner, task_id)
        with self.runtime.db.session() as s:
            keys = self.runtime.images.keys_of_task(s, task_id)
            children = s.scalars(select(Task.id).where(Task.parent_id == task_id)).all()
            for child in children:
                keys.extend(self.runtime.images.keys_of_task(s, child))
            s.execute(
                delete(Task)
                .where(Task.id == task_id, Task.owner == owner)
                .execution_options(synchronize_session=False)
            )
        self.runtime.images.discard(keys)


def to_out(task: Task, position: int | None, estimate: float | None) -> TaskOut:
    error = TaskError(code=task.error_code, message=task.error_message) if task.error_code else None
    return TaskOut(
        task_id=task.id,
        kind=task.kind,
        status=task.status,
        stage=task.stage,
        stage_progress=StageProgress(current=task.stage_current, total=task.stage_total),
        progress=task.progress,
        queue_position=position,
        estimated_time=estimate,
        attempts=task.attempts,
        error=error,
        params=task.params,
        result=task.result if task.status in FINISHED_WITH_RESULT else None,
        provider=task.provider,
        created_at=task.created_at,
        started_at=task.started_at,
        completed_at=task.completed_at,
        updated_at=task.updated_at,
    )


def encode_cursor(task: Task) -> str:
    raw = f"{task.created_at.isoformat()}|{task.id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        created, task_id = base64.urlsafe_b64decode(padded).decode().split("|", 1)
        return datetime.fromisoformat(created), task_id
    except (ValueError, UnicodeDecodeError):
        raise BadRequest("invalid cursor", details={"field": "cursor"}) from None
