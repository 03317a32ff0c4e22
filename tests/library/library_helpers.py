"""Helpers of the library's API and task tests: settings, images as bytes, uploads, running
every due task with the real runner, and a small image server for URL imports."""

from __future__ import annotations

import io
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import select

from atelier.config import Settings
from atelier.runtime import Runtime
from atelier.tasks.children import active_children
from atelier.tasks.models import Task
from atelier.worker.runner import execute

#: The offline analyser's slow stages off (colours, EXIF and descriptions stay): the tests
#: that are about the analysis itself turn them on.
QUICK = {
    "ATELIER_LIBRARY__OCR": "false",
    "ATELIER_LIBRARY__FACES": "false",
    "ATELIER_LIBRARY__PEOPLE": "false",
    "ATELIER_LIBRARY__SAFETY": "false",
    "ATELIER_LIBRARY__AUTO_TAG_GENERATED": "true",  # the profiles turn it off for other tests
}


def settings_with(monkeypatch: pytest.MonkeyPatch, **env: str) -> Settings:
    for key, value in {**QUICK, **env}.items():
        monkeypatch.setenv(key, value)
    return Settings(_env_file=None)  # type: ignore[call-arg]


def encode(image: Image.Image, fmt: str = "PNG", **options: Any) -> bytes:
    buf = io.BytesIO()
    image.save(buf, format=fmt, **options)
    return buf.getvalue()


def files(*items: tuple[str, bytes]) -> list[tuple[str, tuple[str, bytes, str]]]:
    return [("files", (name, data, "application/octet-stream")) for name, data in items]


def upload(
    client: TestClient,
    headers: dict[str, str],
    *items: tuple[str, bytes],
    status: int = 201,
    **form: Any,
) -> dict[str, Any]:
    r = client.post("/api/v1/library/images", headers=headers, files=files(*items), data=form)
    assert r.status_code == status, r.text
    body: dict[str, Any] = r.json()
    return body


def drain(rt: Runtime, *, rounds: int = 50) -> list[str]:
    """Run every due task (and every parent whose children have finished) with the real
    runner until none is left; answers the ids run, in order."""
    ran: list[str] = []
    for _ in range(rounds):
        with rt.db.read() as s:
            due = list(
                s.scalars(
                    select(Task.id)
                    .where(Task.status.in_(["pending", "retrying"]))
                    .order_by(Task.created_at, Task.id)
                )
            )
            parked = [
                t
                for t in s.scalars(
                    select(Task.id).where(
                        Task.status == "processing", Task.waiting_children.is_(True)
                    )
                )
                if not active_children(s, t)
            ]
        if not due and not parked:
            return ran
        for task_id in [*due, *parked]:
            execute(rt, task_id)
            ran.append(task_id)
    raise AssertionError(f"tasks still due after {rounds} rounds")


def task_row(rt: Runtime, task_id: str) -> Task:
    with rt.db.read() as s:
        task = s.get(Task, task_id)
    assert task is not None, task_id
    return task


# -- an image server for imports by URL --------------------------------------------------------
Route = Callable[[BaseHTTPRequestHandler], None]


class ImageServer:
    """``routes``: path -> (status, headers, body), served on 127.0.0.1."""

    def __init__(self, routes: dict[str, tuple[int, dict[str, str], bytes]]) -> None:
        self.routes = routes
        self.hits: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.hits.append(self.path)
                status, headers, body = server.routes.get(self.path, (404, {}, b"not found"))
                if "X-Delay" in headers:  # answer late (or when the server closes)
                    server.release.wait(float(headers["X-Delay"]))
                try:
                    self._answer(status, headers, body)
                except OSError:  # the client gave up meanwhile
                    self.close_connection = True

            def _answer(self, status: int, headers: dict[str, str], body: bytes) -> None:
                self.send_response(status)
                for name, value in headers.items():
                    if value != "none":
                        self.send_header(name, value)
                if "Content-Length" not in headers:
                    self.send_header("Content-Length", str(len(body)))
                elif headers["Content-Length"] == "none":  # the body ends with the connection
                    self.close_connection = True
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                return

        self.release = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> ImageServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release.set()
        self._server.shutdown()
        self._server.server_close()


@contextmanager
def image_server(routes: dict[str, tuple[int, dict[str, str], bytes]]) -> Iterator[ImageServer]:
    with ImageServer(routes) as server:
        yield server
