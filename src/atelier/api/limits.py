"""The API's edge, as one pure ASGI middleware (one wrapper per request, not two): a request
id for every request and its log lines, and the request body cap (chunked bodies too)."""

from __future__ import annotations

import json
import uuid
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from atelier.logging import request_id


class _TooLarge(Exception):
    pass


class EdgeMiddleware:
    """Gives each request an id (or keeps a sane ``X-Request-ID``), echoes it in the response,
    puts it in every log line written meanwhile, and answers 413 to bodies over the cap."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        incoming = ""
        declared = 0
        for name, value in scope.get("headers", []):
            if name == b"x-request-id":
                incoming = value.decode("latin-1")
            elif name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = -1
        rid = incoming if 0 < len(incoming) <= 64 and incoming.isprintable() else uuid.uuid4().hex
        header = (b"x-request-id", rid.encode())
        token = request_id.set(rid)
        try:
            if scope["type"] == "http" and declared > self.max_bytes:
                await self._reject(send, header)
                return
            seen = 0
            started = False

            async def limited_receive() -> Message:
                nonlocal seen
                message = await receive()
                if message["type"] == "http.request":
                    seen += len(message.get("body", b""))
                    if seen > self.max_bytes:
                        raise _TooLarge()
                return message

            async def edge_send(message: Message) -> None:
                nonlocal started
                if message["type"] == "http.response.start":
                    started = True
                    message["headers"] = [*message.get("headers", []), header]
                await send(message)

            try:
                await self.app(scope, limited_receive, edge_send)
            except _TooLarge:
                if not started:
                    await self._reject(send, header)
        finally:
            request_id.reset(token)

    async def _reject(self, send: Send, header: tuple[bytes, bytes]) -> None:
        body: dict[str, Any] = {
            "error": "payload_too_large",
            "message": f"request body exceeds {self.max_bytes} bytes",
            "details": {"max_bytes": self.max_bytes},
        }
        raw = json.dumps(body).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(raw)).encode()),
                    (b"connection", b"close"),
                    header,
                ],
            }
        )
        await send({"type": "http.response.body", "body": raw})
