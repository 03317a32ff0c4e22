"""The plain task submission without FastAPI's routing and dependency resolution (ADR 0006).

``POST /api/v1/tasks`` is the API's hottest route: a client queueing a batch sends it hundreds
of times a second. Most of its cost in FastAPI is the framework (routing through every
included router, solving six dependencies, wrapping the endpoint), not the submission. This
ASGI middleware, the innermost of ours, serves the route's common shape itself with the same
parts the route uses (:class:`~atelier.tasks.schemas.TaskCreate`, the caller resolution, the
submission rate limit, :meth:`TaskService.create_async`, :class:`TaskCreated`) and answers
exactly as the route would: same status, body, headers, rate-limit headers and error
envelopes.

Anything else goes to the route, untouched: another path or method, a query string, a body
that is not ``application/json``, an ``Idempotency-Key``, a caller without credentials (the
route mints the session), credentials the route refuses, a body that is not valid JSON or not
a valid ``TaskCreate``. Until it has spent from the submission rate limit the fast path has
done nothing the route would not do again, so it can hand a request on; after that it answers
itself, errors included, through the app's own exception handlers.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from atelier.accounts import auth
from atelier.api.ratelimit import spend_submission
from atelier.tasks.schemas import TaskCreate, TaskCreated
from atelier.tasks.service import TaskService

PATH = "/api/v1/tasks"


class FastSubmitMiddleware:
    """Counts what it answered itself in ``app.state.fast_submits`` (the rest went to the
    route)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] != "POST"
            or scope["path"] != PATH
            or scope.get("query_string")
            or not _plain_headers(scope)
        ):
            await self.app(scope, receive, send)
            return
        messages: list[Message] = []
        chunks: list[bytes] = []
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        replay = _replaying(messages, receive)
        if messages[-1]["type"] == "http.request" and await self._serve(
            scope, replay, send, b"".join(chunks)
        ):
            scope["app"].state.fast_submits += 1
            return
        await self.app(scope, replay, send)

    async def _serve(self, scope: Scope, receive: Receive, send: Send, body: bytes) -> bool:
        """Answer the submission; ``False`` (having changed nothing) hands it to the route."""
        try:
            submission = TaskCreate.model_validate(json.loads(body))
        except (ValueError, ValidationError):  # the route answers with its 422
            return False
        request = Request(scope, receive)
        try:
            caller = await auth._caller(request, None)
        except Exception:  # refused credentials: the route answers for them
            return False
        if caller is None:  # no credentials: the route starts a session
            return False
        tasks: TaskService = request.app.state.tasks
        response: Response
        try:
            await spend_submission(request)
            task, _ = await tasks.create_async(caller.owner, submission, None)
            position, estimate = await tasks.created_view_async(task)
        except Exception as exc:
            response = await _handled(request, exc)
        else:
            created = TaskCreated(
                task_id=task.id,
                status=task.status,
                created_at=task.created_at,
                queue_position=position,
                estimated_time=estimate,
            )
            response = JSONResponse(created.model_dump(mode="json"), status_code=201)
        await response(scope, receive, send)
        return True


def _plain_headers(scope: Scope) -> bool:
    """A JSON body and no ``Idempotency-Key`` (a keyed submission takes the route's path)."""
    json_body = False
    for name, value in scope["headers"]:
        if name == b"content-type":
            media = value.split(b";", 1)[0].strip().lower()
            json_body = media == b"application/json"
        elif name == b"idempotency-key":
            return False
    return json_body


def _replaying(messages: list[Message], receive: Receive) -> Receive:
    """``receive`` that first hands back what was already read."""
    pending = list(messages)

    async def replay() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return replay


async def _handled(request: Request, exc: Exception) -> Response:
    """The answer the app's exception handlers give ``exc`` (as for the route)."""
    handlers: dict[Any, Any] = request.app.exception_handlers
    for cls in type(exc).__mro__:
        handler = handlers.get(cls)
        if handler is not None:
            response: Response = await handler(request, exc)
            return response
    raise exc
