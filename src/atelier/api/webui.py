"""The web UI at ``/``: the built single-page app (``web/dist``), with a fallback to
``index.html`` so that a deep link such as ``/history`` opens the right page.

- ``/assets/*`` are content-hashed by the build: cached for a year and ``immutable``. A missing
  one is a 404, never ``index.html`` (a browser would try to run the page as a script).
- Other files of the build (the icon…) are served with a short cache; a missing path whose
  last segment has a file extension is a 404 too.
- Every other ``GET``/``HEAD`` path gets ``index.html`` with ``Cache-Control: no-cache``, so a
  new build is picked up at the next load, and a Content-Security-Policy that lets the page
  load and reach only its own origin.
- The build writes a gzip copy (``name.gz``) of each text file; it is sent to clients that
  accept gzip.
- Without a build, ``/`` answers a short page saying how to build it.

The route matches only ``GET`` and ``HEAD`` outside the API's prefixes (``/api``, ``/v1``,
``/docs``, ``/redoc``, ``/openapi.json``, ``/metrics``), so the API's own 404 and 405 answers
are unchanged, and it comes after every router, so it can never shadow a route.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from starlette.datastructures import Headers, URLPath
from starlette.exceptions import HTTPException
from starlette.responses import FileResponse, HTMLResponse, Response
from starlette.routing import BaseRoute, Match, NoMatchFound
from starlette.types import Receive, Scope, Send

from atelier.config import Settings

RESERVED = ("/api", "/v1", "/docs", "/redoc", "/openapi.json", "/metrics")
IMMUTABLE = "public, max-age=31536000, immutable"
SHORT = "public, max-age=3600"
NO_CACHE = "no-cache"
#: The app loads only its own scripts and styles, and talks only to its own origin.
CSP = (
    "default-src 'self'; img-src 'self' blob: data:; style-src 'self' 'unsafe-inline'; "
    "connect-src 'self'; object-src 'none'; base-uri 'self'; frame-ancestors 'none'"
)

NOT_BUILT = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Atelier</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 3rem auto;
padding: 0 1rem; line-height: 1.5">
<h1>Atelier's web UI is not built</h1>
<p>The API is running: see <a href="/docs">/docs</a>.</p>
<p>To build the UI (Node.js 20 or newer), run <code>make web</code> in the repository, or
<code>cd web &amp;&amp; npm ci &amp;&amp; npm run build</code>, then reload this page.
<code>make run</code> builds it before starting the server. A build elsewhere can be served
by pointing <code>ATELIER_WEB_DIR</code> at its <code>dist</code> folder.</p>
</body></html>
"""


def default_web_dir() -> Path:
    """``web/dist`` of the source checkout this package runs from (an editable install)."""
    return Path(__file__).resolve().parents[3] / "web" / "dist"


def web_dir(settings: Settings) -> Path:
    return settings.web_dir if settings.web_dir is not None else default_web_dir()


def is_reserved(path: str) -> bool:
    return any(path == prefix or path.startswith(prefix + "/") for prefix in RESERVED)


def accepts_gzip(headers: Headers) -> bool:
    """Whether ``Accept-Encoding`` allows gzip (listed, or ``*``, with a non-zero weight)."""
    weights: dict[str, float] = {}
    for item in headers.get("accept-encoding", "").split(","):
        coding, *params = (part.strip().lower() for part in item.split(";"))
        weight = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip() == "q":
                try:
                    weight = float(value)
                except ValueError:
                    weight = 0.0
        if coding:
            weights[coding] = weight
    return weights.get("gzip", weights.get("*", 0.0)) > 0


class WebUIRoute(BaseRoute):
    """Serves the built UI from ``root``; looked up per request, so a build made while the
    server runs is picked up."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD"):
            return Match.NONE, {}
        if is_reserved(scope["path"]):
            return Match.NONE, {}
        return Match.FULL, {}

    def url_path_for(self, name: str, /, **path_params: Any) -> URLPath:
        raise NoMatchFound(name, path_params)

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = self.respond(scope["path"], Headers(scope=scope))
        await response(scope, receive, send)

    def respond(self, path: str, headers: Headers) -> Response:
        root = self.root.resolve()
        index = root / "index.html"
        if not index.is_file():
            return HTMLResponse(NOT_BUILT, status_code=404, headers={"Cache-Control": NO_CACHE})
        relative = path.lstrip("/")
        if relative:
            candidate = (root / relative).resolve()
            if candidate.is_relative_to(root) and candidate.is_file():
                cache = IMMUTABLE if relative.startswith("assets/") else SHORT
                return self._file(candidate, cache, headers)
            if relative.startswith("assets/") or "." in relative.rsplit("/", 1)[-1]:
                raise HTTPException(status_code=404, detail="Not Found")
        return self._file(index, NO_CACHE, headers, {"Content-Security-Policy": CSP})

    @staticmethod
    def _file(
        path: Path, cache: str, headers: Headers, extra: dict[str, str] | None = None
    ) -> Response:
        media_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        out = {"Cache-Control": cache, "X-Content-Type-Options": "nosniff", **(extra or {})}
        packed = path.with_name(path.name + ".gz")
        if packed.is_file():
            out["Vary"] = "Accept-Encoding"
            if accepts_gzip(headers):
                out["Content-Encoding"] = "gzip"
                return FileResponse(packed, media_type=media_type, headers=out)
        return FileResponse(path, media_type=media_type, headers=out)


def mount_web_ui(app: FastAPI, settings: Settings) -> None:
    """Serve the UI at ``/``; call after every router (it never shadows the API anyway)."""
    app.router.routes.append(WebUIRoute(web_dir(settings)))
