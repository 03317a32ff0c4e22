"""The authorisation matrix: each kind of caller against each group of endpoints, and the
rules every route of the API keeps (read from the OpenAPI schema, so new routes are covered
without being listed here)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

from accounts_support import bearer, key_headers, make_key, register
from fastapi.testclient import TestClient
from httpx import Response

from support.api import GEN, api, submit
from support.api import login as anonymous
from support.profiles import Profile

GHOST = "00000000-0000-4000-8000-000000000000"
CALLERS = ("none", "anon", "owner", "other", "admin", "read_key", "write_key", "admin_read_key")


def error_code(r: Response) -> str:
    body = r.json()
    err = body["error"]
    return str(err["code"] if isinstance(err, dict) else err)  # /v1/: OpenAI's shape


def operations(client: TestClient) -> Iterator[tuple[str, str]]:
    """Every operation of the API, its path parameters filled in."""
    spec: dict[str, Any] = client.app.openapi()  # type: ignore[attr-defined]
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            types = {
                p["name"]: p.get("schema", {}).get("type")
                for p in op.get("parameters", [])
                if p["in"] == "path"
            }

            def fill(m: re.Match[str], types: dict[str, Any] = types) -> str:
                return "1" if types.get(m.group(1)) == "integer" else GHOST

            yield method.upper(), re.sub(r"\{([^}:]+)(?::[^}]*)?\}", fill, path)


def test_every_route_keeps_the_credential_rules(profile: Profile) -> None:
    with api(profile.settings) as client:
        user = bearer(register(client))
        read = key_headers(make_key(client, user, ["read"]))
        revoked = make_key(client, user, ["read", "write"])
        client.delete(f"/api/v1/auth/api-keys/{revoked['id']}", headers=user)
        seen = 0
        for method, path in operations(client):
            seen += 1
            client.cookies.clear()
            r = client.request(method, f"{path}?api_key=atl_{'x' * 43}")
            assert r.status_code == 400, (method, path, r.status_code)
            assert error_code(r) == "credentials_in_url", (method, path)
            r = client.request(method, path, headers=key_headers(revoked))
            assert r.status_code == 401, (method, path, r.status_code)
            assert error_code(r) == "invalid_api_key", (method, path)
            if method in ("POST", "PUT", "PATCH", "DELETE"):
                r = client.request(method, path, headers=read)
                assert r.status_code == 403, (method, path, r.status_code, r.text)
                assert error_code(r) == "insufficient_scope", (method, path)
        assert seen > 30


class Matrix:
    """The callers, and one request per caller with the expected status."""

    def __init__(self, client: TestClient) -> None:
        self.client = client
        admin_tokens = register(client)  # the first account: an admin
        owner_tokens = register(client)
        other_tokens = register(client)
        self.ids = {
            "admin": admin_tokens["user"]["id"],
            "owner": owner_tokens["user"]["id"],
            "other": other_tokens["user"]["id"],
        }
        owner = bearer(owner_tokens)
        admin = bearer(admin_tokens)
        self.headers: dict[str, dict[str, str]] = {
            "none": {},
            "anon": anonymous(client),
            "owner": owner,
            "other": bearer(other_tokens),
            "admin": admin,
            "read_key": key_headers(make_key(client, owner, ["read"])),
            "write_key": key_headers(make_key(client, owner, ["read", "write"])),
            "admin_read_key": key_headers(make_key(client, admin, ["read"])),
        }

    def check(
        self,
        method: str,
        path: str | Callable[[], str],
        expected: dict[str, int | tuple[int, str]],
        body: Any = None,
    ) -> None:
        assert set(expected) == set(CALLERS), set(CALLERS) - set(expected)
        for caller, want in expected.items():
            status, code = want if isinstance(want, tuple) else (want, None)
            url = path() if callable(path) else path
            self.client.cookies.clear()
            r = self.client.request(method, url, json=body, headers=self.headers[caller])
            assert r.status_code == status, (caller, method, url, r.status_code, r.text)
            if code is not None:
                assert error_code(r) == code, (caller, method, url)


def test_authorisation_matrix(profile: Profile) -> None:
    with api(profile.settings) as client:
        m = Matrix(client)
        owner = m.headers["owner"]
        task = submit(client, owner)
        image = client.post(
            "/api/v1/images",
            files={"file": ("p.png", _png(), "image/png")},
            headers=owner,
        ).json()["image_id"]
        unauth = (401, "authentication_required")
        scope = (403, "insufficient_scope")
        forbidden = (403, "forbidden")

        # owner-scoped reads: only the owner, in person or by key
        for path in (f"/api/v1/tasks/{task}", f"/api/v1/images/{image}"):
            m.check(
                "GET",
                path,
                {
                    "none": 404,
                    "anon": 404,
                    "owner": 200,
                    "other": 404,
                    "admin": 404,
                    "read_key": 200,
                    "write_key": 200,
                    "admin_read_key": 404,
                },
            )
        m.check("GET", "/api/v1/tasks", dict.fromkeys(CALLERS, 200))
        # submissions: everyone with a session or an account; a read key may not
        m.check(
            "POST",
            "/api/v1/tasks",
            {**dict.fromkeys(CALLERS, 201), "read_key": scope, "admin_read_key": scope},
            body={"kind": "generate", "params": GEN},
        )
        # owner-scoped writes, each on a fresh task of the owner
        m.check(
            "POST",
            lambda: f"/api/v1/tasks/{submit(client, owner)}/cancel",
            {
                "none": 404,
                "anon": 404,
                "owner": 200,
                "other": 404,
                "admin": 404,
                "read_key": scope,
                "write_key": 200,
                "admin_read_key": scope,
            },
        )
        # the account itself
        m.check(
            "GET",
            "/api/v1/auth/me",
            {**dict.fromkeys(CALLERS, 200), "none": unauth, "anon": unauth},
        )
        keys = {
            "none": unauth,
            "anon": unauth,
            "owner": 200,
            "other": 200,
            "admin": 200,
            "read_key": forbidden,
            "write_key": forbidden,
            "admin_read_key": forbidden,
        }
        m.check("GET", "/api/v1/auth/api-keys", keys)
        m.check(
            "POST",
            "/api/v1/auth/api-keys",
            {**keys, "owner": 201, "other": 201, "admin": 201, "read_key": scope}
            | {"admin_read_key": scope},
            body={"name": "k", "scopes": ["read"]},
        )
        m.check(
            "DELETE",
            lambda: f"/api/v1/auth/api-keys/{make_key(client, owner, ['read'])['id']}",
            {**keys, "owner": 204, "other": 404, "admin": 404, "read_key": scope}
            | {"admin_read_key": scope},
        )
        # administration
        admin_only = {
            "none": unauth,
            "anon": unauth,
            "owner": forbidden,
            "other": forbidden,
            "admin": 200,
            "read_key": forbidden,
            "write_key": forbidden,
            "admin_read_key": 200,
        }
        m.check("GET", "/api/v1/admin/users", admin_only)
        m.check(
            "PATCH",
            f"/api/v1/admin/users/{m.ids['other']}",
            {**admin_only, "read_key": scope, "admin_read_key": scope},
            body={"role": "user"},
        )
        # public endpoints answer everyone holding valid (or no) credentials
        m.check("GET", "/api/v1/health", dict.fromkeys(CALLERS, 200))


def _png() -> bytes:
    import io

    from PIL import Image

    img = Image.new("RGB", (40, 30))
    img.putdata([(x * 6, y * 8, (x * y) % 256) for y in range(30) for x in range(40)])
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()
