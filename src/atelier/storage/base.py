"""The object-storage interface: bytes live here, metadata lives in the database."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

DEFAULT_CONTENT_TYPE = "application/octet-stream"


def validate_key(key: str) -> list[str]:
    """Check that ``key`` is a relative POSIX path of plain segments; return its segments.

    Rejected with :class:`ValueError`: empty keys, absolute keys, backslashes, NUL and other
    control characters, empty segments (``a//b``, trailing ``/``), and segments starting with
    ``.`` (which covers ``.`` and ``..``).
    """
    if not isinstance(key, str) or not key:
        raise ValueError("storage key must be a non-empty string")
    if key.startswith("/"):
        raise ValueError(f"storage key must be relative: {key!r}")
    if "\\" in key:
        raise ValueError(f"storage key must not contain backslashes: {key!r}")
    if any(ord(c) < 0x20 or c == "\x7f" for c in key):
        raise ValueError(f"storage key must not contain control characters: {key!r}")
    parts = key.split("/")
    for part in parts:
        if not part:
            raise ValueError(f"storage key has an empty segment: {key!r}")
        if part.startswith("."):
            raise ValueError(f"storage key segments must not start with '.': {key!r}")
    return parts


class StorageError(Exception):
    """A storage backend failed (I/O, network, permissions)."""


class ObjectNotFound(StorageError):
    """No object is stored under the key."""


@dataclass(frozen=True)
class StoredObject:
    key: str
    size: int
    etag: str  # quoted-free strong validator, stable for identical bytes
    content_type: str


@runtime_checkable
class StorageBackend(Protocol):
    """Keys are relative POSIX paths such as ``images/ab/abcdef.png``; backends must reject
    absolute keys and ``..`` segments."""

    name: str

    def put(self, key: str, data: bytes, content_type: str) -> StoredObject: ...

    def get(self, key: str) -> bytes: ...

    def stat(self, key: str) -> StoredObject: ...

    def delete(self, key: str) -> None:
        """Remove the object; deleting a missing key is not an error."""
        ...

    def exists(self, key: str) -> bool: ...

    def close(self) -> None:
        """Release connections (a no-op for backends that hold none)."""
        ...
