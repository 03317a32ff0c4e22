"""The web UI at ``/`` (src/atelier/api/webui.py) against a build made in the test, and the
OpenAPI entry point the UI's client is generated from. No browser needed."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.responses import FileResponse

from atelier.api.webui import WebUIRoute, accepts_gzip, default_web_dir, is_reserved
from atelier.config import Settings
from support.api import api

REPO = Path(__file__).resolve().parents[2]
INDEX = "<!doctype html><html><body><div id=root></div><script src=/assets/app-1a2b.js></script>"
SCRIPT = "console.log('atelier');" * 200


@pytest.fixture
def dist(tmp_path: Path) -> Path:
    root = tmp_path / "dist"
    (root / "assets").mkdir(parents=True)
    (root / "index.html").write_text(INDEX)
    (root / "assets" / "app-1a2b.js").write_text(SCRIPT)
    (root / "assets" / "app-1a2b.js.gz").write_bytes(gzip.compress(SCRIPT.encode()))
    (root / "favicon.svg").write_text("<svg xmlns='http://www.w3.org/2000/svg'/>")
    (tmp_path / "secret.txt").write_text("not for the web")
    return root


def client_for(tmp_path: Path, web_dir: Path) -> Iterator[TestClient]:
    settings = Settings(_env_file=None, data_dir=tmp_path / "data", web_dir=web_dir)  # type: ignore[call-arg]
    with api(settings) as client:
        yield client


@pytest.fixture
def client(tmp_path: Path, dist: Path) -> Iterator[TestClient]:
    yield from client_for(tmp_path, dist)


def test_index_and_deep_links_get_the_app_uncached(client: TestClient) -> None:
    for path in ("/", "/history", "/stylize", "/some/deep/link?x=1"):
        r = client.get(path)
        assert r.status_code == 200, path
        assert r.text == INDEX
        assert r.headers["cache-control"] == "no-cache"
        assert r.headers["content-type"].startswith("text/html")
        assert "default-src 'self'" in r.headers["content-security-policy"]


def test_hashed_assets_are_immutable_and_sent_gzipped_when_accepted(client: TestClient) -> None:
    packed = client.get("/assets/app-1a2b.js", headers={"Accept-Encoding": "gzip, br"})
    assert packed.status_code == 200
    assert packed.headers["content-encoding"] == "gzip"
    assert packed.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert packed.headers["vary"] == "Accept-Encoding"
    assert "javascript" in packed.headers["content-type"]
    assert packed.text == SCRIPT  # httpx decodes the gzip body
    assert int(packed.headers["content-length"]) < len(SCRIPT)
    plain = client.get("/assets/app-1a2b.js", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers
    assert plain.text == SCRIPT
    icon = client.get("/favicon.svg")
    assert icon.status_code == 200
    assert icon.headers["cache-control"] == "public, max-age=3600"


def test_missing_files_are_404_not_the_app(client: TestClient) -> None:
    for path in ("/assets/app-old.js", "/robots.txt", "/../secret.txt", "/assets/../../secret.txt"):
        r = client.get(path)
        assert r.status_code == 404, path
        assert r.json()["error"] == "not_found"
        assert "not for the web" not in r.text


def test_paths_never_leave_the_build(dist: Path, tmp_path: Path) -> None:
    (tmp_path / "outside").write_text("not for the web")
    route = WebUIRoute(dist)
    for raw in ("/../outside", "/%2e%2e/outside", "/./../outside"):
        response = route.respond(raw, Headers())
        assert isinstance(response, FileResponse)
        assert Path(response.path) == dist / "index.html", raw
    with pytest.raises(HTTPException) as refused:
        route.respond("/assets/../../outside", Headers())
    assert refused.value.status_code == 404


def test_the_api_and_its_docs_are_never_shadowed(client: TestClient) -> None:
    assert client.get("/api/v1/health").json()["status"] == "ok"
    missing = client.get("/api/v1/no-such-route")
    assert missing.status_code == 404
    assert missing.json()["error"] == "not_found"
    assert client.post("/api/v1/no-such-route").status_code == 404
    assert client.put("/api/v1/tasks").status_code == 405
    assert client.get("/v1/nothing").status_code == 404
    assert client.get("/openapi.json").json()["info"]["title"] == "Atelier"
    assert client.get("/metrics").text != INDEX
    assert "swagger" in client.get("/docs").text.lower()
    assert "redoc" in client.get("/redoc").text.lower()
    assert client.post("/history").status_code == 404  # only GET and HEAD reach the UI


def test_head_answers_without_a_body(client: TestClient) -> None:
    r = client.head("/history")
    assert r.status_code == 200
    assert r.content == b""
    assert int(r.headers["content-length"]) == len(INDEX)


def test_without_a_build_the_root_says_how_to_build_it(tmp_path: Path) -> None:
    for client in client_for(tmp_path, tmp_path / "no-build"):
        r = client.get("/")
        assert r.status_code == 404
        assert "not built" in r.text
        assert "make web" in r.text
        assert client.get("/history").status_code == 404
        assert client.get("/api/v1/health").status_code == 200


def test_the_default_is_the_checkout_build() -> None:
    assert default_web_dir() == REPO / "web" / "dist"
    assert Settings(_env_file=None).web_dir is None  # type: ignore[call-arg]


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("gzip", True),
        ("br, gzip;q=0.5", True),
        ("gzip;q=0", False),
        ("*", True),
        ("br", False),
        ("", False),
        ("gzip;q=nonsense", False),
    ],
)
def test_accept_encoding(header: str, expected: bool) -> None:
    assert accepts_gzip(Headers({"accept-encoding": header})) is expected


def test_reserved_prefixes() -> None:
    assert is_reserved("/api/v1/tasks")
    assert is_reserved("/docs") and is_reserved("/docs/oauth2-redirect")
    assert is_reserved("/openapi.json") and is_reserved("/v1/models")
    assert is_reserved("/metrics")
    assert not is_reserved("/apiary") and not is_reserved("/") and not is_reserved("/history")


def test_openapi_document_is_printed_without_a_server(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "atelier.api.openapi"],
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
        timeout=60,
    )
    document = json.loads(out.stdout)
    assert document["openapi"].startswith("3.")
    assert "/api/v1/tasks" in document["paths"]
    assert "/api/v1/stylize" in document["paths"]
    assert not any(path == "/" or "{path" in path for path in document["paths"])
    assert not (tmp_path / "data").exists()  # no database was touched
