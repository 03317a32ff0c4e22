"""The library API's edges on SQLite and PostgreSQL: every endpoint is owner-scoped (another
owner's ids are 404), malformed input is a clear 4xx, imports by URL are fetched safely,
collections are shared read-only with signed URLs, and search by example needs (and uses) a
CLIP model."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from library_helpers import drain, encode, image_server, settings_with, upload
from library_models import write_tiny_clip
from PIL import Image

from atelier.config import Settings
from atelier.runtime import Runtime, build_runtime
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


def error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert body["error"] == code, body
    return body


def test_another_owners_ids_are_not_found_on_every_endpoint(
    client: TestClient, worker: Runtime, photos: dict[str, Image.Image]
) -> None:
    alice, bob = login(client), login(client)
    [image] = upload(client, alice, ("cat.png", encode(photos["chelsea"])))["items"]
    drain(worker)
    image_id = image["image_id"]
    collection = client.post(
        "/api/v1/library/collections", json={"name": "alice's"}, headers=alice
    ).json()["id"]
    mine = client.post("/api/v1/library/collections", json={"name": "bob's"}, headers=bob).json()
    lib = "/api/v1/library"
    calls: list[tuple[str, str, dict[str, Any]]] = [
        ("GET", f"{lib}/images/{image_id}", {}),
        ("PATCH", f"{lib}/images/{image_id}", {"json": {"title": "mine now"}}),
        ("DELETE", f"{lib}/images/{image_id}", {}),
        ("GET", f"{lib}/images/{image_id}/similar", {}),
        ("POST", f"{lib}/search/image", {"data": {"image_id": image_id}}),
        ("GET", f"{lib}/images", {"params": {"collection": collection}}),
        ("GET", f"{lib}/search", {"params": {"q": "cat", "collection": collection}}),
        ("GET", f"{lib}/random", {"params": {"collection": collection}}),
        ("GET", f"{lib}/collections/{collection}", {}),
        ("PATCH", f"{lib}/collections/{collection}", {"json": {"name": "bob's now"}}),
        ("POST", f"{lib}/collections/{collection}/items", {"json": {"image_ids": [image_id]}}),
        ("DELETE", f"{lib}/collections/{collection}/items", {"json": {"image_ids": [image_id]}}),
        ("POST", f"{lib}/collections/{collection}/share", {}),
        ("DELETE", f"{lib}/collections/{collection}/share", {}),
        ("DELETE", f"{lib}/collections/{collection}", {}),
        # bob's own collection, alice's image
        ("POST", f"{lib}/collections/{mine['id']}/items", {"json": {"image_ids": [image_id]}}),
        ("GET", f"/api/v1/tasks/{image['task_id']}", {}),
        ("GET", f"/api/v1/images/{image_id}", {}),
    ]
    for method, path, kwargs in calls:
        r = client.request(method, path, headers=bob, **kwargs)
        assert r.status_code == 404, (method, path, r.status_code, r.text)
        assert r.json()["error"] == "not_found"
    # bob sees nothing of alice's in his listings and searches
    assert client.get(f"{lib}/images", headers=bob).json()["items"] == []
    assert client.get(f"{lib}/search", params={"q": "cat"}, headers=bob).json()["items"] == []
    assert client.get(f"{lib}/random", headers=bob).json()["items"] == []
    assert [c["id"] for c in client.get(f"{lib}/collections", headers=bob).json()["items"]] == [
        mine["id"]
    ]
    # and nothing of alice's changed
    kept = client.get(f"{lib}/images/{image_id}", headers=alice).json()
    assert kept["title"] is None and kept["collections"] == []
    assert client.get(f"{lib}/collections/{collection}", headers=alice).json()["name"] == "alice's"


def test_malformed_input_is_a_clear_4xx(
    profile: Profile, monkeypatch: pytest.MonkeyPatch, photos: dict[str, Image.Image]
) -> None:
    settings = settings_with(
        monkeypatch,
        ATELIER_IMAGES__MAX_UPLOAD_BYTES="300000",
        ATELIER_IMAGES__MAX_PIXELS="1000000",
        ATELIER_LIBRARY__MAX_BATCH="3",
    )
    with api(settings) as client:
        me = login(client)
        lib = "/api/v1/library"
        png = encode(photos["coffee"].resize((60, 40)))

        def post(*items: tuple[str, bytes], **form: Any) -> Any:
            files = [("files", (n, d, "application/octet-stream")) for n, d in items]
            return client.post(f"{lib}/images", headers=me, files=files or None, data=form)

        error(client.post(f"{lib}/images", headers=me, data={}), 422, "validation_error")
        body = error(
            post(("a.png", png), ("notes.txt", b"just some text")), 415, "unsupported_media_type"
        )
        assert body["details"]["index"] == 1 and body["details"]["filename"] == "notes.txt"
        error(post(("broken.png", png[: len(png) // 2])), 422, "validation_error")
        error(post(("big.bin", b"\x89PNG" + bytes(300_001))), 413, "payload_too_large")
        bomb = encode(Image.new("L", (1200, 1000)))  # 1.2 megapixels, a small file
        error(post(("bomb.png", bomb)), 413, "payload_too_large")
        error(post(*[(f"{i}.png", png) for i in range(4)]), 422, "validation_error")
        error(post(urls="[not json"), 422, "validation_error")
        error(post(urls="[1, 2]"), 422, "validation_error")
        error(post(urls='{"a": 1}'), 422, "url_not_allowed")
        error(post(urls="ftp://example.com/a.png"), 422, "url_not_allowed")
        error(post(urls="http://user:secret@example.com/a.png"), 422, "url_not_allowed")
        error(post(("a.png", png), tags="x" * 101), 422, "validation_error")
        # nothing of the refused imports was stored
        assert client.get(f"{lib}/images", headers=me).json()["items"] == []

        [item] = upload(client, me, ("a.png", png))["items"]
        image_id = item["image_id"]
        error(
            client.get(f"{lib}/images", params={"cursor": "%%%"}, headers=me),
            400,
            "validation_error",
        )
        error(
            client.get(f"{lib}/images", params={"source": "camera"}, headers=me),
            422,
            "validation_error",
        )
        error(
            client.get(f"{lib}/images", params={"source": "url", "kind": "upload"}, headers=me),
            422,
            "validation_error",
        )
        error(client.get(f"{lib}/images", params={"limit": 0}, headers=me), 422, "validation_error")
        error(
            client.get(f"{lib}/images", params={"created_from": "yesterday"}, headers=me),
            422,
            "validation_error",
        )
        error(
            client.get(f"{lib}/images", params={"min_width": -1}, headers=me),
            422,
            "validation_error",
        )
        error(client.get(f"{lib}/search", headers=me), 422, "validation_error")  # no q
        error(
            client.get(f"{lib}/search", params={"q": "a", "k": 1000}, headers=me),
            422,
            "validation_error",
        )
        error(client.get(f"{lib}/random", params={"n": 0}, headers=me), 422, "validation_error")
        error(client.get(f"{lib}/images/nope", headers=me), 404, "not_found")
        error(
            client.patch(
                f"{lib}/images/{image_id}",
                content=b"title=x",
                headers={**me, "Content-Type": "text/plain"},
            ),
            415,
            "unsupported_media_type",
        )
        error(
            client.patch(f"{lib}/images/{image_id}", json={"tags": "a"}, headers=me),
            422,
            "validation_error",
        )
        error(
            client.patch(f"{lib}/images/{image_id}", json={"colour": "red"}, headers=me),
            422,
            "validation_error",
        )
        error(
            client.patch(f"{lib}/images/{image_id}", json={"title": "x" * 201}, headers=me),
            422,
            "validation_error",
        )
        # search by example: a CLIP model is needed; and one example, not two or none
        error(
            client.post(f"{lib}/search/image", data={"image_id": image_id}, headers=me),
            409,
            "image_embedder_unavailable",
        )
        files = {"file": ("a.png", png, "image/png")}
        error(
            client.post(f"{lib}/search/image", files=files, headers=me),
            409,
            "image_embedder_unavailable",
        )
        error(client.post(f"{lib}/search/image", headers=me), 422, "validation_error")
        error(
            client.post(
                f"{lib}/search/image", files=files, data={"image_id": image_id}, headers=me
            ),
            422,
            "validation_error",
        )
        # collections
        error(
            client.post(f"{lib}/collections", json={"name": ""}, headers=me),
            422,
            "validation_error",
        )
        error(client.post(f"{lib}/collections", json={}, headers=me), 422, "validation_error")
        cid = client.post(f"{lib}/collections", json={"name": "c"}, headers=me).json()["id"]
        error(
            client.post(f"{lib}/collections/{cid}/items", json={"image_ids": []}, headers=me),
            422,
            "validation_error",
        )
        error(
            client.post(f"{lib}/collections/{cid}/items", json={"image_ids": ["nope"]}, headers=me),
            404,
            "not_found",
        )
        error(
            client.patch(f"{lib}/collections/{cid}", json={"name": ""}, headers=me),
            422,
            "validation_error",
        )
        error(client.get("/api/v1/shared/short"), 404, "not_found")
        error(client.get("/api/v1/shared/" + "x" * 40), 404, "not_found")
        # a tag task of an image that is not yours
        r = client.post(
            "/api/v1/tasks", json={"kind": "tag", "params": {"image_id": "nope"}}, headers=me
        )
        error(r, 422, "validation_error")
        r = client.post("/api/v1/tasks", json={"kind": "library_batch", "params": {}}, headers=me)
        error(r, 422, "validation_error")  # internal kinds cannot be submitted
        error(client.post(f"{lib}/reembed", headers=me), 409, "reembed_not_needed")


def test_imports_by_url_are_fetched_safely(
    profile: Profile, monkeypatch: pytest.MonkeyPatch, photos: dict[str, Image.Image]
) -> None:
    cat = encode(photos["chelsea"], "JPEG")
    cup = encode(photos["coffee"].resize((300, 200)), "PNG")
    routes = {
        "/photos/cat.jpg": (200, {"Content-Type": "image/jpeg"}, cat),
        "/go": (302, {"Location": "/files/cup.png"}, b""),
        "/files/cup.png": (200, {"Content-Type": "image/png; charset=binary"}, cup),
        "/big": (200, {"Content-Type": "image/png"}, b"\x89PNG" + bytes(400_000)),
        "/big-unsized": (
            200,
            {"Content-Type": "image/png", "Content-Length": "none"},
            b"\x89PNG" + bytes(400_000),
        ),
        "/page.html": (200, {"Content-Type": "text/html"}, b"<html>not an image</html>"),
        "/loop": (302, {"Location": "/loop"}, b""),
        "/gone": (404, {"Content-Type": "text/plain"}, b"gone"),
        "/lies.png": (200, {"Content-Type": "image/png"}, b"this is no png"),
        "/slow.png": (200, {"Content-Type": "image/png", "X-Delay": "30"}, cup),
    }
    with image_server(routes) as server:
        allowed = settings_with(
            monkeypatch,
            ATELIER_LIBRARY__ALLOW_PRIVATE_URLS="true",
            ATELIER_IMAGES__MAX_UPLOAD_BYTES="350000",
            ATELIER_LIBRARY__URL_TIMEOUT="2",
        )
        with api(allowed) as client:
            me = login(client)
            urls = [f"{server.url}/photos/cat.jpg", f"{server.url}/go"]
            body = upload(client, me, urls=str(urls).replace("'", '"'), tags="web")
            first, second = body["items"]
            assert [i["status"] for i in body["items"]] == ["created", "created"]
            assert (first["url"], first["filename"]) == (urls[0], "cat.jpg")
            assert (second["url"], second["filename"]) == (urls[1], "cup.png")
            assert body["batch_task_id"] is not None
            image = client.get(f"/api/v1/library/images/{first['image_id']}", headers=me).json()
            assert image["source"] == "url" and image["source_url"] == urls[0]
            assert image["original_filename"] == "cat.jpg" and image["width"] == 451
            assert client.get(
                "/api/v1/library/images", params={"source": "url"}, headers=me
            ).json()["items"]
            # a file and a URL together; the URL one line per URL; a duplicate by URL
            both = upload(
                client,
                me,
                ("rocket.jpg", encode(photos["rocket"], "JPEG")),
                urls=f"{server.url}/photos/cat.jpg\n",
            )
            assert [i["status"] for i in both["items"]] == ["created", "duplicate"]
            assert both["items"][1]["image_id"] == first["image_id"]

            def refused(path: str, status: int, code: str) -> None:
                r = client.post(
                    "/api/v1/library/images", data={"urls": server.url + path}, headers=me
                )
                body = error(r, status, code)
                assert body["details"]["url"] == server.url + path

            refused("/big", 413, "payload_too_large")
            refused("/big-unsized", 413, "payload_too_large")
            refused("/page.html", 415, "unsupported_media_type")
            refused("/loop", 422, "url_fetch_failed")
            refused("/gone", 422, "url_fetch_failed")
            refused("/lies.png", 415, "unsupported_media_type")  # sniffed, not believed
            refused("/slow.png", 422, "url_fetch_failed")  # past LIBRARY__URL_TIMEOUT
            assert server.hits.count("/loop") == 6  # the first request and five redirects
            r = client.post(
                "/api/v1/library/images",
                data={"urls": "http://127.0.0.1:9/nothing-listens.png"},
                headers=me,
            )
            error(r, 422, "url_fetch_failed")

        hits = len(server.hits)
        strict = settings_with(monkeypatch, ATELIER_LIBRARY__ALLOW_PRIVATE_URLS="false")
        with api(strict) as client:
            me = login(client)
            for url in (
                f"{server.url}/photos/cat.jpg",
                f"http://localhost:{server.url.rsplit(':', 1)[1]}/photos/cat.jpg",
                "http://[::1]/a.png",
                "http://169.254.169.254/latest/meta-data",
                "http://10.0.0.1/a.png",
                "https://192.168.1.1/a.png",
            ):
                r = client.post("/api/v1/library/images", data={"urls": url}, headers=me)
                error(r, 422, "url_not_allowed")
            assert len(server.hits) == hits  # refused before any request was sent
            assert client.get("/api/v1/library/images", headers=me).json()["items"] == []


def test_collections_are_shared_read_only_with_signed_urls(
    client: TestClient, worker: Runtime, photos: dict[str, Image.Image]
) -> None:
    me = login(client)
    made = [
        upload(client, me, (f"{name}.png", encode(photos[name])), tags=name)["items"][0]
        for name in ("chelsea", "coffee", "rocket")
    ]
    drain(worker)
    lib = "/api/v1/library/collections"
    r = client.post(lib, json={"name": "Cats & coffee", "description": "mornings"}, headers=me)
    assert r.status_code == 201
    created = r.json()
    assert created["image_count"] == 0 and created["share_token"] is None
    cid = created["id"]
    r = client.post(
        f"{lib}/{cid}/items",
        json={"image_ids": [made[0]["image_id"], made[1]["image_id"], made[0]["image_id"]]},
        headers=me,
    )
    assert r.status_code == 200 and r.json()["image_count"] == 2
    again = client.post(f"{lib}/{cid}/items", json={"image_ids": [made[1]["image_id"]]}, headers=me)
    assert again.json()["image_count"] == 2  # adding twice keeps one
    detail = client.get(f"{lib}/{cid}", headers=me).json()
    assert {i["image_id"] for i in detail["items"]} == {made[0]["image_id"], made[1]["image_id"]}
    assert all(cid in i["collections"] for i in detail["items"])
    r = client.patch(f"{lib}/{cid}", json={"name": "Mornings"}, headers=me)
    assert r.json()["name"] == "Mornings" and r.json()["description"] == "mornings"
    listed = client.get(lib, headers=me).json()["items"]
    assert [(c["id"], c["image_count"]) for c in listed] == [(cid, 2)]

    share = client.post(f"{lib}/{cid}/share", headers=me).json()
    assert share["url"].endswith(f"/api/v1/shared/{share['token']}")
    assert share["page_url"].endswith(f"/library?shared={share['token']}")  # for a person
    assert client.post(f"{lib}/{cid}/share", headers=me).json()["token"] == share["token"]
    client.cookies.clear()
    public = client.get(f"/api/v1/shared/{share['token']}")  # no session
    assert public.status_code == 200, public.text
    shared = public.json()
    assert shared["name"] == "Mornings" and len(shared["items"]) == 2
    for item in shared["items"]:
        assert "sig=" in item["url"] and "sig=" in item["thumbnail_url"]
        client.cookies.clear()
        got = client.get(item["url"], headers={"Authorization": ""})
        assert got.status_code == 200 and got.headers["content-type"].startswith("image/")
        tampered = item["url"].replace("sig=", "sig=0")
        assert client.get(tampered, headers={"Authorization": ""}).status_code == 404
    assert {t for i in shared["items"] for t in i["tags"]} >= {"chelsea", "coffee"}
    # read-only: nothing under /shared changes anything
    assert client.delete(f"/api/v1/shared/{share['token']}").status_code == 405

    r = client.request(
        "DELETE", f"{lib}/{cid}/items", json={"image_ids": [made[0]["image_id"]]}, headers=me
    )
    assert r.json()["image_count"] == 1
    assert len(client.get(f"/api/v1/shared/{share['token']}").json()["items"]) == 1
    assert client.delete(f"{lib}/{cid}/share", headers=me).status_code == 204
    error(client.get(f"/api/v1/shared/{share['token']}"), 404, "not_found")
    assert client.delete(f"{lib}/{cid}", headers=me).status_code == 204
    error(client.get(f"{lib}/{cid}", headers=me), 404, "not_found")
    assert len(client.get("/api/v1/library/images", headers=me).json()["items"]) == 3


def test_search_by_example_with_a_clip_model(
    profile: Profile, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    clip = tmp_path / "tiny-clip"
    write_tiny_clip(clip, dim=3, projection=np.eye(3, dtype=np.float32))
    settings = settings_with(monkeypatch, ATELIER_LIBRARY__CLIP_MODEL=str(clip))
    colours = {
        "red": (220, 30, 30),
        "dark-red": (150, 20, 25),
        "green": (30, 200, 40),
        "blue": (30, 40, 210),
    }
    with api(settings) as client:
        rt = build_runtime(settings, worker=True)
        try:
            me = login(client)
            made = {}
            for name, rgb in colours.items():
                picture = Image.new("RGB", (64, 48), rgb)
                [item] = upload(client, me, (f"{name}.png", encode(picture)))["items"]
                made[name] = item["image_id"]
            drain(rt)
            probe = encode(Image.new("RGB", (80, 60), (240, 40, 35)))
            r = client.post(
                "/api/v1/library/search/image",
                files={"file": ("probe.png", probe, "image/png")},
                headers=me,
            )
            assert r.status_code == 200, r.text
            order = [h["image"]["image_id"] for h in r.json()["items"]]
            assert order[:2] == [made["red"], made["dark-red"]]
            assert r.json()["items"][0]["matched"] == ["vector"]
            # one of mine as the example: itself left out
            r = client.post(
                "/api/v1/library/search/image", data={"image_id": made["green"]}, headers=me
            )
            order = [h["image"]["image_id"] for h in r.json()["items"]]
            assert made["green"] not in order and len(order) == 3
            r = client.get(f"/api/v1/library/images/{made['red']}/similar", headers=me)
            assert r.json()["items"][0]["image"]["image_id"] == made["dark-red"]
            # with filters
            r = client.post(
                "/api/v1/library/search/image",
                files={"file": ("probe.png", probe, "image/png")},
                params={"min_width": 100},
                headers=me,
            )
            assert r.json()["items"] == []
            detail = client.get(f"/api/v1/library/images/{made['red']}", headers=me).json()
            assert detail["status"] == "done"
        finally:
            rt.close()
