"""Registration, login, token rotation and reuse detection, logout, expiry, throttling."""

from __future__ import annotations

import time
from typing import Any

import jwt
from accounts_support import PASSWORD, bearer, login, new_email, register
from sqlalchemy import select

from atelier.accounts.models import User
from atelier.accounts.throttle import LoginThrottle
from atelier.accounts.tokens import AccessTokens
from atelier.config import Settings
from atelier.db.engine import Database
from atelier.errors import RateLimitExceeded
from support.api import api
from support.api import login as anonymous
from support.profiles import Profile


def with_auth(settings: Settings, **changes: Any) -> Settings:
    return settings.model_copy(update={"auth": settings.auth.model_copy(update=changes)})


def stored_user(settings: Settings, email: str) -> User:
    db = Database(settings)
    try:
        with db.read() as s:
            user = s.scalar(select(User).where(User.email == email))
            assert user is not None
            return user
    finally:
        db.dispose()


def test_register_login_and_me(profile: Profile) -> None:
    with api(profile.settings) as client:
        first = register(client, "Ada@Example.com")
        assert first["token_type"] == "bearer" and first["expires_in"] == 900
        assert first["user"]["email"] == "ada@example.com"
        assert first["user"]["role"] == "admin"  # the first account
        assert first["user"]["owner"] == f"user:{first['user']['id']}"
        assert len(first["user"]["owner"]) <= 64
        second = register(client)
        assert second["user"]["role"] == "user"

        # one account per email, whatever its case
        again = client.post(
            "/api/v1/auth/register", json={"email": "ADA@example.COM", "password": PASSWORD}
        )
        assert again.status_code == 409 and again.json()["error"] == "email_taken"

        signed = login(client, "ADA@example.com")
        assert set(signed) >= {"access_token", "refresh_token", "token_type", "expires_in"}
        claims = jwt.decode(signed["access_token"], options={"verify_signature": False})
        assert claims["typ"] == "access" and claims["sub"] == first["user"]["id"]
        assert claims["role"] == "admin" and claims["exp"] - claims["iat"] == 900
        me = client.get("/api/v1/auth/me", headers=bearer(signed))
        assert me.status_code == 200
        body = me.json()
        assert body["id"] == first["user"]["id"] and body["auth"] == "token"
        assert body["scopes"] == ["read", "write"] and body["last_login_at"] is not None
        # the user's work is theirs: a task submitted with the access token is listed for it
        r = client.post(
            "/api/v1/tasks",
            json={"kind": "generate", "params": {"prompt": "a lighthouse", "steps": 2}},
            headers=bearer(signed),
        )
        assert r.status_code == 201
        listed = client.get("/api/v1/tasks", headers=bearer(first)).json()["items"]
        assert [t["task_id"] for t in listed] == [r.json()["task_id"]]
        assert client.get("/api/v1/tasks", headers=bearer(second)).json()["items"] == []


def test_refresh_rotates_and_a_reused_token_revokes_its_family(profile: Profile) -> None:
    with api(profile.settings) as client:
        email = new_email()
        r0 = register(client, email)["refresh_token"]
        other_sign_in = login(client, email)["refresh_token"]

        def refresh(token: str) -> Any:
            return client.post("/api/v1/auth/refresh", json={"refresh_token": token})

        first = refresh(r0)
        assert first.status_code == 200 and first.headers["cache-control"] == "no-store"
        r1 = first.json()["refresh_token"]
        assert r1 != r0
        assert client.get("/api/v1/auth/me", headers=bearer(first.json())).status_code == 200
        r2 = refresh(r1).json()["refresh_token"]

        reused = refresh(r0)  # spent: someone replays it
        assert reused.status_code == 401 and reused.json()["error"] == "refresh_token_reused"
        # ... so the whole family is revoked, the legitimate latest token included
        latest = refresh(r2)
        assert latest.status_code == 401
        # another sign-in of the same user is a different family and lives on
        assert refresh(other_sign_in).status_code == 200

        junk = refresh("not-a-token")
        assert junk.status_code == 401 and junk.json()["error"] == "invalid_refresh_token"


def test_logout_revokes_the_sign_in(profile: Profile) -> None:
    with api(profile.settings) as client:
        tokens = register(client)
        out = client.post("/api/v1/auth/logout", json={"refresh_token": tokens["refresh_token"]})
        assert out.status_code == 204
        r = client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
        assert r.status_code == 401
        # logging out twice, or with an unknown token, is not an error
        again = client.post("/api/v1/auth/logout", json={"refresh_token": "unknown"})
        assert again.status_code == 204


def test_wrong_password_and_unknown_email_get_the_same_answer(profile: Profile) -> None:
    with api(profile.settings) as client:
        email = new_email()
        register(client, email)
        wrong = client.post("/api/v1/auth/login", json={"email": email, "password": "nope" * 3})
        unknown = client.post(
            "/api/v1/auth/login", json={"email": new_email(), "password": "nope" * 3}
        )
        assert wrong.status_code == unknown.status_code == 401
        assert wrong.json() == unknown.json()
        assert wrong.json()["error"] == "invalid_credentials"


def test_failed_logins_are_throttled_per_email_and_address(profile: Profile) -> None:
    settings = with_auth(profile.settings, login_max_failures=3)
    with api(settings) as client:
        email, other = new_email(), new_email()
        register(client, email)
        register(client, other)
        for _ in range(3):
            r = client.post("/api/v1/auth/login", json={"email": email, "password": "x" * 10})
            assert r.status_code == 401
        # even the right password waits now
        blocked = client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
        assert blocked.status_code == 429
        assert blocked.json()["error"] == "rate_limit_exceeded"
        assert int(blocked.headers["retry-after"]) >= 1
        # another account from the same address is not affected
        login(client, other)


def test_throttle_window_slides() -> None:
    now = [1000.0]
    throttle = LoginThrottle(2, 60.0, clock=lambda: now[0])
    throttle.failed("a", "ip")
    now[0] += 30
    throttle.failed("a", "ip")
    try:
        throttle.check("a", "ip")
        raise AssertionError("not throttled")
    except RateLimitExceeded as exc:
        assert exc.retry_after == 30  # until the first failure leaves the window
    throttle.check("b", "ip")
    throttle.check("a", "other-ip")
    now[0] += 31  # the first failure has left the window
    throttle.check("a", "ip")
    throttle.failed("a", "ip")
    try:
        throttle.check("a", "ip")
        raise AssertionError("not throttled")
    except RateLimitExceeded:
        pass
    throttle.succeeded("a", "ip")
    throttle.check("a", "ip")


def test_expired_and_forged_access_tokens_are_refused(profile: Profile) -> None:
    with api(profile.settings) as client:
        user = register(client)
        issued_long_ago = AccessTokens(profile.settings, clock=lambda: time.time() - 901)
        expired = issued_long_ago.mint(user["user"]["id"], "user")
        for path in ("/api/v1/auth/me", "/api/v1/tasks"):
            r = client.get(path, headers={"Authorization": f"Bearer {expired}"})
            assert r.status_code == 401 and r.json()["error"] == "token_expired", path
            assert "x-atelier-session" not in r.headers  # no silent fall-back to anonymous
        # a token that expires a second from now still works
        fresh = AccessTokens(profile.settings, clock=lambda: time.time() - 899)
        token = fresh.mint(user["user"]["id"], "user")
        ok = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
        assert ok.status_code == 200
        forged = jwt.encode(
            {"sub": user["user"]["id"], "typ": "access", "role": "admin", "exp": 2**40},
            "not-the-secret-but-long-enough-for-hs256-keys",
            algorithm="HS256",
        )
        r = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {forged}"})
        assert r.status_code == 401 and r.json()["error"] == "unauthorized"
        # an anonymous session token is not an account
        r = client.get("/api/v1/auth/me", headers=anonymous(client))
        assert r.status_code == 401 and r.json()["error"] == "authentication_required"


def test_a_short_access_ttl_is_honoured(profile: Profile) -> None:
    settings = with_auth(profile.settings, access_ttl_seconds=5)
    with api(settings) as client:
        tokens = register(client)
        assert tokens["expires_in"] == 5
        claims = jwt.decode(tokens["access_token"], options={"verify_signature": False})
        assert claims["exp"] - claims["iat"] == 5


def test_password_hash_is_upgraded_when_the_parameters_change(profile: Profile) -> None:
    email = new_email()
    with api(profile.settings) as client:
        register(client, email)
    before = stored_user(profile.settings, email).password_hash
    assert before.startswith("$argon2id$") and "t=1," in before
    stronger = with_auth(profile.settings, password_time_cost=2)
    with api(stronger) as client:
        login(client, email)
        after = stored_user(stronger, email).password_hash
        assert after.startswith("$argon2id$") and "t=2," in after
        login(client, email)  # and the new hash verifies
        assert stored_user(stronger, email).password_hash == after


def test_registration_can_be_closed(profile: Profile) -> None:
    settings = with_auth(profile.settings, registration_open=False)
    with api(settings) as client:
        r = client.post("/api/v1/auth/register", json={"email": new_email(), "password": PASSWORD})
        assert r.status_code == 403 and r.json()["error"] == "registration_closed"


def test_malformed_bodies_are_clear_client_errors(profile: Profile) -> None:
    with api(profile.settings) as client:
        user = bearer(register(client))
        cases: list[tuple[str, str, Any, dict[str, str]]] = [
            ("POST", "/api/v1/auth/register", {"email": new_email()}, {}),
            ("POST", "/api/v1/auth/register", {"email": new_email(), "password": "short"}, {}),
            ("POST", "/api/v1/auth/register", {"email": "no-at-sign", "password": PASSWORD}, {}),
            ("POST", "/api/v1/auth/register", {"email": "a@b", "password": PASSWORD}, {}),
            (
                "POST",
                "/api/v1/auth/register",
                {"email": new_email(), "password": PASSWORD, "role": "admin"},
                {},
            ),
            ("POST", "/api/v1/auth/register", [1, 2], {}),
            ("POST", "/api/v1/auth/register", {"email": 5, "password": ["x"]}, {}),
            ("POST", "/api/v1/auth/register", {"email": new_email(), "password": "x" * 2000}, {}),
            ("POST", "/api/v1/auth/login", {"email": "a@b.c"}, {}),
            ("POST", "/api/v1/auth/login", {}, {}),
            ("POST", "/api/v1/auth/refresh", {}, {}),
            ("POST", "/api/v1/auth/refresh", {"refresh_token": ""}, {}),
            ("POST", "/api/v1/auth/logout", {"refresh_token": 7}, {}),
            ("POST", "/api/v1/auth/api-keys", {"name": "k", "scopes": ["write"]}, user),
            ("POST", "/api/v1/auth/api-keys", {"name": "k", "scopes": ["admin"]}, user),
            ("POST", "/api/v1/auth/api-keys", {"name": "k", "scopes": []}, user),
            ("POST", "/api/v1/auth/api-keys", {"name": "", "scopes": ["read"]}, user),
            (
                "POST",
                "/api/v1/auth/api-keys",
                {"name": "k", "scopes": ["read"], "expires_in_days": 0},
                user,
            ),
        ]
        for method, path, body, headers in cases:
            r = client.request(method, path, json=body, headers=headers)
            assert r.status_code == 422, (path, body, r.status_code, r.text)
            assert r.json()["error"] == "validation_error"
        bad_json = client.post(
            "/api/v1/auth/login",
            content=b"{not json",
            headers={"Content-Type": "application/json"},
        )
        assert bad_json.status_code == 422
        form = client.post("/api/v1/auth/login", data={"email": "a@b.c", "password": "x"})
        assert form.status_code == 415 and form.json()["error"] == "unsupported_media_type"
        scheme = client.get("/api/v1/auth/me", headers={"Authorization": "Basic abc"})
        assert scheme.status_code == 401


def test_the_websocket_takes_an_access_token(profile: Profile) -> None:
    with api(profile.settings) as client:
        tokens = register(client)
        task = client.post(
            "/api/v1/tasks",
            json={"kind": "generate", "params": {"prompt": "a kite", "steps": 2}},
            headers=bearer(tokens),
        ).json()["task_id"]
    with (
        api(profile.settings) as fresh,  # another API process: its first request is this one
        fresh.websocket_connect(f"/api/v1/ws?token={tokens['access_token']}") as ws,
    ):
        ws.send_json({"action": "subscribe", "task_ids": [task]})
        created = ws.receive_json()
        assert created["type"] == "created" and created["task_id"] == task
