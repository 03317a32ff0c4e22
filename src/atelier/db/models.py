"""Imports every model so the metadata is complete (Alembic, tests)."""

from atelier.accounts.models import ApiKey, OwnerUpgrade, RefreshToken, User
from atelier.db.base import Base
from atelier.images.models import ImageRecord
from atelier.library.models import (
    LibraryChange,
    LibraryCollection,
    LibraryCollectionItem,
    LibraryEmbedding,
    LibraryImage,
    LibraryTag,
)
from atelier.manga.store import MangaJob, MangaPanel
from atelier.providers.models import CachedResult, ProviderCall
from atelier.storage.models import StorageEndpoint, StorageReplica
from atelier.system.models import WorkerBeat
from atelier.tasks.models import Task, TaskEvent
from atelier.webhooks.models import WebhookDelivery

__all__ = [
    "ApiKey",
    "Base",
    "CachedResult",
    "ImageRecord",
    "LibraryChange",
    "LibraryCollection",
    "LibraryCollectionItem",
    "LibraryEmbedding",
    "LibraryImage",
    "LibraryTag",
    "MangaJob",
    "MangaPanel",
    "OwnerUpgrade",
    "ProviderCall",
    "RefreshToken",
    "StorageEndpoint",
    "StorageReplica",
    "Task",
    "TaskEvent",
    "User",
    "WebhookDelivery",
    "WorkerBeat",
]
