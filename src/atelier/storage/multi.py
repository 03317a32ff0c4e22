"""Storage over several endpoints, behind the one :class:`StorageBackend` interface.

- **Writes** go synchronously to the primary (the active ``primary`` endpoint with the lowest
  read priority); when it fails, to the next active endpoint (other primaries first, then
  backups), so the platform stays writable while the primary is down. The object is recorded
  ``present`` there and ``pending`` on every other active (or ``down``) endpoint; the
  replication job (:mod:`atelier.storage.replication`) makes the copies.
- **Reads** try the endpoints that hold the object (by the replica table) in order of read
  priority, then weighted random among equal priorities; unhealthy endpoints are skipped
  (tried last, only when nothing else answered) and an error falls through to the next
  endpoint. An endpoint that should hold the object but says it does not is marked
  ``pending`` again (read repair). ``draining`` endpoints are read after active ones; ``down``
  endpoints are never used.
- **Deletes** remove the object from every endpoint; an endpoint that cannot be reached keeps
  a ``deleting`` row that the replication job retries.

The endpoint list comes from the ``storage_endpoints`` table (seeded from the settings) and is
read again every ``storage.refresh_interval`` seconds, so admin changes reach every process.
"""

from __future__ import annotations

import logging
import math
import random
import threading
import time
from collections.abc import Callable, Iterable
from typing import TypeVar

from atelier.config import Settings
from atelier.db.base import utcnow
from atelier.db.engine import Database
from atelier.storage import repository as repo
from atelier.storage.base import (
    ObjectNotFound,
    StorageBackend,
    StorageError,
    StoredObject,
    validate_key,
)
from atelier.storage.health import PROBE_KEY, Health, HealthMonitor, HealthTracker
from atelier.storage.models import ACTIVE, DELETING, DOWN, DRAINING, PRESENT, PRIMARY
from atelier.storage.specs import (
    EndpointSpec,
    build_backend,
    configured_endpoints,
    spec_from_settings,
)

log = logging.getLogger(__name__)
T = TypeVar("T")


MAX_KEY = 512  # the replica table's key column


def _check_key(key: str) -> None:
    validate_key(key)
    if len(key) > MAX_KEY:
        raise ValueError(f"storage key longer than {MAX_KEY} characters: {key[:40]!r}...")


def weighted_order(specs: Iterable[EndpointSpec], rng: random.Random) -> list[EndpointSpec]:
    """Lower ``read_priority`` first; among equal priorities a weighted random order (each
    endpoint comes first with probability weight / total weight; weight 0 comes last)."""

    def rank(spec: EndpointSpec) -> tuple[int, float]:
        if spec.read_weight > 0:
            score = rng.random() ** (1.0 / spec.read_weight)  # Efraimidis-Spirakis
        else:
            score = -1.0 - rng.random()
        return spec.read_priority, -score

    return sorted(specs, key=rank)


class MultiStorage:
    """Several storage endpoints as one backend (see the module documentation)."""

    name: str = "multi"

    def __init__(self, settings: Settings, db: Database, *, monitor: bool = True) -> None:
        self.settings = settings
        self.db = db
        self.health = HealthTracker()
        self.rng = random.Random()
        self._configured = {e.id: e for e in configured_endpoints(settings)}
        self._lock = threading.RLock()
        self._specs: list[EndpointSpec] = []
        self._loaded = -math.inf
        self._seeded = False
        self._backends: dict[str, tuple[str, StorageBackend]] = {}
        self.refresh(force=True)
        self._monitor: HealthMonitor | None = None
        if monitor:
            self._monitor = HealthMonitor(self.check_health, settings.storage.health_interval)
            self._monitor.start()

    # -- endpoints ---------------------------------------------------------------------------
    def refresh(self, *, force: bool = False) -> list[EndpointSpec]:
        """The endpoint list, read again from the table when older than the refresh interval.
        When the table cannot be read, the last list (at first: the settings) is used."""
        with self._lock:
            age = time.monotonic() - self._loaded
            if not force and age < self.settings.storage.refresh_interval:
                return self._specs
            try:
                if not self._seeded:
                    now = utcnow()
                    with self.db.session() as s:
                        for endpoint in self._configured.values():
                            repo.seed_endpoint(s, spec_from_settings(endpoint), now)
                    self._seeded = True
                with self.db.read() as s:
                    specs = repo.load_endpoints(s)
            except Exception as exc:
                if not self._specs:
                    specs = [spec_from_settings(e) for e in self._configured.values()]
                    log.warning("storage endpoint table unreadable (%s); using the settings", exc)
                else:
                    log.warning("storage endpoint table unreadable (%s); keeping the list", exc)
                    specs = self._specs
            self._specs = specs
            self._loaded = time.monotonic()
            self._drop_stale_backends()
            return specs

    def endpoints(self) -> list[EndpointSpec]:
        return self.refresh()

    def endpoint(self, endpoint_id: str) -> EndpointSpec | None:
        return next((s for s in self.endpoints() if s.id == endpoint_id), None)

    def _drop_stale_backends(self) -> None:
        current = {s.id: s.fingerprint for s in self._specs}
        for endpoint_id, (fingerprint, backend) in list(self._backends.items()):
            if current.get(endpoint_id) != fingerprint:
                del self._backends[endpoint_id]
                _close_quietly(backend)
        self.health.forget(set(current))

    def backend(self, spec: EndpointSpec) -> StorageBackend:
        """The endpoint's backend, built on first use (and again after its definition
        changed). A failure to build marks the endpoint unhealthy."""
        with self._lock:
            cached = self._backends.get(spec.id)
            if cached is not None and cached[0] == spec.fingerprint:
                return cached[1]
        try:
            backend = build_backend(spec, self._configured)
        except StorageError as exc:
            self.health.fail(spec.id, exc)
            raise
        with self._lock:
            cached = self._backends.get(spec.id)
            if cached is not None and cached[0] == spec.fingerprint:
                _close_quietly(backend)
                return cached[1]
            if cached is not None:
                _close_quietly(cached[1])
            self._backends[spec.id] = (spec.fingerprint, backend)
        return backend

    def call(self, spec: EndpointSpec, op: Callable[[StorageBackend], T]) -> T:
        """Run ``op`` on the endpoint; a :class:`StorageError` other than a missing object
        marks the endpoint unhealthy."""
        try:
            return op(self.backend(spec))
        except ObjectNotFound:
            raise
        except StorageError as exc:
            self.health.fail(spec.id, exc)
            raise

    # -- ordering ----------------------------------------------------------------------------
    def write_order(self) -> list[EndpointSpec]:
        active = [s for s in self.endpoints() if s.state == ACTIVE]
        active.sort(key=lambda s: (s.role != PRIMARY, s.read_priority, s.id))
        return [s for s in active if self.health.healthy(s.id)] + [
            s for s in active if not self.health.healthy(s.id)
        ]

    def read_order(self, holding: set[str] | None) -> list[EndpointSpec]:
        """Endpoints to try for a read: holders first (``holding`` is None when unknown), by
        state, priority and weight; unhealthy endpoints last."""
        readable = [s for s in self.endpoints() if s.state in (ACTIVE, DRAINING)]
        ordered = weighted_order(readable, self.rng)

        def tier(spec: EndpointSpec) -> int:
            holds = holding is None or not holding or spec.id in holding
            return (
                (0 if self.health.healthy(spec.id) else 4)
                + (0 if holds else 2)
                + (1 if spec.state == DRAINING else 0)
            )

        return sorted(ordered, key=tier)  # stable: keeps the weighted order within a tier

    def holders(self, key: str) -> dict[str, str] | None:
        try:
            with self.db.read() as s:
                return repo.holders(s, key)
        except Exception as exc:
            log.warning("replica table unreadable (%s); trying every endpoint", exc)
            return None

    # -- health ------------------------------------------------------------------------------
    def probe(self, spec: EndpointSpec) -> Health:
        started = time.perf_counter()
        try:
            backend = self.backend(spec)
            backend.put(PROBE_KEY, str(time.time()).encode(), "text/plain")
            backend.stat(PROBE_KEY)
        except Exception as exc:
            self.health.fail(spec.id, exc)
        else:
            self.health.ok(spec.id, round((time.perf_counter() - started) * 1000, 1))
        return self.health.get(spec.id)

    def check_health(self, max_age: float = 0.0) -> dict[str, Health]:
        """Probe every endpoint in use whose last check is older than ``max_age`` seconds."""
        out = {}
        for spec in self.refresh(force=True):
            if spec.state != DOWN and self.health.stale(spec.id, max_age):
                self.probe(spec)
            out[spec.id] = self.health.get(spec.id)
        return out

    # -- StorageBackend ----------------------------------------------------------------------
    def put(self, key: str, data: bytes, content_type: str) -> StoredObject:
        _check_key(key)
        errors: list[str] = []
        for spec in self.write_order():
            try:
                stored = self.call(spec, lambda b: b.put(key, data, content_type))
            except StorageError as exc:
                errors.append(f"{spec.id}: {exc}")
                continue
            others = [
                s.id for s in self.endpoints() if s.id != spec.id and s.state in (ACTIVE, DOWN)
            ]
            try:
                with self.db.session() as s:
                    recorded = repo.record_put(s, key, spec.id, others, utcnow())
            except Exception as exc:
                raise StorageError(f"stored {key!r} but could not record it: {exc}") from exc
            if not recorded:  # the endpoint was removed meanwhile
                errors.append(f"{spec.id}: removed")
                self.refresh(force=True)
                continue
            return stored
        raise StorageError(
            f"no storage endpoint accepted {key!r}: " + ("; ".join(errors) or "none is active")
        )

    def _read(self, key: str, op: Callable[[StorageBackend], T]) -> T:
        _check_key(key)
        rows = self.holders(key)
        holding = None if rows is None else {e for e, st in rows.items() if st == PRESENT}
        deleting = set() if rows is None else {e for e, st in rows.items() if st == DELETING}
        missing: list[str] = []
        failure: StorageError | None = None
        for spec in self.read_order(holding):
            if spec.id in deleting:
                continue
            try:
                value = self.call(spec, op)
            except ObjectNotFound:
                if holding and spec.id in holding:
                    missing.append(spec.id)
                continue
            except StorageError as exc:
                failure = exc
                continue
            if missing:
                self._repair(key, missing)
            return value
        if failure is not None:
            raise StorageError(f"no storage endpoint could serve {key!r}: {failure}") from failure
        raise ObjectNotFound(key)

    def _repair(self, key: str, endpoint_ids: list[str]) -> None:
        log.warning("object %s is missing on %s; copying it there again", key, endpoint_ids)
        try:
            with self.db.session() as s:
                repo.mark_lost(s, key, endpoint_ids, utcnow())
        except Exception:
            log.exception("could not record missing replicas of %s", key)

    def get(self, key: str) -> bytes:
        return self._read(key, lambda b: b.get(key))

    def stat(self, key: str) -> StoredObject:
        return self._read(key, lambda b: b.stat(key))

    def exists(self, key: str) -> bool:
        try:
            self._read(key, lambda b: b.stat(key))
        except ObjectNotFound:
            return False
        return True

    def delete(self, key: str) -> None:
        _check_key(key)
        rows = self.holders(key)
        done: list[str] = []
        failed: dict[str, str] = {}
        for spec in self.endpoints():
            if spec.state == DOWN or not self.health.healthy(spec.id):
                if rows is None or spec.id in rows or spec.state != DOWN:
                    failed[spec.id] = f"endpoint is {'down' if spec.state == DOWN else 'unhealthy'}"
                continue
            try:
                self.call(spec, lambda b: b.delete(key))
            except StorageError as exc:
                failed[spec.id] = str(exc)
            else:
                done.append(spec.id)
        try:
            with self.db.session() as s:
                repo.record_delete(s, key, done, failed, utcnow())
        except Exception as exc:
            raise StorageError(f"deleted {key!r} but could not record it: {exc}") from exc

    def close(self) -> None:
        if self._monitor is not None:
            self._monitor.stop()
        with self._lock:
            backends = [b for _, b in self._backends.values()]
            self._backends.clear()
        for backend in backends:
            _close_quietly(backend)


def _close_quietly(backend: StorageBackend) -> None:
    try:
        backend.close()
    except Exception:
        log.exception("could not close storage backend %s", backend.name)
