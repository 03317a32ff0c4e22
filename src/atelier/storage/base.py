"""The object-storage interface: bytes live here, metadata lives in the database."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable


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
