"""Brute-force throttle of logins: failed attempts per (email, client address) in a sliding
window. It lives in one API process: N processes allow up to N times the limit."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable

from atelier.errors import RateLimitExceeded


class LoginThrottle:
    def __init__(
        self,
        max_failures: int,
        window: float,
        *,
        max_keys: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_failures = max_failures
        self.window = window
        self.max_keys = max_keys
        self._clock = clock
        self._failures: OrderedDict[tuple[str, str], deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def _recent(self, key: tuple[str, str], now: float) -> deque[float]:
        stamps = self._failures.get(key)
        if stamps is None:
            return deque()
        while stamps and stamps[0] <= now - self.window:
            stamps.popleft()
        if not stamps:
            del self._failures[key]
        return stamps

    def check(self, email: str, address: str) -> None:
        """Raise :class:`RateLimitExceeded` while the key has used up its failures."""
        key = (email, address)
        now = self._clock()
        with self._lock:
            stamps = self._recent(key, now)
            if len(stamps) >= self.max_failures:
                retry_after = stamps[0] + self.window - now
                raise RateLimitExceeded(
                    "too many failed logins; try again later", retry_after=retry_after
                )

    def failed(self, email: str, address: str) -> None:
        key = (email, address)
        now = self._clock()
        with self._lock:
            stamps = self._recent(key, now)
            stamps.append(now)
            self._failures[key] = stamps
            self._failures.move_to_end(key)
            while len(self._failures) > self.max_keys:
                self._failures.popitem(last=False)

    def succeeded(self, email: str, address: str) -> None:
        with self._lock:
            self._failures.pop((email, address), None)
