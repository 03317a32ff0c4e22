"""/api/v1/admin/storage/endpoints: the admin token, bad input as clear 4xx, and the
list / add / change / drain / remove cycle."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from atelier.config import Settings
from atelier.storage.multi import MultiStorage
from atelier.storage.replication import replicate
from support.api import api, login
from support.multistorage import ADMIN_TOKEN, local_endpoint

MultiSettings = Callable[..., Settings]
BASE = "/api/v1/admin/storage/endpoints"
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def every_route(client: TestClient, headers: dict[str, str]) -> list[Any]:
    local = {"id": "x", "type": "local", "root": "/tmp/x"}
    return [
        client.get(BASE, headers=headers),
        client.post(BASE, json=local, headers=headers),
        client.patch(f"{BASE}/default", json={"read_priority": 1}, headers=headers),
        client.post(f"{BASE}/default/drain", headers=headers),
        client.delete(f"{BASE}/default", headers=headers),
    ]


def test_without_a_token_setting_only_an_admin_account_gets_in(
    multi_settings: MultiSettings,
) -> None:
    settings = multi_settings([], ATELIER_STORAGE__MULTI="true", ATELIER_ADMIN_TOKEN="")
    with api(settings) as client:
        for r in every_route(client, {}):
            assert r.status_code == 403, r.text
            assert r.json()["error"] == "admin_disabled"
        for r in every_route(client, ADMIN):  # a token nobody configured is just a stranger
            assert r.status_code == 403, r.text
            assert r.json()["error"] == "forbidden"

        def register(email: str) -> dict[str, str]:
            body = {"email": email, "password": "correct horse battery"}
            r = client.post("/api/v1/auth/register", json=body)
            assert r.status_code == 201, r.text
            client.cookies.clear()
            return {"Authorization": f"Bearer {r.json()['access_token']}"}

        admin = register("first@example.com")  # the first account is the admin
        user = register("second@example.com")
        assert client.get(BASE, headers=user).status_code == 403
        listing = client.get(BASE, headers=admin)
        assert listing.status_code == 200, listing.text
        assert [e["id"] for e in listing.json()["endpoints"]] == ["default"]


def test_a_missing_or_wrong_token_is_refused(multi_settings: MultiSettings) -> None:
    settings = multi_settings([], ATELIER_STORAGE__MULTI="true")
    with api(settings) as client:
        session = login(client)  # an ordinary user's bearer token is not an admin token
        for headers in (
            {},
            session,
            {"Authorization": "Bearer wrong-token"},
            {"Authorization": f"Bearer {ADMIN_TOKEN}x"},
            {"Authorization": f"Basic {ADMIN_TOKEN}"},
            {"Authorization": ADMIN_TOKEN},
        ):
            for r in every_route(client, headers):
                assert r.status_code == 401, (headers, r.text)
                assert r.json()["error"] == "unauthorized"
                assert r.headers["www-authenticate"] == "Bearer"
        ok = client.get(BASE, headers=ADMIN)
        assert ok.status_code == 200, ok.text
        assert [e["id"] for e in ok.json()["endpoints"]] == ["default"]


def test_bad_input_gets_clear_4xx(
    multi_settings: MultiSettings, tmp_path: Path, closed_port: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = multi_settings([], ATELIER_STORAGE__MULTI="true")
    local = {"id": "extra", "type": "local", "root": str(tmp_path / "extra")}
    s3 = {"bucket": "atelier-backup", "endpoint_url": f"http://127.0.0.1:{closed_port}"}
    s3_fast = {**s3, "connect_timeout": 0.5, "read_timeout": 0.5, "max_attempts": 1}
    cases: list[tuple[dict[str, Any], int, str]] = [
        ({**local, "id": "Bad Id"}, 422, "validation_error"),
        ({**local, "id": ""}, 422, "validation_error"),
        ({**local, "root": "relative/dir"}, 422, "validation_error"),
        ({**local, "root": None}, 422, "validation_error"),
        ({**local, "type": "ftp"}, 422, "validation_error"),
        ({**local, "read_weight": -1}, 422, "validation_error"),
        ({**local, "read_priority": "first"}, 422, "validation_error"),
        ({**local, "unknown": 1}, 422, "validation_error"),
        ({**local, "s3": s3}, 422, "validation_error"),
        ({"id": "b", "type": "s3"}, 422, "validation_error"),
        ({"id": "b", "type": "s3", "s3": {**s3, "bucket": "No_Such"}}, 422, "validation_error"),
        (
            {"id": "b", "type": "s3", "s3": {**s3, "endpoint_url": "ftp://x"}},
            422,
            "validation_error",
        ),
        ({"id": "b", "type": "s3", "s3": {**s3, "prefix": "a/../b"}}, 422, "validation_error"),
        (
            {"id": "b", "type": "s3", "s3": {**s3, "secret_access_key": "plain"}},
            422,
            "validation_error",
        ),
        (
            {"id": "b", "type": "s3", "s3": {**s3, "secret_access_key_ref": "vault:x"}},
            422,
            "validation_error",
        ),
        (
            {"id": "b", "type": "s3", "s3": {**s3, "secret_access_key_ref": "env:NOT_SET_HERE"}},
            422,
            "secret_unavailable",
        ),
        ({"id": "b", "type": "s3", "s3": s3_fast}, 422, "endpoint_unreachable"),
        ({**local, "id": "default"}, 409, "endpoint_exists"),
    ]
    monkeypatch.delenv("NOT_SET_HERE", raising=False)
    with api(settings) as client:
        for body, status, code in cases:
            r = client.post(BASE, json=body, headers=ADMIN)
            assert (r.status_code, r.json()["error"]) == (status, code), (body, r.text)
        plain = next(c for c in cases if "secret_access_key" in c[0].get("s3", {}))
        message = client.post(BASE, json=plain[0], headers=ADMIN).text
        assert "secret_access_key_ref" in message and "plain" not in message
        r = client.post(BASE, content=b"id=x", headers={**ADMIN, "Content-Type": "text/plain"})
        assert r.status_code == 415
        r = client.post(
            BASE, content=b"{not json", headers={**ADMIN, "Content-Type": "application/json"}
        )
        assert r.status_code == 422
        for method, path, body, status, code in [
            ("PATCH", f"{BASE}/default", {"state": "gone"}, 422, "validation_error"),
            ("PATCH", f"{BASE}/default", {"read_weight": "heavy"}, 422, "validation_error"),
            ("PATCH", f"{BASE}/default", {"type": "s3"}, 422, "validation_error"),
            ("PATCH", f"{BASE}/nope", {"read_priority": 1}, 404, "endpoint_not_found"),
            ("PATCH", f"{BASE}/default", {"state": "down"}, 409, "last_active_endpoint"),
            ("POST", f"{BASE}/nope/drain", None, 404, "endpoint_not_found"),
            ("POST", f"{BASE}/BAD!/drain", None, 422, "validation_error"),
            ("DELETE", f"{BASE}/nope", None, 404, "endpoint_not_found"),
            ("DELETE", f"{BASE}/default", None, 409, "endpoint_not_drained"),
        ]:
            r = client.request(method, path, json=body, headers=ADMIN)
            assert (r.status_code, r.json()["error"]) == (status, code), (method, path, r.text)
        r = client.get(BASE, params={"max_age": -1}, headers=ADMIN)
        assert r.status_code == 422


def test_mutations_need_multi_storage(profile: Any, multi_settings: MultiSettings) -> None:
    settings = multi_settings([], ATELIER_STORAGE__MULTI="false")
    with api(settings) as client:
        listing = client.get(BASE, headers=ADMIN).json()
        assert listing["multi"] is False and listing["pending_replicas"] is None
        (only,) = listing["endpoints"]
        assert (only["id"], only["role"], only["healthy"], only["objects"]) == (
            "default",
            "primary",
            True,
            None,
        )
        for r in every_route(client, ADMIN)[1:]:
            assert r.status_code == 409 and r.json()["error"] == "multi_storage_off", r.text


def test_add_drain_and_remove_over_the_api(multi_settings: MultiSettings, tmp_path: Path) -> None:
    settings = multi_settings([local_endpoint("b", tmp_path / "b", read_priority=10)])
    with api(settings) as client:
        user = login(client)
        image = client.post(
            "/api/v1/images", files={"file": ("a.png", png_bytes(), "image/png")}, headers=user
        ).json()
        before = client.get(image["url"], headers=user).content
        storage = client.app.state.runtime.storage  # type: ignore[attr-defined]
        assert isinstance(storage, MultiStorage)

        listing = client.get(BASE, headers=ADMIN).json()
        by_id = {e["id"]: e for e in listing["endpoints"]}
        assert by_id["default"]["objects"] == 2  # the image and its thumbnail
        assert by_id["b"]["pending"] == 2 and listing["pending_replicas"] == 2
        assert by_id["default"]["healthy"] is True and by_id["default"]["source"] == "settings"

        body = {"id": "c", "type": "local", "root": str(tmp_path / "c"), "read_priority": 20}
        r = client.post(BASE, json=body, headers=ADMIN)
        assert r.status_code == 201, r.text
        assert r.json()["source"] == "admin" and r.json()["state"] == "active"
        r = client.patch(f"{BASE}/c", json={"read_weight": 2.5, "name": "Cold"}, headers=ADMIN)
        assert r.status_code == 200 and r.json()["read_weight"] == 2.5
        replicate(storage)
        listing = client.get(BASE, headers=ADMIN).json()
        assert [(e["id"], e["objects"], e["pending"]) for e in listing["endpoints"]] == [
            ("default", 2, 0),
            ("b", 2, 0),
            ("c", 2, 0),
        ]
        r = client.post(f"{BASE}/default/drain", headers=ADMIN)
        assert r.status_code == 200 and r.json()["state"] == "draining"
        assert client.delete(f"{BASE}/default", headers=ADMIN).status_code == 204
        assert client.delete(f"{BASE}/default", headers=ADMIN).status_code == 404
        ids = [e["id"] for e in client.get(BASE, headers=ADMIN).json()["endpoints"]]
        assert ids == ["b", "c"]
        got = client.get(image["url"], headers=user)
        assert got.status_code == 200 and got.content == before  # read from b or c now


def png_bytes() -> bytes:
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (40, 30), (10, 120, 200)).save(buf, format="PNG")
    return buf.getvalue()
