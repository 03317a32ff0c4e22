"""S3 backend against a real S3-compatible server (moto server mode over HTTP)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

import pytest

from atelier.config import S3Settings, Settings, StorageSettings
from atelier.storage.base import ObjectNotFound, StorageError
from atelier.storage.factory import build_storage
from atelier.storage.s3 import S3Storage

MakeS3 = Callable[..., S3Storage]


def test_prefix_isolates_keys(make_s3: MakeS3) -> None:
    bare = make_s3()
    tenant_a = make_s3(prefix="tenant-a")
    tenant_b = make_s3(prefix="/tenant-b/nested/")
    tenant_a.put("images/k.png", b"a", "image/png")
    tenant_b.put("images/k.png", b"b", "image/png")
    assert tenant_a.get("images/k.png") == b"a"
    assert tenant_b.get("images/k.png") == b"b"
    assert not bare.exists("images/k.png")
    assert bare.get("tenant-a/images/k.png") == b"a"
    assert bare.get("tenant-b/nested/images/k.png") == b"b"
    tenant_a.delete("images/k.png")
    assert not tenant_a.exists("images/k.png")
    assert tenant_b.get("images/k.png") == b"b"


def test_prefix_must_be_a_valid_key(s3_settings: S3Settings) -> None:
    with pytest.raises(ValueError):
        S3Storage(s3_settings.model_copy(update={"prefix": "a/../b"}))


def test_stat_reflects_what_the_server_stored(make_s3: MakeS3) -> None:
    storage = make_s3()
    put = storage.put("p/x.webp", b"webp bytes", "image/webp")
    bare = make_s3(prefix="")
    assert bare.stat("p/x.webp") == put


def test_unreachable_endpoint_raises_storage_error(make_s3: MakeS3, closed_port: int) -> None:
    storage = make_s3(
        endpoint_url=f"http://127.0.0.1:{closed_port}",
        create_bucket=False,
        connect_timeout=0.5,
        read_timeout=0.5,
        max_attempts=1,
    )
    started = time.monotonic()
    calls: list[Callable[[], object]] = [
        lambda: storage.put("k", b"x", "text/plain"),
        lambda: storage.get("k"),
        lambda: storage.stat("k"),
        lambda: storage.exists("k"),
        lambda: storage.delete("k"),
    ]
    for call in calls:
        with pytest.raises(StorageError) as error:
            call()
        assert not isinstance(error.value, ObjectNotFound)
    assert time.monotonic() - started < 30


def test_unreachable_endpoint_at_bucket_creation(s3_settings: S3Settings, closed_port: int) -> None:
    settings = s3_settings.model_copy(update={"endpoint_url": f"http://127.0.0.1:{closed_port}"})
    with pytest.raises(StorageError, match="not reachable"):
        S3Storage(
            settings.model_copy(
                update={"connect_timeout": 0.5, "read_timeout": 0.5, "max_attempts": 1}
            )
        )


def test_missing_bucket_is_a_storage_error_not_a_missing_object(make_s3: MakeS3) -> None:
    storage = make_s3(bucket=f"absent-{uuid.uuid4().hex[:12]}", create_bucket=False)
    with pytest.raises(StorageError) as error:
        storage.get("k")
    assert not isinstance(error.value, ObjectNotFound)
    with pytest.raises(StorageError) as put_error:
        storage.put("k", b"x", "text/plain")
    assert not isinstance(put_error.value, ObjectNotFound)


def test_create_bucket_is_idempotent(make_s3: MakeS3) -> None:
    first = make_s3()
    first.put("k", b"kept", "text/plain")
    second = make_s3()
    second.ensure_bucket()
    assert second.get("k") == b"kept"


def test_create_bucket_outside_us_east_1(make_s3: MakeS3) -> None:
    storage = make_s3(bucket=f"eu-{uuid.uuid4().hex[:12]}", region="eu-west-1")
    storage.put("k", b"v", "text/plain")
    assert storage.get("k") == b"v"


def test_auto_addressing_style(make_s3: MakeS3) -> None:
    storage = make_s3(addressing_style="auto")
    storage.put("k", b"auto", "text/plain")
    assert storage.get("k") == b"auto"


def test_factory_builds_s3_storage(s3_settings: S3Settings) -> None:
    storage_settings = StorageSettings(backend="s3", s3=s3_settings)
    settings = Settings(_env_file=None, storage=storage_settings)  # type: ignore[call-arg]
    storage = build_storage(settings)
    assert isinstance(storage, S3Storage)
    try:
        assert storage.name == "s3"
        assert storage.bucket == s3_settings.bucket
        storage.put("f/k", b"via factory", "text/plain")
        assert storage.get("f/k") == b"via factory"
    finally:
        storage.close()
