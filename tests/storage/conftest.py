"""Storage fixtures: a real S3-compatible server (moto in server mode, over HTTP on a free port)
and backends of both kinds, closed after each test."""

from __future__ import annotations

import socket
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from atelier.config import S3Settings
from atelier.storage.base import StorageBackend
from atelier.storage.local import LocalStorage
from atelier.storage.s3 import S3Storage

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


@pytest.fixture(params=["local", "s3"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> StorageBackend:
    """Each backend in turn, for the shared contract tests."""
    if request.param == "local":
        return LocalStorage(tmp_path / "objects")
    make: MakeS3 = request.getfixturevalue("make_s3")
    return make()


@pytest.fixture
def closed_port() -> int:
    """A local TCP port nobody listens on (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port
