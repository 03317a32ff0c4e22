"""Helpers of the account tests: sign up, sign in, make keys, through the real API."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi.testclient import TestClient

PASSWORD = "correct horse battery"


def new_email() -> str:
    return f"user-{uuid.uuid4().hex[:10]}@example.com"


def register(
    client: TestClient,
    email: str | None = None,
    password: str = PASSWORD,
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    r = client.post(
        "/api/v1/auth/register",
        json={"email": email or new_email(), "password": password},
        headers=headers or {},
    )
    assert r.status_code == 201, r.text
    client.cookies.clear()
    body: dict[str, Any] = r.json()
    return body


def login(
    client: TestClient, email: str, password: str = PASSWORD, headers: dict[str, str] | None = None
) -> dict[str, Any]:
    r = client.post(
        "/api/v1/auth/login", json={"email": email, "password": password}, headers=headers or {}
    )
    assert r.status_code == 200, r.text
    client.cookies.clear()
    body: dict[str, Any] = r.json()
    return body


def bearer(tokens: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens['access_token']}"}


def make_key(client: TestClient, headers: dict[str, str], scopes: list[str]) -> dict[str, Any]:
    r = client.post(
        "/api/v1/auth/api-keys", json={"name": "test", "scopes": scopes}, headers=headers
    )
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()
    return body


def key_headers(key: dict[str, Any]) -> dict[str, str]:
    return {"X-API-Key": str(key["key"])}
