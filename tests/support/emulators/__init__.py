"""Local emulators of the remote image APIs: real HTTP servers on 127.0.0.1 that check auth,
validate request bodies against the documented protocol, answer documented bodies and serve
the result images they draw (real PNGs) under ``/files/``.

Faults are a queue: ``emulator.fail_next("rate_limit", retry_after=3)`` makes the next API
request fail; ``on="poll"`` (or any stage name an emulator documents, ``"download"`` for result
images) aims the fault at the next request of that stage. Every emulator understands:

- ``timeout`` (``delay`` seconds, default 5): answer only after the delay (or at close);
- ``disconnect``: close the connection without answering;
- ``server_error`` (``status``, default 500): the provider's documented internal error;
- ``invalid_json``: HTTP 200 with a body that is not JSON;
- on ``download``: ``not_found`` (404), ``expired`` (403, as object storage answers a lapsed
  presigned URL) and ``broken_image`` (bytes that are no image).

The rest are provider-specific (see each module). Unknown fault names raise at once, and any
exception inside a handler is kept in ``errors`` so a fixture can fail the test on it.
"""

from __future__ import annotations

import hashlib
import io
import itertools
import json
import sys
import threading
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar, Self
from urllib.parse import parse_qsl, urlsplit

from PIL import Image

COMMON_FAULTS = frozenset({"timeout", "disconnect", "server_error", "invalid_json"})
DOWNLOAD_FAULTS = frozenset({"not_found", "expired", "broken_image"})
BROKEN = b"\x89PNG\r\n\x1a\n this is not an image"


@dataclass
class Fault:
    kind: str
    on: str | None
    params: dict[str, Any]


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # lower-case names
    body: bytes
    target: str  # the request target as sent: path and query

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Response:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, status: int, payload: Any, headers: dict[str, str] | None = None) -> Response:
        return cls(
            status,
            json.dumps(payload).encode(),
            {"Content-Type": "application/json", **(headers or {})},
        )


DISCONNECT = Response(0)


def draw_png(width: int, height: int, seed: int = 0, text: str = "") -> bytes:
    """A real PNG of the given size whose colour depends on ``seed`` and ``text``."""
    digest = hashlib.sha256(f"{text}|{seed}".encode()).digest()
    image = Image.new("RGB", (width, height), (digest[0], digest[1], digest[2]))
    image.paste((digest[3], digest[4], digest[5]), (0, 0, max(1, width // 2), max(1, height // 2)))
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    return buf.getvalue()


def assert_secret_free(exc: BaseException, *secrets: str) -> None:
    """Neither the error nor anything it chains to mentions a secret."""
    seen: BaseException | None = exc
    while seen is not None:
        for text in (str(seen), repr(seen), str(getattr(seen, "message", ""))):
            for secret in secrets:
                assert secret not in text, f"{type(seen).__name__} leaks a secret: {text}"
        seen = seen.__cause__ or seen.__context__


class Emulator:
    """Base class: a ``ThreadingHTTPServer`` in a daemon thread. Subclasses name a request's
    stage in :meth:`stage` and answer it in :meth:`handle`."""

    FAULTS: ClassVar[frozenset[str]] = frozenset()

    def __init__(self) -> None:
        self._faults: deque[Fault] = deque()
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._stop = threading.Event()
        self.requests: list[Request] = []
        self.errors: list[BaseException] = []
        self.files: dict[str, bytes] = {}
        self._server = _Server(self)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    # -- lifecycle --------------------------------------------------------------------------
    def start(self) -> Self:
        self._thread.start()
        return self

    def close(self) -> None:
        self._stop.set()  # wakes requests sleeping in a "timeout" fault
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- faults -----------------------------------------------------------------------------
    def fail_next(self, kind: str, *, on: str | None = None, **params: Any) -> None:
        known = COMMON_FAULTS | self.FAULTS | (DOWNLOAD_FAULTS if on == "download" else set())
        if kind not in known:
            raise ValueError(f"{type(self).__name__} has no fault {kind!r} (on={on!r})")
        with self._lock:
            self._faults.append(Fault(kind, on, params))

    @property
    def pending_faults(self) -> int:
        return len(self._faults)

    def _take(self, stage: str) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.on == stage or (fault.on is None and stage != "download"):
                    self._faults.remove(fault)
                    return fault
        return None

    def api_requests(self, stage: str | None = None) -> list[Request]:
        return [
            r
            for r in self.requests
            if not r.path.startswith("/files/") and (stage is None or self.stage(r) == stage)
        ]

    # -- files ------------------------------------------------------------------------------
    def put_file(self, data: bytes, suffix: str = ".png") -> str:
        """Serve ``data`` at a fresh URL, as object storage serves a presigned result URL."""
        name = f"{next(self._ids):06d}{suffix}"
        self.files[name] = data
        return f"{self.url}/files/{name}?X-Expires=86400&Signature=emulated"

    def next_id(self) -> int:
        return next(self._ids)

    # -- dispatch ---------------------------------------------------------------------------
    def dispatch(self, request: Request) -> Response:
        self.requests.append(request)
        stage = "download" if request.path.startswith("/files/") else self.stage(request)
        fault = self._take(stage)
        if fault is not None and fault.kind == "timeout":
            self._stop.wait(float(fault.params.get("delay", 5)))
            fault = None
        if fault is not None and fault.kind == "disconnect":
            return DISCONNECT
        if fault is not None and fault.kind == "server_error":
            return self.server_error(int(fault.params.get("status", 500)), stage)
        if fault is not None and fault.kind == "invalid_json":
            return Response(200, b'{"data": [{"url": ', {"Content-Type": "application/json"})
        if stage == "download":
            return self._download(request, fault)
        return self.handle(stage, request, fault)

    def _download(self, request: Request, fault: Fault | None) -> Response:
        data = self.files.get(request.path.removeprefix("/files/"))
        kind = fault.kind if fault is not None else None
        if data is None or kind == "not_found":
            return Response(404, b"Not Found", {"Content-Type": "text/plain"})
        if kind == "expired":
            body = b"<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>"
            return Response(403, body, {"Content-Type": "application/xml"})
        if kind == "broken_image":
            data = BROKEN
        return Response(200, data, {"Content-Type": "image/png"})

    # -- for subclasses ---------------------------------------------------------------------
    def stage(self, request: Request) -> str:
        raise NotImplementedError

    def handle(self, stage: str, request: Request, fault: Fault | None) -> Response:
        raise NotImplementedError

    def server_error(self, status: int, stage: str) -> Response:
        raise NotImplementedError


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 10  # an idle keep-alive connection ends after this
    server: _Server

    def do_GET(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        parts = urlsplit(self.path)
        request = Request(
            method=self.command,
            path=parts.path,
            query=dict(parse_qsl(parts.query, keep_blank_values=True)),
            headers={k.lower(): v for k, v in self.headers.items()},
            body=body,
            target=self.path,
        )
        try:
            response = self.server.emulator.dispatch(request)
        except Exception as exc:  # an emulator bug: answer, and let the test fail on it
            self.server.emulator.errors.append(exc)
            response = Response.json(599, {"emulator_error": repr(exc)})
        if response is DISCONNECT:
            self.close_connection = True
            return
        try:
            self.send_response(response.status)
            for name, value in response.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(response.body)))
            self.end_headers()
            self.wfile.write(response.body)
        except OSError:  # the client gave up (a timeout fault): nothing to answer to
            self.close_connection = True

    do_POST = do_GET

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, emulator: Emulator) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.emulator = emulator

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], OSError):
            super().handle_error(request, client_address)
