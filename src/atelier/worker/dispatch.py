"""Sends committed tasks to the broker from a background thread, off the request path.

A request returns once its task row is committed; the broker publish follows within
milliseconds. If the process dies in between, the recovery sweep sends the task later
(``queue.redispatch_after``): nothing is lost, only delayed.
"""

from __future__ import annotations

import logging
import queue
import threading

from celery import Celery

from atelier.worker.celery_app import enqueue

log = logging.getLogger(__name__)
_STOP = ("", "")


class Dispatcher:
    def __init__(self, app: Celery) -> None:
        self.app = app
        self._queue: queue.SimpleQueue[tuple[str, str]] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def submit(self, task_id: str, queue_name: str) -> None:
        if self._thread is None:
            with self._lock:
                if self._thread is None:
                    self._thread = threading.Thread(
                        target=self._run, name="atelier-dispatch", daemon=True
                    )
                    self._thread.start()
        self._queue.put((task_id, queue_name))

    def _run(self) -> None:
        while True:
            task_id, queue_name = self._queue.get()
            if (task_id, queue_name) == _STOP:
                return
            enqueue(self.app, task_id, queue_name)

    def close(self, timeout: float = 10.0) -> None:
        """Send what is queued, then stop."""
        if self._thread is None:
            return
        self._queue.put(_STOP)
        self._thread.join(timeout)
        if self._thread.is_alive():
            log.warning("dispatcher still busy at shutdown; the recovery sweep will resend")
        self._thread = None
