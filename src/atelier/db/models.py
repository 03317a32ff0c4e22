"""Imports every model so the metadata is complete (Alembic, tests)."""

from atelier.db.base import Base
from atelier.images.models import ImageRecord
from atelier.providers.models import CachedResult, ProviderCall
from atelier.tasks.models import Task, TaskEvent
from atelier.webhooks.models import WebhookDelivery

__all__ = [
    "Base",
    "CachedResult",
    "ImageRecord",
    "ProviderCall",
    "Task",
    "TaskEvent",
    "WebhookDelivery",
]
