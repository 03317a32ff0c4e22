"""Local-directory storage: one file per object, written atomically.

Layout: the object ``images/ab/abc.png`` is the file ``<root>/images/ab/abc.png``; beside it a
small JSON sidecar ``<root>/images/ab/.abc.png.meta`` holds its etag and content type, so that
``stat`` does not read the object. Names whose first character is ``.`` are reserved for the
backend (sidecars and ``.tmp-*`` files being written), which is why :func:`validate_key` rejects
key segments starting with a dot: no key can collide with them.

A write goes to a temporary file in the target directory, is flushed and fsynced, and is moved
over the target with :func:`os.replace`; readers see the old bytes or the new, never a mix. The
sidecar records the inode, size and modification time of the data file it describes; a sidecar
that does not match its data file (a crash between the two renames, or two racing writers) is
ignored and the etag is recomputed from the bytes.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import mimetypes
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from atelier.storage.base import (
    DEFAULT_CONTENT_TYPE,
    ObjectNotFound,
    StorageError,
    StoredObject,
    validate_key,
)

_META_SUFFIX = ".meta"
_TMP_PREFIX = ".tmp-"


def md5_hex(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def _guess_type(key: str) -> str:
    return mimetypes.guess_type(key, strict=False)[0] or DEFAULT_CONTENT_TYPE


def _fsync_dir(directory: Path) -> None:
    """Make a rename in ``directory`` durable (not possible on every platform)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _write_temp(directory: Path, data: bytes) -> tuple[str, os.stat_result]:
    """Write ``data`` to a fsynced temporary file in ``directory``; return its path and stat."""
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=_TMP_PREFIX)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
            st = os.fstat(fh.fileno())
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return tmp, st


class LocalStorage:
    """Objects as files under ``root``."""

    name: str = "local"

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    # -- paths -------------------------------------------------------------------------------
    def _path(self, key: str) -> Path:
        return self.root.joinpath(*validate_key(key))

    @staticmethod
    def _meta_path(path: Path) -> Path:
        return path.with_name(f".{path.name}{_META_SUFFIX}")

    # -- operations --------------------------------------------------------------------------
    def put(self, key: str, data: bytes, content_type: str) -> StoredObject:
        path = self._path(key)
        etag = md5_hex(data)
        content_type = content_type or DEFAULT_CONTENT_TYPE
        tmp_data: str | None = None
        tmp_meta: str | None = None
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp_data, st = _write_temp(path.parent, data)
            meta = {
                "etag": etag,
                "content_type": content_type,
                "size": st.st_size,
                "ino": st.st_ino,
                "mtime_ns": st.st_mtime_ns,
            }
            tmp_meta, _ = _write_temp(path.parent, json.dumps(meta).encode())
            os.replace(tmp_data, path)
            tmp_data = None
            os.replace(tmp_meta, self._meta_path(path))
            tmp_meta = None
            _fsync_dir(path.parent)
        except OSError as exc:
            raise StorageError(f"could not write {key!r}: {exc}") from exc
        finally:
            for leftover in (tmp_data, tmp_meta):
                if leftover is not None:
                    with contextlib.suppress(OSError):
                        os.unlink(leftover)
        return StoredObject(key=key, size=len(data), etag=etag, content_type=content_type)

    def get(self, key: str) -> bytes:
        path = self._path(key)
        try:
            return path.read_bytes()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise ObjectNotFound(key) from None
        except OSError as exc:
            raise StorageError(f"could not read {key!r}: {exc}") from exc

    def stat(self, key: str) -> StoredObject:
        path = self._path(key)
        try:
            st = path.stat()
        except (FileNotFoundError, NotADirectoryError):
            raise ObjectNotFound(key) from None
        except OSError as exc:
            raise StorageError(f"could not stat {key!r}: {exc}") from exc
        if not path.is_file():
            raise ObjectNotFound(key)
        meta = self._read_meta(path)
        if (
            meta is not None
            and meta.get("size") == st.st_size
            and meta.get("ino") == st.st_ino
            and meta.get("mtime_ns") == st.st_mtime_ns
            and isinstance(meta.get("etag"), str)
            and isinstance(meta.get("content_type"), str)
        ):
            return StoredObject(key, st.st_size, meta["etag"], meta["content_type"])
        # No sidecar describing this very file: hash the bytes. A stale sidecar's content type
        # is still the best guess (it is almost always the same key rewritten).
        data = self.get(key)
        content_type = meta.get("content_type") if meta is not None else None
        if not isinstance(content_type, str) or not content_type:
            content_type = _guess_type(key)
        return StoredObject(key, len(data), md5_hex(data), content_type)

    def _read_meta(self, path: Path) -> dict[str, Any] | None:
        try:
            meta = json.loads(self._meta_path(path).read_bytes())
        except (OSError, ValueError):
            return None
        return meta if isinstance(meta, dict) else None

    def delete(self, key: str) -> None:
        path = self._path(key)
        try:
            if path.is_dir():
                return
            path.unlink(missing_ok=True)
            self._meta_path(path).unlink(missing_ok=True)
        except NotADirectoryError:
            return
        except OSError as exc:
            raise StorageError(f"could not delete {key!r}: {exc}") from exc

    def exists(self, key: str) -> bool:
        path = self._path(key)
        try:
            return path.is_file()
        except OSError as exc:  # pragma: no cover - is_file swallows most errors
            raise StorageError(f"could not check {key!r}: {exc}") from exc

    def iter_keys(self) -> Iterator[str]:
        """Every stored key (sidecars and files being written are skipped), in no order."""
        if not self.root.is_dir():
            return
        try:
            for directory, dirs, files in os.walk(self.root):
                dirs[:] = [d for d in dirs if not d.startswith(".")]
                rel = Path(directory).relative_to(self.root)
                for name in files:
                    if not name.startswith("."):
                        yield (rel / name).as_posix()
        except OSError as exc:
            raise StorageError(f"could not list {self.root}: {exc}") from exc

    def close(self) -> None:
        """Nothing to release; present for symmetry with :class:`S3Storage`."""
