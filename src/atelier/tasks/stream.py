"""Live task events: Server-Sent Events per task and a WebSocket for many tasks.

Both read the persisted events first (so a refresh or a reconnect with ``Last-Event-ID``
loses nothing), then follow the bus, filling any gap from the database by sequence number.
"""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator, AsyncIterator
from typing import Any

from starlette.concurrency import run_in_threadpool

from atelier.events.bus import EventBus
from atelier.tasks.lifecycle import Event
from atelier.tasks.service import TaskService


def sse_frame(event: Event) -> str:
    data = json.dumps(event.to_wire(), separators=(",", ":"), default=str)
    return f"id: {event.seq}\nevent: {event.type}\ndata: {data}\n\n"


async def task_events(
    service: TaskService,
    bus: EventBus,
    owner: str,
    task_id: str,
    after: int,
    heartbeat: float,
) -> AsyncGenerator[Event | None, None]:
    """Yields the task's events with ``seq > after`` in order, ``None`` as a keep-alive tick,
    and stops after the terminal event."""
    sub = bus.fanout.subscribe(owner, [task_id])
    try:
        last = after
        backlog = await run_in_threadpool(service.events_after, owner, task_id, last)
        for old in backlog:
            yield old
            last = old.seq
            if old.terminal:
                return
        while True:
            event = await sub.get(heartbeat)
            if event is None or sub.overflowed or (event.seq > last + 1):
                # quiet line, dropped events or a gap: the database is the source of truth
                sub.overflowed = False
                missing = await run_in_threadpool(service.events_after, owner, task_id, last)
                if not missing and event is None:
                    yield None
                    continue
                batch = missing
            else:
                batch = [event]
            for item in batch:
                if item.seq <= last:
                    continue
                yield item
                last = item.seq
                if item.terminal:
                    return
    finally:
        sub.close()


async def sse_body(events: AsyncIterator[Event | None]) -> AsyncIterator[str]:
    yield "retry: 2000\n\n"
    async for event in events:
        yield ": keep-alive\n\n" if event is None else sse_frame(event)


def parse_last_event_id(header: str | None, query: int | None) -> int:
    raw: Any = header if header is not None else query
    if raw is None:
        return 0
    try:
        return max(0, int(raw))
    except (TypeError, ValueError):
        return 0
