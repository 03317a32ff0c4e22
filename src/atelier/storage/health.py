"""Endpoint health, as this process sees it.

An endpoint is healthy until an operation on it fails with a :class:`StorageError` (a missing
object is not a failure) or a probe fails; it is unhealthy until a later probe succeeds. A probe
writes and stats the sentinel key :data:`PROBE_KEY`, which no application key can equal (the
application never writes under ``atelier-health/``). :class:`HealthMonitor` probes every
endpoint periodically; results younger than ``max_age`` are reused (the "short cache").
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from atelier.db.base import utcnow

PROBE_PREFIX = "atelier-health/"
PROBE_KEY = f"{PROBE_PREFIX}probe"


@dataclass(frozen=True)
class Health:
    healthy: bool
    checked: float  # time.monotonic() of the last probe or failure; 0 when never checked
    checked_at: datetime | None
    error: str | None = None
    probe_ms: float | None = None


UNKNOWN = Health(healthy=True, checked=0.0, checked_at=None)


class HealthTracker:
    """Thread-safe map of endpoint id → :class:`Health`."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._health: dict[str, Health] = {}

    def get(self, endpoint_id: str) -> Health:
        with self._lock:
            return self._health.get(endpoint_id, UNKNOWN)

    def healthy(self, endpoint_id: str) -> bool:
        return self.get(endpoint_id).healthy

    def ok(self, endpoint_id: str, probe_ms: float | None = None) -> None:
        with self._lock:
            self._health[endpoint_id] = Health(True, time.monotonic(), utcnow(), None, probe_ms)

    def fail(self, endpoint_id: str, error: BaseException | str) -> None:
        text = error if isinstance(error, str) else f"{type(error).__name__}: {error}"
        with self._lock:
            self._health[endpoint_id] = Health(False, time.monotonic(), utcnow(), text[:500])

    def stale(self, endpoint_id: str, max_age: float) -> bool:
        checked = self.get(endpoint_id).checked
        return checked == 0.0 or time.monotonic() - checked >= max_age

    def forget(self, keep: set[str]) -> None:
        with self._lock:
            for endpoint_id in set(self._health) - keep:
                del self._health[endpoint_id]


class HealthMonitor(threading.Thread):
    """Calls ``check`` every ``interval`` seconds until stopped."""

    def __init__(self, check: Callable[[], object], interval: float) -> None:
        super().__init__(name="atelier-storage-health", daemon=True)
        self._check = check
        self._interval = interval
        self._stop_event = threading.Event()

    def run(self) -> None:
        import logging

        log = logging.getLogger(__name__)
        while not self._stop_event.wait(self._interval):
            try:
                self._check()
            except Exception:
                log.exception("storage health check failed")

    def stop(self) -> None:
        self._stop_event.set()
        if self.is_alive() and threading.current_thread() is not self:
            self.join()
