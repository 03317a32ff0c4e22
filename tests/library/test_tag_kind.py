"""The ``tag`` task: analysis → embedding → indexing with live progress, in a real worker
process whose vectors the API process then searches; user tags skip the analysis; running it
again replaces its own rows; the full offline analysis; every generated image tagged by an
internal task that stays out of the history."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from library_helpers import QUICK, drain, encode, files, settings_with, task_row, upload
from PIL import Image
from sqlalchemy import func, select

from atelier.config import Settings
from atelier.library.models import LibraryEmbedding, LibraryImage, LibraryTag
from atelier.runtime import Runtime, build_runtime
from atelier.tasks.models import Task, TaskEvent
from support.api import GEN, api, login, submit
from support.live import LiveServer, WorkerProcess, read_sse
from support.profiles import Profile


@pytest.fixture
def settings(profile: Profile, monkeypatch: pytest.MonkeyPatch) -> Settings:
    return settings_with(monkeypatch)


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with api(settings) as c:
        yield c


@pytest.fixture
def worker(settings: Settings, client: TestClient) -> Iterator[Runtime]:
    rt = build_runtime(settings, worker=True)
    yield rt
    rt.close()


def stages(rt: Runtime, task_id: str) -> list[str]:
    with rt.db.read() as s:
        rows = s.scalars(
            select(TaskEvent).where(TaskEvent.task_id == task_id).order_by(TaskEvent.seq)
        ).all()
    names = [e.data["stage"] for e in rows if e.data.get("stage")]
    return [n for i, n in enumerate(names) if i == 0 or n != names[i - 1]]


def tag_rows(rt: Runtime, image_id: str) -> list[tuple[str, str, str, str]]:
    with rt.db.read() as s:
        rows = s.scalars(select(LibraryTag).where(LibraryTag.image_id == image_id)).all()
    return sorted((t.source, t.origin, t.lang, t.tag) for t in rows)


def vectors(rt: Runtime, image_id: str) -> list[tuple[str, str, int]]:
    with rt.db.read() as s:
        rows = s.execute(
            select(LibraryEmbedding.model, LibraryEmbedding.kind, LibraryEmbedding.dim).where(
                LibraryEmbedding.image_id == image_id
            )
        ).all()
    return sorted((m, k, d) for m, k, d in rows)


def test_a_worker_process_tags_and_the_api_process_finds(
    profile: Profile, settings: Settings, tmp_path: Path, photos: dict[str, Image.Image]
) -> None:
    with (
        LiveServer(settings) as server,
        WorkerProcess(profile.process_env(**QUICK), tmp_path / "worker.log") as worker,
        httpx.Client(base_url=server.url, timeout=60) as http,
    ):
        token = http.get("/api/v1/tasks").headers["X-Atelier-Session"]
        http.headers["Authorization"] = f"Bearer {token}"
        r = http.post(
            "/api/v1/library/images",
            files=files(("cat.png", encode(photos["chelsea"]))),
            data={"title": "a ginger kitten dozing"},
        )
        assert r.status_code == 201, r.text
        [item] = r.json()["items"]
        events = []
        with http.stream("GET", f"/api/v1/tasks/{item['task_id']}/stream") as stream:
            for _, event in read_sse(stream):
                events.append(event)
        assert events[-1]["type"] == "completed", (events[-1], worker.output()[-3000:])
        names = [e["stage"] for e in events if e.get("stage")]
        order = [n for i, n in enumerate(names) if i == 0 or n != names[i - 1]]
        assert order == ["analysis", "embedding", "indexing", "done"]
        progress = [e["progress"] for e in events]
        assert progress == sorted(progress) and progress[-1] == 100
        result = events[-1]["result"]
        assert result["status"] == "done" and result["analyzer"] == "offline"
        assert result["embeddings"] == [
            {"model": "minilm:all-MiniLM-L6-v2", "kind": "text", "dim": 384}
        ]
        # the vector the worker wrote is searched by this process at once
        r = http.get("/api/v1/library/search", params={"q": "a cat asleep"})
        [hit] = r.json()["items"]
        assert hit["image"]["image_id"] == item["image_id"] and hit["parts"]["vector"] > 0.2
        assert hit["image"]["status"] == "done" and hit["image"]["description_en"]


def test_user_tags_skip_the_analysis_and_running_again_replaces_its_rows(
    client: TestClient, worker: Runtime, photos: dict[str, Image.Image]
) -> None:
    me = login(client)
    [item] = upload(client, me, ("cat.png", encode(photos["chelsea"])), tags='["Kitty", "猫"]')[
        "items"
    ]
    image_id = item["image_id"]
    drain(worker)
    assert stages(worker, item["task_id"]) == ["analysis", "embedding", "indexing", "done"]
    result = task_row(worker, item["task_id"]).result
    assert result is not None and result["analyzed"] is False and result["tags"] == []
    assert tag_rows(worker, image_id) == [
        ("user", "user", "en", "Kitty"),
        ("user", "user", "zh", "猫"),
    ]
    image = client.get(f"/api/v1/library/images/{image_id}", headers=me).json()
    assert image["analyzer"] == "user" and image["description_en"] == ""
    assert image["analysis"]["width"] == 451 and image["analysis"]["tags"][0]["name"] == "Kitty"
    assert vectors(worker, image_id) == [("minilm:all-MiniLM-L6-v2", "text", 384)]

    # asked to analyse anyway: the analyser's tags join the user's, twice gives the same rows
    def analyse() -> list[tuple[str, str, str, str]]:
        r = client.post(
            "/api/v1/tasks",
            json={"kind": "tag", "params": {"image_id": image_id, "mode": "analyze"}},
            headers=me,
        )
        assert r.status_code == 201, r.text
        drain(worker)
        assert task_row(worker, r.json()["task_id"]).status == "completed"
        return tag_rows(worker, image_id)

    once = analyse()
    assert [t for t in once if t[0] == "user"] == [
        ("user", "user", "en", "Kitty"),
        ("user", "user", "zh", "猫"),
    ]
    assert any(t[:2] == ("ai", "color") for t in once)
    first = client.get(f"/api/v1/library/images/{image_id}", headers=me).json()
    assert analyse() == once
    again = client.get(f"/api/v1/library/images/{image_id}", headers=me).json()
    assert again["analyzer"] == "offline" and again["description_en"] == first["description_en"]
    assert again["tag_task_id"] != first["tag_task_id"]
    assert vectors(worker, image_id) == [("minilm:all-MiniLM-L6-v2", "text", 384)]
    # the search index took the new rows: a colour the analyser named finds it
    colour = next(t[3] for t in once if t[:3] == ("ai", "color", "en"))
    r = client.get("/api/v1/library/search", params={"q": colour}, headers=me)
    assert r.json()["items"][0]["image"]["image_id"] == image_id


def test_the_offline_analysis_in_full(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, photos: dict[str, Image.Image]
) -> None:
    monkeypatch.setenv("ATELIER_DATA_DIR", str(tmp_path / "data"))
    settings = Settings(_env_file=None)  # type: ignore[call-arg]  # every stage on
    with api(settings) as client:
        rt = build_runtime(settings, worker=True)
        try:
            me = login(client)
            body = upload(
                client,
                me,
                ("astronaut.png", encode(photos["astronaut"])),
                ("page.png", encode(photos["page"].convert("RGB"))),
            )
            drain(rt)
            astronaut, page = (
                client.get(f"/api/v1/library/images/{i['image_id']}", headers=me).json()
                for i in body["items"]
            )
            names = {t["tag"] for t in astronaut["tags"]}
            assert {"face", "人脸", "person", "人物"} <= names
            assert astronaut["analysis"]["faces"] and "face" in astronaut["description_en"]
            assert astronaut["analysis"]["nsfw_score"] is not None
            assert "text" in {t["tag"] for t in page["tags"]}
            assert page["analysis"]["ocr_text"] and "text" in page["description_en"]
            task = body["items"][0]["task_id"]
            with rt.db.read() as s:
                totals = {
                    e.data["stage_progress"]["total"]
                    for e in s.scalars(select(TaskEvent).where(TaskEvent.task_id == task))
                    if e.data.get("stage") == "analysis"
                }
            assert 5 in totals  # colours, text, faces, people, safety
            word = page["analysis"]["ocr_text"].split()[0]
            r = client.get("/api/v1/library/search", params={"q": word}, headers=me)
            assert r.json()["items"][0]["image"]["image_id"] == page["image_id"]
        finally:
            rt.close()


def _tag_children(rt: Runtime) -> list[Task]:
    with rt.db.read() as s:
        return list(s.scalars(select(Task).where(Task.kind == "tag").order_by(Task.created_at)))


def test_generated_images_are_tagged_by_internal_tasks(client: TestClient, worker: Runtime) -> None:
    me = login(client)
    first = submit(client, me, num_images=2)
    drain(worker)
    generated = client.get(f"/api/v1/tasks/{first}", headers=me).json()
    assert generated["status"] == "completed"
    made = [i["image_id"] for i in generated["result"]["images"]]
    tags = _tag_children(worker)
    assert sorted(t.params["image_id"] for t in tags) == sorted(made)
    owner = task_row(worker, first).owner
    assert all(t.status == "completed" and t.owner == owner for t in tags)
    # on the library's own queue, apart from the generation's
    assert task_row(worker, first).queue == "cpu" and {t.queue for t in tags} == {"library"}
    # out of the history: their parent is the owner's holder, which is no one's entry either
    [holder_id] = {t.parent_id for t in tags}
    holder = task_row(worker, holder_id or "")
    assert holder.kind == "library_auto" and holder.parent_id == holder.id
    history = client.get("/api/v1/tasks", headers=me).json()["items"]
    assert [t["task_id"] for t in history] == [first]
    # each image is in the library, titled with its prompt, and found by meaning
    listed = client.get("/api/v1/library/images", headers=me).json()["items"]
    assert {i["image_id"] for i in listed} == set(made)
    assert all(i["source"] == "generated" and i["title"] == GEN["prompt"] for i in listed)
    assert all(i["status"] == "done" for i in listed)
    r = client.get("/api/v1/library/search", params={"q": "dusk at the ocean"}, headers=me)
    assert {h["image"]["image_id"] for h in r.json()["items"][:2]} == set(made)
    r = client.get("/api/v1/library/images", params={"source": "generated"}, headers=me)
    assert len(r.json()["items"]) == 2

    # the same seed again makes the same bytes: not a second library image
    second = submit(client, me, num_images=1)
    drain(worker)
    again = client.get(f"/api/v1/tasks/{second}", headers=me).json()
    [image] = again["result"]["images"]
    [tag] = [t for t in _tag_children(worker) if t.params["image_id"] == image["image_id"]]
    assert tag.result is not None and tag.result["status"] == "duplicate"
    assert tag.result["duplicate_of"] == made[0]
    with worker.db.read() as s:
        count = s.scalar(select(func.count()).select_from(LibraryImage))
    assert count == 2


def test_automatic_tagging_can_be_turned_off(
    profile: Profile, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = settings_with(monkeypatch, ATELIER_LIBRARY__AUTO_TAG_GENERATED="false")
    with api(settings) as client:
        rt = build_runtime(settings, worker=True)
        try:
            me = login(client)
            task_id = submit(client, me)
            drain(rt)
            assert task_row(rt, task_id).status == "completed"
            assert _tag_children(rt) == []
            listed: list[Any] = client.get("/api/v1/library/images", headers=me).json()["items"]
            assert listed == []
        finally:
            rt.close()
