"""Group commit for new tasks: one writer thread inserts every task submitted meanwhile.

A submission puts its task row and its ``created`` event row on a queue and waits. The writer
takes whatever is queued, inserts all the tasks and all the events with one multi-row
statement each, commits once, then answers every waiter and hands the batch to the
dispatcher (broker + event bus). Nothing waits on a timer: under light load a batch is one
task and the latency is one transaction; under heavy load the tasks that arrived during a
commit share the next one, so the cost per task falls as the rate rises.

A batch that breaks a unique constraint (a repeated ``Idempotency-Key`` racing its first
use) is rolled back and written again one task per transaction, so only the offending
submissions see the error.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import threading
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import Table, insert
from sqlalchemy.exc import IntegrityError

from atelier.limits import fairness
from atelier.tasks.lifecycle import Event
from atelier.tasks.models import Task, TaskEvent

if TYPE_CHECKING:
    from atelier.db.engine import Database
    from atelier.events.bus import EventBus
    from atelier.worker.dispatch import Dispatcher

log = logging.getLogger(__name__)

_TASKS: Table = Task.__table__  # type: ignore[assignment]
_EVENTS: Table = TaskEvent.__table__  # type: ignore[assignment]
INSERT_TASKS = insert(_TASKS)
# the ids come back with their task ids (one created event per task in a batch): asking for
# them in parameter order would make SQLAlchemy add a sorting sentinel to every batch
INSERT_EVENTS = insert(_EVENTS).returning(_EVENTS.c.id, _EVENTS.c.task_id)
MAX_BATCH = 512


@dataclass
class NewTask:
    """A task to insert: its row, its ``created`` event row (no id yet), where it goes, and
    who waits for it: a thread (``future``) or a coroutine (``waiter`` on ``loop``)."""

    row: dict[str, Any]
    event: dict[str, Any]
    dispatch: bool = True
    future: Future[Event] | None = None
    loop: asyncio.AbstractEventLoop | None = None
    waiter: asyncio.Future[Event] | None = None


Outcome = Event | BaseException


class TaskWriter:
    def __init__(self, db: Database, dispatcher: Dispatcher, bus: EventBus) -> None:
        self.db = db
        self.dispatcher = dispatcher
        self.bus = bus
        self._queue: queue.SimpleQueue[NewTask | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._closed = False

    def write(self, item: NewTask) -> Event:
        """Insert a task with the next group commit and return its ``created`` event (or
        raise the error), blocking the calling thread."""
        item.future = Future()
        self._put(item)
        return item.future.result()

    async def write_async(self, item: NewTask) -> Event:
        """:meth:`write` for a coroutine: waits without holding a thread."""
        item.loop = asyncio.get_running_loop()
        item.waiter = item.loop.create_future()
        self._put(item)
        return await item.waiter

    def _put(self, item: NewTask) -> None:
        if self._closed:
            raise RuntimeError("the task writer is closed")
        if self._thread is None:
            with self._lock:
                if self._thread is None:
                    self._thread = threading.Thread(
                        target=self._run, name="atelier-task-writer", daemon=True
                    )
                    self._thread.start()
        self._queue.put(item)

    def close(self, timeout: float = 10.0) -> None:
        """Write what is queued, then stop."""
        self._closed = True
        thread = self._thread
        if thread is None:
            return
        self._queue.put(None)
        thread.join(timeout)
        self._thread = None

    # -- the writer thread -----------------------------------------------------------------
    def _run(self) -> None:
        while True:
            first = self._queue.get()
            batch = [] if first is None else [first]
            stop = first is None
            while len(batch) < MAX_BATCH:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    stop = True
                    break
                batch.append(item)
            if batch:
                self._write(batch)
            if stop:
                return

    def _write(self, batch: list[NewTask]) -> None:
        try:
            events = self._insert(batch)
        except IntegrityError as exc:
            if len(batch) == 1:
                self._settle([(batch[0], exc)])
                return
            for item in batch:  # find the offenders: one transaction each
                self._write([item])
            return
        except Exception as exc:
            log.exception("could not write %d new task(s)", len(batch))
            self._settle([(item, exc) for item in batch])
            return
        pairs = list(zip(batch, events, strict=True))
        self._settle(pairs)
        sent = [(i, e) for i, e in pairs if i.dispatch and i.row["dispatch_at"] is not None]
        dispatched = [(i.row["id"], i.row["queue"], e) for i, e in sent]
        if dispatched:
            self.dispatcher.submit_many(dispatched)
        local = [e for i, e in pairs if not i.dispatch or i.row["dispatch_at"] is None]
        if local:
            self.bus.publish(local)

    @staticmethod
    def _settle(outcomes: Sequence[tuple[NewTask, Outcome]]) -> None:
        """Answer every waiter: threads directly, coroutines with one call per event loop."""
        per_loop: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[Event], Outcome]]]
        per_loop = {}
        for item, outcome in outcomes:
            if item.future is not None:
                if isinstance(outcome, BaseException):
                    item.future.set_exception(outcome)
                else:
                    item.future.set_result(outcome)
            elif item.loop is not None and item.waiter is not None:
                per_loop.setdefault(item.loop, []).append((item.waiter, outcome))
        for loop, waiters in per_loop.items():
            with contextlib.suppress(RuntimeError):  # the loop is gone: nobody waits
                loop.call_soon_threadsafe(_wake, waiters)

    def _insert(self, batch: list[NewTask]) -> list[Event]:
        with self.db.session() as s:
            conn = s.connection()
            # fair dispatch (ADR 5): tasks over their owner's place in the broker wait here
            cap = self.db.settings.limits.dispatch_per_owner
            fairness.hold(conn, [item.row for item in batch if item.dispatch], cap)
            conn.execute(INSERT_TASKS, [item.row for item in batch])
            ids = dict(
                (task_id, row_id)
                for row_id, task_id in conn.execute(INSERT_EVENTS, [item.event for item in batch])
            )
        return [
            Event(
                int(ids[e["task_id"]]),
                e["task_id"],
                e["owner"],
                e["seq"],
                e["type"],
                e["data"],
                e["created_at"],
            )
            for e in (item.event for item in batch)
        ]


def _wake(waiters: list[tuple[asyncio.Future[Event], Outcome]]) -> None:
    for waiter, outcome in waiters:
        if waiter.done():  # the request was cancelled (client gone); the task stays
            continue
        if isinstance(outcome, BaseException):
            waiter.set_exception(outcome)
        else:
            waiter.set_result(outcome)
