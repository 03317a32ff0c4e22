"""The few shared services of one process, built once from settings."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from atelier.config import Settings
from atelier.db.engine import Database
from atelier.events.bus import EventBus, build_bus
from atelier.images.service import ImageService
from atelier.providers.policy import ProviderPolicy
from atelier.providers.registry import ProviderRegistry, build_registry
from atelier.storage.base import StorageBackend
from atelier.storage.factory import build_storage

if TYPE_CHECKING:
    from celery import Celery

    from atelier.tasks.writer import TaskWriter
    from atelier.worker.dispatch import Dispatcher


@dataclass
class Runtime:
    settings: Settings
    db: Database
    storage: StorageBackend
    images: ImageService
    bus: EventBus
    providers: ProviderRegistry
    policy: ProviderPolicy
    celery: Celery
    dispatcher: Dispatcher
    writer: TaskWriter

    def close(self) -> None:
        self.writer.close()
        self.dispatcher.close()
        self.policy.close()
        self.providers.close()
        self.storage.close()
        self.db.dispose()


def build_runtime(settings: Settings, *, worker: bool = False) -> Runtime:
    from atelier.tasks.writer import TaskWriter
    from atelier.worker.celery_app import create_celery
    from atelier.worker.dispatch import Dispatcher

    db = Database(settings)
    storage = build_storage(settings, db)
    providers = build_registry(settings)
    celery = create_celery(settings)
    bus = build_bus(settings, db, worker=worker)
    dispatcher = Dispatcher(celery, bus)
    return Runtime(
        settings=settings,
        db=db,
        storage=storage,
        images=ImageService(settings, storage),
        bus=bus,
        providers=providers,
        policy=ProviderPolicy(settings.policy, providers, db, storage),
        celery=celery,
        dispatcher=dispatcher,
        writer=TaskWriter(db, dispatcher, bus),
    )
