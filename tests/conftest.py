"""Shared fixtures: real servers (PostgreSQL, Redis, RabbitMQ), configuration profiles, a live
API server and real worker processes.

Under ``CI=true`` a missing server fails the test; elsewhere it is skipped with the reason.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from atelier.config import Settings
from atelier.db.migrate import upgrade
from atelier.runtime import Runtime, build_runtime
from support.profiles import Profile, make_env, unavailable

PG_ADMIN = os.environ.get(
    "ATELIER_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
REDIS = os.environ.get("ATELIER_TEST_REDIS", "redis://127.0.0.1:6379")
AMQP = os.environ.get("ATELIER_TEST_AMQP", "amqp://guest:guest@127.0.0.1:5672//")
TABLES = (
    "provider_cache",
    "provider_calls",
    "webhook_deliveries",
    "images",
    "task_events",
    "tasks",
)


# -- servers ---------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    name = f"atelier_test_{uuid.uuid4().hex[:10]}"
    try:
        admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        unavailable("PostgreSQL", exc)
    url = PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"
    upgrade(Settings(_env_file=None, database={"url": url}))  # type: ignore[call-arg]
    yield url
    with admin.connect() as conn:
        conn.execute(
            text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"),
            {"n": name},
        )
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
    admin.dispose()


@pytest.fixture
def postgres(postgres_url: str) -> Iterator[str]:
    engine = create_engine(postgres_url)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {', '.join(TABLES)} CASCADE"))
    engine.dispose()
    yield postgres_url


@pytest.fixture(scope="session")
def s3_server() -> Iterator[str]:
    """The endpoint URL of a moto S3 server listening on 127.0.0.1 for the whole session."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()
        # stop() ends serve_forever() but leaves the listening socket open.
        inner = getattr(server, "_server", None)
        if inner is not None:
            inner.server_close()


@pytest.fixture
def redis_url() -> Iterator[str]:
    import redis

    url = f"{REDIS}/13"
    try:
        client = redis.Redis.from_url(url)
        client.flushdb()
    except Exception as exc:
        unavailable("Redis", exc)
    yield url
    client.flushdb()
    client.close()


@pytest.fixture
def amqp_url() -> Iterator[str]:
    from kombu import Connection

    try:
        with Connection(AMQP, connect_timeout=3) as conn:
            conn.ensure_connection(max_retries=1)
            channel = conn.channel()
            for queue in ("cpu", "gpu"):
                try:
                    channel.queue_purge(queue)
                except Exception:
                    channel = conn.channel()
    except Exception as exc:
        unavailable("RabbitMQ", exc)
    yield AMQP


# -- configuration profiles ------------------------------------------------------------------
@pytest.fixture(autouse=True)
def _hermetic_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test sees the developer's ATELIER_* variables or .env file."""
    for key in list(os.environ):
        if key.startswith("ATELIER_") and not key.startswith("ATELIER_TEST_"):
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)


@pytest.fixture(params=["sqlite", "postgres"])
def profile(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Profile:
    """The database-level profiles: every DB test runs on SQLite and on PostgreSQL."""
    return Profile(request.param, make_env(request.param, tmp_path, request), monkeypatch)


@pytest.fixture
def runtime(profile: Profile) -> Iterator[Runtime]:
    upgrade(profile.settings)
    rt = build_runtime(profile.settings, worker=True)
    yield rt
    rt.close()
