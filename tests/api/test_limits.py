"""415 for non-JSON bodies, 429 with Retry-After over the submission rate, secrets refused."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from atelier.config import DEFAULT_SECRET, Settings
from support.api import GEN, api, login
from support.profiles import Profile


def test_non_json_body_is_415(profile: Profile) -> None:
    with api(profile.settings) as client:
        h = login(client)
        for path in ("/api/v1/tasks", "/api/v1/generate"):
            r = client.post(
                path, content=b"prompt=cat", headers={**h, "Content-Type": "text/plain"}
            )
            assert r.status_code == 415, r.text
            assert r.json()["error"] == "unsupported_media_type"


def test_submission_rate_limit(profile: Profile, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ATELIER_LIMITS__ENABLED", "on")
    monkeypatch.setenv("ATELIER_LIMITS__ANON__SUBMITS_PER_MINUTE", "6")
    monkeypatch.setenv("ATELIER_LIMITS__ANON__SUBMIT_BURST", "2")
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    with api(settings) as client:
        h = login(client)
        body = {"kind": "generate", "params": GEN}
        assert client.post("/api/v1/tasks", json=body, headers=h).status_code == 201
        assert client.post("/api/v1/generate", json=GEN, headers=h).status_code == 201
        r = client.post("/api/v1/tasks", json=body, headers=h)
        assert r.status_code == 429
        env = r.json()
        assert env["error"] == "rate_limit_exceeded"
        assert env["retry_after"] == env["details"]["retry_after"] == int(r.headers["Retry-After"])
        assert 1 <= env["retry_after"] <= 10
        # limits are per owner: someone else is not slowed down
        other = login(client)
        assert client.post("/api/v1/tasks", json=body, headers=other).status_code == 201
        # rejected submissions created nothing
        assert len(client.get("/api/v1/tasks", headers=h).json()["items"]) == 2


def test_production_refuses_the_default_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ATELIER_MODE", "production")
    with pytest.raises(ValidationError, match="ATELIER_SECRET_KEY"):
        Settings(_env_file=None)  # type: ignore[call-arg]
    monkeypatch.setenv("ATELIER_SECRET_KEY", DEFAULT_SECRET)
    with pytest.raises(ValidationError):
        Settings(_env_file=None)  # type: ignore[call-arg]
    monkeypatch.setenv("ATELIER_SECRET_KEY", "a-private-value-for-this-deployment")
    assert Settings(_env_file=None).mode == "production"  # type: ignore[call-arg]


def test_distributed_settings_are_configuration_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ATELIER_DATABASE__URL", "postgresql+psycopg://u@db/atelier")
    monkeypatch.setenv("ATELIER_QUEUE__BROKER_URL", "redis://redis:6379/0")
    monkeypatch.setenv("ATELIER_STORAGE__BACKEND", "s3")
    s = Settings(_env_file=None)  # type: ignore[call-arg]
    assert s.database_url.startswith("postgresql+psycopg://")
    assert not s.embedded_broker and s.event_backend == "redis"
    assert s.event_redis_url == "redis://redis:6379/0"
    monkeypatch.setenv("ATELIER_QUEUE__BROKER_URL", "amqp://guest@rabbit//")
    s = Settings(_env_file=None)  # type: ignore[call-arg]
    assert s.event_backend == "memory"
    embedded = Settings(_env_file=None, database={"url": ""}, queue={"broker_url": ""})  # type: ignore[call-arg]
    assert embedded.embedded_broker and embedded.database_url.startswith("sqlite:///")
