"""Builds the configured storage backend."""

from __future__ import annotations

from atelier.config import Settings
from atelier.storage.base import StorageBackend


def build_storage(settings: Settings) -> StorageBackend:
    if settings.storage.backend == "s3":
        from atelier.storage.s3 import S3Storage

        return S3Storage(settings.storage.s3)
    from atelier.storage.local import LocalStorage

    return LocalStorage(settings.storage_root)
