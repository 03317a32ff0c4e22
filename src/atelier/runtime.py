"""The few shared services of one process, built once from settings."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from atelier.config import Settings
from atelier.db.engine import Database
from atelier.events.bus import EventBus, build_bus
from atelier.images.service import ImageService
from atelier.providers.registry import ProviderRegistry, build_registry
from atelier.storage.base import StorageBackend
from atelier.storage.factory import build_storage

if TYPE_CHECKING:
    from celery import Celery


@dataclass
class Runtime:
    settings: Settings
    db: Database
    storage: StorageBackend
    images: ImageService
    bus: EventBus
    providers: ProviderRegistry
    celery: Celery

    def close(self) -> None:
        self.storage.close()
        self.db.dispose()


def build_runtime(settings: Settings, *, worker: bool = False) -> Runtime:
    from atelier.worker.celery_app import create_celery

    db = Database(settings)
    storage = build_storage(settings)
    return Runtime(
        settings=settings,
        db=db,
        storage=storage,
        images=ImageService(settings, storage),
        bus=build_bus(settings, db, worker=worker),
        providers=build_registry(settings),
        celery=create_celery(settings),
    )
