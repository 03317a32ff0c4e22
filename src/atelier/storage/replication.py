"""The replication job: the replica table, not memory, says what is still to copy or delete.

One pass (:func:`replicate`) does four things, each safe to run in any number of workers at
once (rows are claimed by compare-and-set before they are worked on):

1. **scan**: an endpoint from the settings that was never scanned (for instance the one
   directory of an installation that just turned multi-endpoint storage on) is listed, and its
   objects recorded ``present``;
2. **plan**: every active endpoint gets a ``pending`` row for each object present elsewhere
   and unknown there: a new backup receives every existing object, and the objects of a
   ``draining`` endpoint are copied to the active ones, so that it can be removed. New
   endpoints are planned at once, all endpoints again every ``plan_interval`` seconds;
3. **copy**: due ``pending`` and ``failed`` rows of active, healthy endpoints are copied from
   an endpoint holding the object; a failure is retried with exponential backoff and jitter
   (``retry_base_delay`` doubling up to ``retry_max_delay``), for as long as it takes;
4. **delete**: due ``deleting`` rows are deleted from their endpoint, with the same retries.

:class:`Replicator` runs passes every ``storage.replication.interval`` seconds in each worker.
"""

from __future__ import annotations

import logging
import random
import threading
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from atelier.config import StorageReplicationSettings
from atelier.db.base import utcnow
from atelier.storage import repository as repo
from atelier.storage.base import ObjectNotFound, StorageError, StoredObject
from atelier.storage.health import PROBE_PREFIX
from atelier.storage.models import ACTIVE, DELETING, DOWN, FAILED, PENDING, PRESENT
from atelier.storage.multi import MultiStorage
from atelier.storage.specs import EndpointSpec

if TYPE_CHECKING:
    from atelier.runtime import Runtime

log = logging.getLogger(__name__)
SCAN_CHUNK = 500
PLAN_CHUNK = 1000
COPY = (PENDING, FAILED)
REMOVE = (DELETING,)


def backoff(attempts: int, cfg: StorageReplicationSettings, rng: random.Random) -> float:
    """Seconds before retry number ``attempts`` (1, 2, ...): exponential, capped, ±20 %."""
    delay = min(cfg.retry_base_delay * 2.0 ** max(attempts - 1, 0), cfg.retry_max_delay)
    return delay * rng.uniform(0.8, 1.2)


def replicate(storage: MultiStorage) -> int:
    """One pass; returns how many objects were recorded, copied or deleted."""
    specs = storage.refresh(force=True)
    acted = scan(storage, specs)
    if any(spec.needs_scan for spec in specs):
        specs = storage.refresh(force=True)  # scanned: plan everything again
    acted += plan(storage, specs)
    acted += copy_pending(storage, specs)
    acted += delete_pending(storage, specs)
    return acted


def scan(storage: MultiStorage, specs: list[EndpointSpec]) -> int:
    found = 0
    for spec in specs:
        if not spec.needs_scan or spec.state == DOWN or not storage.health.healthy(spec.id):
            continue
        try:
            backend = storage.backend(spec)
            lister = getattr(backend, "iter_keys", None)
            chunk: list[str] = []
            for key in lister() if lister is not None else ():
                if key.startswith(PROBE_PREFIX):
                    continue
                chunk.append(key)
                if len(chunk) >= SCAN_CHUNK:
                    found += _record_scan(storage, spec.id, chunk)
                    chunk = []
            found += _record_scan(storage, spec.id, chunk)
        except StorageError as exc:
            storage.health.fail(spec.id, exc)
            log.warning("could not scan storage endpoint %s: %s", spec.id, exc)
            continue
        with storage.db.session() as s:
            repo.set_endpoint(s, spec.id, utcnow(), needs_scan=False)
            repo.replan_all(s)
        log.info("storage endpoint %s scanned", spec.id)
    return found


def _record_scan(storage: MultiStorage, endpoint_id: str, keys: list[str]) -> int:
    if not keys:
        return 0
    with storage.db.session() as s:
        return repo.insert_present(s, endpoint_id, keys, utcnow())


def plan(storage: MultiStorage, specs: list[EndpointSpec]) -> int:
    interval = timedelta(seconds=storage.settings.storage.replication.plan_interval)
    total = 0
    for spec in specs:
        now = utcnow()
        if spec.state != ACTIVE or (spec.planned_at and spec.planned_at > now - interval):
            continue
        added = 0
        while True:
            with storage.db.session() as s:
                n = repo.plan(s, spec.id, now, PLAN_CHUNK)
            added += n
            if n < PLAN_CHUNK:
                break
        with storage.db.session() as s:
            repo.set_endpoint(s, spec.id, utcnow(), planned_at=now)
        if added:
            log.info("storage endpoint %s: %d objects to copy", spec.id, added)
        total += added
    return total


def _targets(storage: MultiStorage, specs: list[EndpointSpec]) -> dict[str, EndpointSpec]:
    return {s.id: s for s in specs if s.state == ACTIVE and storage.health.healthy(s.id)}


def copy_pending(storage: MultiStorage, specs: list[EndpointSpec]) -> int:
    cfg = storage.settings.storage.replication
    targets = _targets(storage, specs)
    with storage.db.read() as s:
        items = repo.due(s, COPY, list(targets), utcnow(), cfg.batch)
    copied = 0
    for item in items:
        target = targets[item.endpoint_id]
        if storage.health.healthy(target.id):  # else it failed earlier in this pass
            copied += _copy_one(storage, item, target)
    return copied


def _copy_one(storage: MultiStorage, item: repo.Due, target: EndpointSpec) -> int:
    cfg = storage.settings.storage.replication
    key = item.key
    until = utcnow() + timedelta(seconds=cfg.claim_seconds)
    with storage.db.session() as s:
        if not repo.claim(s, item, COPY, until):
            return 0
    try:
        source, data, meta = _read_copy(storage, key, target.id)
    except StorageError as exc:  # ObjectNotFound included
        _retry(storage, item, COPY, until, f"no readable copy: {exc}")
        return 0
    try:
        storage.call(target, lambda b: b.put(key, data, meta.content_type))
    except StorageError as exc:
        _retry(storage, item, COPY, until, str(exc))
        return 0
    with storage.db.session() as s:
        done = repo.copied(s, item, until, utcnow())
        status = None if done else repo.replica_status(s, key, target.id)
    if done:
        log.debug("copied %s from %s to %s", key, source, target.id)
        return 1
    if status is None or status == DELETING:
        # deleted while it was being copied: do not leave the copy behind
        try:
            storage.call(target, lambda b: b.delete(key))
        except StorageError:
            log.warning("could not remove %s from %s after its deletion", key, target.id)
    return 0


def _read_copy(storage: MultiStorage, key: str, target: str) -> tuple[str, bytes, StoredObject]:
    """The object's bytes and metadata from an endpoint holding it (other than ``target``)."""
    rows = storage.holders(key) or {}
    holding = {e for e, status in rows.items() if status == PRESENT and e != target}
    failure: StorageError | None = None
    for spec in storage.read_order(holding):
        if spec.id not in holding:
            continue
        try:
            meta = storage.call(spec, lambda b: b.stat(key))
            data = storage.call(spec, lambda b: b.get(key))
        except StorageError as exc:  # ObjectNotFound included: try the next holder
            failure = exc
            continue
        return spec.id, data, meta
    if failure is not None:
        raise failure
    raise ObjectNotFound(f"{key} (no endpoint holds a copy)")


def delete_pending(storage: MultiStorage, specs: list[EndpointSpec]) -> int:
    cfg = storage.settings.storage.replication
    targets = {s.id: s for s in specs if s.state != DOWN and storage.health.healthy(s.id)}
    with storage.db.read() as s:
        items = repo.due(s, REMOVE, list(targets), utcnow(), cfg.batch)
    removed = 0
    for item in items:
        target = targets[item.endpoint_id]
        if storage.health.healthy(target.id):
            removed += _delete_one(storage, item, target)
    return removed


def _delete_one(storage: MultiStorage, item: repo.Due, target: EndpointSpec) -> int:
    cfg = storage.settings.storage.replication
    key = item.key
    until = utcnow() + timedelta(seconds=cfg.claim_seconds)
    with storage.db.session() as s:
        if not repo.claim(s, item, REMOVE, until):
            return 0
    try:
        storage.call(target, lambda b: b.delete(key))
    except StorageError as exc:
        _retry(storage, item, REMOVE, until, str(exc))
        return 0
    with storage.db.session() as s:
        repo.deleted(s, item, until)
    return 1


def _retry(
    storage: MultiStorage,
    item: repo.Due,
    statuses: tuple[str, ...],
    until: datetime,
    error: str,
) -> None:
    cfg = storage.settings.storage.replication
    now = utcnow()
    at = now + timedelta(seconds=backoff(item.attempts + 1, cfg, storage.rng))
    with storage.db.session() as s:
        repo.retry_later(s, item, statuses, until, error, at, now)
    log.warning(
        "storage %s of %s on %s failed (attempt %d): %s",
        "delete" if statuses == REMOVE else "copy",
        item.key,
        item.endpoint_id,
        item.attempts + 1,
        error,
    )


class Replicator(threading.Thread):
    """Runs :func:`replicate` every ``interval`` seconds until stopped."""

    def __init__(self, storage: MultiStorage, interval: float) -> None:
        super().__init__(name="atelier-replication", daemon=True)
        self.storage = storage
        self.interval = interval
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.wait(self.interval):
            try:
                replicate(self.storage)
            except Exception:
                log.exception("storage replication pass failed")

    def stop(self) -> None:
        self._stop_event.set()
        if self.is_alive():
            self.join()


def start_replicator(runtime: Runtime) -> Replicator | None:
    """Start the replication thread of a worker (only with multi-endpoint storage)."""
    if not isinstance(runtime.storage, MultiStorage):
        return None
    replicator = Replicator(runtime.storage, runtime.settings.storage.replication.interval)
    replicator.start()
    return replicator
