"""Configuration profiles for tests: embedded, PostgreSQL, Redis, RabbitMQ."""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Any

import pytest

from atelier.config import Settings

CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def unavailable(what: str, exc: BaseException) -> None:
    message = f"{what} is not reachable: {type(exc).__name__}: {exc}"
    if CI:
        pytest.fail(f"{message} (CI=true requires it)", pytrace=False)
    pytest.skip(message)


FAST = {
    "ATELIER_QUEUE__LEASE_SECONDS": "3",
    "ATELIER_QUEUE__SWEEP_INTERVAL": "0.5",
    "ATELIER_QUEUE__RETRY_BASE_DELAY": "0.05",
    "ATELIER_QUEUE__RETRY_MAX_DELAY": "0.2",
    "ATELIER_QUEUE__REDISPATCH_AFTER": "5",
    "ATELIER_QUEUE__POLL_INTERVAL": "0.02",
    "ATELIER_EVENTS__HEARTBEAT_SECONDS": "1",
    # every made image is tagged for the library by default; tests that count tasks or
    # queue depth see only their own (tests/library turns it back on)
    "ATELIER_LIBRARY__AUTO_TAG_GENERATED": "false",
}


def make_env(profile: str, tmp_path: Path, request: pytest.FixtureRequest) -> dict[str, str]:
    env = {"ATELIER_DATA_DIR": str(tmp_path / "data"), **FAST}
    if profile == "embedded":
        return env
    if profile == "sqlite":
        return env
    pg = request.getfixturevalue("postgres")
    env["ATELIER_DATABASE__URL"] = pg
    if profile == "postgres":
        return env
    if profile == "postgres-redis-s3":
        # the whole distributed set: PostgreSQL, Redis broker and events, S3 storage
        env["ATELIER_QUEUE__BROKER_URL"] = request.getfixturevalue("redis_url")
        env.update(
            {
                "ATELIER_STORAGE__BACKEND": "s3",
                "ATELIER_STORAGE__S3__ENDPOINT_URL": request.getfixturevalue("s3_server"),
                "ATELIER_STORAGE__S3__BUCKET": f"atelier-{uuid.uuid4().hex[:12]}",
                "ATELIER_STORAGE__S3__ACCESS_KEY_ID": "testing",
                "ATELIER_STORAGE__S3__SECRET_ACCESS_KEY": "testing",
                "ATELIER_STORAGE__S3__CREATE_BUCKET": "true",
            }
        )
        return env
    if profile == "postgres-rabbitmq":
        env["ATELIER_QUEUE__BROKER_URL"] = request.getfixturevalue("amqp_url")
        return env
    raise ValueError(profile)


class Profile:
    """A configuration: environment variables (for worker processes) and Settings from them."""

    def __init__(self, name: str, env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
        self.name = name
        self.env = env
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        self.settings = Settings(_env_file=None)  # type: ignore[call-arg]

    def process_env(self, **extra: str) -> dict[str, Any]:
        return {**os.environ, **self.env, **extra, "PYTHONUNBUFFERED": "1"}
