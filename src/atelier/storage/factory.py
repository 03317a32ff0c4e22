"""Builds the configured storage backend."""

from __future__ import annotations

from atelier.config import Settings
from atelier.storage.base import StorageBackend


def build_storage(settings: Settings) -> StorageBackend:
    """The backend named by ``settings.storage.backend``: ``local`` (files under
    ``settings.storage_root``) or ``s3`` (``settings.storage.s3``)."""
    backend = settings.storage.backend
    if backend == "s3":
        from atelier.storage.s3 import S3Storage

        return S3Storage(settings.storage.s3)
    if backend == "local":
        from atelier.storage.local import LocalStorage

        return LocalStorage(settings.storage_root)
    raise ValueError(f"unknown storage backend {backend!r}")
