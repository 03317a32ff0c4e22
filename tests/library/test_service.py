"""The library through its API on SQLite and PostgreSQL: imports with exact and near
duplicates, the batch parent, tagging with the real runner, hybrid search by tags, words and
meaning, filters and pages, edits, deletion, similar and random images, re-embedding."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from library_helpers import drain, encode, settings_with, task_row, upload
from library_models import write_tiny_bert
from PIL import Image
from sqlalchemy import func, select, text

from atelier.config import Settings
from atelier.images.models import ImageRecord
from atelier.library.models import LibraryChange, LibraryEmbedding, LibraryImage, LibraryTag
from atelier.runtime import Runtime, build_runtime
from atelier.tasks.models import TaskEvent
from support.api import api, login
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


def search(client: TestClient, me: dict[str, str], q: str, **params: Any) -> list[dict[str, Any]]:
    r = client.get("/api/v1/library/search", params={"q": q, **params}, headers=me)
    assert r.status_code == 200, r.text
    items: list[dict[str, Any]] = r.json()["items"]
    return items


def listing(client: TestClient, me: dict[str, str], **params: Any) -> dict[str, Any]:
    r = client.get("/api/v1/library/images", params=params, headers=me)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def ids(items: list[dict[str, Any]]) -> list[str]:
    return [i["image"]["image_id"] if "image" in i else i["image_id"] for i in items]


def count(rt: Runtime, model: Any, *where: Any) -> int:
    with rt.db.read() as s:
        return int(s.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def test_an_import_of_several_files_with_exact_and_near_duplicates(
    client: TestClient, worker: Runtime, photos: dict[str, Image.Image]
) -> None:
    me = login(client)
    cat = encode(photos["chelsea"])
    small_cat = encode(photos["chelsea"].resize((226, 150)), "JPEG", quality=60)
    body = upload(
        client,
        me,
        ("cat.png", cat),
        ("coffee.jpg", encode(photos["coffee"], "JPEG")),
        ("small-cat.jpg", small_cat),
        tags='["pets", "home"]',
    )
    first, coffee, near = body["items"]
    assert [i["status"] for i in body["items"]] == ["created"] * 3
    assert [i["filename"] for i in body["items"]] == ["cat.png", "coffee.jpg", "small-cat.jpg"]
    assert first["near_duplicates"] == [] and coffee["near_duplicates"] == []
    [found] = near["near_duplicates"]
    assert found["image_id"] == first["image_id"] and found["distance"] <= 12
    # an image's details name its look-alikes, both ways (not itself, not the coffee)
    detail = client.get(f"/api/v1/library/images/{first['image_id']}", headers=me).json()
    assert detail["near_duplicates"] == [
        {"image_id": near["image_id"], "distance": found["distance"]}
    ]
    detail = client.get(f"/api/v1/library/images/{coffee['image_id']}", headers=me).json()
    assert detail["near_duplicates"] == []
    batch = body["batch_task_id"]
    assert batch is not None and len({i["task_id"] for i in body["items"]}) == 3

    # the batch is in the history, its tag tasks are not (they are its children)
    history = client.get("/api/v1/tasks", headers=me).json()["items"]
    assert [(t["task_id"], t["kind"]) for t in history] == [(batch, "library_batch")]
    tag = client.get(f"/api/v1/tasks/{first['task_id']}", headers=me).json()
    assert tag["kind"] == "tag" and tag["status"] == "pending"
    assert tag["params"] == {"image_id": first["image_id"], "mode": "auto"}

    drain(worker)
    parent = client.get(f"/api/v1/tasks/{batch}", headers=me).json()
    assert parent["status"] == "completed" and parent["progress"] == 100, parent
    assert parent["result"]["failures"] == []
    assert {i["image_id"] for i in parent["result"]["items"]} == {
        i["image_id"] for i in body["items"]
    }
    with worker.db.read() as s:
        history_rows = s.scalars(
            select(TaskEvent).where(TaskEvent.task_id == batch).order_by(TaskEvent.seq)
        ).all()
    waiting = [e.data for e in history_rows if e.data.get("stage") == "tagging"]
    assert waiting and waiting[-1]["stage_progress"] == {"current": 3, "total": 3}
    progress = [e.data["progress"] for e in history_rows]
    assert progress == sorted(progress)
    for item in body["items"]:
        image = client.get(f"/api/v1/library/images/{item['image_id']}", headers=me).json()
        assert image["status"] == "done" and image["analyzer"] == "user"  # user tags given
        assert {t["tag"] for t in image["tags"] if t["source"] == "user"} == {"pets", "home"}

    # the same bytes again: reported with the existing id, not stored twice
    images_before = count(worker, ImageRecord)
    again = upload(client, me, ("again.png", cat))
    assert again["batch_task_id"] is None
    [item] = again["items"]
    assert (item["status"], item["image_id"], item["task_id"]) == (
        "duplicate",
        first["image_id"],
        None,
    )
    assert count(worker, ImageRecord) == images_before
    # twice in one request: the second is a duplicate of the first
    rocket = encode(photos["rocket"], "JPEG")
    both = upload(client, me, ("a.jpg", rocket), ("b.jpg", rocket))
    a, b = both["items"]
    assert a["status"] == "created" and (b["status"], b["image_id"]) == ("duplicate", a["image_id"])
    assert count(worker, ImageRecord) == images_before + 1
    assert len(listing(client, me)["items"]) == 4

    # another owner may hold the same bytes: duplicates are per owner
    other = login(client)
    [mine] = upload(client, other, ("cat.png", cat))["items"]
    assert mine["status"] == "created" and mine["image_id"] != first["image_id"]


def test_tagged_images_are_found_by_tags_words_and_meaning(
    client: TestClient, worker: Runtime, photos: dict[str, Image.Image]
) -> None:
    me = login(client)
    [cat] = upload(
        client, me, ("cat.png", encode(photos["chelsea"])), title="a ginger kitten dozing"
    )["items"]
    [cup] = upload(
        client,
        me,
        ("cup.jpg", encode(photos["coffee"], "JPEG")),
        title="espresso in a porcelain cup",
        tags="breakfast",
    )["items"]
    [rocket] = upload(
        client, me, ("rocket.jpg", encode(photos["rocket"], "JPEG")), title="a launch pad"
    )["items"]
    # before its task ran, an image is found by its title and tags, not by meaning
    [early] = search(client, me, "espresso")
    assert early["image"]["status"] == "pending" and early["matched"] == ["text"]
    assert search(client, me, "a cat sleeping") == []
    drain(worker)
    for item in (cat, rocket):  # no user tags: the offline analyser ran
        image = client.get(f"/api/v1/library/images/{item['image_id']}", headers=me).json()
        assert image["analyzer"] == "offline" and image["description_en"].startswith("A ")
        assert image["analysis"]["colors"] and image["analysis"]["width"] == image["width"]
        assert any(t["source"] == "ai" and t["origin"] == "color" for t in image["tags"])

    # a tag
    hits = search(client, me, "breakfast")
    assert ids(hits)[0] == cup["image_id"] and "tags" in hits[0]["matched"]
    # a word of the title, and a colour the analyser named (in English and Chinese)
    assert ids(search(client, me, "porcelain"))[0] == cup["image_id"]
    image = client.get(f"/api/v1/library/images/{cat['image_id']}", headers=me).json()
    colour = next(t for t in image["tags"] if t["origin"] == "color" and t["lang"] == "en")
    colour_zh = next(t for t in image["tags"] if t["origin"] == "color" and t["lang"] == "zh")
    for word in (colour["tag"], colour_zh["tag"]):
        hits = search(client, me, word)
        assert cat["image_id"] in ids(hits)
        assert {"tags", "text"} <= set(hits[ids(hits).index(cat["image_id"])]["matched"])
    # meaning: no word in common with the title, found by the embedding
    hits = search(client, me, "a cat sleeping")
    assert ids(hits)[0] == cat["image_id"], hits
    assert hits[0]["parts"]["text"] == 0 and hits[0]["parts"]["tags"] == 0
    assert hits[0]["parts"]["vector"] > hits[1]["parts"]["vector"]
    assert hits[0]["matched"] == ["vector"]
    hits = search(client, me, "spacecraft lift-off")
    assert ids(hits)[0] == rocket["image_id"]
    # another owner finds nothing of it
    assert search(client, login(client), "breakfast") == []


def test_filters_and_pages(
    client: TestClient, worker: Runtime, photos: dict[str, Image.Image]
) -> None:
    me = login(client)
    big = upload(client, me, ("cat.png", encode(photos["chelsea"])), tags="cat,animal")
    small = upload(
        client, me, ("small.png", encode(photos["coffee"].resize((120, 80)))), tags="cup"
    )
    page = upload(client, me, ("page.png", encode(photos["page"].convert("RGB"))), tags="animal")
    ids_ = [b["items"][0]["image_id"] for b in (big, small, page)]
    drain(worker)

    everything = listing(client, me)
    assert [i["image_id"] for i in everything["items"]] == ids_[::-1]  # newest first
    assert everything["next_cursor"] is None
    seen, cursor = [], None
    while True:
        got = listing(client, me, limit=1, **({"cursor": cursor} if cursor else {}))
        seen += [i["image_id"] for i in got["items"]]
        cursor = got["next_cursor"]
        if cursor is None:
            break
    assert seen == ids_[::-1]

    def only(**params: Any) -> set[str]:
        return {i["image_id"] for i in listing(client, me, **params)["items"]}

    assert only(tags="animal") == {ids_[0], ids_[2]}
    assert only(tags=["animal", "CAT"]) == {ids_[0]}  # all of them, any case
    assert only(tags="animal,cat") == {ids_[0]}
    assert only(tags="nothing") == set()
    assert only(max_width=200) == {ids_[1]}
    assert only(min_width=200) == {ids_[0], ids_[2]}  # the page is 384 x 191
    assert only(min_width=200, min_height=250) == {ids_[0]}
    assert only(max_height=300, min_height=300) == {ids_[0]}  # chelsea is 451 x 300
    assert only(source="upload") == set(ids_) and only(kind="generated") == set()
    created = {i["image_id"]: i["created_at"] for i in everything["items"]}
    assert only(created_from=created[ids_[1]]) == {ids_[1], ids_[2]}
    assert only(created_to=created[ids_[1]]) == {ids_[0]}
    # the same filters narrow searches
    assert set(ids(search(client, me, "", tags="animal"))) == {ids_[0], ids_[2]}
    assert set(ids(search(client, me, "cat", max_width=200))) <= {ids_[1]}
    assert ids(search(client, me, "animal", min_height=250)) == [ids_[0]]

    # collections filter both
    r = client.post("/api/v1/library/collections", json={"name": "mine"}, headers=me)
    collection = r.json()["id"]
    r = client.post(
        f"/api/v1/library/collections/{collection}/items",
        json={"image_ids": [ids_[1], ids_[2]]},
        headers=me,
    )
    assert r.status_code == 200 and r.json()["image_count"] == 2
    assert only(collection=collection) == {ids_[1], ids_[2]}
    found = ids(search(client, me, "animal", collection=collection))
    assert set(found) <= {ids_[1], ids_[2]} and found[0] == ids_[2]

    # random picks among the allowed
    r = client.get("/api/v1/library/random", params={"tags": "animal", "n": 5}, headers=me)
    assert r.status_code == 200 and {i["image_id"] for i in r.json()["items"]} == {
        ids_[0],
        ids_[2],
    }
    r = client.get("/api/v1/library/random", params={"n": 1}, headers=me)
    assert len(r.json()["items"]) == 1 and r.json()["items"][0]["image_id"] in ids_


def test_edits_re_embed_and_deletion_removes_everything(
    client: TestClient, worker: Runtime, photos: dict[str, Image.Image], settings: Settings
) -> None:
    me = login(client)
    [cat] = upload(client, me, ("cat.png", encode(photos["chelsea"])))["items"]
    [cup] = upload(client, me, ("cup.jpg", encode(photos["coffee"], "JPEG")))["items"]
    drain(worker)
    assert all(h["matched"] == ["vector"] for h in search(client, me, "velvet"))
    ai_before = count(worker, LibraryTag, LibraryTag.image_id == cat["image_id"])

    r = client.patch(
        f"/api/v1/library/images/{cat['image_id']}",
        json={"title": "a velvet armchair", "tags": ["Furniture", "furniture", " living  room "]},
        headers=me,
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["image"]["title"] == "a velvet armchair" and body["task_id"]
    assert [t["tag"] for t in body["image"]["tags"] if t["source"] == "user"] == [
        "Furniture",
        "living room",
    ]
    # tags and title are searchable at once; the new embedding comes with the task
    [velvet] = [h for h in search(client, me, "velvet") if "text" in h["matched"]]
    assert velvet["image"]["image_id"] == cat["image_id"]
    task = task_row(worker, body["task_id"])
    assert task.kind == "tag" and task.params["mode"] == "embed"
    drain(worker)
    edited = client.get(f"/api/v1/library/images/{cat['image_id']}", headers=me).json()
    assert edited["tag_task_id"] == body["task_id"] and edited["analyzer"] == "offline"
    # the analyser's tags stayed; the user's were added
    assert count(worker, LibraryTag, LibraryTag.image_id == cat["image_id"]) == ai_before + 2
    hits = search(client, me, "a comfortable seat")
    assert ids(hits)[0] == cat["image_id"] and hits[0]["parts"]["vector"] > 0
    # the title is cleared with null; tags stay
    r = client.patch(f"/api/v1/library/images/{cat['image_id']}", json={"title": None}, headers=me)
    assert r.json()["image"]["title"] is None and len(r.json()["image"]["tags"]) > 2

    with worker.db.read() as s:
        record = s.get(ImageRecord, cat["image_id"])
    assert record is not None
    keys = [record.storage_key, record.thumbnail_key]
    assert all(worker.storage.exists(k) for k in keys if k)
    r = client.delete(f"/api/v1/library/images/{cat['image_id']}", headers=me)
    assert r.status_code == 204
    assert client.get(f"/api/v1/library/images/{cat['image_id']}", headers=me).status_code == 404
    assert client.get(f"/api/v1/images/{cat['image_id']}", headers=me).status_code == 404
    assert not any(worker.storage.exists(k) for k in keys if k)
    for model in (LibraryImage, LibraryEmbedding, LibraryTag):
        assert count(worker, model, model.image_id == cat["image_id"]) == 0
    assert count(worker, LibraryChange, LibraryChange.image_id == cat["image_id"]) >= 3
    assert cat["image_id"] not in ids(search(client, me, "velvet armchair furniture"))
    assert [i["image_id"] for i in listing(client, me)["items"]] == [cup["image_id"]]
    assert client.delete(f"/api/v1/library/images/{cat['image_id']}", headers=me).status_code == 404


def test_similar_images_by_their_text_embedding(
    client: TestClient, worker: Runtime, photos: dict[str, Image.Image]
) -> None:
    me = login(client)
    titles = {
        "cat": "a ginger cat sleeping",
        "kitten": "a small kitten napping",
        "rocket": "a rocket launch at dawn",
    }
    made = {}
    for name, title in titles.items():
        photo = photos["chelsea" if name != "rocket" else "rocket"]
        if name == "kitten":
            photo = photo.rotate(180)
        [item] = upload(client, me, (f"{name}.png", encode(photo)), title=title)["items"]
        made[name] = item["image_id"]
    r = client.get(f"/api/v1/library/images/{made['cat']}/similar", headers=me)
    assert r.status_code == 409 and r.json()["error"] == "not_embedded"
    drain(worker)
    r = client.get(f"/api/v1/library/images/{made['cat']}/similar", headers=me)
    assert r.status_code == 200, r.text
    found = ids(r.json()["items"])
    assert found == [made["kitten"], made["rocket"]]  # itself left out, nearest first
    r = client.get(f"/api/v1/library/images/{made['cat']}/similar", params={"k": 1}, headers=me)
    assert ids(r.json()["items"]) == [made["kitten"]] and r.json()["next_offset"] == 1
    # the next page, and the end
    page = {"k": 1, "offset": 1}
    r = client.get(f"/api/v1/library/images/{made['cat']}/similar", params=page, headers=me)
    assert ids(r.json()["items"]) == [made["rocket"]] and r.json()["next_offset"] is None
    # search pages the same ranking
    whole = ids(search(client, me, "a sleeping cat"))
    assert len(whole) == 3
    pages = []
    for offset in range(3):
        r = client.get(
            "/api/v1/library/search",
            params={"q": "a sleeping cat", "k": 1, "offset": offset},
            headers=me,
        )
        pages += ids(r.json()["items"])
        assert r.json()["next_offset"] == (offset + 1 if offset < 2 else None)
    assert pages == whole


def test_re_embedding_after_the_model_changed(
    profile: Profile,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    photos: dict[str, Image.Image],
) -> None:
    first = settings_with(monkeypatch)
    with api(first) as client:
        me = login(client)
        for name in ("chelsea", "coffee", "rocket"):
            upload(client, me, (f"{name}.png", encode(photos[name])), title=name)
        rt = build_runtime(first, worker=True)
        try:
            drain(rt)
        finally:
            rt.close()
        r = client.post("/api/v1/library/reembed", headers=me)
        assert r.status_code == 409 and r.json()["error"] == "reembed_not_needed"

    tiny = tmp_path / "tiny-bert"
    tiny.mkdir()
    write_tiny_bert(tiny)
    second = settings_with(monkeypatch, ATELIER_LIBRARY__MINILM_DIR=str(tiny))
    with api(second) as client:
        rt = build_runtime(second, worker=True)
        try:
            # searching still works (tags and text) while the vectors are of the old model
            assert ids(search(client, me, "coffee"))
            r = client.post("/api/v1/library/reembed", headers=me)
            assert r.status_code == 201, r.text
            body = r.json()
            assert body["plan"]["text_model"] == "minilm:tiny-bert"
            assert body["plan"]["missing_text"] == 3
            assert body["plan"]["stale_models"] == ["minilm:all-MiniLM-L6-v2"]
            again = client.post("/api/v1/library/reembed", headers=me)
            assert again.status_code == 200 and again.json()["task_id"] == body["task_id"]
            drain(rt)
            task = client.get(f"/api/v1/tasks/{body['task_id']}", headers=me).json()
            assert task["status"] == "completed" and task["progress"] == 100, task
            assert task["result"]["removed_models"] == ["minilm:all-MiniLM-L6-v2"]
            with rt.db.read() as s:
                models = s.execute(
                    select(LibraryEmbedding.model, func.count()).group_by(LibraryEmbedding.model)
                ).all()
            assert [(m, n) for m, n in models] == [("minilm:tiny-bert", 3)]
            hits = search(client, me, "rocket")
            assert hits and hits[0]["parts"]["vector"] != 0
            r = client.post("/api/v1/library/reembed", headers=me)
            assert r.status_code == 409
        finally:
            rt.close()


def test_vectors_live_in_pgvector_where_postgresql_has_it(
    pgvector_url: str,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    photos: dict[str, Image.Image],
) -> None:
    settings = settings_with(
        monkeypatch,
        ATELIER_DATA_DIR=str(tmp_path / "data"),
        ATELIER_DATABASE__URL=pgvector_url,
    )
    with api(settings) as client:
        rt = build_runtime(settings, worker=True)
        try:
            me = login(client)
            [cat] = upload(
                client, me, ("cat.png", encode(photos["chelsea"])), title="a ginger kitten"
            )["items"]
            [cup] = upload(
                client, me, ("cup.jpg", encode(photos["coffee"], "JPEG")), title="espresso"
            )["items"]
            drain(rt)

            def stored() -> set[tuple[str, str]]:
                with rt.db.engine.connect() as conn:
                    rows = conn.execute(
                        text(
                            "SELECT image_id, model FROM library_vectors WHERE image_id IN (:a, :b)"
                        ),
                        {"a": cat["image_id"], "b": cup["image_id"]},
                    ).all()
                return {(str(i), str(m)) for i, m in rows}

            model = "minilm:all-MiniLM-L6-v2"
            assert stored() == {(cat["image_id"], model), (cup["image_id"], model)}
            hits = search(client, me, "a cat sleeping")
            assert client.app.state.library_index.pgvector
            assert ids(hits)[0] == cat["image_id"] and hits[0]["parts"]["vector"] > 0.2
            r = client.delete(f"/api/v1/library/images/{cat['image_id']}", headers=me)
            assert r.status_code == 204
            assert stored() == {(cup["image_id"], model)}
            assert ids(search(client, me, "a cat sleeping")) == [cup["image_id"]]
        finally:
            rt.close()
    # a row lost from pgvector is put back from the embeddings table when an index starts
    with rt.db.engine.begin() as conn:
        conn.execute(
            text("DELETE FROM library_vectors WHERE image_id = :i"), {"i": cup["image_id"]}
        )
    with api(settings) as client:
        assert ids(search(client, me, "espresso"))[0] == cup["image_id"]
        rt = build_runtime(settings, worker=True)
        try:
            assert stored() == {(cup["image_id"], model)}
        finally:
            rt.close()
