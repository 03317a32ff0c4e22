"""Event buses. Events are persisted first (``task_events``), then published here.

``Fanout`` delivers to the subscribers of one API process. What feeds it differs:
- ``DatabaseTailBus`` (embedded default) tails the events table, so events written by a worker
  in another process reach every API process that shares the database, with no server;
- ``RedisBus`` receives Redis pub/sub messages that workers publish after their commit.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
from collections.abc import Iterable
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import func, select

from atelier.db.engine import Database
from atelier.tasks.lifecycle import Event
from atelier.tasks.models import TaskEvent

log = logging.getLogger(__name__)
CHANNEL = "atelier:events"
IDLE_REFRESH = 1.0  # seconds between position refreshes of a tail nobody listens to


class Subscription:
    """One client's view of the bus: events of its owner, optionally of given tasks only."""

    def __init__(self, fanout: Fanout, owner: str, task_ids: set[str] | None) -> None:
        self.fanout = fanout
        self.owner = owner
        self.task_ids = task_ids
        self.queue: asyncio.Queue[Event] = asyncio.Queue(maxsize=10_000)
        self.overflowed = False

    def wants(self, event: Event) -> bool:
        if event.owner != self.owner:
            return False
        return self.task_ids is None or event.task_id in self.task_ids

    def offer(self, event: Event) -> None:
        try:
            self.queue.put_nowait(event)
        except asyncio.QueueFull:
            # A stalled client: it resumes from the database by sequence number.
            self.overflowed = True

    async def get(self, wait: float) -> Event | None:
        """The next event, or ``None`` after ``wait`` seconds without one."""
        # ``asyncio.timeout``, not ``wait_for``: on 3.11 ``wait_for`` swallows a cancellation
        # that races the queue's answer, and a caller's own deadline would then never fire
        try:
            async with asyncio.timeout(wait):
                return await self.queue.get()
        except TimeoutError:
            return None

    def add_tasks(self, task_ids: Iterable[str]) -> None:
        if self.task_ids is not None:
            self.task_ids.update(task_ids)

    def close(self) -> None:
        self.fanout.unsubscribe(self)


class Fanout:
    """Subscribers of this process. Thread-safe entry point: :meth:`dispatch_threadsafe`."""

    def __init__(self) -> None:
        self._subs: set[Subscription] = set()
        self._loop: asyncio.AbstractEventLoop | None = None

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop

    @property
    def has_subscribers(self) -> bool:
        return bool(self._subs)

    def subscribe(self, owner: str, task_ids: Iterable[str] | None = None) -> Subscription:
        sub = Subscription(self, owner, None if task_ids is None else set(task_ids))
        self._subs.add(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        self._subs.discard(sub)

    def dispatch(self, events: Iterable[Event]) -> None:
        for event in events:
            for sub in list(self._subs):
                if sub.wants(event):
                    sub.offer(event)

    def dispatch_threadsafe(self, events: list[Event]) -> None:
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self.dispatch, events)


class EventBus(Protocol):
    fanout: Fanout

    def publish(self, events: list[Event]) -> None:
        """Called after the transaction that wrote ``events`` committed (any thread)."""

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


class DatabaseTailBus:
    """Polls ``task_events`` for rows newer than the last seen id (only while someone
    listens). A local publish wakes the poller at once instead of waiting for the tick."""

    def __init__(self, db: Database, poll_interval: float) -> None:
        self.db = db
        self.poll_interval = poll_interval
        self.fanout = Fanout()
        self._last_id = 0
        self._task: asyncio.Task[None] | None = None
        self._wake: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        # held while a query runs in a thread, so stop() can wait for it before the pool goes
        self._querying = threading.Lock()

    def publish(self, events: list[Event]) -> None:
        # Wake the poller only when someone listens; otherwise its tick catches up anyway.
        loop, wake = self._loop, self._wake
        if (
            self.fanout.has_subscribers
            and loop is not None
            and wake is not None
            and not loop.is_closed()
        ):
            loop.call_soon_threadsafe(wake.set)

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self.fanout.bind(self._loop)
        self._wake = asyncio.Event()
        self._last_id = await asyncio.to_thread(self._max_id)
        self._task = asyncio.create_task(self._run(), name="atelier-event-tail")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await asyncio.to_thread(self._querying.acquire)
        self._querying.release()

    def _max_id(self) -> int:
        with self._querying, self.db.read() as session:
            return int(session.execute(select(func.max(TaskEvent.id))).scalar() or 0)

    def _fetch(self, after: int) -> list[Event]:
        with self._querying, self.db.read() as session:
            rows = session.scalars(
                select(TaskEvent).where(TaskEvent.id > after).order_by(TaskEvent.id).limit(1000)
            ).all()
            return [Event.from_row(r) for r in rows]

    async def _run(self) -> None:
        assert self._wake is not None
        loop = asyncio.get_running_loop()
        idle_since = loop.time()
        while True:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.poll_interval):
                    await self._wake.wait()
            self._wake.clear()
            try:
                if not self.fanout.has_subscribers:
                    # nobody listens: only keep the position roughly current (a subscriber
                    # arriving later is served from there, at most ``IDLE_REFRESH`` behind)
                    if loop.time() - idle_since < IDLE_REFRESH:
                        continue
                    idle_since = loop.time()
                    newest = await asyncio.to_thread(self._max_id)
                    # checked again after the query: a subscriber that arrived meanwhile must
                    # get the rows from the old position, so do not skip past them
                    if not self.fanout.has_subscribers:
                        self._last_id = newest
                        continue
                events = await asyncio.to_thread(self._fetch, self._last_id)
            except Exception:  # the database may be briefly unavailable; keep tailing
                log.exception("event tail failed")
                await asyncio.sleep(self.poll_interval * 10)
                continue
            if events:
                self._last_id = events[-1].id
                self.fanout.dispatch(events)
                if len(events) == 1000:
                    self._wake.set()


def encode(event: Event) -> str:
    return json.dumps(
        {
            "id": event.id,
            "task_id": event.task_id,
            "owner": event.owner,
            "seq": event.seq,
            "type": event.type,
            "data": event.data,
            "created_at": event.created_at.isoformat(),
        },
        separators=(",", ":"),
    )


def decode(raw: str | bytes) -> Event:
    d: dict[str, Any] = json.loads(raw)
    return Event(
        d["id"],
        d["task_id"],
        d["owner"],
        d["seq"],
        d["type"],
        d["data"],
        datetime.fromisoformat(d["created_at"]),
    )


class RedisBus:
    """Redis pub/sub: workers anywhere publish; every API process receives."""

    def __init__(self, url: str) -> None:
        import redis

        self.url = url
        self.fanout = Fanout()
        self._sync = redis.Redis.from_url(url)
        self._lock = threading.Lock()
        self._task: asyncio.Task[None] | None = None

    def publish(self, events: list[Event]) -> None:
        if not events:
            return
        try:
            with self._lock:
                pipe = self._sync.pipeline(transaction=False)
                for event in events:
                    pipe.publish(CHANNEL, encode(event))
                pipe.execute()
        except Exception:
            # The events are persisted; streams resume from the database. Never fail a task
            # because a notification could not be sent.
            log.exception("could not publish %d events to redis", len(events))

    async def start(self) -> None:
        self.fanout.bind(asyncio.get_running_loop())
        ready = asyncio.Event()
        self._task = asyncio.create_task(self._listen(ready), name="atelier-redis-events")
        await asyncio.wait_for(ready.wait(), 10)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        self._sync.close()

    async def _listen(self, ready: asyncio.Event) -> None:
        import redis.asyncio as aioredis

        while True:
            client = aioredis.Redis.from_url(self.url)
            try:
                async with client.pubsub() as pubsub:
                    await pubsub.subscribe(CHANNEL)
                    ready.set()
                    async for message in pubsub.listen():
                        if message.get("type") == "message":
                            self.fanout.dispatch([decode(message["data"])])
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("redis event listener failed; reconnecting")
                await asyncio.sleep(1)
            finally:
                await client.aclose()


class NullPublisher:
    """A worker on the embedded bus: the events table is the channel; nothing to send."""

    fanout = Fanout()

    def publish(self, events: list[Event]) -> None:
        return None

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None


def build_bus(settings: Any, db: Database, *, worker: bool = False) -> EventBus:
    if settings.event_backend == "redis":
        return RedisBus(settings.event_redis_url)
    if worker:
        return NullPublisher()
    return DatabaseTailBus(db, settings.events.poll_interval)
