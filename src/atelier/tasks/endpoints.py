"""``/api/v1/tasks``: the job contract."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Response, WebSocket, WebSocketDisconnect
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from atelier.api.deps import JsonBody, Owner, RuntimeDep, Submitter, Tasks
from atelier.errors import AtelierError, NotFound
from atelier.tasks.lifecycle import TaskStatus
from atelier.tasks.schemas import TaskCreate, TaskCreated, TaskOut, TaskPage
from atelier.tasks.service import TaskService
from atelier.tasks.stream import parse_last_event_id, sse_body, task_events

router = APIRouter(prefix="/api/v1", tags=["tasks"])
STATUSES = [s.value for s in TaskStatus]


@router.post("/tasks", status_code=201, response_model=TaskCreated, dependencies=[JsonBody])
async def create_task(
    body: TaskCreate,
    owner: Submitter,
    tasks: Tasks,
    response: Response,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> TaskCreated:
    """Submit a task. Repeating an `Idempotency-Key` returns the first task (200)."""
    task, created = await tasks.create_async(owner, body, idempotency_key)
    if not created:
        response.status_code = 200
        response.headers["Idempotent-Replayed"] = "true"
    position, estimate = await tasks.created_view_async(task)
    return TaskCreated(
        task_id=task.id,
        status=task.status,
        created_at=task.created_at,
        queue_position=position,
        estimated_time=estimate,
    )


@router.get("/tasks", response_model=TaskPage)
def list_tasks(
    owner: Owner,
    tasks: Tasks,
    status: Annotated[list[str] | None, Query(description="Filter; repeatable.")] = None,
    kind: Annotated[list[str] | None, Query(description="Filter; repeatable.")] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> TaskPage:
    if status:
        bad = sorted(set(status) - set(STATUSES))
        if bad:
            from atelier.errors import ValidationFailed

            raise ValidationFailed(
                f"unknown status {', '.join(bad)}", details={"allowed": STATUSES}
            )
    items, next_cursor = tasks.list_tasks(
        owner, status=status, kind=kind, limit=limit, cursor=cursor
    )
    return TaskPage(items=items, next_cursor=next_cursor)


@router.get("/tasks/{task_id}", response_model=TaskOut)
def get_task(task_id: str, owner: Owner, tasks: Tasks) -> TaskOut:
    return tasks.describe(tasks.get(owner, task_id))


@router.delete("/tasks/{task_id}", status_code=204)
def delete_task(task_id: str, owner: Owner, tasks: Tasks) -> Response:
    """Delete a task, its events and its images (bytes too). A running task is cancelled."""
    tasks.delete(owner, task_id)
    return Response(status_code=204)


@router.post("/tasks/{task_id}/cancel", response_model=TaskOut)
def cancel_task(task_id: str, owner: Owner, tasks: Tasks) -> TaskOut:
    """A queued task never starts; a running one stops at its next step."""
    return tasks.describe(tasks.cancel(owner, task_id))


@router.get(
    "/tasks/{task_id}/stream",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}}},
)
async def stream_task(
    task_id: str,
    owner: Owner,
    tasks: Tasks,
    runtime: RuntimeDep,
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID")] = None,
    after: Annotated[int | None, Query(ge=0, description="Resume after this seq.")] = None,
) -> StreamingResponse:
    """Server-Sent Events: `id` is the task's event sequence number; the stream ends after
    the terminal event. Reconnect with `Last-Event-ID` to resume."""
    await run_in_threadpool(tasks.get, owner, task_id)
    start = parse_last_event_id(last_event_id, after)
    events = task_events(
        tasks, runtime.bus, owner, task_id, start, runtime.settings.events.heartbeat_seconds
    )
    return StreamingResponse(
        sse_body(events),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


@router.websocket("/ws")
async def websocket(ws: WebSocket) -> None:
    """Subscribe with `{"action": "subscribe", "task_ids": [...], "after": {id: seq}}` or
    `{"action": "subscribe", "all": true}` (every task of the caller). Events arrive as JSON
    objects with `task_id`, `seq` and `type`. Authenticate with the session cookie or a
    `token` query parameter."""
    app = ws.app
    signer = app.state.signer
    token = ws.query_params.get("token") or ws.cookies.get(app.state.settings.auth.cookie_name)
    owner = signer.verify(token) if token else None
    if owner is None:
        await ws.close(code=4401, reason="unauthorized")
        return
    await ws.accept()
    service: TaskService = app.state.tasks
    bus = app.state.runtime.bus
    sub = bus.fanout.subscribe(owner, set())
    last: dict[str, int] = {}

    async def send_backlog(task_id: str, after: int) -> None:
        try:
            await run_in_threadpool(service.get, owner, task_id)
        except NotFound as exc:
            await ws.send_json({"type": "error", "error": exc.code, "task_id": task_id})
            return
        for event in await run_in_threadpool(service.events_after, owner, task_id, after):
            if event.seq > last.get(task_id, 0):
                await ws.send_json(event.to_wire())
                last[task_id] = event.seq

    async def reader() -> None:
        while True:
            msg: Any = await ws.receive_json()
            if not isinstance(msg, dict) or msg.get("action") not in ("subscribe", "unsubscribe"):
                await ws.send_json({"type": "error", "error": "validation_error"})
                continue
            if msg["action"] == "unsubscribe":
                for task_id in msg.get("task_ids") or []:
                    if sub.task_ids is not None:
                        sub.task_ids.discard(str(task_id))
                continue
            if msg.get("all"):
                sub.task_ids = None
                await ws.send_json({"type": "subscribed", "all": True})
                continue
            ids = [str(t) for t in (msg.get("task_ids") or [])][:1000]
            after = msg.get("after") or {}
            sub.add_tasks(ids)
            for task_id in ids:
                start = after.get(task_id, 0) if isinstance(after, dict) else 0
                last.setdefault(task_id, int(start) if isinstance(start, int) else 0)
                await send_backlog(task_id, last[task_id])
            await ws.send_json({"type": "subscribed", "task_ids": ids})

    async def writer() -> None:
        while True:
            event = await sub.get(app.state.settings.events.heartbeat_seconds)
            if event is None:
                await ws.send_json({"type": "ping"})
                continue
            seen = last.get(event.task_id, 0)
            if event.seq <= seen:
                continue
            if event.seq > seen + 1:
                # a gap, or a task first seen mid-way ("all"): the database has the rest
                await send_backlog(event.task_id, seen)
                continue
            await ws.send_json(event.to_wire())
            last[event.task_id] = event.seq

    tasks_ = [asyncio.create_task(reader()), asyncio.create_task(writer())]
    try:
        await asyncio.wait(tasks_, return_when=asyncio.FIRST_COMPLETED)
    except (WebSocketDisconnect, AtelierError):
        pass
    finally:
        for t in tasks_:
            t.cancel()
        for t in tasks_:
            with contextlib.suppress(BaseException):
                await t
        sub.close()
