"""Runs one delivery of a task: claim, work with a kept lease, finish exactly once.

At least once, exactly one result: any number of deliveries may arrive; only the attempt that
holds the claim may report progress or finish, and its finish (image rows + ``completed``)
is one transaction. Bytes written by an attempt that does not finish are deleted.
"""

from __future__ import annotations

import logging
import random
import threading
import time
import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from atelier import logging as log_context
from atelier.config import get_settings
from atelier.db.base import utcnow
from atelier.errors import AtelierError
from atelier.images.service import PreparedImages
from atelier.library import hooks as library_hooks
from atelier.limits import fairness
from atelier.providers.errors import PermanentProviderError, ProviderError, RateLimited
from atelier.runtime import Runtime, build_runtime
from atelier.safety.images import annotate as annotate_safety
from atelier.storage.base import StorageError
from atelier.tasks import children, lifecycle
from atelier.tasks.kinds import AwaitChildren, RunContext, get_kind
from atelier.tasks.lifecycle import TaskCancelled, TaskStatus
from atelier.webhooks import service as webhooks
from atelier.worker.celery_app import enqueue

log = logging.getLogger(__name__)
_runtime: Runtime | None = None
_runtime_lock = threading.Lock()

TRANSIENT = (OperationalError, PoolTimeout, StorageError, ConnectionError, TimeoutError)


def set_runtime(runtime: Runtime | None) -> None:
    global _runtime
    _runtime = runtime


def get_runtime() -> Runtime:
    global _runtime
    with _runtime_lock:
        if _runtime is None:
            _runtime = build_runtime(get_settings(), worker=True)
        return _runtime


class LeaseKeeper(threading.Thread):
    """Renews the attempt's lease; notices when the attempt lost the task."""

    def __init__(self, runtime: Runtime, task_id: str, token: str) -> None:
        super().__init__(name=f"lease-{task_id[:8]}", daemon=True)
        self.runtime = runtime
        self.task_id = task_id
        self.token = token
        self.lost = threading.Event()
        self._stop_event = threading.Event()

    def run(self) -> None:
        lease = self.runtime.settings.queue.lease_seconds
        while not self._stop_event.wait(lease / 3):
            try:
                with self.runtime.db.session() as session:
                    held = lifecycle.renew_lease(session, self.task_id, self.token, lease)
            except Exception:
                log.exception("lease renewal failed for %s", self.task_id)
                continue
            if not held:
                self.lost.set()
                return

    def stop(self) -> None:
        self._stop_event.set()


def backoff(settings_base: float, cap: float, attempt: int) -> float:
    """Exponential backoff with full jitter."""
    return random.uniform(0, min(cap, settings_base * 2 ** max(0, attempt - 1)))


def execute(runtime: Runtime, task_id: str) -> None:
    token_ctx = log_context.task_id.set(task_id)
    try:
        _execute(runtime, task_id)
    finally:
        log_context.task_id.reset(token_ctx)


def _execute(runtime: Runtime, task_id: str) -> None:
    settings = runtime.settings
    token = str(uuid.uuid4())
    with runtime.db.session() as session:
        claimed = lifecycle.claim(session, task_id, token, settings.queue.lease_seconds)
        cap = settings.limits.dispatch_per_owner  # fair dispatch: the owner's next may go
        released = fairness.after_claim(session, claimed[0] if claimed else None, cap)
        if claimed is None:  # a parent whose children have all finished?
            claimed = lifecycle.resume(session, task_id, token, settings.queue.lease_seconds)
    if claimed is None:
        log.info("task %s not claimable (finished, deleted or running elsewhere)", task_id)
        return
    task, started = claimed
    runtime.bus.publish([started])
    fairness.send(runtime, task.queue, released)
    log.info("task %s attempt %d started", task_id, task.attempts)

    keeper = LeaseKeeper(runtime, task_id, token)
    keeper.start()
    prepared = PreparedImages()
    began = time.monotonic()
    last: dict[str, Any] = {}

    def progress(stage: str, current: int, total: int, fraction: float) -> None:
        if keeper.lost.is_set():
            raise TaskCancelled(task_id)
        pct = int(fraction * 100)
        state = (stage, current, total, pct)
        if last.get("state") == state:
            return
        last["state"] = state
        with runtime.db.session() as s:
            reported = lifecycle.report_progress(
                s, task_id, token, progress=pct, stage=stage, current=current, total=total
            )
        if reported is None:
            raise TaskCancelled(task_id)
        runtime.bus.publish([reported[1]])

    try:
        kind = get_kind(task.kind)
        params = kind.parse(task.params)
        ctx = RunContext(runtime, task_id, task.owner, prepared, progress)
        result = annotate_safety(kind.run(ctx, params), prepared.safety)  # result.safety
        # a parent some of whose children failed lists them: it ends ``partial``
        failures = result.get("failures") or []
        end = TaskStatus.PARTIAL if failures else TaskStatus.COMPLETED
        with runtime.db.session() as s:
            s.add_all(prepared.records)
            done = lifecycle.transition(
                s,
                task_id,
                end,
                holder=token,
                values={
                    "result": result,
                    "provider": result.get("provider") or task.provider,
                    "error_code": "partial" if failures else None,
                    "error_message": (
                        f"{len(failures)} part(s) failed; see result.failures" if failures else None
                    ),
                    "progress": 100,
                    "run_seconds": time.monotonic() - began,
                    "stage": "done",
                },
            )
            if done is None:
                raise TaskCancelled(task_id)
        runtime.bus.publish([done[1]])
        webhooks.schedule(runtime, *done)
        log.info("task %s completed in %.2fs", task_id, time.monotonic() - began)
        children.child_finished(runtime, done[0])
        library_hooks.tag_results(runtime, done[0])  # its images go into the library
    except AwaitChildren as wait:
        _park(runtime, task_id, token, prepared, wait)
    except TaskCancelled:
        log.info("task %s stopped: cancelled, deleted or taken over", task_id)
        runtime.images.discard(prepared.keys)
    except Exception as exc:
        runtime.images.discard(prepared.keys)
        _fail_or_retry(runtime, task_id, token, task.attempts, exc)
    finally:
        keeper.stop()
        keeper.join()


def _park(
    runtime: Runtime, task_id: str, token: str, prepared: PreparedImages, wait: AwaitChildren
) -> None:
    """The task handed its work to its children: release the worker, keep what it stored."""
    low, _ = lifecycle.CHILDREN_PROGRESS
    with runtime.db.session() as s:
        s.add_all(prepared.records)
        parked = lifecycle.park(
            s, task_id, token, stage=wait.stage, current=0, total=wait.total, progress=low
        )
    if parked is None:
        runtime.images.discard(prepared.keys)
        log.info("task %s stopped while handing over to its children", task_id)
        return
    runtime.bus.publish([parked[1]])
    log.info("task %s waits for %d children", task_id, wait.total)
    # children that finished before the parent parked could not wake it: count them now
    children.check_parent(runtime, task_id)


def _classify(exc: Exception) -> tuple[bool, str, str, float | None]:
    """(transient, code, message, retry_after)"""
    if isinstance(exc, ProviderError):
        retry_after = exc.retry_after if isinstance(exc, RateLimited) else None
        transient = not isinstance(exc, PermanentProviderError) and exc.transient
        return transient, exc.code, exc.message, retry_after
    if isinstance(exc, AtelierError):
        return False, exc.code, exc.message, None
    if isinstance(exc, TRANSIENT):
        return True, "transient_error", f"{type(exc).__name__}: temporary failure", None
    log.exception("task failed with an unexpected error", exc_info=exc)
    return False, "internal_error", "internal error; the server log has the details", None


def _fail_or_retry(
    runtime: Runtime, task_id: str, token: str, attempts: int, exc: Exception
) -> None:
    q = runtime.settings.queue
    transient, code, message, retry_after = _classify(exc)
    if transient and attempts < q.max_attempts:
        delay = backoff(q.retry_base_delay, q.retry_max_delay, attempts)
        if retry_after is not None:
            delay = max(delay, retry_after)

        now = utcnow()
        with runtime.db.session() as s:
            moved = lifecycle.transition(
                s,
                task_id,
                TaskStatus.RETRYING,
                holder=token,
                values={
                    "error_code": code,
                    "error_message": message,
                    "claim_token": None,
                    "lease_expires_at": None,
                    "updated_at": now,
                    "dispatch_at": now + timedelta(seconds=delay),
                },
            )
        if moved is None:
            return
        task, event = moved
        runtime.bus.publish([event])
        log.warning(
            "task %s attempt %d failed (%s); retry in %.2fs", task_id, attempts, code, delay
        )
        enqueue(runtime.celery, task_id, task.queue, countdown=delay)
        return
    with runtime.db.session() as s:
        failed = lifecycle.transition(
            s,
            task_id,
            TaskStatus.FAILED,
            holder=token,
            values={"error_code": code, "error_message": message},
        )
    if failed is not None:
        runtime.bus.publish([failed[1]])
        webhooks.schedule(runtime, *failed)
        log.warning("task %s failed: %s", task_id, code)
        children.child_finished(runtime, failed[0])
