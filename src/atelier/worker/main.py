"""Starting a worker process."""

from __future__ import annotations

from atelier.config import Settings
from atelier.runtime import build_runtime
from atelier.worker.celery_app import QUEUES
from atelier.worker.recovery import Sweeper
from atelier.worker.runner import set_runtime


def run_worker(settings: Settings, queues: list[str], concurrency: int, pool: str) -> None:
    unknown = sorted(set(queues) - set(QUEUES))
    if unknown:
        raise SystemExit(f"unknown queue(s): {', '.join(unknown)}; known: {', '.join(QUEUES)}")
    runtime = build_runtime(settings, worker=True)
    set_runtime(runtime)
    sweeper = Sweeper(runtime)
    sweeper.start()
    try:
        worker = runtime.celery.Worker(
            queues=queues,
            concurrency=concurrency,
            pool=pool,
            loglevel=settings.log_level.upper(),
            hostname=None,
            without_heartbeat=True,
            without_gossip=True,
            without_mingle=True,
        )
        worker.start()
    finally:
        sweeper.stop()
        set_runtime(None)
        runtime.close()
