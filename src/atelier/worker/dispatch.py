"""Sends committed tasks to the broker from a background thread, off the request path.

A request returns once its task row is committed; the broker publish follows within
milliseconds. If the process dies in between, the recovery sweep sends the task later
(``queue.redispatch_after``): nothing is lost, only delayed.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING

from celery import Celery

from atelier.worker.celery_app import enqueue_many

if TYPE_CHECKING:
    from atelier.events.bus import EventBus
    from atelier.tasks.lifecycle import Event

log = logging.getLogger(__name__)
_STOP: tuple[str, str, Event | None] = ("", "", None)


class Dispatcher:
    def __init__(self, app: Celery, bus: EventBus) -> None:
        self.app = app
        self.bus = bus
        self._queue: queue.SimpleQueue[tuple[str, str, Event | None]] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def submit(self, task_id: str, queue_name: str, event: Event | None = None) -> None:
        """Queue the task for the broker and its ``created`` event (already persisted) for
        the bus: both leave the request path."""
        self._start()
        self._queue.put((task_id, queue_name, event))

    def submit_many(self, items: Sequence[tuple[str, str, Event | None]]) -> None:
        """:meth:`submit` for a batch of (task id, queue, event)."""
        self._start()
        for item in items:
            self._queue.put(item)

    def _start(self) -> None:
        if self._thread is None:
            with self._lock:
                if self._thread is None:
                    self._thread = threading.Thread(
                        target=self._run, name="atelier-dispatch", daemon=True
                    )
                    self._thread.start()

    def _run(self) -> None:
        while True:
            batch = [self._queue.get()]
            while len(batch) < 500:  # whatever else is waiting goes out with it
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            stop = _STOP in batch
            items = [item for item in batch if item != _STOP]
            events = [event for _, _, event in items if event is not None]
            if events:
                self.bus.publish(events)  # one round trip (a Redis pipeline) for the batch
            if items:
                enqueue_many(self.app, [(task_id, queue_name) for task_id, queue_name, _ in items])
            if stop:
                return

    def close(self, timeout: float = 10.0) -> None:
        """Send what is queued, then stop."""
        if self._thread is None:
            return
        self._queue.put(_STOP)
        self._thread.join(timeout)
        if self._thread.is_alive():
            log.warning("dispatcher still busy at shutdown; the recovery sweep will resend")
        self._thread = None
