"""Imports every model so the metadata is complete (Alembic, tests)."""

from atelier.db.base import Base
from atelier.images.models import ImageRecord
from atelier.tasks.models import Task, TaskEvent
from atelier.webhooks.models import WebhookDelivery

__all__ = ["Base", "ImageRecord", "Task", "TaskEvent", "WebhookDelivery"]
