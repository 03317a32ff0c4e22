"""Helpers of the limits tests: settings with limits on, an API client at an address."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from fastapi.testclient import TestClient

from atelier.api.app import create_app
from atelier.config import Settings
from atelier.db.migrate import upgrade
from support.api import GEN

TASK = {"kind": "generate", "params": GEN}
OFF = {  # every limit of the anonymous class off; a test turns on the ones it looks at
    "ANON__REQUESTS_PER_MINUTE": "0",
    "ANON__SUBMITS_PER_MINUTE": "0",
    "ANON__IP_REQUESTS_PER_MINUTE": "0",
    "ANON__IP_SUBMITS_PER_MINUTE": "0",
    "ANON__CONCURRENT_TASKS": "0",
    "ANON__DAILY_TASKS": "0",
}


def limited(monkeypatch: pytest.MonkeyPatch, **env: str) -> Settings:
    monkeypatch.setenv("ATELIER_LIMITS__ENABLED", "on")
    for key, value in {**OFF, **env}.items():
        monkeypatch.setenv(f"ATELIER_LIMITS__{key}", value)
    return Settings(_env_file=None)  # type: ignore[call-arg]


@contextmanager
def client_at(settings: Settings, address: str = "192.0.2.10") -> Iterator[TestClient]:
    upgrade(settings)
    app = create_app(settings)
    with TestClient(app, raise_server_exceptions=False, client=(address, 40000)) as client:
        yield client


def new_session(client: TestClient) -> dict[str, str]:
    r = client.get("/api/v1/tasks")
    assert r.status_code == 200, r.text
    client.cookies.clear()
    return {"Authorization": f"Bearer {r.headers['X-Atelier-Session']}"}


def assert_refused(r: Any, scope: str) -> int:
    assert r.status_code == 429, r.text
    body = r.json()
    assert body["error"] == "rate_limit_exceeded"
    assert body["details"]["scope"] == scope
    seconds = body["details"]["retry_after"]
    assert body["retry_after"] == seconds == int(r.headers["Retry-After"])
    assert r.headers["X-RateLimit-Remaining"] == "0"
    assert int(r.headers["X-RateLimit-Reset"]) >= seconds
    return int(seconds)
