"""A lean HTTP/1.1 load generator for the submit benchmark: one keep-alive connection per
client, one request in flight on it, each request written as prepared bytes and each answer
read by its ``Content-Length``.

Why not httpx: on this 2-core machine the load generator shares the cores with the server,
and httpx spends about half a millisecond of CPU per request of its own, so at 1,000 requests
a second it took most of a core and its event loop's queueing dominated the latencies it
reported (the empty-endpoint ceiling read a p95 of 45 ms at 1,000/s). This client costs a
fraction of that, so the numbers are the server's. It speaks just enough HTTP for the API's
JSON answers: a status line, headers, a ``Content-Length`` body (anything else is an error).
"""

from __future__ import annotations

import asyncio
import contextlib
from urllib.parse import urlsplit


class HttpError(Exception):
    """The connection failed or the answer was not one this client reads."""


class LeanClient:
    def __init__(self, url: str, headers: dict[str, str], timeout: float = 30.0) -> None:
        parts = urlsplit(url)
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 80
        self.timeout = timeout
        self._head = "".join(
            f"{k}: {v}\r\n" for k, v in {"Host": f"{self.host}:{self.port}", **headers}.items()
        )
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    def prepare(self, method: str, path: str, body: bytes, content_type: str) -> bytes:
        """The request's bytes, built once and sent as often as wanted."""
        head = (
            f"{method} {path} HTTP/1.1\r\n{self._head}Content-Type: {content_type}\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        )
        return head.encode("latin-1") + body

    async def send(self, request: bytes) -> tuple[int, bytes]:
        """Send prepared bytes and read the answer: (status, body)."""
        try:
            return await asyncio.wait_for(self._exchange(request), self.timeout)
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError) as exc:
            await self.aclose()
            raise HttpError(str(exc) or type(exc).__name__) from exc
        except (TimeoutError, HttpError):
            await self.aclose()
            raise

    async def _exchange(self, request: bytes) -> tuple[int, bytes]:
        if self._writer is None:
            self._reader, self._writer = await asyncio.open_connection(self.host, self.port)
        assert self._reader is not None
        self._writer.write(request)
        head = await self._reader.readuntil(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        status = int(lines[0].split(b" ", 2)[1])
        length, close = None, False
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"transfer-encoding":
                raise HttpError("chunked answers are not read by this client")
            elif name == b"connection" and value.strip().lower() == b"close":
                close = True
        if length is None:
            raise HttpError("an answer without Content-Length")
        body = await self._reader.readexactly(length)
        if close:
            await self.aclose()
        return status, body

    async def aclose(self) -> None:
        writer, self._writer, self._reader = self._writer, None, None
        if writer is not None:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
