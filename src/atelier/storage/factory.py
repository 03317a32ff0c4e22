"""Builds the configured storage backend."""

from __future__ import annotations

from typing import TYPE_CHECKING

from atelier.config import Settings
from atelier.storage.base import StorageBackend

if TYPE_CHECKING:
    from atelier.db.engine import Database


def build_storage(
    settings: Settings, db: Database | None = None, *, monitor: bool = True
) -> StorageBackend:
    """The backend named by ``settings.storage.backend``: ``local`` (files under
    ``settings.storage_root``) or ``s3`` (``settings.storage.s3``); or, when multi-endpoint
    storage is on (``storage.endpoints`` or ``storage.multi``) and a database is given,
    :class:`~atelier.storage.multi.MultiStorage` over all endpoints (``monitor``: probe their
    health in a background thread)."""
    if settings.storage.multi_enabled and db is not None:
        from atelier.storage.multi import MultiStorage

        return MultiStorage(settings, db, monitor=monitor)
    backend = settings.storage.backend
    if backend == "s3":
        from atelier.storage.s3 import S3Storage

        return S3Storage(settings.storage.s3)
    if backend == "local":
        from atelier.storage.local import LocalStorage

        return LocalStorage(settings.storage_root)
    raise ValueError(f"unknown storage backend {backend!r}")
