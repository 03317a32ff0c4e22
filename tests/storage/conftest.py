"""Storage fixtures: a real S3-compatible server (moto in server mode, over HTTP on a free port),
backends of every kind (local, S3, multi-endpoint) closed after each test, and for
multi-endpoint storage: two restartable S3 servers and settings with extra endpoints."""

from __future__ import annotations

import json
import socket
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr
from sqlalchemy import create_engine, text

from atelier.config import S3Settings, Settings
from atelier.db.engine import Database
from atelier.db.migrate import upgrade
from atelier.storage.base import StorageBackend
from atelier.storage.local import LocalStorage
from atelier.storage.multi import MultiStorage
from atelier.storage.s3 import S3Storage
from support.multistorage import FAST_STORAGE, MotoServer
from support.profiles import Profile

MakeS3 = Callable[..., S3Storage]


@pytest.fixture
def s3_settings(s3_server: str) -> S3Settings:
    """Settings for a bucket of this test's own, created when the first backend is built."""
    return S3Settings(
        endpoint_url=s3_server,
        bucket=f"atelier-test-{uuid.uuid4().hex[:16]}",
        region="us-east-1",
        access_key_id="testing",
        secret_access_key=SecretStr("testing"),
        create_bucket=True,
        addressing_style="path",
    )


@pytest.fixture
def make_s3(s3_settings: S3Settings) -> Iterator[MakeS3]:
    """Build S3 backends (``make_s3(prefix="x")``, ``make_s3(settings, max_attempts=1)``);
    every one is closed at teardown."""
    built: list[S3Storage] = []

    def make(settings: S3Settings | None = None, /, **kwargs: Any) -> S3Storage:
        base = settings or s3_settings
        fields = {k: kwargs.pop(k) for k in list(kwargs) if k in S3Settings.model_fields}
        storage = S3Storage(base.model_copy(update=fields), **kwargs)
        built.append(storage)
        return storage

    yield make
    for storage in built:
        storage.close()


@pytest.fixture
def local_storage(tmp_path: Path) -> LocalStorage:
    return LocalStorage(tmp_path / "objects")


@pytest.fixture(params=["local", "s3", "multi"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StorageBackend]:
    """Each backend in turn, for the shared contract tests (``multi``: a local primary and a
    local backup, on SQLite)."""
    if request.param == "local":
        yield LocalStorage(tmp_path / "objects")
        return
    if request.param == "s3":
        make: MakeS3 = request.getfixturevalue("make_s3")
        yield make()
        return
    endpoints = [{"id": "copy", "type": "local", "root": str(tmp_path / "copy")}]
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        data_dir=tmp_path / "data",
        storage={"local_root": tmp_path / "objects", "endpoints": endpoints},
    )
    upgrade(settings)
    db = Database(settings)
    storage = MultiStorage(settings, db, monitor=False)
    yield storage
    storage.close()
    db.dispose()


@pytest.fixture
def closed_port() -> int:
    """A local TCP port nobody listens on (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


# -- multi-endpoint storage ------------------------------------------------------------------
MultiSettings = Callable[..., Settings]


@pytest.fixture
def moto_pair() -> Iterator[tuple[MotoServer, MotoServer]]:
    """Two S3 servers, each stoppable and restartable on its port."""
    servers = (MotoServer().start(), MotoServer().start())
    yield servers
    for server in servers:
        server.stop()


@pytest.fixture
def multi_settings(profile: Profile, monkeypatch: pytest.MonkeyPatch) -> MultiSettings:
    """``multi_settings(endpoints, **env)``: the profile's settings with these storage
    endpoints (a list of definitions, as ``ATELIER_STORAGE__ENDPOINTS``), quick retries and
    the admin token. The storage tables start empty on PostgreSQL too."""
    if profile.name == "postgres":
        engine = create_engine(profile.settings.database_url)
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM storage_replicas"))
            conn.execute(text("DELETE FROM storage_endpoints"))
        engine.dispose()

    def make(endpoints: list[dict[str, Any]], **env: str) -> Settings:
        for key, value in {**FAST_STORAGE, **env}.items():
            monkeypatch.setenv(key, value)
        monkeypatch.setenv("ATELIER_STORAGE__ENDPOINTS", json.dumps(endpoints))
        settings = Settings(_env_file=None)  # type: ignore[call-arg]
        upgrade(settings)
        return settings

    return make


@pytest.fixture
def open_multi(multi_settings: MultiSettings) -> Iterator[Callable[..., MultiStorage]]:
    """``open_multi(endpoints, **env)``: a :class:`MultiStorage` (no health thread) on its own
    database connection, closed at teardown."""
    opened: list[tuple[MultiStorage, Database]] = []

    def make(endpoints: list[dict[str, Any]], **env: str) -> MultiStorage:
        settings = multi_settings(endpoints, **env)
        db = Database(settings)
        storage = MultiStorage(settings, db, monitor=False)
        storage.rng.seed(20261124)
        opened.append((storage, db))
        return storage

    yield make
    for storage, db in opened:
        storage.close()
        db.dispose()
