"""Local-directory backend: layout, atomic writes, cheap stat, the factory."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest

from atelier.config import Settings, StorageSettings
from atelier.storage.base import ObjectNotFound, StorageError
from atelier.storage.factory import build_storage
from atelier.storage.local import LocalStorage


def files_under(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def test_objects_are_plain_files_under_the_root(local_storage: LocalStorage) -> None:
    local_storage.put("images/ab/abc.png", b"png bytes", "image/png")
    root = local_storage.root
    assert (root / "images" / "ab" / "abc.png").read_bytes() == b"png bytes"
    assert files_under(root) == ["images/ab/.abc.png.meta", "images/ab/abc.png"]


def test_no_temporary_files_are_left_behind(local_storage: LocalStorage) -> None:
    for i in range(5):
        local_storage.put("k/obj.webp", f"version {i}".encode(), "image/webp")
        local_storage.put(f"k/other-{i}", b"x" * i, "text/plain")
    local_storage.delete("k/other-0")
    names = files_under(local_storage.root)
    assert not [n for n in names if ".tmp-" in n]
    expected = {"k/obj.webp", "k/.obj.webp.meta"}
    expected |= {f"k/other-{i}" for i in range(1, 5)} | {f"k/.other-{i}.meta" for i in range(1, 5)}
    assert set(names) == expected


def test_delete_removes_the_sidecar_too(local_storage: LocalStorage) -> None:
    local_storage.put("a/b.png", b"data", "image/png")
    local_storage.delete("a/b.png")
    assert files_under(local_storage.root) == []


def test_a_failed_write_keeps_the_old_object_and_leaves_no_temp_file(
    local_storage: LocalStorage, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = local_storage.put("a/key.png", b"old bytes", "image/png")

    def broken_replace(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(StorageError, match="No space left"):
        local_storage.put("a/key.png", b"new bytes", "image/jpeg")
    monkeypatch.undo()
    assert local_storage.get("a/key.png") == b"old bytes"
    assert local_storage.stat("a/key.png") == old
    assert files_under(local_storage.root) == ["a/.key.png.meta", "a/key.png"]


def test_stat_does_not_read_the_object(
    local_storage: LocalStorage, monkeypatch: pytest.MonkeyPatch
) -> None:
    stored = local_storage.put("s/big.bin", b"\x00" * 100_000, "application/x-custom")
    real_read_bytes = Path.read_bytes

    def guarded_read_bytes(self: Path) -> bytes:
        assert self.name != "big.bin", "stat read the object's bytes"
        return real_read_bytes(self)

    monkeypatch.setattr(Path, "read_bytes", guarded_read_bytes)
    assert local_storage.stat("s/big.bin") == stored


def test_stat_ignores_a_sidecar_that_does_not_match_the_file(local_storage: LocalStorage) -> None:
    """As after a crash between the data rename and the sidecar rename."""
    local_storage.put("c/img.png", b"original", "image/webp")
    path = local_storage.root / "c" / "img.png"
    replacement = local_storage.root / "c" / "replacement"
    replacement.write_bytes(b"changed behind the sidecar's back")
    os.replace(replacement, path)
    stat = local_storage.stat("c/img.png")
    expected = hashlib.md5(b"changed behind the sidecar's back", usedforsecurity=False)
    assert stat.etag == expected.hexdigest()
    assert stat.size == len(b"changed behind the sidecar's back")
    assert stat.content_type == "image/webp"


@pytest.mark.parametrize("sidecar", [None, b"{not json", b"[1, 2]", b'{"etag": 5}'])
def test_stat_without_a_usable_sidecar_hashes_and_guesses(
    local_storage: LocalStorage, sidecar: bytes | None
) -> None:
    local_storage.put("g/photo.jpeg", b"jpeg-ish", "image/jpeg")
    meta = local_storage.root / "g" / ".photo.jpeg.meta"
    if sidecar is None:
        meta.unlink()
    else:
        meta.write_bytes(sidecar)
    stat = local_storage.stat("g/photo.jpeg")
    assert stat.etag == hashlib.md5(b"jpeg-ish", usedforsecurity=False).hexdigest()
    assert stat.size == 8 and stat.content_type == "image/jpeg"


def test_sidecar_is_json_describing_the_object(local_storage: LocalStorage) -> None:
    stored = local_storage.put("m/x.png", b"pixels", "image/png")
    meta = json.loads((local_storage.root / "m" / ".x.png.meta").read_text())
    assert meta["etag"] == stored.etag and meta["content_type"] == "image/png"
    assert meta["size"] == 6


def test_a_directory_is_not_an_object(local_storage: LocalStorage) -> None:
    local_storage.put("dir/inner/file", b"x", "text/plain")
    assert not local_storage.exists("dir/inner")
    with pytest.raises(ObjectNotFound):
        local_storage.get("dir/inner")
    with pytest.raises(ObjectNotFound):
        local_storage.stat("dir")
    local_storage.delete("dir/inner")
    assert local_storage.get("dir/inner/file") == b"x"


def test_a_key_below_a_file_is_missing_or_unwritable(local_storage: LocalStorage) -> None:
    local_storage.put("f/leaf", b"x", "text/plain")
    assert not local_storage.exists("f/leaf/child")
    with pytest.raises(ObjectNotFound):
        local_storage.get("f/leaf/child")
    with pytest.raises(ObjectNotFound):
        local_storage.stat("f/leaf/child")
    local_storage.delete("f/leaf/child")
    with pytest.raises(StorageError) as error:
        local_storage.put("f/leaf/child", b"y", "text/plain")
    assert not isinstance(error.value, ObjectNotFound)
    assert local_storage.get("f/leaf") == b"x"


def test_keys_cannot_escape_the_root(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path / "root")
    for key in ("../outside", "a/../../outside", "/tmp/outside"):
        with pytest.raises(ValueError):
            storage.put(key, b"x", "text/plain")
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_factory_builds_local_storage_at_the_storage_root(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, data_dir=tmp_path / "data")  # type: ignore[call-arg]
    storage = build_storage(settings)
    assert isinstance(storage, LocalStorage) and storage.name == "local"
    assert storage.root == tmp_path / "data" / "storage"
    elsewhere = StorageSettings(local_root=tmp_path / "elsewhere")
    custom = Settings(_env_file=None, storage=elsewhere)  # type: ignore[call-arg]
    built = build_storage(custom)
    assert isinstance(built, LocalStorage) and built.root == tmp_path / "elsewhere"
