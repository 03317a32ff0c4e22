"""User administration: the admin API, disabled users, and the `atelier admin` commands."""

from __future__ import annotations

import subprocess
import sys

from accounts_support import PASSWORD, bearer, key_headers, make_key, new_email, register
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from support.api import api
from support.api import login as anonymous
from support.profiles import Profile


def error(r: object) -> str:
    return str(r.json()["error"])  # type: ignore[attr-defined]


def test_admin_api_needs_the_admin_role(profile: Profile) -> None:
    with api(profile.settings) as client:
        admin_tokens = register(client)
        admin = bearer(admin_tokens)
        user_tokens = register(client)
        user = bearer(user_tokens)
        user_id = user_tokens["user"]["id"]
        admin_read = key_headers(make_key(client, admin, ["read"]))
        admin_write = key_headers(make_key(client, admin, ["read", "write"]))
        user_write = key_headers(make_key(client, user, ["read", "write"]))

        client.cookies.clear()
        r = client.get("/api/v1/admin/users")
        assert r.status_code == 401 and error(r) == "authentication_required"
        r = client.get("/api/v1/admin/users", headers=anonymous(client))
        assert r.status_code == 401 and error(r) == "authentication_required"
        for headers in (user, user_write):
            r = client.get("/api/v1/admin/users", headers=headers)
            assert r.status_code == 403 and error(r) == "forbidden"
            r = client.patch(
                f"/api/v1/admin/users/{user_id}", json={"role": "admin"}, headers=headers
            )
            assert r.status_code == 403 and error(r) == "forbidden"

        for headers in (admin, admin_read):
            listed = client.get("/api/v1/admin/users", headers=headers)
            assert listed.status_code == 200
            body = listed.json()
            assert body["total"] == 2
            assert [u["id"] for u in body["items"]] == [admin_tokens["user"]["id"], user_id]
            assert all("password" not in str(u) for u in body["items"])
        page = client.get("/api/v1/admin/users?limit=1&offset=1", headers=admin).json()
        assert [u["id"] for u in page["items"]] == [user_id] and page["total"] == 2

        r = client.patch(
            f"/api/v1/admin/users/{user_id}", json={"role": "admin"}, headers=admin_read
        )
        assert r.status_code == 403 and error(r) == "insufficient_scope"
        r = client.patch(
            f"/api/v1/admin/users/{user_id}", json={"role": "admin"}, headers=admin_write
        )
        assert r.status_code == 200 and r.json()["role"] == "admin"
        # the promoted user's next request is an admin's (the role is read per request)
        assert client.get("/api/v1/admin/users", headers=user).status_code == 200

        for body in ({"role": "root"}, {"disabled": "maybe"}, {"email": "x@y.z"}, [1]):
            r = client.patch(f"/api/v1/admin/users/{user_id}", json=body, headers=admin)
            assert r.status_code == 422, body
        r = client.patch(
            "/api/v1/admin/users/00000000-0000-4000-8000-000000000000",
            json={"role": "user"},
            headers=admin,
        )
        assert r.status_code == 404 and error(r) == "not_found"


def test_the_last_admin_stays(profile: Profile) -> None:
    with api(profile.settings) as client:
        admin_tokens = register(client)
        admin = bearer(admin_tokens)
        admin_id = admin_tokens["user"]["id"]
        other = register(client)["user"]["id"]
        for body in ({"role": "user"}, {"disabled": True}):
            r = client.patch(f"/api/v1/admin/users/{admin_id}", json=body, headers=admin)
            assert r.status_code == 409 and error(r) == "last_admin"
        assert client.get("/api/v1/auth/me", headers=admin).json()["role"] == "admin"
        client.patch(f"/api/v1/admin/users/{other}", json={"role": "admin"}, headers=admin)
        r = client.patch(f"/api/v1/admin/users/{admin_id}", json={"role": "user"}, headers=admin)
        assert r.status_code == 200 and r.json()["role"] == "user"


def test_a_disabled_user_is_locked_out_at_once(profile: Profile) -> None:
    with api(profile.settings) as client:
        admin = bearer(register(client))
        email = new_email()
        tokens = register(client, email)
        user = bearer(tokens)
        key = key_headers(make_key(client, user, ["read", "write"]))
        access = tokens["access_token"]
        with client.websocket_connect(f"/api/v1/ws?token={access}") as ws:
            ws.send_json({"action": "subscribe", "all": True})
            assert ws.receive_json()["type"] == "subscribed"

        r = client.patch(
            f"/api/v1/admin/users/{tokens['user']['id']}", json={"disabled": True}, headers=admin
        )
        assert r.status_code == 200 and r.json()["disabled"] is True

        for headers in (user, key):
            for path in ("/api/v1/auth/me", "/api/v1/tasks"):
                r = client.get(path, headers=headers)
                assert r.status_code == 403 and error(r) == "account_disabled", (path, headers)
        r = client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
        assert r.status_code == 403 and error(r) == "account_disabled"
        r = client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
        assert r.status_code == 403 and error(r) == "account_disabled"
        # a wrong password learns nothing about the account
        r = client.post("/api/v1/auth/login", json={"email": email, "password": "x" * 12})
        assert r.status_code == 401 and error(r) == "invalid_credentials"
        try:
            with client.websocket_connect(f"/api/v1/ws?token={access}") as ws:
                ws.receive_json()
            raise AssertionError("a disabled user's token opened the WebSocket")
        except WebSocketDisconnect as exc:
            assert exc.code == 4401

        client.patch(
            f"/api/v1/admin/users/{tokens['user']['id']}", json={"disabled": False}, headers=admin
        )
        # signing in works again; the sign-ins that were ended stay ended
        r = client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
        assert r.status_code == 200
        r = client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
        assert r.status_code == 401


def atelier(profile: Profile, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "atelier", "admin", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        env=profile.process_env(COLUMNS="200"),
    )


def test_admin_commands_create_and_list_users(profile: Profile) -> None:
    made = atelier(
        profile, "create-user", "Root@Example.com", "--admin", "--password-stdin", stdin=PASSWORD
    )
    assert made.returncode == 0, made.stderr
    assert "created admin root@example.com" in made.stdout
    plain = atelier(profile, "create-user", "plain@example.com", "--password-stdin", stdin=PASSWORD)
    assert plain.returncode == 0 and "created user plain@example.com" in plain.stdout
    twice = atelier(profile, "create-user", "ROOT@example.com", "--password-stdin", stdin=PASSWORD)
    assert twice.returncode == 1 and "exists" in twice.stderr
    short = atelier(profile, "create-user", "s@example.com", "--password-stdin", stdin="short")
    assert short.returncode == 1 and "password" in short.stderr

    listing = atelier(profile, "users")
    assert listing.returncode == 0, listing.stderr
    assert "root@example.com" in listing.stdout and "plain@example.com" in listing.stdout
    assert "users (2)" in listing.stdout

    # the accounts work through the API, with registration closed
    settings = profile.settings.model_copy(
        update={"auth": profile.settings.auth.model_copy(update={"registration_open": False})}
    )
    with api(settings) as client:
        r = client.post(
            "/api/v1/auth/login", json={"email": "root@example.com", "password": PASSWORD}
        )
        assert r.status_code == 200 and r.json()["user"]["role"] == "admin"
        assert_admin(client, bearer(r.json()))


def assert_admin(client: TestClient, headers: dict[str, str]) -> None:
    assert client.get("/api/v1/admin/users", headers=headers).json()["total"] == 2


def test_reembedding_the_library_needs_an_admin_in_production(profile: Profile) -> None:
    # it rewrites every owner's vectors: an operator's action where accounts matter
    url = "/api/v1/library/reembed"
    production = profile.settings.model_copy(update={"mode": "production"})
    with api(production) as client:
        admin = bearer(register(client))
        user = bearer(register(client))
        r = client.post(url, headers=anonymous(client))
        assert r.status_code == 401 and error(r) == "authentication_required"
        r = client.post(url, headers=user)
        assert r.status_code == 403 and error(r) == "forbidden"
        r = client.post(url, headers=admin)  # let through: nothing is stale yet
        assert r.status_code == 409 and error(r) == "reembed_not_needed"
    with api(profile.settings) as client:  # local mode: the one person using the server
        r = client.post(url, headers=anonymous(client))
        assert r.status_code == 409 and error(r) == "reembed_not_needed"


def test_first_registrations_at_once_make_one_admin(profile: Profile) -> None:
    import threading

    from atelier.accounts.service import AccountService
    from atelier.db.engine import Database
    from atelier.db.migrate import upgrade

    upgrade(profile.settings)
    db = Database(profile.settings)
    try:
        service = AccountService(db, profile.settings)
        service.passwords.hash(PASSWORD)  # warm: the hashes below then take alike
        start = threading.Barrier(6)
        roles: list[str] = []

        def register_one(i: int) -> None:
            start.wait()
            roles.append(service.create_user(f"first-{i}@example.com", PASSWORD).role)

        threads = [threading.Thread(target=register_one, args=(i,)) for i in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert sorted(roles) == ["admin", "user", "user", "user", "user", "user"]
    finally:
        db.dispose()
