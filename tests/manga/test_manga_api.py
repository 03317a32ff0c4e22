"""``/api/v1/manga``: submit, follow, regenerate a panel (every version kept), select a
version, compose the page again, export it in four formats; owner-scoped, with clear 4xx."""

from __future__ import annotations

import io
import uuid
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from PIL import Image, PdfParser

from atelier.config import Settings
from atelier.manga.cli import drive
from atelier.runtime import Runtime, build_runtime
from atelier.worker.runner import execute
from conftest import EN_STORY, SMALL
from support.api import api, login


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    for key, value in {**SMALL, "ATELIER_DATA_DIR": str(tmp_path / "data")}.items():
        monkeypatch.setenv(key, value)
    return Settings(_env_file=None)  # type: ignore[call-arg]


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with api(settings) as c:
        yield c


@pytest.fixture
def worker(settings: Settings, client: TestClient) -> Iterator[Runtime]:
    """A worker runtime beside the API (the tasks are run with the real runner)."""
    rt = build_runtime(settings, worker=True)
    yield rt
    rt.close()


def create(client: TestClient, headers: dict[str, str], **params: Any) -> str:
    r = client.post("/api/v1/manga", json={"story": EN_STORY, **params}, headers=headers)
    assert r.status_code == 201, r.text
    return str(r.json()["task_id"])


def view(client: TestClient, headers: dict[str, str], task_id: str) -> dict[str, Any]:
    r = client.get(f"/api/v1/manga/{task_id}", headers=headers)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def test_a_job_from_story_to_exports_with_a_regenerated_panel(
    client: TestClient, worker: Runtime
) -> None:
    me = login(client)
    task_id = create(client, me, panels=3, seed=11)
    pending = view(client, me, task_id)
    assert pending["status"] == "pending" and pending["script"] is None
    assert pending["panels"] == [] and pending["page"] is None and pending["exports"] == {}

    drive(worker, task_id)
    job = view(client, me, task_id)
    assert job["status"] == "completed" and job["stage"] == "done" and job["progress"] == 100
    assert job["title"] == "The Night Train" and job["language"] == "en"
    assert job["writer"] == "offline" and job["model"] == "procedural"
    assert len(job["script"]["panels"]) == 3 and job["failures"] == []
    assert [p["panel_number"] for p in job["panels"]] == [1, 2, 3]
    for panel in job["panels"]:
        [v1] = panel["versions"]
        assert panel["selected_version"] == 1 and v1["selected"] and v1["status"] == "completed"
        assert v1["image"]["format"] == "webp" and v1["stage"] == "done"
    page = job["page"]
    assert page["version"] == 1 and page["panels"] == {"1": 1, "2": 1, "3": 1}
    assert not page["stale"] and page["layout"]["size"] == [400, 566]
    first_page = page["image"]["image_id"]
    got = client.get(page["image"]["url"], headers=me)
    assert got.status_code == 200 and got.headers["content-type"] == "image/webp"
    task = client.get(f"/api/v1/tasks/{task_id}", headers=me).json()
    assert task["result"]["page"]["image_id"] == first_page

    # regenerate panel 2 with a new scene: a new version, a child task of the job
    r = client.post(
        f"/api/v1/manga/{task_id}/panels/2/versions",
        json={"text": "A night train crossing a bridge over a river, seen from far away"},
        headers=me,
    )
    assert r.status_code == 201, r.text
    v2 = r.json()
    assert (v2["version"], v2["status"], v2["selected"]) == (2, "pending", False)
    assert v2["text"].startswith("A night train") and v2["image"] is None
    child = client.get(f"/api/v1/tasks/{v2['task_id']}", headers=me).json()
    assert child["kind"] == "manga_panel" and child["params"]["version"] == 2
    assert "bridge" in child["params"]["prompt"]["prompt"]
    early = client.put(f"/api/v1/manga/{task_id}/panels/2", json={"version": 2}, headers=me)
    assert early.status_code == 409 and early.json()["error"] == "version_not_ready"

    execute(worker, v2["task_id"])
    panel = client.get(f"/api/v1/manga/{task_id}/panels/2", headers=me).json()
    assert [v["version"] for v in panel["versions"]] == [1, 2]  # every version kept
    assert [v["status"] for v in panel["versions"]] == ["completed", "completed"]
    assert panel["versions"][0]["seed"] != panel["versions"][1]["seed"]
    assert view(client, me, task_id)["status"] == "completed"  # the parent is unchanged

    # new words pass the prompt filter like a submission: refused, and no version is made
    refused = client.post(
        f"/api/v1/manga/{task_id}/panels/2/versions",
        json={"text": "the hero meets c h i l d-p o r n"},
        headers=me,
    )
    assert refused.status_code == 422 and refused.json()["error"] == "prompt_rejected"

    # a third version, with a seed and without text: it keeps version 2's scene
    r = client.post(f"/api/v1/manga/{task_id}/panels/2/versions", json={"seed": 5}, headers=me)
    assert r.status_code == 201 and r.json()["version"] == 3 and r.json()["seed"] == 5
    assert r.json()["text"] == v2["text"]
    execute(worker, r.json()["task_id"])

    selected = client.put(f"/api/v1/manga/{task_id}/panels/2", json={"version": 2}, headers=me)
    assert selected.status_code == 200, selected.text
    job = selected.json()
    assert job["panels"][1]["selected_version"] == 2
    assert [v["selected"] for v in job["panels"][1]["versions"]] == [False, True, False]
    assert job["page"]["stale"] and job["page"]["version"] == 1

    composed = client.post(f"/api/v1/manga/{task_id}/page", headers=me)
    assert composed.status_code == 200, composed.text
    job = composed.json()
    assert job["page"]["version"] == 2 and job["page"]["panels"] == {"1": 1, "2": 2, "3": 1}
    assert not job["page"]["stale"] and job["page"]["image"]["image_id"] != first_page
    assert client.get(f"/api/v1/images/{first_page}", headers=me).status_code == 200

    formats = {
        "png": ("image/png", "PNG"),
        "webp": ("image/webp", "WEBP"),
    }
    for fmt, (media, pil_format) in formats.items():
        r = client.get(job["exports"][fmt], headers=me)
        assert r.status_code == 200 and r.headers["content-type"] == media
        assert r.headers["content-disposition"] == (
            f'attachment; filename="manga-{task_id[:8]}.{fmt}"'
        )
        with Image.open(io.BytesIO(r.content)) as image:
            assert image.format == pil_format and image.size == (400, 566)
    pdf = client.get(f"/api/v1/manga/{task_id}/export", params={"format": "pdf"}, headers=me)
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    parsed = PdfParser.PdfParser(buf=pdf.content)
    assert len(parsed.pages) == 1
    assert parsed.info[b"Title"].decode("utf-16") == "The Night Train"
    cbz = client.get(f"/api/v1/manga/{task_id}/export", params={"format": "cbz"}, headers=me)
    assert cbz.status_code == 200 and cbz.headers["content-type"].startswith(
        "application/vnd.comicbook+zip"
    )
    with zipfile.ZipFile(io.BytesIO(cbz.content)) as archive:
        assert archive.namelist() == ["page-001.png", "ComicInfo.xml"]
        assert b"<Title>The Night Train</Title>" in archive.read("ComicInfo.xml")
        with Image.open(io.BytesIO(archive.read("page-001.png"))) as image:
            exported = image.convert("RGB")
    with Image.open(io.BytesIO(client.get(job["page"]["image"]["url"], headers=me).content)) as p:
        assert exported.tobytes() == p.convert("RGB").tobytes()  # the re-composed page

    # version 1 is still there and can be chosen again
    back = client.put(f"/api/v1/manga/{task_id}/panels/2", json={"version": 1}, headers=me)
    assert back.status_code == 200 and back.json()["page"]["stale"]


def test_the_api_is_owner_scoped_and_refuses_bad_input(client: TestClient, worker: Runtime) -> None:
    me, other = login(client), login(client)
    task_id = create(client, me, panels=2)
    base = f"/api/v1/manga/{task_id}"

    # while it has not run: nothing to regenerate, select, compose or export
    for method, path, body in (
        ("POST", f"{base}/panels/1/versions", {}),
        ("PUT", f"{base}/panels/1", {"version": 1}),
        ("POST", f"{base}/page", None),
    ):
        r = client.request(method, path, json=body, headers=me)
        assert (r.status_code, r.json()["error"]) == (409, "manga_not_ready"), (path, r.text)
    r = client.get(f"{base}/export", headers=me)
    assert (r.status_code, r.json()["error"]) == (409, "page_not_ready")
    drive(worker, task_id)

    calls: list[tuple[str, str, Any]] = [
        ("GET", base, None),
        ("GET", f"{base}/panels/1", None),
        ("POST", f"{base}/panels/1/versions", {}),
        ("PUT", f"{base}/panels/1", {"version": 1}),
        ("POST", f"{base}/page", None),
        ("GET", f"{base}/export?format=pdf", None),
    ]
    missing = str(uuid.uuid4())
    for method, path, body in calls:
        theirs = client.request(method, path, json=body, headers=other)
        absent = client.request(method, path.replace(task_id, missing), json=body, headers=me)
        assert theirs.status_code == absent.status_code == 404, (path, theirs.text)
        assert {k: v for k, v in theirs.json().items() if k != "details"} == {
            k: v for k, v in absent.json().items() if k != "details"
        }
    # a task of another kind is not a manga job
    generate = client.post(
        "/api/v1/tasks",
        json={"kind": "generate", "params": {"prompt": "sea", "width": 64, "height": 64}},
        headers=me,
    ).json()["task_id"]
    assert client.get(f"/api/v1/manga/{generate}", headers=me).status_code == 404

    bad: list[tuple[str, str, Any, int, str]] = [
        ("GET", f"{base}/panels/0", None, 404, "panel_not_found"),
        ("GET", f"{base}/panels/3", None, 404, "panel_not_found"),
        ("POST", f"{base}/panels/9/versions", {}, 404, "panel_not_found"),
        ("PUT", f"{base}/panels/3", {"version": 1}, 404, "panel_not_found"),
        ("PUT", f"{base}/panels/1", {"version": 7}, 404, "version_not_found"),
        ("PUT", f"{base}/panels/1", {"version": 0}, 422, "validation_error"),
        ("PUT", f"{base}/panels/1", {}, 422, "validation_error"),
        ("PUT", f"{base}/panels/1", {"version": "two"}, 422, "validation_error"),
        ("GET", f"{base}/panels/one", None, 422, "validation_error"),
        ("POST", f"{base}/panels/1/versions", {"text": ""}, 422, "validation_error"),
        ("POST", f"{base}/panels/1/versions", {"text": "x" * 1201}, 422, "validation_error"),
        ("POST", f"{base}/panels/1/versions", {"seed": -1}, 422, "validation_error"),
        ("POST", f"{base}/panels/1/versions", {"colour": "red"}, 422, "validation_error"),
        ("GET", f"{base}/export?format=gif", None, 422, "validation_error"),
        ("POST", "/api/v1/manga", {"story": ""}, 422, "validation_error"),
        ("POST", "/api/v1/manga", {"story": "A story.", "panels": 9}, 422, "validation_error"),
        ("POST", "/api/v1/manga", {"story": "A story.", "model": "x"}, 422, "validation_error"),
        ("POST", "/api/v1/manga", {"panels": 2}, 422, "validation_error"),
    ]
    for method, path, body, status, code in bad:
        r = client.request(method, path, json=body, headers=me)
        assert (r.status_code, r.json()["error"]) == (status, code), (method, path, body, r.text)
    r = client.post("/api/v1/manga", content=b"story", headers={**me, "content-type": "text/plain"})
    assert r.status_code == 415
    # the child kind is internal
    r = client.post("/api/v1/tasks", json={"kind": "manga_panel", "params": {}}, headers=me)
    assert r.status_code == 422 and r.json()["details"]["field"] == "kind"


def test_manga_through_the_task_api_and_idempotency(client: TestClient, worker: Runtime) -> None:
    me = login(client)
    r = client.post(
        "/api/v1/tasks",
        json={"kind": "manga", "params": {"story": EN_STORY, "panels": 1}},
        headers=me,
    )
    assert r.status_code == 201
    task_id = r.json()["task_id"]
    drive(worker, task_id)
    job = view(client, me, task_id)
    assert job["status"] == "completed" and len(job["panels"]) == 1
    assert job["layout"] in ("full", "letterbox")
    # children are not listed among the owner's tasks
    listed = client.get("/api/v1/tasks", headers=me).json()["items"]
    assert [t["task_id"] for t in listed] == [task_id]

    keyed = {**me, "Idempotency-Key": "page-1"}
    first = client.post("/api/v1/manga", json={"story": EN_STORY}, headers=keyed)
    again = client.post("/api/v1/manga", json={"story": EN_STORY}, headers=keyed)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["task_id"] == again.json()["task_id"]
    paths = client.get("/openapi.json").json()["paths"]
    assert {
        "/api/v1/manga",
        "/api/v1/manga/{task_id}",
        "/api/v1/manga/{task_id}/panels/{panel_number}",
        "/api/v1/manga/{task_id}/panels/{panel_number}/versions",
        "/api/v1/manga/{task_id}/page",
        "/api/v1/manga/{task_id}/export",
    } <= set(paths)


def test_deleting_the_job_removes_every_version_and_page(
    client: TestClient, worker: Runtime
) -> None:
    me = login(client)
    task_id = create(client, me, panels=2)
    drive(worker, task_id)
    r = client.post(f"/api/v1/manga/{task_id}/panels/1/versions", json={}, headers=me)
    execute(worker, r.json()["task_id"])
    assert client.post(f"/api/v1/manga/{task_id}/page", headers=me).status_code == 200
    job = view(client, me, task_id)
    keys = [v["image"]["url"] for p in job["panels"] for v in p["versions"]]
    assert len(keys) == 3
    root = worker.settings.storage_root
    assert len([f for f in root.rglob("*") if f.suffix in (".webp", ".png")]) == 10
    assert client.delete(f"/api/v1/tasks/{task_id}", headers=me).status_code == 204
    assert client.get(f"/api/v1/manga/{task_id}", headers=me).status_code == 404
    for url in [*keys, job["page"]["image"]["url"]]:
        assert client.get(url, headers=me).status_code == 404
    from sqlalchemy import func, select

    from atelier.images.models import ImageRecord
    from atelier.manga.store import MangaPanel

    with worker.db.read() as s:
        assert s.execute(select(func.count()).select_from(ImageRecord)).scalar_one() == 0
        assert s.execute(select(func.count()).select_from(MangaPanel)).scalar_one() == 0
    assert [f for f in root.rglob("*") if f.suffix in (".webp", ".png")] == []
