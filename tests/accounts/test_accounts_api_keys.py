"""API keys: shown once, stored hashed, scoped, revocable, never taken from the URL."""

from __future__ import annotations

from datetime import timedelta

import openai
from accounts_support import bearer, key_headers, make_key, register
from sqlalchemy import select, update

from atelier.accounts.models import ApiKey
from atelier.accounts.tokens import digest
from atelier.db.base import utcnow
from atelier.db.engine import Database
from support.api import GEN, api
from support.profiles import Profile

TASK = {"kind": "generate", "params": GEN}


def stored_key(db: Database, key_id: str) -> ApiKey:
    with db.read() as s:
        row = s.get(ApiKey, key_id)
        assert row is not None
        return row


def test_keys_are_shown_once_and_stored_hashed(profile: Profile) -> None:
    with api(profile.settings) as client:
        user = bearer(register(client))
        made = make_key(client, user, ["read", "write"])
        assert made["key"].startswith("atl_") and len(made["key"]) >= 40
        assert made["prefix"] == made["key"][:12] and made["scopes"] == ["read", "write"]
        assert made["expires_at"] is None
        listed = client.get("/api/v1/auth/api-keys", headers=user).json()["items"]
        assert [k["id"] for k in listed] == [made["id"]]
        assert "key" not in listed[0] and made["key"] not in str(listed)
        db = Database(profile.settings)
        try:
            row = stored_key(db, made["id"])
            assert row.key_hash == digest(made["key"]) and made["key"] not in row.key_hash
            with db.read() as s:
                everything = " ".join(str(v) for v in s.execute(select(ApiKey)).scalars())
            assert made["key"] not in everything
        finally:
            db.dispose()
        # the key acts as its user
        me = client.get("/api/v1/auth/me", headers=key_headers(made)).json()
        assert me["auth"] == "api_key" and me["scopes"] == ["read", "write"]
        expiring = client.post(
            "/api/v1/auth/api-keys",
            json={"name": "ci", "scopes": ["read"], "expires_in_days": 30},
            headers=user,
        ).json()
        assert expiring["expires_at"] is not None


def test_a_read_key_reads_but_cannot_write(profile: Profile) -> None:
    with api(profile.settings) as client:
        user = bearer(register(client))
        task = client.post("/api/v1/tasks", json=TASK, headers=user).json()["task_id"]
        read = key_headers(make_key(client, user, ["read"]))
        write = key_headers(make_key(client, user, ["read", "write"]))

        assert client.get(f"/api/v1/tasks/{task}", headers=read).status_code == 200
        assert [t["task_id"] for t in client.get("/api/v1/tasks", headers=read).json()["items"]]
        for method, path, body in [
            ("POST", "/api/v1/tasks", TASK),
            ("POST", "/api/v1/generate", {"prompt": "a cat"}),
            ("POST", f"/api/v1/tasks/{task}/cancel", None),
            ("DELETE", f"/api/v1/tasks/{task}", None),
        ]:
            r = client.request(method, path, json=body, headers=read)
            assert r.status_code == 403, (method, path, r.text)
            assert r.json()["error"] == "insufficient_scope"
        # nothing was done
        assert client.get(f"/api/v1/tasks/{task}", headers=user).json()["status"] == "pending"
        listed = client.get("/api/v1/tasks", headers=user).json()["items"]
        assert len(listed) == 1

        made = client.post("/api/v1/tasks", json=TASK, headers=write)
        assert made.status_code == 201
        # the task is the user's
        got = client.get(f"/api/v1/tasks/{made.json()['task_id']}", headers=user)
        assert got.status_code == 200
        assert client.post(f"/api/v1/tasks/{task}/cancel", headers=write).status_code == 200


def test_keys_are_refused_in_the_url(profile: Profile) -> None:
    with api(profile.settings) as client:
        user = bearer(register(client))
        key = make_key(client, user, ["read"])["key"]
        for url in (
            f"/api/v1/tasks?api_key={key}",
            f"/api/v1/tasks?apikey={key}",
            "/api/v1/tasks?api_key=anything",
            f"/api/v1/health?x={key}",
            "/api/v1/tasks?access_token=abc",
        ):
            r = client.get(url)
            assert r.status_code == 400, url
            assert r.json()["error"] == "credentials_in_url"
        # not even beside valid credentials
        r = client.get(f"/api/v1/tasks?api_key={key}", headers=user)
        assert r.status_code == 400


def test_revoked_and_expired_keys_are_refused(profile: Profile) -> None:
    with api(profile.settings) as client:
        user = bearer(register(client))
        made = make_key(client, user, ["read", "write"])
        headers = key_headers(made)
        assert client.get("/api/v1/tasks", headers=headers).status_code == 200
        assert client.delete(f"/api/v1/auth/api-keys/{made['id']}", headers=user).status_code == 204
        for path in ("/api/v1/tasks", "/api/v1/auth/me", "/api/v1/health"):
            r = client.get(path, headers=headers)
            assert r.status_code == 401 and r.json()["error"] == "invalid_api_key", path
        assert client.get("/api/v1/auth/api-keys", headers=user).json()["items"] == []
        again = client.delete(f"/api/v1/auth/api-keys/{made['id']}", headers=user)
        assert again.status_code == 404

        expiring = make_key(client, user, ["read"])
        db = Database(profile.settings)
        try:
            with db.session() as s:
                s.execute(
                    update(ApiKey)
                    .where(ApiKey.id == expiring["id"])
                    .values(expires_at=utcnow() - timedelta(seconds=1))
                )
        finally:
            db.dispose()
        r = client.get("/api/v1/tasks", headers=key_headers(expiring))
        assert r.status_code == 401 and r.json()["error"] == "invalid_api_key"

        for bogus in ("atl_nope", "not-even-a-key", ""):
            r = client.get("/api/v1/tasks", headers={"X-API-Key": bogus})
            assert r.status_code == 401 and r.json()["error"] == "invalid_api_key"


def test_only_the_owner_revokes_a_key(profile: Profile) -> None:
    with api(profile.settings) as client:
        alice = bearer(register(client))
        bob = bearer(register(client))
        made = make_key(client, alice, ["read"])
        r = client.delete(f"/api/v1/auth/api-keys/{made['id']}", headers=bob)
        assert r.status_code == 404
        assert client.get("/api/v1/tasks", headers=key_headers(made)).status_code == 200
        assert client.get("/api/v1/auth/api-keys", headers=bob).json()["items"] == []


def test_last_used_is_written_at_most_once_a_minute(profile: Profile) -> None:
    with api(profile.settings) as client:
        user = bearer(register(client))
        made = make_key(client, user, ["read"])
        db = Database(profile.settings)
        try:
            assert stored_key(db, made["id"]).last_used_at is None
            client.get("/api/v1/tasks", headers=key_headers(made))
            first = stored_key(db, made["id"]).last_used_at
            assert first is not None
            client.get("/api/v1/tasks", headers=key_headers(made))
            assert stored_key(db, made["id"]).last_used_at == first
            # a minute later it is written again
            with db.session() as s:
                s.execute(
                    update(ApiKey)
                    .where(ApiKey.id == made["id"])
                    .values(last_used_at=first - timedelta(seconds=61))
                )
            client.get("/api/v1/tasks", headers=key_headers(made))
            latest = stored_key(db, made["id"]).last_used_at
            assert latest is not None and latest > first - timedelta(seconds=61)
        finally:
            db.dispose()
        listed = client.get("/api/v1/auth/api-keys", headers=user).json()["items"]
        assert listed[0]["last_used_at"] is not None


def test_keys_cannot_manage_keys_and_are_limited_in_number(profile: Profile) -> None:
    settings = profile.settings.model_copy(
        update={"auth": profile.settings.auth.model_copy(update={"api_keys_per_user": 2})}
    )
    with api(settings) as client:
        user = bearer(register(client))
        write = key_headers(make_key(client, user, ["read", "write"]))
        r = client.post(
            "/api/v1/auth/api-keys", json={"name": "x", "scopes": ["read"]}, headers=write
        )
        assert r.status_code == 403 and r.json()["error"] == "forbidden"
        assert client.get("/api/v1/auth/api-keys", headers=write).status_code == 403
        make_key(client, user, ["read"])
        r = client.post(
            "/api/v1/auth/api-keys", json={"name": "x", "scopes": ["read"]}, headers=user
        )
        assert r.status_code == 409 and r.json()["error"] == "too_many_api_keys"


def test_the_openai_sdk_can_use_a_key_as_its_api_key(profile: Profile) -> None:
    """OpenAI SDKs can only send `Authorization: Bearer`: a key is accepted there too."""
    with api(profile.settings) as client:
        user = bearer(register(client))
        read, write = make_key(client, user, ["read"]), make_key(client, user, ["read", "write"])
        sdk = openai.OpenAI(
            base_url="http://testserver/v1", api_key=read["key"], http_client=client, max_retries=0
        )
        assert sdk.models.list().data
        try:
            sdk.images.generate(prompt="a cat", size="256x256")
            raise AssertionError("a read-only key generated an image")
        except openai.PermissionDeniedError as exc:
            assert exc.status_code == 403
            assert "insufficient_scope" in str(exc.body)
        me = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {write['key']}"})
        assert me.json()["auth"] == "api_key" and me.json()["scopes"] == ["read", "write"]
