"""Retention clean-up: old work of anonymous sessions (and, if configured, of users) and the
progress events of long-finished tasks are deleted.

- **Tasks** of an owner class (``anon:…`` sessions, ``user:…`` accounts) that finished longer
  ago than the class's age are deleted with their child tasks, events, webhook deliveries and
  images; **uploads** (images of no task) of the class made longer ago go too. Other owners
  (the local CLI's ``local:cli``) are never touched.
- **Events** of tasks finished longer ago than ``RETENTION__EVENT_DAYS`` are deleted except the
  last (terminal) one, so a stream opened on an old task still ends at once.
- **The library's change log** keeps the last :data:`CHANGE_LOG_HOURS`: every process reads it
  within seconds (and forgets a gap in it after a minute); a process that starts loads the
  whole index instead. The newest entry always stays, so ids never start over.

Rows go first, bytes after (a leftover object is harmless, a row without bytes is not): one
transaction per batch deletes the image rows with ``RETURNING`` and the tasks, commits, and only
then are the objects those very rows named deleted through the images service, each failure
retried once at the end of the run and reported. Candidate rows are locked with
``FOR UPDATE SKIP LOCKED`` on PostgreSQL (SQLite serialises writers), and the periodic job
takes a PostgreSQL advisory lock, so concurrent runs neither collide nor delete twice.

Every worker's recovery sweep calls :meth:`RetentionJob.tick`; a run happens every
``RETENTION__INTERVAL`` seconds and does a bounded number of batches per tick, so the sweep is
never held up for long. ``atelier admin purge`` runs it by hand (``--dry-run`` only counts).
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, func, or_, select, text
from sqlalchemy.orm import Session

from atelier.accounts.models import USER_OWNER_PREFIX
from atelier.accounts.sessions import ANON_PREFIX
from atelier.config import RetentionSettings
from atelier.db.base import utcnow
from atelier.images.models import ImageRecord
from atelier.library.models import LibraryChange
from atelier.runtime import Runtime
from atelier.tasks.lifecycle import TERMINAL
from atelier.tasks.models import Task, TaskEvent

log = logging.getLogger(__name__)

FINISHED = sorted(s.value for s in TERMINAL)
#: ``pg_try_advisory_lock`` key of the periodic run (any constant unique to this job)
ADVISORY_KEY = 0x61746C72  # "atlr"
#: Batches one tick of the periodic job may do before handing the sweep back
BATCHES_PER_TICK = 10
_MAX_DEPTH = 8  # task nesting followed when collecting children


#: hours of the library change log kept (see the module docstring)
CHANGE_LOG_HOURS = 24


@dataclass(frozen=True)
class Policy:
    """Ages after which work is deleted; ``None`` keeps it."""

    anonymous: timedelta | None
    users: timedelta | None
    events: timedelta | None
    batch: int = 200

    @classmethod
    def from_settings(cls, settings: RetentionSettings) -> Policy:
        return cls(
            anonymous=_span(settings.anonymous_hours * 3600),
            users=_span(settings.user_days * 86400),
            events=_span(settings.event_days * 86400),
            batch=settings.batch,
        )


def _span(seconds: float) -> timedelta | None:
    return timedelta(seconds=seconds) if seconds > 0 else None


_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "": 86400}


def parse_duration(value: str) -> timedelta:
    """``90s``, ``30m``, ``12h``, ``7d``, ``2w`` (a bare number is days)."""
    found = _DURATION.match(value.lower())
    if found is None:
        raise ValueError(f"not a duration: {value!r} (e.g. 12h, 7d, 2w)")
    return timedelta(seconds=float(found.group(1)) * _UNITS[found.group(2)])


@dataclass
class PurgeReport:
    dry_run: bool = False
    tasks: int = 0  # top-level tasks (their children go with them)
    uploads: int = 0  # images that belong to no task
    images: int = 0  # every image row, task images and uploads
    objects: int = 0  # storage objects (image and thumbnail)
    objects_failed: int = 0
    events: int = 0
    library_changes: int = 0
    complete: bool = True  # False: the batch budget ran out; the next run goes on
    failed_keys: list[str] = field(default_factory=list, repr=False)

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out.pop("failed_keys")
        return out


class _Budget:
    def __init__(self, batches: int | None) -> None:
        self.left = batches

    def take(self) -> bool:
        if self.left is None:
            return True
        if self.left <= 0:
            return False
        self.left -= 1
        return True


# -- the run -----------------------------------------------------------------------------------
def purge(
    runtime: Runtime,
    policy: Policy,
    *,
    dry_run: bool = False,
    now: datetime | None = None,
    max_batches: int | None = None,
) -> PurgeReport:
    """Delete what ``policy`` says has expired (``dry_run``: count it, change nothing)."""
    now = now or utcnow()
    report = PurgeReport(dry_run=dry_run)
    budget = _Budget(max_batches)
    classes = ((ANON_PREFIX, policy.anonymous), (USER_OWNER_PREFIX, policy.users))
    for prefix, age in classes:
        if age is None:
            continue
        cutoff = now - age
        if not _purge_tasks(runtime, prefix, cutoff, policy.batch, report, budget):
            report.complete = False
            break
        if not _purge_uploads(runtime, prefix, cutoff, policy.batch, report, budget):
            report.complete = False
            break
    if report.complete and policy.events is not None:
        cutoff = now - policy.events
        report.complete = _purge_events(runtime, cutoff, policy.batch, report, budget)
    if report.complete:
        cutoff = now - timedelta(hours=CHANGE_LOG_HOURS)
        report.complete = _purge_changes(runtime, cutoff, policy.batch, report, budget)
    if report.failed_keys:  # a second chance for objects the storage refused to delete
        still = runtime.images.discard(report.failed_keys)
        report.objects += len(report.failed_keys) - len(still)
        report.failed_keys = still
        report.objects_failed = len(still)
        for key in still:
            log.error("retention: could not delete stored object %s (its row is gone)", key)
    return report


@contextmanager
def _unit(runtime: Runtime, dry_run: bool) -> Iterator[Session]:
    with runtime.db.read() if dry_run else runtime.db.session() as session:
        yield session


def _after(column: Any, cursor: tuple[datetime, str] | None, id_column: Any) -> list[Any]:
    if cursor is None:
        return []
    at, last = cursor
    return [or_(column > at, and_(column == at, id_column > last))]


def _family(session: Session, ids: list[str]) -> list[str]:
    """``ids`` and every task below them."""
    family = list(ids)
    level = list(ids)
    for _ in range(_MAX_DEPTH):
        level = list(session.scalars(select(Task.id).where(Task.parent_id.in_(level))).all())
        if not level:
            break
        family.extend(level)
    return family


def _drop(runtime: Runtime, report: PurgeReport, keys: list[str]) -> None:
    """Delete the objects of rows already deleted and committed."""
    failed = runtime.images.discard(keys)
    report.objects += len(keys) - len(failed)
    report.failed_keys.extend(failed)


def _delete_images(session: Session, where: Any) -> tuple[list[str], list[str]]:
    """Delete image rows; returns (ids, storage keys) of exactly the rows deleted. Images in
    the library are noted as changed, so its search indexes drop them."""
    from atelier.library.models import LibraryImage
    from atelier.library.store import changed

    listed = session.scalars(
        select(LibraryImage.image_id)
        .join(ImageRecord, ImageRecord.id == LibraryImage.image_id)
        .where(where)
    ).all()
    rows = session.execute(
        delete(ImageRecord)
        .where(where)
        .returning(ImageRecord.id, ImageRecord.storage_key, ImageRecord.thumbnail_key)
        .execution_options(synchronize_session=False)
    ).all()
    ids = [r[0] for r in rows]
    gone = set(ids)
    if any(i in gone for i in listed):
        changed(session, [i for i in listed if i in gone])
    return ids, [k for r in rows for k in (r[1], r[2]) if k]


def _purge_tasks(
    runtime: Runtime,
    prefix: str,
    cutoff: datetime,
    batch: int,
    report: PurgeReport,
    budget: _Budget,
) -> bool:
    cursor: tuple[datetime, str] | None = None
    dry = report.dry_run
    while True:
        if not budget.take():
            return False
        keys: list[str] = []
        with _unit(runtime, dry) as s:
            stmt = (
                select(Task.id, Task.completed_at)
                .where(
                    Task.owner.like(f"{prefix}%"),
                    Task.parent_id.is_(None),
                    Task.status.in_(FINISHED),
                    Task.completed_at < cutoff,
                    *_after(Task.completed_at, cursor, Task.id),
                )
                .order_by(Task.completed_at, Task.id)
                .limit(batch)
            )
            if not dry:
                stmt = stmt.with_for_update(skip_locked=True)
            rows = s.execute(stmt).all()
            if not rows:
                return True
            finished = rows[-1][1]
            assert finished is not None  # the query asked for completed_at < cutoff
            cursor = (finished, rows[-1][0])
            ids = [r[0] for r in rows]
            family = _family(s, ids)
            if dry:
                images = s.execute(
                    select(
                        func.count(ImageRecord.id),
                        func.count(ImageRecord.storage_key) + func.count(ImageRecord.thumbnail_key),
                    ).where(ImageRecord.task_id.in_(family))
                ).one()
                report.tasks += len(ids)
                report.images += int(images[0])
                report.objects += int(images[1])
                continue
            image_ids, keys = _delete_images(s, ImageRecord.task_id.in_(family))
            gone = s.execute(
                delete(Task)
                .where(Task.id.in_(family))
                .returning(Task.parent_id)
                .execution_options(synchronize_session=False)
            ).all()
            report.tasks += sum(1 for (parent,) in gone if parent is None)
            report.images += len(image_ids)
        _drop(runtime, report, keys)  # after the commit


def _purge_uploads(
    runtime: Runtime,
    prefix: str,
    cutoff: datetime,
    batch: int,
    report: PurgeReport,
    budget: _Budget,
) -> bool:
    cursor: tuple[datetime, str] | None = None
    dry = report.dry_run
    while True:
        if not budget.take():
            return False
        keys: list[str] = []
        with _unit(runtime, dry) as s:
            stmt = (
                select(ImageRecord.id, ImageRecord.created_at, ImageRecord.thumbnail_key)
                .where(
                    ImageRecord.owner.like(f"{prefix}%"),
                    ImageRecord.task_id.is_(None),
                    ImageRecord.created_at < cutoff,
                    *_after(ImageRecord.created_at, cursor, ImageRecord.id),
                )
                .order_by(ImageRecord.created_at, ImageRecord.id)
                .limit(batch)
            )
            if not dry:
                stmt = stmt.with_for_update(skip_locked=True)
            rows = s.execute(stmt).all()
            if not rows:
                return True
            cursor = (rows[-1][1], rows[-1][0])
            if dry:
                report.uploads += len(rows)
                report.images += len(rows)
                report.objects += sum(2 if r[2] else 1 for r in rows)
                continue
            image_ids, keys = _delete_images(
                s,
                and_(ImageRecord.id.in_([r[0] for r in rows]), ImageRecord.task_id.is_(None)),
            )
            report.uploads += len(image_ids)
            report.images += len(image_ids)
        _drop(runtime, report, keys)


def _purge_events(
    runtime: Runtime, cutoff: datetime, batch: int, report: PurgeReport, budget: _Budget
) -> bool:
    def where(s: Session) -> list[Any]:
        return [
            Task.id == TaskEvent.task_id,
            Task.status.in_(FINISHED),
            Task.completed_at < cutoff,
            TaskEvent.seq < Task.last_seq,
        ]

    return _delete_by_id(runtime, TaskEvent, where, batch, report, "events", budget)


def _purge_changes(
    runtime: Runtime, cutoff: datetime, batch: int, report: PurgeReport, budget: _Budget
) -> bool:
    def where(s: Session) -> list[Any]:
        newest = s.scalar(select(func.max(LibraryChange.id))) or 0
        return [LibraryChange.created_at < cutoff, LibraryChange.id < newest]

    return _delete_by_id(runtime, LibraryChange, where, batch, report, "library_changes", budget)


def _delete_by_id(
    runtime: Runtime,
    model: Any,
    where: Callable[[Session], list[Any]],
    batch: int,
    report: PurgeReport,
    counter: str,
    budget: _Budget,
) -> bool:
    """Delete the rows of ``model`` that ``where`` selects, ``batch`` ids at a time in id
    order, counted in ``report.<counter>`` (a dry run only counts); ``False`` when the
    budget ran out first."""
    cursor = 0
    while True:
        if not budget.take():
            return False
        with _unit(runtime, report.dry_run) as s:
            ids = s.scalars(
                select(model.id).where(*where(s), model.id > cursor).order_by(model.id).limit(batch)
            ).all()
            if not ids:
                return True
            cursor = ids[-1]
            count = len(ids)
            if not report.dry_run:
                deleted = s.execute(
                    delete(model)
                    .where(model.id.in_(list(ids)))
                    .execution_options(synchronize_session=False)
                )
                count = int(getattr(deleted, "rowcount", 0) or 0)
            setattr(report, counter, getattr(report, counter) + count)


# -- the periodic job --------------------------------------------------------------------------
@contextmanager
def exclusive(runtime: Runtime) -> Iterator[bool]:
    """Whether this process may run the job now: on PostgreSQL, only the holder of a
    session-level advisory lock (other workers skip their turn); on SQLite always (one
    machine, serialised writers, and a run is safe beside another anyway)."""
    if runtime.db.is_sqlite:
        yield True
        return
    with runtime.db.engine.connect() as conn:
        got = bool(
            conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": ADVISORY_KEY}).scalar()
        )
        conn.commit()
        try:
            yield got
        finally:
            if got:
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": ADVISORY_KEY})
                conn.commit()


class RetentionJob:
    """Called on every recovery sweep of a worker: runs the clean-up every
    ``RETENTION__INTERVAL`` seconds, at most :data:`BATCHES_PER_TICK` batches per call (an
    unfinished run goes on at the next sweep)."""

    def __init__(self, runtime: Runtime, clock: Any = time.monotonic) -> None:
        self.runtime = runtime
        self.policy = Policy.from_settings(runtime.settings.retention)
        self._clock = clock
        self._next = clock()  # the first run starts with the first sweep
        self._unfinished = False

    @property
    def enabled(self) -> bool:
        p = self.policy
        return any(age is not None for age in (p.anonymous, p.users, p.events))

    def tick(self) -> PurgeReport | None:
        """Run (part of) the job if it is due; never raises."""
        if not self.enabled or (not self._unfinished and self._clock() < self._next):
            return None
        try:
            with exclusive(self.runtime) as mine:
                if not mine:
                    self._unfinished = False
                    self._next = self._clock() + self.runtime.settings.retention.interval
                    return None
                report = purge(self.runtime, self.policy, max_batches=BATCHES_PER_TICK)
        except Exception:
            log.exception("retention clean-up failed")
            self._next = self._clock() + self.runtime.settings.retention.interval
            self._unfinished = False
            return None
        self._unfinished = not report.complete
        if report.complete:
            self._next = self._clock() + self.runtime.settings.retention.interval
        if report.tasks or report.images or report.events:
            log.info("retention clean-up: %s", report.as_dict())
        return report
