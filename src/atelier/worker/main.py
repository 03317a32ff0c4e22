"""Starting a worker process."""

from __future__ import annotations

import logging
import os
import socket

from atelier.config import Settings
from atelier.runtime import Runtime, build_runtime
from atelier.storage.replication import start_replicator
from atelier.system.heartbeat import Heartbeat
from atelier.worker.celery_app import QUEUES
from atelier.worker.recovery import Sweeper
from atelier.worker.runner import set_runtime

log = logging.getLogger(__name__)


def preload_models(runtime: Runtime) -> None:
    """GPU workers load their diffusion models before taking tasks."""
    seen: set[int] = set()
    for info in runtime.providers.models():
        provider = runtime.providers.resolve(info.id).provider
        preload = getattr(provider, "preload", None)
        if callable(preload) and id(provider) not in seen:
            seen.add(id(provider))
            log.info("preloading %s models", info.provider)
            preload()


def run_worker(settings: Settings, queues: list[str], concurrency: int, pool: str) -> None:
    unknown = sorted(set(queues) - set(QUEUES))
    if unknown:
        raise SystemExit(f"unknown queue(s): {', '.join(unknown)}; known: {', '.join(QUEUES)}")
    runtime = build_runtime(settings, worker=True)
    set_runtime(runtime)
    if (
        "gpu" in queues
        and settings.providers.diffusers.models
        and settings.providers.diffusers.preload
    ):
        preload_models(runtime)
    sweeper = Sweeper(runtime)
    sweeper.start()
    replicator = start_replicator(runtime)  # multi-endpoint storage only
    heartbeat = Heartbeat(runtime, queues, concurrency)
    heartbeat.start()
    try:
        worker = runtime.celery.Worker(
            queues=queues,
            concurrency=concurrency,
            pool=pool,
            loglevel=settings.log_level.upper(),
            # one name per process: on RabbitMQ a worker's remote-control queue is exclusive
            # to its name, and two workers on one host (atelier serve's two) would clash
            hostname=f"atelier-{os.getpid()}@{socket.gethostname()}",
            without_heartbeat=True,
            without_gossip=True,
            without_mingle=True,
        )
        worker.start()
    finally:
        heartbeat.stop()
        sweeper.stop()
        if replicator is not None:
            replicator.stop()
        set_runtime(None)
        runtime.close()
