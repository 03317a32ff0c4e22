"""The storage contract, run against every backend (local directory and a real S3 server)."""

from __future__ import annotations

import hashlib
import random

import pytest

from atelier.storage.base import ObjectNotFound, StorageBackend, StorageError, StoredObject


def md5(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def test_backend_satisfies_the_protocol(backend: StorageBackend) -> None:
    assert isinstance(backend, StorageBackend)
    assert backend.name in {"local", "s3", "multi"}


def test_put_get_round_trip(backend: StorageBackend) -> None:
    data = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
    stored = backend.put("images/ab/abcdef.png", data, "image/png")
    assert stored == StoredObject("images/ab/abcdef.png", len(data), md5(data), "image/png")
    assert backend.get("images/ab/abcdef.png") == data


def test_stat_reports_size_etag_and_the_given_content_type(backend: StorageBackend) -> None:
    data = b"not what the extension says"
    put = backend.put("misc/file.bin", data, "image/webp")
    stat = backend.stat("misc/file.bin")
    assert stat == put
    assert (stat.key, stat.size, stat.content_type) == ("misc/file.bin", len(data), "image/webp")
    assert stat.etag == md5(data) and '"' not in stat.etag


def test_etag_identifies_the_bytes(backend: StorageBackend) -> None:
    a1 = backend.put("e/one", b"same bytes", "text/plain")
    a2 = backend.put("e/two", b"same bytes", "application/octet-stream")
    b = backend.put("e/three", b"same bytez", "text/plain")
    assert a1.etag == a2.etag == backend.stat("e/two").etag
    assert b.etag != a1.etag
    assert backend.stat("e/three").etag == b.etag


def test_overwrite_replaces_bytes_and_metadata(backend: StorageBackend) -> None:
    first = backend.put("o/key.png", b"first version", "image/png")
    second = backend.put("o/key.png", b"second, longer version", "image/jpeg")
    assert backend.get("o/key.png") == b"second, longer version"
    stat = backend.stat("o/key.png")
    assert stat == second
    assert stat.etag != first.etag and stat.size == len(b"second, longer version")
    assert stat.content_type == "image/jpeg"


def test_empty_object(backend: StorageBackend) -> None:
    stored = backend.put("z/empty", b"", "application/octet-stream")
    assert stored.size == 0 and stored.etag == md5(b"")
    assert backend.get("z/empty") == b""
    assert backend.stat("z/empty").size == 0
    assert backend.exists("z/empty")


def test_missing_content_type_defaults_to_octet_stream(backend: StorageBackend) -> None:
    assert backend.put("d/blob", b"x", "").content_type == "application/octet-stream"
    assert backend.stat("d/blob").content_type == "application/octet-stream"


def test_delete_is_idempotent(backend: StorageBackend) -> None:
    backend.put("d/key.webp", b"bytes", "image/webp")
    backend.put("d/other.webp", b"kept", "image/webp")
    backend.delete("d/key.webp")
    assert not backend.exists("d/key.webp")
    with pytest.raises(ObjectNotFound):
        backend.get("d/key.webp")
    backend.delete("d/key.webp")
    backend.delete("never/stored")
    assert backend.get("d/other.webp") == b"kept"


@pytest.mark.parametrize("key", ["missing", "no/such/key.png"])
def test_missing_objects_raise_object_not_found(backend: StorageBackend, key: str) -> None:
    with pytest.raises(ObjectNotFound) as get_error:
        backend.get(key)
    assert isinstance(get_error.value, StorageError)
    with pytest.raises(ObjectNotFound):
        backend.stat(key)


def test_exists(backend: StorageBackend) -> None:
    assert not backend.exists("x/a.png")
    backend.put("x/a.png", b"a", "image/png")
    assert backend.exists("x/a.png")
    assert not backend.exists("x/a.pn")
    assert not backend.exists("x/a.png.meta")


def test_sibling_and_nested_keys_are_independent(backend: StorageBackend) -> None:
    backend.put("n/a/one", b"1", "text/plain")
    backend.put("n/a/two", b"2", "text/plain")
    backend.put("n/b/one", b"3", "text/plain")
    assert [backend.get(k) for k in ("n/a/one", "n/a/two", "n/b/one")] == [b"1", b"2", b"3"]
    backend.delete("n/a/one")
    assert backend.get("n/a/two") == b"2" and backend.get("n/b/one") == b"3"


def test_unusual_but_valid_keys(backend: StorageBackend) -> None:
    keys = ["sp ace/ünïcödé.png", "a-b_c/1.2.3", "UPPER/x~y+z@w=v", "x..y/double..dots"]
    for i, key in enumerate(keys):
        backend.put(key, f"value {i}".encode(), "text/plain")
    assert [backend.get(k) for k in keys] == [f"value {i}".encode() for i in range(len(keys))]


INVALID_KEYS = [
    "",
    "/absolute/key.png",
    "/",
    "..",
    "../escape",
    "a/../../escape",
    "a/..",
    ".",
    "./a",
    "a/./b",
    "a//b",
    "a/",
    "back\\slash",
    "..\\escape",
    ".hidden",
    "a/.sidecar.meta",
    "nul\x00byte",
    "new\nline",
]


@pytest.mark.parametrize("key", INVALID_KEYS)
def test_invalid_keys_are_rejected(backend: StorageBackend, key: str) -> None:
    with pytest.raises(ValueError):
        backend.put(key, b"data", "text/plain")
    for op in (backend.get, backend.stat, backend.delete, backend.exists):
        with pytest.raises(ValueError):
            op(key)


def test_large_object(backend: StorageBackend) -> None:
    data = random.Random(1234).randbytes(6 * 1024 * 1024 + 17)
    stored = backend.put("big/object.bin", data, "application/octet-stream")
    assert stored.size == len(data) and stored.etag == md5(data)
    assert backend.get("big/object.bin") == data
    assert backend.stat("big/object.bin").size == len(data)
