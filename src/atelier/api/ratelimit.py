"""Per-owner token buckets for task submission (one API process; issue 8 makes them shared)."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict

from atelier.errors import RateLimitExceeded


class TokenBuckets:
    def __init__(self, per_minute: int, burst: int, max_owners: int = 100_000) -> None:
        self.rate = per_minute / 60.0
        self.burst = float(burst)
        self.max_owners = max_owners
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self.rate > 0

    def take(self, owner: str) -> None:
        """Spend one token or raise :class:`RateLimitExceeded` with the wait until the next."""
        if not self.enabled:
            return
        now = time.monotonic()
        with self._lock:
            tokens, stamp = self._buckets.pop(owner, (self.burst, now))
            tokens = min(self.burst, tokens + (now - stamp) * self.rate)
            if tokens < 1.0:
                self._buckets[owner] = (tokens, now)
                raise RateLimitExceeded(
                    "too many submissions; slow down", retry_after=(1.0 - tokens) / self.rate
                )
            self._buckets[owner] = (tokens - 1.0, now)
            while len(self._buckets) > self.max_owners:
                self._buckets.popitem(last=False)
