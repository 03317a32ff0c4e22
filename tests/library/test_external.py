"""/api/v1/external: API keys only (in a header, never the URL), scoped, revocable, and each
key sees its own user's library only."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from library_helpers import drain, encode, files, settings_with
from PIL import Image

from atelier.config import Settings
from atelier.runtime import Runtime, build_runtime
from support.api import api, login
from support.profiles import Profile

EXT = "/api/v1/external"


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


def register(client: TestClient, email: str) -> dict[str, str]:
    body = {"email": email, "password": "correct horse battery"}
    r = client.post("/api/v1/auth/register", json=body)
    assert r.status_code == 201, r.text
    client.cookies.clear()
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def key(client: TestClient, user: dict[str, str], scopes: list[str]) -> dict[str, Any]:
    r = client.post("/api/v1/auth/api-keys", json={"name": "ext", "scopes": scopes}, headers=user)
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()
    return body


def error(response: Any, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.json()["error"] == code, response.text


def test_a_key_adds_gets_searches_and_picks_at_random(
    client: TestClient, worker: Runtime, photos: dict[str, Image.Image]
) -> None:
    alice = register(client, "alice@example.com")
    writer = key(client, alice, ["read", "write"])
    headers = {"X-API-Key": writer["key"]}
    added = client.post(
        f"{EXT}/images",
        headers=headers,
        files=files(("cat.png", encode(photos["chelsea"]))),
        data={"tags": "tabby,whiskers"},
    )
    assert added.status_code == 201, added.text
    [item] = added.json()["items"]
    assert item["status"] == "created"
    drain(worker)

    got = client.get(f"{EXT}/images/{item['image_id']}", headers=headers)
    assert got.status_code == 200, got.text
    assert {"tabby", "whiskers"} <= {t["tag"] for t in got.json()["tags"]}
    image = client.get(got.json()["url"], headers=headers)  # the bytes, with the same key
    assert image.status_code == 200 and image.headers["content-type"].startswith("image/")

    hits = client.get(f"{EXT}/search", params={"q": "tabby"}, headers=headers)
    assert hits.status_code == 200, hits.text
    assert [h["image"]["image_id"] for h in hits.json()["items"]][:1] == [item["image_id"]]
    pick = client.get(f"{EXT}/random", params={"tags": "whiskers"}, headers=headers)
    assert [i["image_id"] for i in pick.json()["items"]] == [item["image_id"]]

    # the same image is visible in the owner's own library (one library, two doors)
    mine = client.get("/api/v1/library/images", headers=alice).json()["items"]
    assert [i["image_id"] for i in mine] == [item["image_id"]]

    # another user's key sees none of it
    bob = register(client, "bob@example.com")
    theirs = {"X-API-Key": key(client, bob, ["read"])["key"]}
    error(client.get(f"{EXT}/images/{item['image_id']}", headers=theirs), 404, "not_found")
    assert client.get(f"{EXT}/search", params={"q": "tabby"}, headers=theirs).json()["items"] == []


def test_only_a_key_in_a_header_with_the_right_scope_gets_in(
    client: TestClient, photos: dict[str, Image.Image]
) -> None:
    user = register(client, "carol@example.com")
    reader = key(client, user, ["read"])
    writer = key(client, user, ["read", "write"])
    upload = {"files": files(("cat.png", encode(photos["chelsea"])))}

    # no key: a session, an access token or nothing at all is not enough
    error(client.get(f"{EXT}/search", params={"q": "x"}), 401, "authentication_required")
    error(
        client.get(f"{EXT}/search", params={"q": "x"}, headers=login(client)),
        401,
        "authentication_required",
    )
    error(client.get(f"{EXT}/search", params={"q": "x"}, headers=user), 401, "api_key_required")
    # never in the URL
    error(
        client.get(f"{EXT}/search", params={"q": "x", "api_key": reader["key"]}),
        400,
        "credentials_in_url",
    )
    # a read key reads but cannot add
    ok = client.get(f"{EXT}/search", params={"q": "x"}, headers={"X-API-Key": reader["key"]})
    assert ok.status_code == 200, ok.text
    error(
        client.post(f"{EXT}/images", headers={"X-API-Key": reader["key"]}, **upload),
        403,
        "insufficient_scope",
    )
    # a revoked key is refused at once
    revoked = client.delete(f"/api/v1/auth/api-keys/{writer['id']}", headers=user)
    assert revoked.status_code == 204, revoked.text
    error(
        client.post(f"{EXT}/images", headers={"X-API-Key": writer["key"]}, **upload),
        401,
        "invalid_api_key",
    )
    # bad input is a clear 4xx
    headers = {"X-API-Key": reader["key"]}
    error(client.get(f"{EXT}/search", headers=headers), 422, "validation_error")
    error(client.get(f"{EXT}/random", params={"n": 0}, headers=headers), 422, "validation_error")
