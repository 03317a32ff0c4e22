"""Rate-limit counters: GCRA (the generic cell rate algorithm) in this process or in Redis.

Each bucket keeps one number, its *theoretical arrival time* (TAT): when the bucket would be
empty again at the steady rate. A request is allowed when pushing the TAT one interval on
keeps it within ``burst`` intervals of now. Several buckets (an IP's, a session's, the
submission ones) are checked together and a request that any of them refuses spends from
none of them. In Redis the check is one Lua script (one round trip, atomic, Redis's clock),
so every API process shares the counters. A Redis that is down or slow lets requests through
(fail open) with a logged warning; it never turns into an error.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from atelier.limits.policy import Rate, Scope

if TYPE_CHECKING:
    import redis.asyncio

log = logging.getLogger(__name__)
KEY_PREFIX = "atelier:rl:"
DOWN_FOR = 5.0  # after a Redis failure, let requests through without trying for this long
WARN_EVERY = 30.0


@dataclass(frozen=True)
class Check:
    """One bucket to spend from: its key, what it limits and its rate."""

    key: str
    scope: Scope
    rate: Rate


@dataclass(frozen=True)
class Outcome:
    check: Check
    allowed: bool
    remaining: int  # requests that may still be made now
    reset_after: float  # seconds until the bucket is full again
    retry_after: float  # seconds until the next request is allowed (0 when allowed)


@dataclass(frozen=True)
class Verdict:
    outcomes: tuple[Outcome, ...]
    failed_open: bool = False

    @property
    def allowed(self) -> bool:
        return all(o.allowed for o in self.outcomes)

    @property
    def refusal(self) -> Outcome | None:
        """The refusing bucket that frees up last, if any refused."""
        refused = [o for o in self.outcomes if not o.allowed]
        return max(refused, key=lambda o: o.retry_after) if refused else None

    @property
    def tightest(self) -> Outcome | None:
        """The bucket with the fewest requests left: the one the headers describe."""
        if not self.outcomes:
            return None
        return min(self.outcomes, key=lambda o: (o.remaining, -o.reset_after))


def outcomes(checks: list[Check], used: list[int], spend: bool) -> tuple[Verdict, bool]:
    """The verdict from each bucket's ``used`` (TAT minus now, µs, never negative), and
    whether the buckets are to be spent from. Both backends share this arithmetic."""
    results: list[Outcome] = []
    after = [u + c.rate.interval_us for c, u in zip(checks, used, strict=True)]
    fits = all(a <= c.rate.interval_us * c.rate.burst for c, a in zip(checks, after, strict=True))
    store = spend and fits
    for check, before, new in zip(checks, used, after, strict=True):
        interval = check.rate.interval_us
        tau = interval * check.rate.burst
        if not spend:  # a look: what is left, without spending
            results.append(
                Outcome(check, True, max(0, (tau - before) // interval), before / 1e6, 0.0)
            )
        elif store:
            results.append(Outcome(check, True, (tau - new) // interval, new / 1e6, 0.0))
        else:
            wait = max(0, new - tau)
            results.append(
                Outcome(
                    check,
                    wait == 0,
                    max(0, (tau - before) // interval),
                    before / 1e6,
                    wait / 1e6,
                )
            )
    return Verdict(tuple(results)), store


class Backend(Protocol):
    name: str

    async def hit(self, checks: list[Check]) -> Verdict:
        """Spend one request from every bucket, or from none when any refuses."""

    async def peek(self, checks: list[Check]) -> Verdict:
        """What is left in the buckets, spending nothing."""

    async def aclose(self) -> None: ...


class MemoryBackend:
    """Buckets in this process (the embedded default): N API processes allow N times."""

    name = "memory"

    def __init__(self, max_keys: int = 200_000) -> None:
        self.max_keys = max_keys
        self._tats: OrderedDict[str, int] = OrderedDict()
        self._lock = threading.Lock()
        self._epoch = time.monotonic_ns() // 1000

    def _now(self) -> int:
        return time.monotonic_ns() // 1000 - self._epoch + 1

    def apply(self, checks: list[Check], spend: bool) -> Verdict:
        with self._lock:
            now = self._now()
            used = [max(0, self._tats.get(c.key, now) - now) for c in checks]
            verdict, store = outcomes(checks, used, spend)
            if store:
                for check, u in zip(checks, used, strict=True):
                    self._tats[check.key] = now + u + check.rate.interval_us
                    self._tats.move_to_end(check.key)
                while len(self._tats) > self.max_keys:
                    self._tats.popitem(last=False)
        return verdict

    async def hit(self, checks: list[Check]) -> Verdict:
        return self.apply(checks, True)

    async def peek(self, checks: list[Check]) -> Verdict:
        return self.apply(checks, False)

    async def aclose(self) -> None:
        return None


# KEYS: the buckets. ARGV[1]: 1 to spend, 0 to look; then interval and burst per bucket (µs).
# Returns {stored, used_1, used_2, ...} where used_i = max(TAT_i - now, 0) before this call.
GCRA_SCRIPT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local spend = ARGV[1] == '1'
local used = {}
local fits = true
for i = 1, #KEYS do
  local interval = tonumber(ARGV[2 * i])
  local burst = tonumber(ARGV[2 * i + 1])
  local v = redis.call('GET', KEYS[i])
  local u = 0
  if v then
    u = tonumber(v) - now
    if u < 0 then u = 0 end
  end
  used[i] = u
  if u + interval > interval * burst then fits = false end
end
local stored = 0
if spend and fits then
  stored = 1
  for i = 1, #KEYS do
    local interval = tonumber(ARGV[2 * i])
    local tat = now + used[i] + interval
    local ttl = math.ceil((used[i] + interval) / 1000) + 1000
    redis.call('SET', KEYS[i], string.format('%.0f', tat), 'PX', ttl)
  end
end
local out = {stored}
for i = 1, #KEYS do out[i + 1] = used[i] end
return out
"""


class RedisBackend:
    """Buckets in Redis, shared by every API process; fails open."""

    name = "redis"

    def __init__(self, url: str, timeout: float) -> None:
        self.url = url
        self.timeout = timeout
        self.failures = 0  # checks let through because Redis failed (a process counter)
        self._client: redis.asyncio.Redis | None = None
        self._script: Any = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._down_until = 0.0
        self._warned_at = -WARN_EVERY

    def _redis(self) -> Any:
        loop = asyncio.get_running_loop()
        if self._client is None or self._loop is not loop:
            import redis.asyncio
            from redis.asyncio.retry import Retry
            from redis.backoff import NoBackoff

            self._client = redis.asyncio.Redis.from_url(
                self.url,
                socket_timeout=self.timeout,
                socket_connect_timeout=self.timeout,
                retry=Retry(NoBackoff(), 0),
                health_check_interval=0,
            )
            self._script = self._client.register_script(GCRA_SCRIPT)
            self._loop = loop
        return self._script

    async def _apply(self, checks: list[Check], spend: bool) -> Verdict:
        if not checks:
            return Verdict(())
        if time.monotonic() < self._down_until:
            return self._fail_open(None)
        args: list[int] = [1 if spend else 0]
        for c in checks:
            args += [c.rate.interval_us, c.rate.burst]
        try:
            script = self._redis()
            async with asyncio.timeout(self.timeout * 2):
                reply = await script(keys=[KEY_PREFIX + c.key for c in checks], args=args)
        except Exception as exc:  # any failure of the store: let the request through
            self._down_until = time.monotonic() + DOWN_FOR
            return self._fail_open(exc)
        verdict, _ = outcomes(checks, [int(u) for u in reply[1:]], spend)
        return verdict

    def _fail_open(self, exc: BaseException | None) -> Verdict:
        self.failures += 1
        now = time.monotonic()
        if exc is not None and now - self._warned_at >= WARN_EVERY:
            self._warned_at = now
            log.warning(
                "rate limits are not enforced: Redis at %s failed (%s: %s); requests are let "
                "through until it answers again",
                _redact(self.url),
                type(exc).__name__,
                exc,
            )
        return Verdict((), failed_open=True)

    async def hit(self, checks: list[Check]) -> Verdict:
        return await self._apply(checks, True)

    async def peek(self, checks: list[Check]) -> Verdict:
        return await self._apply(checks, False)

    async def aclose(self) -> None:
        client, self._client = self._client, None
        if client is not None and self._loop is asyncio.get_running_loop():
            await client.aclose()


def _redact(url: str) -> str:
    scheme, sep, rest = url.partition("://")
    return f"{scheme}{sep}{rest.rsplit('@', 1)[-1]}"
