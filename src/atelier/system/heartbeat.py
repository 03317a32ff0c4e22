"""A worker's heartbeat: its row in ``workers``, refreshed every few seconds with what its
GPUs hold (memory, utilisation where the driver tells), removed when it stops."""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
from typing import Any

from sqlalchemy import delete, update

from atelier.db.base import utcnow
from atelier.runtime import Runtime
from atelier.system.models import WorkerBeat

log = logging.getLogger(__name__)
INTERVAL = 10.0
#: A worker whose row is older than this is gone (killed without removing its row).
STALE_AFTER = 3 * INTERVAL


def gpu_stats() -> list[dict[str, Any]]:
    """Per CUDA device: memory used/total in bytes and utilisation (0-1) when known. Empty
    without torch or a GPU; never initialises CUDA in a process that has not."""
    try:
        import torch
    except ImportError:
        return []
    try:
        initialized = torch.cuda.is_initialized()  # type: ignore[no-untyped-call]
        if not torch.cuda.is_available() or not initialized:
            return []
        stats = []
        for index in range(torch.cuda.device_count()):
            free, total = torch.cuda.mem_get_info(index)
            entry: dict[str, Any] = {
                "index": index,
                "name": torch.cuda.get_device_name(index),
                "memory_used_bytes": int(total - free),
                "memory_total_bytes": int(total),
            }
            # needs pynvml; memory is still worth reporting without it
            with contextlib.suppress(Exception):
                entry["utilization"] = torch.cuda.utilization(index) / 100.0
            stats.append(entry)
        return stats
    except Exception:
        log.debug("could not read GPU statistics", exc_info=True)
        return []


class Heartbeat(threading.Thread):
    def __init__(self, runtime: Runtime, queues: list[str], concurrency: int) -> None:
        super().__init__(name="atelier-heartbeat", daemon=True)
        self.runtime = runtime
        self.hostname = socket.gethostname()[:100]
        self.id = f"{self.hostname}:{os.getpid()}"
        self.queues = ",".join(queues)
        self.concurrency = concurrency
        self._stop_event = threading.Event()

    def beat(self) -> None:
        now = utcnow()
        gpus = gpu_stats()
        with self.runtime.db.session() as s:
            updated = s.execute(
                update(WorkerBeat)
                .where(WorkerBeat.id == self.id)
                .values(last_seen=now, gpus=gpus)
                .execution_options(synchronize_session=False)
            )
            if not getattr(updated, "rowcount", 0):
                s.add(
                    WorkerBeat(
                        id=self.id,
                        hostname=self.hostname,
                        pid=os.getpid(),
                        queues=self.queues,
                        concurrency=self.concurrency,
                        gpus=gpus,
                        started_at=now,
                        last_seen=now,
                    )
                )

    def run(self) -> None:
        while True:
            try:
                self.beat()
            except Exception:
                log.warning("worker heartbeat failed", exc_info=True)
            if self._stop_event.wait(INTERVAL):
                break
        try:
            with self.runtime.db.session() as s:
                s.execute(delete(WorkerBeat).where(WorkerBeat.id == self.id))
        except Exception:
            log.warning("could not remove this worker's heartbeat", exc_info=True)

    def stop(self) -> None:
        self._stop_event.set()
        if self.is_alive():
            self.join(10)
